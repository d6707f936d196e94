"""Kernel: one compiled MIL function with typed numpy inputs and outputs."""
import ctypes
from math import prod

import numpy as np

from ._lib import BridgeError, _c_size_p, _u8_p, check, check_last, lib


class TensorSpec:
    """The numpy shape and dtype of one surface, e.g. TensorSpec((1, 64, 1, 16), np.float16)."""

    def __init__(self, shape, dtype):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)

    @property
    def nbytes(self):
        return prod(self.shape) * self.dtype.itemsize

    def __repr__(self):
        return f"TensorSpec({self.shape}, {self.dtype})"


def _spec(s):
    return s if isinstance(s, TensorSpec) else TensorSpec(*s)


def _sizes(specs):
    return (ctypes.c_size_t * max(len(specs), 1))(*[s.nbytes for s in specs])


class Kernel:
    """A MIL function compiled by the bridge.

    mil: the program text (str or bytes); input i is the i-th parameter of `main`, output j
    the j-th name of its `-> (...)`.
    weights: None; bytes (one blob, named "@model_path/weights/weight.bin"); or a dict
    {"@model_path/weights/NAME.bin": bytes}.
    inputs / outputs: one TensorSpec or (shape, dtype) pair per surface; their byte sizes
    must match the program's types (a mismatch fails the compile).

    Release with close() or a `with` block (the kernel frees itself when collected, too).
    Compiling copies the text and weights: the arguments may change afterwards.
    """

    def __init__(self, mil, weights=None, inputs=(), outputs=()):
        self.inputs = [_spec(s) for s in inputs]
        self.outputs = [_spec(s) for s in outputs]
        self._handle = None
        text = mil.encode("utf-8") if isinstance(mil, str) else bytes(mil)
        ins, outs = _sizes(self.inputs), _sizes(self.outputs)
        if weights is None or isinstance(weights, (bytes, bytearray, memoryview)):
            blob = bytes(weights or b"")
            data = ctypes.cast(ctypes.c_char_p(blob), _u8_p) if blob else None
            handle = lib.ane_bridge_compile(text, len(text), data, len(blob), len(self.inputs), ins,
                                            len(self.outputs), outs)
        else:
            items = [(str(k).encode("utf-8"), bytes(v)) for k, v in dict(weights).items()]
            n = len(items)
            names = (ctypes.c_char_p * max(n, 1))(*[k for k, _ in items])
            blobs = [v for _, v in items]  # kept alive for the call
            datas = (_u8_p * max(n, 1))(*[ctypes.cast(ctypes.c_char_p(b), _u8_p) for b in blobs])
            lens = (ctypes.c_size_t * max(n, 1))(*[len(b) for b in blobs])
            handle = lib.ane_bridge_compile_multi_weights(text, len(text), names, datas, lens, n, len(self.inputs),
                                                          ins, len(self.outputs), outs)
        check(bool(handle))
        self._handle = handle

    # -- lifetime --

    def close(self):
        """Frees the kernel and its surfaces (idempotent)."""
        handle, self._handle = self._handle, None
        if handle and lib is not None:
            lib.ane_bridge_free(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing sensible left to do
            pass

    @property
    def closed(self):
        return self._handle is None

    def _h(self):
        if self._handle is None:
            raise BridgeError("kernel is closed")
        return self._handle

    # -- data --

    def write_input(self, idx, array):
        """Copies `array` (converted to input idx's dtype, same element count) into the
        surface. Inputs keep their contents across runs."""
        spec = self.inputs[idx]
        a = np.ascontiguousarray(array, dtype=spec.dtype)
        if a.size != prod(spec.shape):
            raise ValueError(f"input {idx}: expected {prod(spec.shape)} elements {spec.shape}, got {a.shape}")
        lib.ane_bridge_write_input(self._h(), idx, a.ctypes.data, a.nbytes)
        check_last()

    def read_output(self, idx):
        """A new array holding output idx."""
        spec = self.outputs[idx]
        out = np.empty(spec.shape, dtype=spec.dtype)
        lib.ane_bridge_read_output(self._h(), idx, out.ctypes.data, out.nbytes)
        check_last()
        return out

    def run(self, *inputs):
        """Writes the given inputs (all of them, or none to reuse the surfaces' contents),
        runs, and returns every output as a new array of its declared shape and dtype."""
        if inputs and len(inputs) != len(self.inputs):
            raise ValueError(f"run() takes {len(self.inputs)} inputs (or none), got {len(inputs)}")
        for i, a in enumerate(inputs):
            self.write_input(i, a)
        check(lib.ane_bridge_run(self._h()))
        return [self.read_output(j) for j in range(len(self.outputs))]

    def input_view(self, idx):
        """A zero-copy numpy view of input surface idx; valid only while the kernel is open."""
        return self._view(lib.ane_bridge_get_input_base, lib.ane_bridge_input_size, self.inputs[idx], idx)

    def output_view(self, idx):
        """A zero-copy numpy view of output surface idx; valid only while the kernel is open."""
        return self._view(lib.ane_bridge_get_output_base, lib.ane_bridge_output_size, self.outputs[idx], idx)

    def _view(self, base_fn, size_fn, spec, idx):
        base = base_fn(self._h(), idx)
        check(bool(base))
        size = size_fn(self._h(), idx)
        buf = (ctypes.c_uint8 * size).from_address(base)
        return np.frombuffer(buf, dtype=spec.dtype).reshape(spec.shape)
