#include "runtime/engine.h"

#include <string>

#include "backends/cpu/cpu_backend.h"
#include "backends/ref/ref_backend.h"
#include "mil/parser.h"
#include "mil/verifier.h"

namespace ane {
namespace {

Expected<std::unique_ptr<Backend>> make_backend(const std::string& kind) {
  if (kind == "ref") return make_reference_backend();
  if (kind == "cpu") return make_cpu_backend();
  return invalid_argument("unknown backend '" + kind + "' (expected 'ref' or 'cpu')");
}

// "input 0 'x': declared 100 bytes but tensor<fp16, [1, 768, 1, 256]> is 393216 bytes".
void check_sizes(const char* what, const std::vector<mil::Value*>& values, std::span<const size_t> sizes,
                 std::string& problems) {
  auto add = [&](const std::string& p) { problems += (problems.empty() ? "" : "; ") + p; };
  if (sizes.size() != values.size()) {
    add("declared " + std::to_string(sizes.size()) + " " + what + "s but the function has " +
        std::to_string(values.size()));
  }
  for (size_t i = 0; i < std::min(sizes.size(), values.size()); ++i) {
    const mil::TensorType& t = values[i]->type;
    if (sizes[i] != t.num_bytes()) {
      add(std::string(what) + " " + std::to_string(i) + " '" + values[i]->name + "': declared " +
          std::to_string(sizes[i]) + " bytes but " + t.to_string() + " is " + std::to_string(t.num_bytes()) + " bytes");
    }
  }
}

std::vector<mil::TensorType> types_of(const std::vector<mil::Value*>& values) {
  std::vector<mil::TensorType> out;
  for (const mil::Value* v : values) out.push_back(v->type);
  return out;
}

}  // namespace

Status check_io_sizes(const mil::Function& fn, std::span<const size_t> input_sizes,
                      std::span<const size_t> output_sizes) {
  std::string problems;
  check_sizes("input", fn.inputs, input_sizes, problems);
  check_sizes("output", fn.outputs, output_sizes, problems);
  if (problems.empty()) return {};
  return invalid_argument("function '" + fn.name + "': " + problems, fn.loc);
}

Expected<std::unique_ptr<Engine>> Engine::create(EngineOptions options) {
  if (options.compile_budget < 0) return invalid_argument("compile_budget must be >= 0 (0 = unlimited)");
  ANE_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend, make_backend(options.backend));
  return std::unique_ptr<Engine>(new Engine(std::move(options), std::move(backend)));
}

Engine::Engine(EngineOptions options, std::unique_ptr<Backend> backend)
    : options_(std::move(options)), backend_(std::move(backend)), pool_(std::make_shared<ThreadPool>(options_.threads)) {}

int Engine::compile_count() const {
  std::lock_guard guard(mu_);
  return count_;
}

void Engine::reset_compile_count() {
  std::lock_guard guard(mu_);
  count_ = 0;
}

Status Engine::reserve_compile() {
  std::lock_guard guard(mu_);
  if (options_.compile_budget > 0 && count_ >= options_.compile_budget) {
    return Error(ErrorCode::kBudgetExceeded, "compile budget of " + std::to_string(options_.compile_budget) +
                                                 " kernels is spent (restart, or reset_compile_count())");
  }
  ++count_;
  return {};
}

void Engine::release_compile() {
  std::lock_guard guard(mu_);
  --count_;
}

Expected<std::unique_ptr<Kernel>> Engine::compile(std::string_view mil_text, const WeightMap& weights,
                                                  std::span<const size_t> input_sizes,
                                                  std::span<const size_t> output_sizes, std::string_view function,
                                                  std::optional<CompileOptions> options) {
  ANE_RETURN_IF_ERROR(reserve_compile());
  auto program = mil::parse_program(mil_text, "<mil>");
  auto kernel = program.ok() ? build_kernel(std::move(*program), weights, input_sizes, output_sizes, function, options)
                             : Expected<std::unique_ptr<Kernel>>(program.error());
  if (!kernel.ok()) release_compile();
  return kernel;
}

Expected<std::unique_ptr<Kernel>> Engine::compile_program(std::unique_ptr<mil::Program> program,
                                                          const WeightMap& weights,
                                                          std::span<const size_t> input_sizes,
                                                          std::span<const size_t> output_sizes,
                                                          std::string_view function,
                                                          std::optional<CompileOptions> options) {
  if (!program) return invalid_argument("compile_program: null program");
  ANE_RETURN_IF_ERROR(reserve_compile());
  auto kernel = build_kernel(std::move(program), weights, input_sizes, output_sizes, function, options);
  if (!kernel.ok()) release_compile();
  return kernel;
}

Expected<std::unique_ptr<Kernel>> Engine::build_kernel(std::unique_ptr<mil::Program> program, const WeightMap& weights,
                                                       std::span<const size_t> input_sizes,
                                                       std::span<const size_t> output_sizes,
                                                       std::string_view function,
                                                       const std::optional<CompileOptions>& options) {
  CompileOptions copts = options ? *options : default_compile_options();
  if (copts.threads < 0) return invalid_argument("threads must be >= 0 (0 = physical cores), got " + std::to_string(copts.threads));
  copts.function_outlives_executable = true;  // the kernel keeps the program
  const int threads = copts.threads == 0 ? default_thread_count() : copts.threads;
  if (copts.pool == nullptr && threads == pool_->size()) copts.pool = pool_;
  const mil::Function* fn = program->find_function(function);
  if (fn == nullptr) {
    return invalid_argument("program '" + program->source_name + "' has no function '" + std::string(function) + "'");
  }
  ANE_RETURN_IF_ERROR(mil::verify(*program));
  ANE_RETURN_IF_ERROR(mil::resolve_weights(*program, weights));
  ANE_RETURN_IF_ERROR(check_io_sizes(*fn, input_sizes, output_sizes));
  ANE_ASSIGN_OR_RETURN(std::unique_ptr<Executable> exe, backend_->compile(*fn, copts));
  return std::make_unique<Kernel>(fn->name, std::move(exe), types_of(fn->inputs), types_of(fn->outputs), copts,
                                  std::move(program));
}

}  // namespace ane
