// libFuzzer target for the whole engine: a program that parses and verifies, and is small
// enough to run in about a millisecond, is compiled for the float64 reference backend and for
// the CPU backend in both precisions (two threads, so the pool's paths run too) and run on
// random inputs. Compile errors are fine (an op a backend lacks, a weight file not given);
// crashes, hangs, leaks and out-of-bounds accesses in the compiler, the planner and the
// kernels are not.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string_view>
#include <vector>

#include "compiler/op_cost.h"
#include "core/file.h"
#include "mil/parser.h"
#include "mil/verifier.h"
#include "runtime/engine.h"

namespace {

constexpr int64_t kMaxElements = int64_t{1} << 16;  // per value
constexpr double kMaxFlops = 4e6;                   // per program, by the compiler's cost model

// The one weight file the seed corpus's trainer kernels name (their attention mask).
const ane::WeightMap& seed_weights() {
  static const std::vector<uint8_t> mask = [] {
    auto bytes = ane::read_file(ANE_FUZZ_CORPUS_DIR "/weight/mask.bin");
    if (!bytes.ok()) {
      std::fprintf(stderr, "mil_engine_fuzz: %s\n", bytes.error().to_string().c_str());
      std::abort();
    }
    return std::move(*bytes);
  }();
  static const ane::WeightMap map{{"@model_path/weights/mask.bin", mask}};
  return map;
}

bool small_enough(const ane::mil::Function& fn) {
  double flops = 0;
  for (const auto& op : fn.ops) flops += ane::compiler::op_cost(*op).flops;
  if (flops > kMaxFlops) return false;
  for (const auto& v : fn.values) {
    if (v->type.num_elements() > kMaxElements) return false;
  }
  return true;
}

void compile_and_run(std::string_view text, ane::EngineOptions options, const std::vector<size_t>& in_sizes,
                     const std::vector<size_t>& out_sizes) {
  auto engine = ane::Engine::create(options);
  if (!engine.ok()) return;
  auto kernel = (*engine)->compile(text, seed_weights(), in_sizes, out_sizes);
  if (!kernel.ok()) return;
  std::mt19937 rng(static_cast<uint32_t>(text.size()));
  for (size_t i = 0; i < in_sizes.size(); ++i) {
    std::vector<uint8_t> bytes(in_sizes[i]);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng() % 64);  // small finite values in any dtype
    (void)(*kernel)->write_input(i, bytes);
  }
  (void)(*kernel)->run();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto program = ane::mil::parse_program(text, "fuzz.mil");
  if (!program.ok() || !ane::mil::verify(**program).ok()) return 0;
  const ane::mil::Function* fn = (*program)->find_function("main");
  if (fn == nullptr || !small_enough(*fn)) return 0;
  std::vector<size_t> in_sizes, out_sizes;
  for (const auto* v : fn->inputs) in_sizes.push_back(v->type.num_bytes());
  for (const auto* v : fn->outputs) out_sizes.push_back(v->type.num_bytes());
  compile_and_run(text, {.backend = "ref", .threads = 1}, in_sizes, out_sizes);
  compile_and_run(text, {.backend = "cpu", .threads = 2}, in_sizes, out_sizes);
  compile_and_run(text, {.backend = "cpu", .precision = ane::Precision::kFp16, .threads = 2}, in_sizes, out_sizes);
  return 0;
}
