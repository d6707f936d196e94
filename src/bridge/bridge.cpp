// The C ABI of include/ane_bridge.h over the runtime's Engine and Kernel.
//
// Every entry point is noexcept in effect: its body runs inside call()/call_status(), which
// clear this thread's last error, turn a failed Status/Expected into the error text, and
// catch every C++ exception so none crosses into C (or Python's ctypes).
#include "ane_bridge.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "formats/weight_blob.h"
#include "runtime/engine.h"

// The handle C code holds: one compiled kernel and, through it, its surfaces.
struct ANEKernelHandle {
  std::unique_ptr<ane::Kernel> kernel;
};

namespace ane::bridge {
namespace {

// The single blob name of ane_bridge_compile (the original's convention).
constexpr const char* kSingleBlobName = "@model_path/weights/weight.bin";

// The one piece of process-wide mutable state: the engine behind the ABI. A C ABI has no
// object to hang it on, and the original's bridge keeps its compile counter process-wide,
// so callers (Python) expect one shared counter. It also holds the precision and thread
// settings that ane_bridge_set_precision / _set_threads apply to later compiles.
class Bridge {
 public:
  // The shared instance, created on first use (C++ guarantees one thread-safe creation).
  static Expected<Bridge*> get() {
    static Expected<std::unique_ptr<Bridge>> instance = create();
    if (!instance.ok()) return instance.error();
    return instance->get();
  }

  Engine& engine() { return *engine_; }

  CompileOptions compile_options() const {
    std::lock_guard guard(mu_);
    return options_;
  }
  void set_precision(Precision p) {
    std::lock_guard guard(mu_);
    options_.precision = p;
  }
  void set_threads(int threads) {
    std::lock_guard guard(mu_);
    options_.threads = threads;
  }

 private:
  explicit Bridge(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {
    options_.precision = engine_->options().precision;
    options_.threads = engine_->options().threads;
  }

  static Expected<std::unique_ptr<Bridge>> create() {
    EngineOptions o;
    o.compile_budget = 0;  // unlimited: the original's bridge only counts
    ANE_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::create(o));
    return std::unique_ptr<Bridge>(new Bridge(std::move(engine)));
  }

