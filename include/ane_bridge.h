/* ane_bridge.h: the C ABI of the original ANE training system's bridge, served by OpenANE's
 * MIL engine on any CPU. Code written against the original (for example Python ctypes)
 * runs unchanged.
 *
 * Semantics (as the original, but strict):
 *   - ane_bridge_compile names its single blob "@model_path/weights/weight.bin";
 *     ane_bridge_compile_multi_weights takes names in the "@model_path/weights/NAME.bin" form.
 *   - Input i is the i-th function parameter; output j the j-th name in `-> (...)`.
 *   - Compile copies everything it needs: the caller may free the MIL text, names, blobs and
 *     size arrays as soon as it returns. Inputs stay in their surfaces across runs.
 *   - Failures: compile returns NULL, run returns false, write/read do nothing; the reason is
 *     in ane_bridge_last_error() (per thread). An index out of range or a byte count larger
 *     than the surface is rejected; a smaller count writes or reads a prefix.
 *   - NULL handles are accepted everywhere and do nothing. No C++ exception crosses this ABI.
 *   - All functions are thread-safe except that one kernel must not run on two threads at once
 *     (a second, overlapping run of the same kernel fails rather than waits).
 *
 * Initialisation: one process-wide engine (it owns the compile counter and the precision and
 * thread settings) lives behind this ABI. ane_bridge_init creates it; every other function
 * creates it lazily on first use, so calling init is optional (the original failed before
 * init; here code that calls init first behaves the same).
 *
 * Errors: every function that can fail first clears this thread's last error, then sets it
 * on failure; so after a successful call ane_bridge_last_error() is "" and after a failed
 * one it says why. ane_bridge_free, ane_bridge_free_blob and ane_bridge_last_error itself
 * leave it alone.
 *
 * Compile budget: unlimited. The original's bridge only counts compiles (its trainers
 * restart near a budget themselves); callers read ane_bridge_get_compile_count. Failed
 * compiles do not count.
 */
#ifndef ANE_BRIDGE_H
#define ANE_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define ANE_BRIDGE_API __attribute__((visibility("default")))
#else
#define ANE_BRIDGE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque compiled kernel with its input and output surfaces. Owned by the caller from
 * compile until ane_bridge_free. */
typedef struct ANEKernelHandle ANEKernelHandle;

/* Initialises the shared engine; idempotent and thread-safe. Returns 0 on success, -1 on failure. */
ANE_BRIDGE_API int ane_bridge_init(void);

/* Compiles function `main` of MIL text with one weight blob, named
 * "@model_path/weights/weight.bin" (NULL/0 when the program has no BLOBFILE).
 * input_sizes[i] / output_sizes[j]: byte sizes of the surfaces, each equal to its tensor's
 * size in the program (else the compile fails). NULL on failure. Borrowed arguments are
 * copied before it returns. */
ANE_BRIDGE_API ANEKernelHandle *ane_bridge_compile(const char *mil_text, size_t mil_len,
                                                   const uint8_t *weight_data, size_t weight_len,
                                                   int n_inputs, const size_t *input_sizes,
                                                   int n_outputs, const size_t *output_sizes);

/* The same with n_weights named weight files: weight_names[k] is the path the MIL uses
 * ("@model_path/weights/NAME.bin", matched exactly), weight_datas[k] / weight_lens[k] its
 * bytes. Names must be distinct. */
ANE_BRIDGE_API ANEKernelHandle *ane_bridge_compile_multi_weights(const char *mil_text, size_t mil_len,
                                                                 const char **weight_names,
                                                                 const uint8_t **weight_datas,
                                                                 const size_t *weight_lens, int n_weights,
                                                                 int n_inputs, const size_t *input_sizes,
                                                                 int n_outputs, const size_t *output_sizes);

/* Runs the kernel on its current input surfaces. Returns true on success. */
ANE_BRIDGE_API bool ane_bridge_run(ANEKernelHandle *kernel);
/* The same as ane_bridge_run (the original's implementation used this name). */
ANE_BRIDGE_API bool ane_bridge_eval(ANEKernelHandle *kernel);

