"""The Python package on libane_bridge.so: kernels vs numpy, weights, errors, lifetime, blobs."""
import gc
import struct
import threading

import numpy as np
import pytest

import ane_bridge as ab


def conv_mil(c, oc, s, weight="@model_path/weights/weight.bin"):
    """fp32 surfaces, fp16 inside: y [1, oc, 1, s] = W [oc, c] x [1, c, 1, s]."""
    return f"""program(1.3)
{{
    func main<ios18>(tensor<fp32, [1, {c}, 1, {s}]> x) {{
        string to16 = const()[name = string("to16"), val = string("fp16")];
        tensor<fp16, [1, {c}, 1, {s}]> xh = cast(dtype = to16, x = x)[name = string("cast_in")];
        tensor<fp16, [{oc}, {c}, 1, 1]> W = const()[name = string("W"), val = tensor<fp16, [{oc}, {c}, 1, 1]>(BLOBFILE(path = string("{weight}"), offset = uint64(64)))];
        tensor<fp16, [1, {oc}, 1, {s}]> yh = conv(dilations = tensor<int32, [2]>([1, 1]), groups = int32(1), pad = tensor<int32, [4]>([0, 0, 0, 0]), pad_type = string("valid"), strides = tensor<int32, [2]>([1, 1]), weight = W, x = xh)[name = string("conv")];
        string to32 = const()[name = string("to32"), val = string("fp32")];
        tensor<fp32, [1, {oc}, 1, {s}]> y = cast(dtype = to32, x = yh)[name = string("cast_out")];
    }} -> (y);
}}
"""


C, OC, S = 16, 8, 4
IN = [((1, C, 1, S), np.float32)]
OUT = [((1, OC, 1, S), np.float32)]


def ref(w, x):
    return np.einsum("oc,ncs->nos", w.astype(np.float64), x.astype(np.float64)[:, :, 0, :])[:, :, None, :]


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, (OC, C)).astype(np.float32), rng.uniform(-1, 1, (1, C, 1, S)).astype(np.float32)


def test_single_blob_conv_matches_numpy(data):
    w, x = data
    with ab.Kernel(conv_mil(C, OC, S), ab.build_weight_blob(w), IN, OUT) as k:
        (y,) = k.run(x)
        assert y.shape == (1, OC, 1, S) and y.dtype == np.float32
        np.testing.assert_allclose(y, ref(w, x), atol=2e-2)
        # Inputs persist: a run without inputs reuses the surface.
        (y2,) = k.run()
        np.testing.assert_array_equal(y, y2)


def test_multi_weights_dict(data):
    w, x = data
    name = "@model_path/weights/proj.bin"
    with ab.Kernel(conv_mil(C, OC, S, name), {name: ab.build_weight_blob(w)}, IN, OUT) as k:
        np.testing.assert_allclose(k.run(x)[0], ref(w, x), atol=2e-2)


def test_fp16_surfaces_and_declared_dtype():
    mil = """program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 4, 1, 2]> a, tensor<fp16, [1, 4, 1, 2]> b) {
        tensor<fp16, [1, 4, 1, 2]> s = add(x = a, y = b)[name = string("s")];
        tensor<fp16, [1, 4, 1, 2]> p = mul(x = a, y = b)[name = string("p")];
    } -> (s, p);
}
"""
    spec = ((1, 4, 1, 2), np.float16)
    a = np.arange(8, dtype=np.float16).reshape(1, 4, 1, 2)
    b = np.full((1, 4, 1, 2), 0.5, dtype=np.float16)
    with ab.Kernel(mil, None, [spec, spec], [spec, spec]) as k:
        s, p = k.run(a, b)
        assert s.dtype == np.float16 and p.shape == (1, 4, 1, 2)
        np.testing.assert_array_equal(s, a + b)
        np.testing.assert_array_equal(p, a * b)
        # Zero-copy views see the same memory.
        k.input_view(0)[...] = 1
        k.run()
        np.testing.assert_array_equal(k.output_view(0), np.full((1, 4, 1, 2), 1.5, np.float16))