  std::unique_ptr<Engine> engine_;
  mutable std::mutex mu_;  // guards options_
  CompileOptions options_;
};

// ---- errors ----

thread_local std::string t_last_error;

void set_error(const char* fn, const std::string& message) noexcept {
  try {
    t_last_error = std::string(fn) + ": " + message;
  } catch (...) {
    t_last_error.clear();  // out of memory while reporting: leave an empty message
  }
}

void report_exception(const char* fn) noexcept {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    set_error(fn, "out of memory");
  } catch (const std::exception& e) {
    set_error(fn, std::string("internal error: ") + e.what());
  } catch (...) {
    set_error(fn, "internal error: unknown exception");
  }
}

// Runs `body` (returning Expected<T>) for entry point `fn`: its value, or `on_failure` with
// the reason in the last error.
template <typename T, typename F>
T call(const char* fn, T on_failure, F&& body) noexcept {
  t_last_error.clear();
  try {
    Expected<T> result = body();
    if (result.ok()) return std::move(result).value();
    set_error(fn, result.error().to_string());
  } catch (...) {
    report_exception(fn);
  }
  return on_failure;
}

// The same for a body returning Status: true on success.
template <typename F>
bool call_status(const char* fn, F&& body) noexcept {
  t_last_error.clear();
  try {
    Status status = body();
    if (status.ok()) return true;
    set_error(fn, status.error().to_string());
  } catch (...) {
    report_exception(fn);
  }
  return false;
}

// ---- argument checks ----

Expected<Kernel*> kernel_of(ANEKernelHandle* handle) {
  if (handle == nullptr || !handle->kernel) return invalid_argument("kernel handle is NULL");
  return handle->kernel.get();
}

// A C index as size_t; negative indices are out of range like too-large ones.
Expected<size_t> index_of(int idx, size_t count, const char* what) {
  if (idx < 0 || static_cast<size_t>(idx) >= count) {
    return Error(ErrorCode::kOutOfRange, std::string(what) + " index " + std::to_string(idx) + " is out of range (the kernel has " +
                                             std::to_string(count) + " " + what + "s)");
  }
  return static_cast<size_t>(idx);
}

// A (pointer, count) pair from C as a span; NULL is allowed only with count 0.
template <typename T>
Expected<std::span<const T>> array_of(const T* data, int count, const char* what) {
  if (count < 0) return invalid_argument(std::string(what) + " count " + std::to_string(count) + " is negative");
  if (count > 0 && data == nullptr) return invalid_argument(std::string(what) + " is NULL but its count is " + std::to_string(count));
  return std::span<const T>(data, static_cast<size_t>(count));
}

Expected<std::span<const uint8_t>> bytes_of(const void* data, size_t bytes, const char* what) {
  if (data == nullptr && bytes > 0) return invalid_argument(std::string(what) + " is NULL but its length is " + std::to_string(bytes));
  return std::span<const uint8_t>(static_cast<const uint8_t*>(data), data == nullptr ? 0 : bytes);
}

// Builds the WeightMap (views of the caller's bytes: Engine::compile copies them).
Expected<WeightMap> weight_map(const char** names, const uint8_t** datas, const size_t* lens, int n) {
  if (n < 0) return invalid_argument("n_weights " + std::to_string(n) + " is negative");
  if (n > 0 && (names == nullptr || datas == nullptr || lens == nullptr)) {
    return invalid_argument("n_weights is " + std::to_string(n) + " but weight_names, weight_datas or weight_lens is NULL");
  }
  WeightMap map;
  for (int i = 0; i < n; ++i) {
    const std::string at = "weight " + std::to_string(i);
    if (names[i] == nullptr || names[i][0] == '\0') return invalid_argument(at + ": name is NULL or empty");
    ANE_ASSIGN_OR_RETURN(std::span<const uint8_t> bytes, bytes_of(datas[i], lens[i], (at + " data").c_str()));
    if (!map.emplace(names[i], bytes).second) return invalid_argument(at + ": name '" + names[i] + "' is given twice");
  }
  return map;
}

Expected<ANEKernelHandle*> compile(std::string_view mil, const WeightMap& weights, int n_inputs, const size_t* input_sizes,
                                   int n_outputs, const size_t* output_sizes) {
  ANE_ASSIGN_OR_RETURN(std::span<const size_t> ins, array_of(input_sizes, n_inputs, "input_sizes"));
  ANE_ASSIGN_OR_RETURN(std::span<const size_t> outs, array_of(output_sizes, n_outputs, "output_sizes"));
  ANE_ASSIGN_OR_RETURN(Bridge * bridge, Bridge::get());
  ANE_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> kernel,
                       bridge->engine().compile(mil, weights, ins, outs, "main", bridge->compile_options()));
  return new ANEKernelHandle{std::move(kernel)};
}

Expected<std::string_view> mil_of(const char* text, size_t len) {
  if (text == nullptr) return invalid_argument("mil_text is NULL");
  return std::string_view(text, len);
}

// ---- blobs ----

// Checks a builder's common arguments and clears *out_len.
template <typename T>
Expected<std::span<const T>> matrix_of(const T* src, int rows, int cols, size_t* out_len) {
  if (out_len == nullptr) return invalid_argument("out_len is NULL");
  *out_len = 0;
  if (src == nullptr) return invalid_argument("src is NULL");
  if (rows <= 0 || cols <= 0) {
    return invalid_argument("rows and cols must be positive, got " + std::to_string(rows) + " x " + std::to_string(cols));
  }
  return std::span<const T>(src, static_cast<size_t>(rows) * static_cast<size_t>(cols));
}

// Moves a blob into malloc'd memory (freed by ane_bridge_free_blob) and sets *out_len.
Expected<uint8_t*> to_malloc(const std::vector<uint8_t>& blob, size_t* out_len) {
  auto* out = static_cast<uint8_t*>(std::malloc(blob.size()));
  if (out == nullptr) return Error(ErrorCode::kInternal, "out of memory for a " + std::to_string(blob.size()) + "-byte blob");
  std::memcpy(out, blob.data(), blob.size());
  *out_len = blob.size();
  return out;
}

