"""The Python examples run and do what they say."""
import numpy as np

import run_kernel
import train_mlp


def test_run_kernel_example_matches_numpy():
    assert run_kernel.main(c=32, oc=16, s=8) < 5e-2


def test_train_mlp_loss_falls():
    losses = train_mlp.main(steps=60, log_every=0)
    assert len(losses) == 60
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])


def test_train_mlp_kernels_match_numpy_gradients():
    import ane_bridge as ab

    rng = np.random.default_rng(3)
    b, din, h, dout = 8, 16, 32, 4
    f32 = np.float32
    x = rng.standard_normal((b, din)).astype(f32)
    w1 = rng.standard_normal((din, h)).astype(f32) / 4
    w2 = rng.standard_normal((h, dout)).astype(f32) / 4
    dy = rng.standard_normal((b, dout)).astype(f32)
    with ab.Kernel(train_mlp.forward_mil(b, din, h, dout), None,
                   [((b, din), f32), ((din, h), f32), ((h, dout), f32)], [((b, h), f32), ((b, dout), f32)]) as fwd, \
            ab.Kernel(train_mlp.backward_mil(b, din, h, dout), None,
                      [((b, din), f32), ((b, h), f32), ((h, dout), f32), ((b, dout), f32)],
                      [((din, h), f32), ((h, dout), f32)]) as bwd:
        hid, y = fwd.run(x, w1, w2)
        dw1, dw2 = bwd.run(x, hid, w2, dy)
    x64, w164, w264, dy64 = (a.astype(np.float64) for a in (x, w1, w2, dy))
    hid64 = np.tanh(x64 @ w164)
    np.testing.assert_allclose(hid, hid64, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y, hid64 @ w264, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dw2, hid64.T @ dy64, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dw1, x64.T @ ((dy64 @ w264.T) * (1 - hid64 ** 2)), rtol=1e-5, atol=1e-5)
