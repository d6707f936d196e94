"""Loading libane_bridge.so and declaring its C functions for ctypes.

The library is found, in order: the path in the environment variable ANE_BRIDGE_LIB;
libane_bridge.so next to this package; the repository's build directories
(build/src/bridge, build-*/src/bridge); the system's library path (an installed copy).
"""
import ctypes
import ctypes.util
import glob
import os

_LIB_NAME = "libane_bridge.so"


class BridgeError(RuntimeError):
    """A bridge call failed; `message` is ane_bridge_last_error() of that call."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _candidates():
    env = os.environ.get("ANE_BRIDGE_LIB")
    if env:
        yield env
        return  # an explicit choice is not second-guessed
    here = os.path.dirname(os.path.abspath(__file__))
    yield from sorted(glob.glob(os.path.join(here, _LIB_NAME + "*")))
    repo = os.path.dirname(os.path.dirname(here))
    yield os.path.join(repo, "build", "src", "bridge", _LIB_NAME)
    yield from sorted(glob.glob(os.path.join(repo, "build-*", "src", "bridge", _LIB_NAME)))
    found = ctypes.util.find_library("ane_bridge")
    if found:
        yield found


def _load():
    tried = []
    for path in _candidates():
        if os.path.sep in path and not os.path.exists(path):
            tried.append(path + " (missing)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append(f"{path} ({e})")
    raise ImportError("libane_bridge.so not found; set ANE_BRIDGE_LIB to its path. Tried: " + "; ".join(tried))


lib, library_path = _load()

_c_size_p = ctypes.POINTER(ctypes.c_size_t)
_u8_p = ctypes.POINTER(ctypes.c_uint8)
_handle = ctypes.c_void_p  # ANEKernelHandle*, opaque

_PROTOTYPES = {
    "ane_bridge_init": (ctypes.c_int, []),
    "ane_bridge_compile": (_handle, [ctypes.c_char_p, ctypes.c_size_t, _u8_p, ctypes.c_size_t, ctypes.c_int, _c_size_p,
                                     ctypes.c_int, _c_size_p]),
    "ane_bridge_compile_multi_weights": (_handle, [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p),
                                                   ctypes.POINTER(_u8_p), _c_size_p, ctypes.c_int, ctypes.c_int,
                                                   _c_size_p, ctypes.c_int, _c_size_p]),
    "ane_bridge_run": (ctypes.c_bool, [_handle]),
    "ane_bridge_eval": (ctypes.c_bool, [_handle]),
    "ane_bridge_write_input": (None, [_handle, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]),
    "ane_bridge_read_output": (None, [_handle, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]),
    "ane_bridge_get_input_base": (ctypes.c_void_p, [_handle, ctypes.c_int]),
    "ane_bridge_get_output_base": (ctypes.c_void_p, [_handle, ctypes.c_int]),
    "ane_bridge_input_size": (ctypes.c_size_t, [_handle, ctypes.c_int]),
    "ane_bridge_output_size": (ctypes.c_size_t, [_handle, ctypes.c_int]),
    "ane_bridge_free": (None, [_handle]),
    "ane_bridge_get_compile_count": (ctypes.c_int, []),
    "ane_bridge_reset_compile_count": (None, []),
    "ane_bridge_build_weight_blob": (_u8_p, [ctypes.POINTER(ctypes.c_float), ctypes.c_int, ctypes.c_int, _c_size_p]),
    "ane_bridge_build_weight_blob_transposed": (_u8_p, [ctypes.POINTER(ctypes.c_float), ctypes.c_int, ctypes.c_int,
                                                        _c_size_p]),
    "ane_bridge_build_weight_blob_int8": (_u8_p, [ctypes.POINTER(ctypes.c_int8), ctypes.c_int, ctypes.c_int, _c_size_p]),
    "ane_bridge_build_weight_blob_quantized": (_u8_p, [ctypes.POINTER(ctypes.c_float), ctypes.c_int, ctypes.c_int,
                                                       ctypes.POINTER(ctypes.c_float), _c_size_p]),
    "ane_bridge_build_weight_blob_quantized_affine": (_u8_p, [ctypes.POINTER(ctypes.c_float), ctypes.c_int,
                                                              ctypes.c_int, ctypes.POINTER(ctypes.c_float),
                                                              ctypes.POINTER(ctypes.c_int8), _c_size_p]),
    "ane_bridge_free_blob": (None, [ctypes.c_void_p]),
    "ane_bridge_last_error": (ctypes.c_char_p, []),
    "ane_bridge_set_precision": (ctypes.c_int, [ctypes.c_int]),
    "ane_bridge_set_threads": (ctypes.c_int, [ctypes.c_int]),
}

for _name, (_restype, _argtypes) in _PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _restype
    _fn.argtypes = _argtypes


def last_error():
    """This thread's last bridge error text ("" after a successful call)."""
    return lib.ane_bridge_last_error().decode("utf-8", "replace")


def check(ok):
    """Raises BridgeError with the bridge's message unless `ok`."""
    if not ok:
        raise BridgeError(last_error() or "bridge call failed")


def check_last():
    """Raises BridgeError if the last call (a void one) failed."""
    msg = last_error()
    if msg:
        raise BridgeError(msg)