/* Copies `bytes` bytes into / out of input / output surface `idx` (copied at call time). */
ANE_BRIDGE_API void ane_bridge_write_input(ANEKernelHandle *kernel, int idx, const void *data, size_t bytes);
ANE_BRIDGE_API void ane_bridge_read_output(ANEKernelHandle *kernel, int idx, void *data, size_t bytes);

/* Zero-copy access (from the original's later header): the surface's memory, valid until
 * ane_bridge_free; NULL / 0 for a bad handle or index. */
ANE_BRIDGE_API void *ane_bridge_get_input_base(ANEKernelHandle *kernel, int idx);
ANE_BRIDGE_API void *ane_bridge_get_output_base(ANEKernelHandle *kernel, int idx);
ANE_BRIDGE_API size_t ane_bridge_input_size(ANEKernelHandle *kernel, int idx);
ANE_BRIDGE_API size_t ane_bridge_output_size(ANEKernelHandle *kernel, int idx);

/* Releases the kernel and its surfaces. */
ANE_BRIDGE_API void ane_bridge_free(ANEKernelHandle *kernel);

/* The engine's compile counter (the original restarts its process near a budget). */
ANE_BRIDGE_API int ane_bridge_get_compile_count(void);
ANE_BRIDGE_API void ane_bridge_reset_compile_count(void);

/* Weight blobs (MILBlob v2, one fp16 blob: metadata at offset 64, data at 128).
 * `src` is fp32 row-major [rows, cols]; the transposed variant stores [cols, rows].
 * The result is owned by the caller: free it with ane_bridge_free_blob. NULL on failure. */
ANE_BRIDGE_API uint8_t *ane_bridge_build_weight_blob(const float *src, int rows, int cols, size_t *out_len);
ANE_BRIDGE_API uint8_t *ane_bridge_build_weight_blob_transposed(const float *src, int rows, int cols, size_t *out_len);
/* int8 blobs (dtype int8, one blob at offset 64) for constexpr_affine_dequantize, which
 * computes x = (q - zero_point) * scale: raw values; or fp32 `src` quantised symmetrically
 * (scale = max|x| / 127, zero point 0); or affinely (lo = min(min x, 0), hi = max(max x, 0),
 * scale = (hi - lo) / 255, zero point = clamp(round(-128 - lo / scale), -128, 127)).
 * q = clamp(round(x / scale) + zero_point, -128, 127), rounding half to even. An all-zero
 * `src` gives scale 1; NaN or infinite values are rejected. out_scale / out_zero_point
 * receive the parameters to put in the MIL. */
ANE_BRIDGE_API uint8_t *ane_bridge_build_weight_blob_int8(const int8_t *src, int rows, int cols, size_t *out_len);
ANE_BRIDGE_API uint8_t *ane_bridge_build_weight_blob_quantized(const float *src, int rows, int cols,
                                                               float *out_scale, size_t *out_len);
ANE_BRIDGE_API uint8_t *ane_bridge_build_weight_blob_quantized_affine(const float *src, int rows, int cols,
                                                                      float *out_scale, int8_t *out_zero_point,
                                                                      size_t *out_len);
ANE_BRIDGE_API void ane_bridge_free_blob(void *ptr);

/* OpenANE additions. */
/* Text of this thread's last failure ("" if none). Valid until the next bridge call on this thread. */
ANE_BRIDGE_API const char *ane_bridge_last_error(void);
/* Precision of kernels compiled from now on: 0 = fp32 inside (default), 1 = fp16 datapath
 * (every op rounded to fp16, as the ANE). Returns 0, or -1 for an unknown mode. */
ANE_BRIDGE_API int ane_bridge_set_precision(int mode);
/* Thread count of kernels compiled from now on (0 = physical cores). Returns 0, or -1. */
ANE_BRIDGE_API int ane_bridge_set_threads(int threads);

#ifdef __cplusplus
}
#endif

#endif /* ANE_BRIDGE_H */