Status check_finite(std::span<const float> x) {
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) return invalid_argument("src[" + std::to_string(i) + "] is not finite");
  }
  return {};
}

struct AffineParams {
  float scale = 1.0f;
  int zero_point = 0;
};

// Symmetric: scale = max|x| / 127, zero point 0 (scale 1 for all-zero x).
AffineParams symmetric_params(std::span<const float> x) {
  float max_abs = 0.0f;
  for (float v : x) max_abs = std::max(max_abs, std::fabs(v));
  return {max_abs > 0.0f ? max_abs / 127.0f : 1.0f, 0};
}

// Affine over [min(x, 0), max(x, 0)] onto [-128, 127].
AffineParams affine_params(std::span<const float> x) {
  const auto [mn, mx] = std::minmax_element(x.begin(), x.end());
  const double lo = std::min(0.0, static_cast<double>(*mn));
  const double hi = std::max(0.0, static_cast<double>(*mx));
  if (hi == lo) return {1.0f, 0};
  const auto scale = static_cast<float>((hi - lo) / 255.0);
  const double zp = std::nearbyint(-128.0 - lo / static_cast<double>(scale));
  return {scale, static_cast<int>(std::clamp(zp, -128.0, 127.0))};
}

Expected<uint8_t*> quantized_blob(const float* src, int rows, int cols, float* out_scale, int8_t* out_zero_point,
                                  size_t* out_len, bool affine) {
  ANE_ASSIGN_OR_RETURN(std::span<const float> x, matrix_of(src, rows, cols, out_len));
  if (out_scale == nullptr) return invalid_argument("out_scale is NULL");
  if (affine && out_zero_point == nullptr) return invalid_argument("out_zero_point is NULL");
  ANE_RETURN_IF_ERROR(check_finite(x));
  const AffineParams p = affine ? affine_params(x) : symmetric_params(x);
  ANE_ASSIGN_OR_RETURN(std::vector<uint8_t> blob, build_blob_int8_quantized(x, p.scale, p.zero_point));
  ANE_ASSIGN_OR_RETURN(uint8_t * out, to_malloc(blob, out_len));
  *out_scale = p.scale;
  if (out_zero_point != nullptr) *out_zero_point = static_cast<int8_t>(p.zero_point);
  return out;
}

}  // namespace
}  // namespace ane::bridge

using namespace ane;          // NOLINT: the entry points below are thin
using namespace ane::bridge;  // NOLINT

