"""ane_bridge: compile and run MIL kernels from Python through OpenANE's libane_bridge.so
(the C ABI of the original ANE training bridge), with ctypes and numpy only.

    import numpy as np, ane_bridge as ab
    with ab.Kernel(mil_text, {"@model_path/weights/w.bin": ab.build_weight_blob(w)},
                   inputs=[((1, 64, 1, 16), np.float16)],
                   outputs=[((1, 32, 1, 16), np.float16)]) as k:
        (y,) = k.run(x)

Failures raise BridgeError carrying the bridge's message. The library is located via
ANE_BRIDGE_LIB, next to this package, in the repository's build directory, or installed.
"""
from ._lib import BridgeError, check, lib, library_path
from .blobs import (build_weight_blob, build_weight_blob_int8, build_weight_blob_quantized,
                    build_weight_blob_quantized_affine, build_weight_blob_transposed)
from .kernel import Kernel, TensorSpec

__all__ = [
    "BridgeError", "Kernel", "TensorSpec", "build_weight_blob", "build_weight_blob_transposed",
    "build_weight_blob_int8", "build_weight_blob_quantized", "build_weight_blob_quantized_affine", "compile_count",
    "reset_compile_count", "set_precision", "set_threads", "init", "library_path",
]

_PRECISIONS = {"fp32": 0, "fp16": 1, 0: 0, 1: 1}


def init():
    """Creates the shared engine now (optional: every call does it on first use)."""
    check(lib.ane_bridge_init() == 0)


def compile_count():
    """Kernels compiled since the start or the last reset (failed compiles do not count)."""
    n = lib.ane_bridge_get_compile_count()
    check(n >= 0)
    return n


def reset_compile_count():
    lib.ane_bridge_reset_compile_count()


def set_precision(mode):
    """Precision of kernels compiled from now on: "fp32" (or 0) or "fp16" (or 1)."""
    if mode not in _PRECISIONS:
        raise ValueError(f"precision must be 'fp32' or 'fp16', got {mode!r}")
    check(lib.ane_bridge_set_precision(_PRECISIONS[mode]) == 0)


def set_threads(n):
    """Threads of kernels compiled from now on (0 = physical cores)."""
    check(lib.ane_bridge_set_threads(int(n)) == 0)
