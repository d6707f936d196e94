#!/usr/bin/env python3
"""Trains a two-layer MLP from Python through libane_bridge: the forward and backward passes
are MIL kernels (matmuls with weights AND activations as runtime inputs, so one compile
serves every step, as in the original's dynamic-weight pipeline); the loss and the SGD
update with momentum are numpy.

Task: regression onto a fixed random "teacher" network, y = tanh(x A) B, x in R^16.
Model: y = tanh(x W1) W2, W1 [16, 32], W2 [32, 4]; a constant-1 input column is the bias.

    ANE_BRIDGE_LIB=build/src/bridge/libane_bridge.so python3 python/examples/train_mlp.py --steps 300
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import ane_bridge as ab  # noqa: E402

F32 = np.float32


def forward_mil(b, din, h, dout):
    """(x [b, din], W1 [din, h], W2 [h, dout]) -> (hid = tanh(x W1) [b, h], y = hid W2 [b, dout])."""
    return f"""program(1.3)
{{
    func main<ios18>(tensor<fp32, [{b}, {din}]> x, tensor<fp32, [{din}, {h}]> W1, tensor<fp32, [{h}, {dout}]> W2) {{
        bool ff = const()[name = string("ff"), val = bool(false)];
        tensor<fp32, [{b}, {h}]> pre = matmul(transpose_x = ff, transpose_y = ff, x = x, y = W1)[name = string("pre")];
        tensor<fp32, [{b}, {h}]> hid = tanh(x = pre)[name = string("hid")];
        tensor<fp32, [{b}, {dout}]> y = matmul(transpose_x = ff, transpose_y = ff, x = hid, y = W2)[name = string("y")];
    }} -> (hid, y);
}}
"""


def backward_mil(b, din, h, dout):
    """(x, hid, W2, dy) -> (dW1 = x^T (dy W2^T * (1 - hid^2)), dW2 = hid^T dy)."""
    return f"""program(1.3)
{{
    func main<ios18>(tensor<fp32, [{b}, {din}]> x, tensor<fp32, [{b}, {h}]> hid, tensor<fp32, [{h}, {dout}]> W2, tensor<fp32, [{b}, {dout}]> dy) {{
        bool tt = const()[name = string("tt"), val = bool(true)];
        bool ff = const()[name = string("ff"), val = bool(false)];
        tensor<fp32, [{h}, {dout}]> dW2 = matmul(transpose_x = tt, transpose_y = ff, x = hid, y = dy)[name = string("dW2")];
        tensor<fp32, [{b}, {h}]> dhid = matmul(transpose_x = ff, transpose_y = tt, x = dy, y = W2)[name = string("dhid")];
        tensor<fp32, [{b}, {h}]> h2 = mul(x = hid, y = hid)[name = string("h2")];
        fp32 one = const()[name = string("one"), val = fp32(1)];
        tensor<fp32, [{b}, {h}]> dtanh = sub(x = one, y = h2)[name = string("dtanh")];
        tensor<fp32, [{b}, {h}]> dpre = mul(x = dhid, y = dtanh)[name = string("dpre")];
        tensor<fp32, [{din}, {h}]> dW1 = matmul(transpose_x = tt, transpose_y = ff, x = x, y = dpre)[name = string("dW1")];
    }} -> (dW1, dW2);
}}
"""


def make_data(rng, n, din, dout):
    x = rng.standard_normal((n, din)).astype(F32)
    x[:, -1] = 1.0  # bias feature
    a = rng.standard_normal((din, 8)).astype(F32) / np.sqrt(din)
    b = rng.standard_normal((8, dout)).astype(F32)
    return x, (np.tanh(x @ a) @ b).astype(F32)


def main(steps=300, batch=32, hidden=32, lr=0.05, momentum=0.9, seed=0, log_every=25):
    """Trains and returns the list of per-step losses."""
    din, dout = 16, 4
    rng = np.random.default_rng(seed)
    x_all, y_all = make_data(rng, 1024, din, dout)
    w1 = (rng.standard_normal((din, hidden)) / np.sqrt(din)).astype(F32)
    w2 = (rng.standard_normal((hidden, dout)) / np.sqrt(hidden)).astype(F32)
    v1, v2 = np.zeros_like(w1), np.zeros_like(w2)
    compiles_before = ab.compile_count()
    fwd = ab.Kernel(forward_mil(batch, din, hidden, dout),
                    inputs=[((batch, din), F32), ((din, hidden), F32), ((hidden, dout), F32)],
                    outputs=[((batch, hidden), F32), ((batch, dout), F32)])
    bwd = ab.Kernel(backward_mil(batch, din, hidden, dout),
                    inputs=[((batch, din), F32), ((batch, hidden), F32), ((hidden, dout), F32), ((batch, dout), F32)],
                    outputs=[((din, hidden), F32), ((hidden, dout), F32)])
    losses = []
    with fwd, bwd:
        for step in range(steps):
            idx = rng.integers(0, len(x_all), batch)
            x, t = x_all[idx], y_all[idx]
            hid, y = fwd.run(x, w1, w2)
            err = y - t
            loss = float(np.mean(err * err))
            dy = (2.0 / err.size) * err
            dw1, dw2 = bwd.run(x, hid, w2, dy.astype(F32))
            v1 = momentum * v1 - lr * dw1
            v2 = momentum * v2 - lr * dw2
            w1 += v1
            w2 += v2
            losses.append(loss)
            if log_every and (step % log_every == 0 or step == steps - 1):
                print(f"step {step:4d}  loss {loss:.5f}")
    print(f"compiles: {ab.compile_count() - compiles_before} (two kernels, reused for every step)")
    return losses


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--lr", type=float, default=0.05)
    args = p.parse_args()
    losses = main(steps=args.steps, lr=args.lr)
    first, last = np.mean(losses[:10]), np.mean(losses[-10:])
    print(f"loss {first:.4f} -> {last:.4f}")
    sys.exit(0 if last < first else 1)
