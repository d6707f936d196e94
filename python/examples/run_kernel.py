#!/usr/bin/env python3
"""Runs an RMSNorm + 1x1 conv MIL kernel ([1, C, 1, S] fp16, the ANE's layout) from Python
through libane_bridge and compares it with numpy.

    ANE_BRIDGE_LIB=build/src/bridge/libane_bridge.so python3 python/examples/run_kernel.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import ane_bridge as ab  # noqa: E402

EPS = 1e-5


def rmsnorm_conv_mil(c, oc, s):
    """y = conv(W, rmsnorm(x) * g): x [1, c, 1, s] fp16, g from rms.bin, W [oc, c] from w.bin."""
    return f"""program(1.3)
{{
    func main<ios18>(tensor<fp16, [1, {c}, 1, {s}]> x) {{
        tensor<fp16, [1, {c}, 1, {s}]> sq = mul(x = x, y = x)[name = string("sq")];
        tensor<int32, [1]> rax = const()[name = string("rax"), val = tensor<int32, [1]>([1])];
        bool kd = const()[name = string("kd"), val = bool(true)];
        tensor<fp16, [1, 1, 1, {s}]> ss = reduce_sum(axes = rax, keep_dims = kd, x = sq)[name = string("ss")];
        fp16 invd = const()[name = string("invd"), val = fp16({1.0 / c!r})];
        tensor<fp16, [1, 1, 1, {s}]> ms = mul(x = ss, y = invd)[name = string("ms")];
        fp16 eps = const()[name = string("eps"), val = fp16({EPS!r})];
        tensor<fp16, [1, 1, 1, {s}]> me = add(x = ms, y = eps)[name = string("me")];
        fp16 nhalf = const()[name = string("nhalf"), val = fp16(-0.5)];
        tensor<fp16, [1, 1, 1, {s}]> rr = pow(x = me, y = nhalf)[name = string("rr")];
        tensor<fp16, [1, {c}, 1, {s}]> xr = mul(x = x, y = rr)[name = string("xr")];
        tensor<fp16, [1, {c}, 1, 1]> g = const()[name = string("g"), val = tensor<fp16, [1, {c}, 1, 1]>(BLOBFILE(path = string("@model_path/weights/rms.bin"), offset = uint64(64)))];
        tensor<fp16, [1, {c}, 1, {s}]> xn = mul(x = xr, y = g)[name = string("xn")];
        string pt = const()[name = string("pt"), val = string("valid")];
        tensor<int32, [2]> st = const()[name = string("st"), val = tensor<int32, [2]>([1, 1])];
        tensor<int32, [4]> pd = const()[name = string("pd"), val = tensor<int32, [4]>([0, 0, 0, 0])];
        tensor<int32, [2]> dl = const()[name = string("dl"), val = tensor<int32, [2]>([1, 1])];
        int32 gr = const()[name = string("gr"), val = int32(1)];
        tensor<fp16, [{oc}, {c}, 1, 1]> W = const()[name = string("W"), val = tensor<fp16, [{oc}, {c}, 1, 1]>(BLOBFILE(path = string("@model_path/weights/w.bin"), offset = uint64(64)))];
        tensor<fp16, [1, {oc}, 1, {s}]> y = conv(dilations = dl, groups = gr, pad = pd, pad_type = pt, strides = st, weight = W, x = xn)[name = string("conv")];
    }} -> (y);
}}
"""


def reference(x, g, w):
    """float64 RMSNorm over channels then W @ xn, for x [1, c, 1, s]."""
    x64 = x.astype(np.float64)[0, :, 0, :]  # [c, s]
    rr = 1.0 / np.sqrt((x64 * x64).mean(axis=0, keepdims=True) + EPS)
    xn = x64 * rr * g.astype(np.float64)[:, None]
    return (w.astype(np.float64) @ xn)[None, :, None, :]  # [1, oc, 1, s]


def main(c=64, oc=32, s=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, c, 1, s)).astype(np.float16)
    g = (1.0 + 0.1 * rng.standard_normal(c)).astype(np.float32)
    w = (rng.standard_normal((oc, c)) / np.sqrt(c)).astype(np.float32)
    weights = {"@model_path/weights/rms.bin": ab.build_weight_blob(g.reshape(c, 1)),
               "@model_path/weights/w.bin": ab.build_weight_blob(w)}
    with ab.Kernel(rmsnorm_conv_mil(c, oc, s), weights,
                   inputs=[((1, c, 1, s), np.float16)], outputs=[((1, oc, 1, s), np.float16)]) as k:
        (y,) = k.run(x)
    want = reference(x, g.astype(np.float16), w.astype(np.float16))
    err = float(np.max(np.abs(y.astype(np.float64) - want)))
    print(f"RMSNorm + conv [1,{c},1,{s}] -> [1,{oc},1,{s}] fp16: max |error| vs numpy float64 = {err:.2e}")
    return err


if __name__ == "__main__":
    sys.exit(0 if main() < 5e-2 else 1)