def test_errors_raise_bridge_error_with_message(data):
    w, _ = data
    with pytest.raises(ab.BridgeError, match="declared"):
        ab.Kernel(conv_mil(C, OC, S), ab.build_weight_blob(w), [((1, C, 1, S + 1), np.float32)], OUT)
    with pytest.raises(ab.BridgeError, match="missing.bin"):
        ab.Kernel(conv_mil(C, OC, S, "@model_path/weights/missing.bin"), ab.build_weight_blob(w), IN, OUT)
    with pytest.raises(ab.BridgeError) as e:
        ab.Kernel("program(1.3) { garbage", None, IN, OUT)
    assert "ane_bridge_compile" in e.value.message
    with pytest.raises(ab.BridgeError, match="unknown precision"):
        ab._lib.check(ab.lib.ane_bridge_set_precision(7) == 0)
    with pytest.raises(ValueError):
        ab.set_precision("bf16")
    with pytest.raises(ab.BridgeError, match="threads must be"):
        ab.set_threads(-1)


def test_wrong_input_size_is_a_value_error(data):
    w, x = data
    with ab.Kernel(conv_mil(C, OC, S), ab.build_weight_blob(w), IN, OUT) as k:
        with pytest.raises(ValueError):
            k.run(np.zeros(C * S + 1, np.float32))
        with pytest.raises(ValueError):
            k.run(x, x)


def test_close_and_context_manager(data):
    w, x = data
    k = ab.Kernel(conv_mil(C, OC, S), ab.build_weight_blob(w), IN, OUT)
    with k:
        k.run(x)
    assert k.closed
    with pytest.raises(ab.BridgeError, match="closed"):
        k.run(x)
    k.close()  # idempotent
    # Dropped without close: __del__ frees it.
    ab.Kernel(conv_mil(C, OC, S), ab.build_weight_blob(w), IN, OUT)
    gc.collect()


def test_compile_count_and_reset(data):
    w, _ = data
    ab.reset_compile_count()
    assert ab.compile_count() == 0
    blob = ab.build_weight_blob(w)
    for _ in range(3):
        ab.Kernel(conv_mil(C, OC, S), blob, IN, OUT).close()
    with pytest.raises(ab.BridgeError):
        ab.Kernel("nope", None, IN, OUT)
    assert ab.compile_count() == 3
    ab.reset_compile_count()
    assert ab.compile_count() == 0


def test_precision_and_threads_apply_to_later_compiles(data):
    w, x = data
    ab.set_precision("fp16")
    ab.set_threads(1)
    try:
        with ab.Kernel(conv_mil(C, OC, S), ab.build_weight_blob(w), IN, OUT) as k:
            np.testing.assert_allclose(k.run(x)[0], ref(w, x), atol=2e-2)
    finally:
        ab.set_precision("fp32")
        ab.set_threads(0)


def test_blob_builders():
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    blob = ab.build_weight_blob(w)
    assert len(blob) == 128 + 12
    assert struct.unpack_from("<I", blob, 64)[0] == 0xDEADBEEF
    np.testing.assert_array_equal(np.frombuffer(blob, np.float16, offset=128).reshape(2, 3), w)
    t = ab.build_weight_blob_transposed(w)
    np.testing.assert_array_equal(np.frombuffer(t, np.float16, offset=128).reshape(3, 2), w.T)
    q = np.array([[-128, 0, 127]], dtype=np.int8)
    np.testing.assert_array_equal(np.frombuffer(ab.build_weight_blob_int8(q), np.int8, offset=128), q.ravel())
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 3, (4, 5)).astype(np.float32)
    blob, scale = ab.build_weight_blob_quantized(x)
    assert scale == pytest.approx(np.abs(x).max() / 127, rel=1e-6)
    qs = np.frombuffer(blob, np.int8, offset=128).reshape(4, 5)
    np.testing.assert_allclose(qs * scale, x, atol=scale / 2 + 1e-7)
    blob, scale, zp = ab.build_weight_blob_quantized_affine(x)
    assert scale == pytest.approx((x.max() - x.min()) / 255, rel=1e-6)
    qa = np.frombuffer(blob, np.int8, offset=128).reshape(4, 5).astype(np.int32)
    np.testing.assert_allclose((qa - zp) * scale, x, atol=scale / 2 + 1e-6)
    with pytest.raises(ab.BridgeError, match="not finite"):
        ab.build_weight_blob_quantized(np.array([[1.0, np.nan]], np.float32))


def test_kernels_on_several_threads(data):
    w, x = data
    blob = ab.build_weight_blob(w)
    results, errors = [], []

    def work():
        try:
            with ab.Kernel(conv_mil(C, OC, S), blob, IN, OUT) as k:
                for _ in range(5):
                    results.append(k.run(x)[0])
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 20
    for y in results:
        np.testing.assert_allclose(y, ref(w, x), atol=2e-2)
