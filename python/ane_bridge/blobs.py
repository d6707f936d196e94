"""Weight blob builders (MILBlob v2 files for BLOBFILE consts), returning bytes."""
import ctypes

import numpy as np

from ._lib import _c_size_p, check, lib


def _matrix(w, dtype):
    a = np.ascontiguousarray(w, dtype=dtype)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise ValueError(f"weights must be a 1-D or 2-D array, got shape {a.shape}")
    return a


def _take(ptr, length):
    """Copies a blob the library allocated into bytes and frees it."""
    try:
        return ctypes.string_at(ptr, length.value)
    finally:
        lib.ane_bridge_free_blob(ptr)


def _build(fn, w, dtype, ctype):
    """Calls one of the plain blob builders on matrix `w` and returns the blob's bytes."""
    a = _matrix(w, dtype)
    n = ctypes.c_size_t()
    ptr = fn(a.ctypes.data_as(ctypes.POINTER(ctype)), a.shape[0], a.shape[1], ctypes.byref(n))
    check(bool(ptr))
    return _take(ptr, n)


def build_weight_blob(w):
    """One fp16 blob of `w` ([rows, cols], stored row-major as given). Data at offset 128;
    refer to it with BLOBFILE(..., offset = uint64(64))."""
    return _build(lib.ane_bridge_build_weight_blob, w, np.float32, ctypes.c_float)


def build_weight_blob_transposed(w):
    """One fp16 blob of the transpose of `w` ([rows, cols] -> stored [cols, rows])."""
    return _build(lib.ane_bridge_build_weight_blob_transposed, w, np.float32, ctypes.c_float)


def build_weight_blob_int8(q):
    """One int8 blob of raw values `q` ([rows, cols] int8)."""
    return _build(lib.ane_bridge_build_weight_blob_int8, q, np.int8, ctypes.c_int8)


def build_weight_blob_quantized(w):
    """Symmetric int8: returns (blob, scale) with scale = max|w| / 127, zero point 0."""
    a = _matrix(w, np.float32)
    n, scale = ctypes.c_size_t(), ctypes.c_float()
    ptr = lib.ane_bridge_build_weight_blob_quantized(a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), a.shape[0],
                                                     a.shape[1], ctypes.byref(scale), ctypes.byref(n))
    check(bool(ptr))
    return _take(ptr, n), scale.value


def build_weight_blob_quantized_affine(w):
    """Affine int8 over [min(w, 0), max(w, 0)]: returns (blob, scale, zero_point)."""
    a = _matrix(w, np.float32)
    n, scale, zp = ctypes.c_size_t(), ctypes.c_float(), ctypes.c_int8()
    ptr = lib.ane_bridge_build_weight_blob_quantized_affine(a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                                            a.shape[0], a.shape[1], ctypes.byref(scale),
                                                            ctypes.byref(zp), ctypes.byref(n))
    check(bool(ptr))
    return _take(ptr, n), scale.value, zp.value