extern "C" {

int ane_bridge_init(void) {
  return call<int>("ane_bridge_init", -1, []() -> Expected<int> {
    ANE_ASSIGN_OR_RETURN(Bridge * bridge, Bridge::get());
    (void)bridge;
    return 0;
  });
}

ANEKernelHandle* ane_bridge_compile(const char* mil_text, size_t mil_len, const uint8_t* weight_data, size_t weight_len,
                                    int n_inputs, const size_t* input_sizes, int n_outputs, const size_t* output_sizes) {
  return call<ANEKernelHandle*>("ane_bridge_compile", nullptr, [&]() -> Expected<ANEKernelHandle*> {
    ANE_ASSIGN_OR_RETURN(std::string_view mil, mil_of(mil_text, mil_len));
    ANE_ASSIGN_OR_RETURN(std::span<const uint8_t> blob, bytes_of(weight_data, weight_len, "weight_data"));
    WeightMap weights;
    if (!blob.empty()) weights.emplace(kSingleBlobName, blob);
    return compile(mil, weights, n_inputs, input_sizes, n_outputs, output_sizes);
  });
}

ANEKernelHandle* ane_bridge_compile_multi_weights(const char* mil_text, size_t mil_len, const char** weight_names,
                                                  const uint8_t** weight_datas, const size_t* weight_lens, int n_weights,
                                                  int n_inputs, const size_t* input_sizes, int n_outputs,
                                                  const size_t* output_sizes) {
  return call<ANEKernelHandle*>("ane_bridge_compile_multi_weights", nullptr, [&]() -> Expected<ANEKernelHandle*> {
    ANE_ASSIGN_OR_RETURN(std::string_view mil, mil_of(mil_text, mil_len));
    ANE_ASSIGN_OR_RETURN(WeightMap weights, weight_map(weight_names, weight_datas, weight_lens, n_weights));
    return compile(mil, weights, n_inputs, input_sizes, n_outputs, output_sizes);
  });
}

bool ane_bridge_run(ANEKernelHandle* kernel) {
  return call_status("ane_bridge_run", [&]() -> Status {
    ANE_ASSIGN_OR_RETURN(Kernel * k, kernel_of(kernel));
    return k->run();
  });
}

bool ane_bridge_eval(ANEKernelHandle* kernel) { return ane_bridge_run(kernel); }

void ane_bridge_write_input(ANEKernelHandle* kernel, int idx, const void* data, size_t bytes) {
  call_status("ane_bridge_write_input", [&]() -> Status {
    ANE_ASSIGN_OR_RETURN(Kernel * k, kernel_of(kernel));
    ANE_ASSIGN_OR_RETURN(size_t i, index_of(idx, k->num_inputs(), "input"));
    ANE_ASSIGN_OR_RETURN(std::span<const uint8_t> src, bytes_of(data, bytes, "data"));
    return k->write_input(i, src);
  });
}

void ane_bridge_read_output(ANEKernelHandle* kernel, int idx, void* data, size_t bytes) {
  call_status("ane_bridge_read_output", [&]() -> Status {
    ANE_ASSIGN_OR_RETURN(Kernel * k, kernel_of(kernel));
    ANE_ASSIGN_OR_RETURN(size_t i, index_of(idx, k->num_outputs(), "output"));
    if (data == nullptr && bytes > 0) return invalid_argument("data is NULL but bytes is " + std::to_string(bytes));
    return k->read_output(i, std::span<uint8_t>(static_cast<uint8_t*>(data), data == nullptr ? 0 : bytes));
  });
}

void* ane_bridge_get_input_base(ANEKernelHandle* kernel, int idx) {
  return call<void*>("ane_bridge_get_input_base", nullptr, [&]() -> Expected<void*> {
    ANE_ASSIGN_OR_RETURN(Kernel * k, kernel_of(kernel));
    ANE_ASSIGN_OR_RETURN(size_t i, index_of(idx, k->num_inputs(), "input"));
    return static_cast<void*>(k->input(i)->data());
  });
}

void* ane_bridge_get_output_base(ANEKernelHandle* kernel, int idx) {
  return call<void*>("ane_bridge_get_output_base", nullptr, [&]() -> Expected<void*> {
    ANE_ASSIGN_OR_RETURN(Kernel * k, kernel_of(kernel));
    ANE_ASSIGN_OR_RETURN(size_t i, index_of(idx, k->num_outputs(), "output"));
    return static_cast<void*>(k->output(i)->data());
  });
}

size_t ane_bridge_input_size(ANEKernelHandle* kernel, int idx) {
  return call<size_t>("ane_bridge_input_size", 0, [&]() -> Expected<size_t> {
    ANE_ASSIGN_OR_RETURN(Kernel * k, kernel_of(kernel));
    ANE_ASSIGN_OR_RETURN(size_t i, index_of(idx, k->num_inputs(), "input"));
    return k->input(i)->size();
  });
}

size_t ane_bridge_output_size(ANEKernelHandle* kernel, int idx) {
  return call<size_t>("ane_bridge_output_size", 0, [&]() -> Expected<size_t> {
    ANE_ASSIGN_OR_RETURN(Kernel * k, kernel_of(kernel));
    ANE_ASSIGN_OR_RETURN(size_t i, index_of(idx, k->num_outputs(), "output"));
    return k->output(i)->size();
  });
}

void ane_bridge_free(ANEKernelHandle* kernel) {
  try {
    delete kernel;
  } catch (...) {
    // destructors do not throw; nothing can cross the ABI regardless
  }
}

int ane_bridge_get_compile_count(void) {
  return call<int>("ane_bridge_get_compile_count", -1, []() -> Expected<int> {
    ANE_ASSIGN_OR_RETURN(Bridge * bridge, Bridge::get());
    return bridge->engine().compile_count();
  });
}

void ane_bridge_reset_compile_count(void) {
  call_status("ane_bridge_reset_compile_count", []() -> Status {
    ANE_ASSIGN_OR_RETURN(Bridge * bridge, Bridge::get());
    bridge->engine().reset_compile_count();
    return {};
  });
}

uint8_t* ane_bridge_build_weight_blob(const float* src, int rows, int cols, size_t* out_len) {
  return call<uint8_t*>("ane_bridge_build_weight_blob", nullptr, [&]() -> Expected<uint8_t*> {
    ANE_ASSIGN_OR_RETURN(std::span<const float> w, matrix_of(src, rows, cols, out_len));
    ANE_ASSIGN_OR_RETURN(std::vector<uint8_t> blob, build_blob(w, rows, cols));
    return to_malloc(blob, out_len);
  });
}

uint8_t* ane_bridge_build_weight_blob_transposed(const float* src, int rows, int cols, size_t* out_len) {
  return call<uint8_t*>("ane_bridge_build_weight_blob_transposed", nullptr, [&]() -> Expected<uint8_t*> {
    ANE_ASSIGN_OR_RETURN(std::span<const float> w, matrix_of(src, rows, cols, out_len));
    ANE_ASSIGN_OR_RETURN(std::vector<uint8_t> blob, build_blob_transposed(w, rows, cols));
    return to_malloc(blob, out_len);
  });
}

uint8_t* ane_bridge_build_weight_blob_int8(const int8_t* src, int rows, int cols, size_t* out_len) {
  return call<uint8_t*>("ane_bridge_build_weight_blob_int8", nullptr, [&]() -> Expected<uint8_t*> {
    ANE_ASSIGN_OR_RETURN(std::span<const int8_t> q, matrix_of(src, rows, cols, out_len));
    return to_malloc(build_blob_int8(q), out_len);
  });
}

uint8_t* ane_bridge_build_weight_blob_quantized(const float* src, int rows, int cols, float* out_scale, size_t* out_len) {
  return call<uint8_t*>("ane_bridge_build_weight_blob_quantized", nullptr, [&]() -> Expected<uint8_t*> {
    return quantized_blob(src, rows, cols, out_scale, nullptr, out_len, /*affine=*/false);
  });
}

uint8_t* ane_bridge_build_weight_blob_quantized_affine(const float* src, int rows, int cols, float* out_scale,
                                                       int8_t* out_zero_point, size_t* out_len) {
  return call<uint8_t*>("ane_bridge_build_weight_blob_quantized_affine", nullptr, [&]() -> Expected<uint8_t*> {
    return quantized_blob(src, rows, cols, out_scale, out_zero_point, out_len, /*affine=*/true);
  });
}

void ane_bridge_free_blob(void* ptr) { std::free(ptr); }

const char* ane_bridge_last_error(void) { return t_last_error.c_str(); }

int ane_bridge_set_precision(int mode) {
  return call<int>("ane_bridge_set_precision", -1, [&]() -> Expected<int> {
    if (mode != 0 && mode != 1) {
      return invalid_argument("unknown precision mode " + std::to_string(mode) + " (0 = fp32, 1 = fp16)");
    }
    ANE_ASSIGN_OR_RETURN(Bridge * bridge, Bridge::get());
    bridge->set_precision(mode == 0 ? Precision::kFp32 : Precision::kFp16);
    return 0;
  });
}

int ane_bridge_set_threads(int threads) {
  return call<int>("ane_bridge_set_threads", -1, [&]() -> Expected<int> {
    if (threads < 0) return invalid_argument("threads must be >= 0 (0 = physical cores), got " + std::to_string(threads));
    ANE_ASSIGN_OR_RETURN(Bridge * bridge, Bridge::get());
    bridge->set_threads(threads);
    return 0;
  });
}

}  // extern "C"
