// `ane mil check|print|run`: verify, print and run MIL programs from the command line.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <map>
#include <random>
#include <memory>
#include <string>
#include <vector>

#include "compiler/op_cost.h"
#include "core/file.h"
#include "core/timer.h"
#include "core/fp16.h"
#include "formats/npy.h"
#include "mil/parser.h"
#include "mil/printer.h"
#include "mil/verifier.h"
#include "mil/weights.h"
#include "core/thread_pool.h"
#include "runtime/engine.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace ane::cli {
namespace {

constexpr const char* kMilHelp =
    "usage: ane mil <check|print|run|bench> PROG.mil [options]\n"
    "\n"
    "  check PROG.mil [--weights DIR] [--function F]\n"
    "      parse and verify; print each op's output type and size, and the weights\n"
    "  print PROG.mil\n"
    "      print the program as canonical MIL text\n"
    "  run PROG.mil [--weights DIR] [--in FILE]... [--out FILE]... [--function F]\n"
    "             [--backend ref] [--precision fp32|fp16] [--threads N]\n"
    "      run function F (default main): --in gives parameter i (.npy or raw bytes in the\n"
    "      declared dtype); --out receives output j (.npy writes the declared dtype and shape,\n"
    "      any other name raw bytes); without --out a summary of each output is printed\n"
    "  bench PROG.mil [--weights DIR] [--in FILE]... [--reps N] [--function F]\n"
    "             [--backend ref|cpu] [--precision fp32|fp16] [--threads N] [--cold]\n"
    "      time N runs (default 20; random inputs unless --in): median ms, GFLOP/s, GB/s,\n"
    "      and the per-step breakdown of the compiled plan; --cold evicts the caches before\n"
    "      each run, as a kernel inside a training step finds them\n"
    "\n"
    "--weights DIR: every *.bin file in DIR (or in DIR/weights) is available to BLOBFILE as\n"
    "@model_path/weights/NAME.bin.\n";

// Weight files of a directory, mapped, under the names MIL programs use for them.
struct WeightDir {
  std::vector<MappedFile> files;
  WeightMap map;
};

Expected<WeightDir> load_weight_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  WeightDir out;
  if (dir.empty()) return out;
  std::error_code ec;
  fs::path base = dir;
  if (fs::is_directory(base / "weights", ec)) base /= "weights";
  if (!fs::is_directory(base, ec)) return io_error("--weights: not a directory", Location{dir});
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(base, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".bin") paths.push_back(entry.path());
  }
  out.files.reserve(paths.size());
  for (const auto& p : paths) {
    ANE_ASSIGN_OR_RETURN(MappedFile f, MappedFile::open(p.string()));
    out.files.push_back(std::move(f));
    out.map.emplace("@model_path/weights/" + p.filename().string(), out.files.back().bytes());
  }
  return out;
}

Expected<std::unique_ptr<mil::Program>> load_program(const std::string& path) {
  ANE_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  return mil::parse_program(text, path);
}

Expected<const mil::Function*> find_function(const mil::Program& p, const std::string& name) {
  const mil::Function* fn = p.find_function(name);
  if (!fn) return invalid_argument("program has no function '" + name + "'", Location{p.source_name});
  return fn;
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (b >= 1024 && u < 3) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", b, units[u]);
  return buf;
}

// Compiles `fn` of `text` for the CPU backend and prints what its memory planner arrived at
// (skipped, with the reason, when the program cannot compile here, e.g. weights not given).
void print_planned_memory(const std::string& text, const std::string& path, const std::string& fn_name,
                          const WeightMap& weights) {
  auto engine = Engine::create({.compile_budget = 0});
  auto reparsed = mil::parse_program(text, path);  // compile consumes its program
  if (!engine || !reparsed) return;
  const mil::Function* fn = (*reparsed)->find_function(fn_name);
  std::vector<size_t> in, out;
  for (const mil::Value* v : fn->inputs) in.push_back(v->type.num_bytes());
  for (const mil::Value* v : fn->outputs) out.push_back(v->type.num_bytes());
  auto kernel = (*engine)->compile_program(std::move(*reparsed), weights, in, out, fn_name);
  if (!kernel) {
    std::printf("peak memory: not planned (%s)\n", kernel.error().message().c_str());
    return;
  }
  const ExecutableStats st = (*kernel)->stats();
  std::printf("peak memory (cpu backend plan): %s arena for intermediates (%s unshared), %s constants; "
              "%zu steps: %d fused, %d folded, %d views, %d taps in place, %d dead, %d merged, "
              "%d causal softmaxes\n",
              human_bytes(static_cast<double>(st.arena_bytes)).c_str(),
              human_bytes(static_cast<double>(st.unshared_bytes)).c_str(),
              human_bytes(static_cast<double>(st.constant_bytes)).c_str(), st.steps, st.fused_ops, st.folded_ops,
              st.view_ops, st.taps, st.dead_ops, st.merged_ops, st.causal_softmaxes);
}

int run_check(const Args& args) {
  const std::string path = args.positional()[1];
  auto text = read_text_file(path);
  if (!text) return report(text.error());
  auto program = mil::parse_program(*text, path);
  if (!program) return report(program.error());
  if (Status s = mil::verify(**program); !s) return report(s.error());
  auto weights = load_weight_dir(args.get("weights"));
  if (!weights) return report(weights.error());
  if (args.has("weights")) {
    if (Status s = mil::resolve_weights(**program, weights->map); !s) return report(s.error());
  }
  auto fn = find_function(**program, args.get("function", "main"));
  if (!fn) return report(fn.error());
  const mil::Function& f = **fn;
  std::printf("%s: function %s<%s>, %zu ops\n", path.c_str(), f.name.c_str(), f.opset.c_str(), f.ops.size());
  for (size_t i = 0; i < f.inputs.size(); ++i) {
    std::printf("  input %zu  %-20s %s (%s)\n", i, f.inputs[i]->name.c_str(), f.inputs[i]->type.to_string().c_str(),
                human_bytes(static_cast<double>(f.inputs[i]->type.num_bytes())).c_str());
  }
  size_t weight_bytes = 0, activation_bytes = 0;
  double total_flops = 0;
  std::printf("  %-4s %-16s %-24s %-36s %-10s %s\n", "line", "op", "name", "output", "bytes", "MFLOP");
  for (const auto& op : f.ops) {
    const double flops = compiler::op_cost(*op).flops;
    total_flops += flops;
    for (const mil::Value* out : op->outputs) {
      const size_t bytes = out->type.num_bytes();
      (op->type == "const" ? weight_bytes : activation_bytes) += bytes;
      if (op->type == "const" && !(out->constant && out->constant->blob)) continue;  // small literals
      std::printf("  %-4d %-16s %-24s %-36s %-10s %.3f\n", op->loc.line, op->type.c_str(), out->name.c_str(),
                  out->type.to_string().c_str(), human_bytes(static_cast<double>(bytes)).c_str(), flops / 1e6);
    }
  }
  for (size_t j = 0; j < f.outputs.size(); ++j) {
    std::printf("  output %zu %-20s %s (%s)\n", j, f.outputs[j]->name.c_str(), f.outputs[j]->type.to_string().c_str(),
                human_bytes(static_cast<double>(f.outputs[j]->type.num_bytes())).c_str());
  }
  std::printf("total: %.3f MFLOP; constants %s; op results %s before planning\n", total_flops / 1e6,
              human_bytes(static_cast<double>(weight_bytes)).c_str(),
              human_bytes(static_cast<double>(activation_bytes)).c_str());
  print_planned_memory(*text, path, f.name, weights->map);
  std::printf("ok: verified%s\n", args.has("weights") ? ", weights resolved" : "");
  return 0;
}

int run_print(const Args& args) {
  auto program = load_program(args.positional()[1]);
  if (!program) return report(program.error());
  std::fputs(mil::print_program(**program).c_str(), stdout);
  return 0;
}

// numpy descr of a MIL dtype ("" when numpy has none).
std::string npy_descr(mil::DType t) {
  switch (t) {
    case mil::DType::kFp16: return "<f2";
    case mil::DType::kFp32: return "<f4";
    case mil::DType::kInt8: return "|i1";
    case mil::DType::kUint8: return "|u1";
    case mil::DType::kBool: return "|b1";
    case mil::DType::kInt16: return "<i2";
    case mil::DType::kUint16: return "<u2";
    case mil::DType::kInt32: return "<i4";
    case mil::DType::kUint32: return "<u4";
    case mil::DType::kInt64: return "<i8";
    case mil::DType::kUint64: return "<u8";
    default: return "";
  }
}

// The bytes of input `idx` from FILE: .npy (same dtype, or float32/float64 converted to a
// float surface; the element count must match) or raw bytes of exactly the surface's size.
Expected<std::vector<uint8_t>> load_input(const std::string& file, const mil::TensorType& type, size_t idx) {
  const std::string what = "input " + std::to_string(idx) + " (" + type.to_string() + ")";
  if (file.size() < 4 || file.substr(file.size() - 4) != ".npy") {
    ANE_ASSIGN_OR_RETURN(std::vector<uint8_t> raw, read_file(file));
    if (raw.size() != type.num_bytes()) {
      return invalid_argument(what + " needs " + std::to_string(type.num_bytes()) + " bytes, file has " +
                              std::to_string(raw.size()), Location{file});
    }
    return raw;
  }
  ANE_ASSIGN_OR_RETURN(NpyArray a, read_npy(file));
  if (a.element_count() != type.num_elements()) {
    return invalid_argument(what + " has " + std::to_string(type.num_elements()) + " elements, the array " +
                            std::to_string(a.element_count()), Location{file});
  }
  if (a.descr == npy_descr(type.dtype)) return a.data;
  const bool float_surface = type.dtype == mil::DType::kFp16 || type.dtype == mil::DType::kFp32;
  if (!float_surface || (a.descr != "<f4" && a.descr != "<f8" && a.descr != "<f2")) {
    return invalid_argument(what + " cannot take a '" + a.descr + "' array", Location{file});
  }
  std::vector<float> values(static_cast<size_t>(a.element_count()));
  for (size_t i = 0; i < values.size(); ++i) {
    if (a.descr == "<f4") std::memcpy(&values[i], a.data.data() + 4 * i, 4);
    if (a.descr == "<f2") {
      half_bits h;
      std::memcpy(&h, a.data.data() + 2 * i, 2);
      values[i] = half_to_float(h);
    }
    if (a.descr == "<f8") {
      double d;
      std::memcpy(&d, a.data.data() + 8 * i, 8);
      values[i] = static_cast<float>(d);
    }
  }
  std::vector<uint8_t> out(type.num_bytes());
  if (type.dtype == mil::DType::kFp16) {
    floats_to_halves(reinterpret_cast<half_bits*>(out.data()), values.data(), values.size());
  } else {
    std::memcpy(out.data(), values.data(), out.size());
  }
  return out;
}

Status save_output(const std::string& file, const mil::TensorType& type, std::vector<uint8_t> bytes) {
  if (file.size() < 4 || file.substr(file.size() - 4) != ".npy") return write_file_atomic(file, bytes);
  NpyArray a;
  a.descr = npy_descr(type.dtype);
  a.shape = type.shape;
  a.data = std::move(bytes);
  return write_npy(file, a);
}

// A surface as the command line sees it.
struct Io {
  std::string name;
  mil::TensorType type;
};

std::vector<Io> ios_of(const std::vector<mil::Value*>& values) {
  std::vector<Io> out;
  for (const mil::Value* v : values) out.push_back({v->name, v->type});
  return out;
}

void print_summary(size_t idx, const Io& v, const std::vector<uint8_t>& bytes) {
  std::printf("output %zu %s %s", idx, v.name.c_str(), v.type.to_string().c_str());
  const size_t n = static_cast<size_t>(v.type.num_elements());
  if (v.type.dtype != mil::DType::kFp16 && v.type.dtype != mil::DType::kFp32) {
    std::printf(" (%zu bytes)\n", bytes.size());
    return;
  }
  std::vector<float> f(n);
  if (v.type.dtype == mil::DType::kFp16) halves_to_floats(f.data(), reinterpret_cast<const half_bits*>(bytes.data()), n);
  else std::memcpy(f.data(), bytes.data(), n * 4);
  double lo = n ? f[0] : 0, hi = lo, sum = 0;
  for (float x : f) {
    lo = std::min<double>(lo, x);
    hi = std::max<double>(hi, x);
    sum += x;
  }
  std::printf(" min %.6g max %.6g mean %.6g first [", lo, hi, n ? sum / static_cast<double>(n) : 0.0);
  for (size_t i = 0; i < std::min<size_t>(n, 6); ++i) std::printf(i ? ", %.6g" : "%.6g", f[i]);
  std::printf("%s]\n", n > 6 ? ", ..." : "");
}

Expected<EngineOptions> engine_options(const Args& args) {
  EngineOptions o;
  o.backend = args.get("backend", o.backend);
  const std::string precision = args.get("precision", "fp32");
  if (precision == "fp16") o.precision = Precision::kFp16;
  else if (precision != "fp32") return invalid_argument("--precision must be fp32 or fp16, got '" + precision + "'");
  ANE_ASSIGN_OR_RETURN(long long threads, args.get_int("threads", 0));
  o.threads = static_cast<int>(threads);
  o.compile_budget = 0;
  return o;
}

// A program compiled for `run` and `bench`, with its inputs written.
struct Prepared {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Kernel> kernel;
  std::vector<Io> inputs, outputs;
  double flops = 0, bytes = 0;  // op_cost totals over the function
};

// Random fp16/fp32 inputs in [-1, 1) (other dtypes stay zero) for `bench` without --in.
void write_random_inputs(Kernel& kernel, const std::vector<Io>& ios) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (size_t i = 0; i < ios.size(); ++i) {
    const auto n = static_cast<size_t>(ios[i].type.num_elements());
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    std::vector<uint8_t> bytes(ios[i].type.num_bytes());
    if (ios[i].type.dtype == mil::DType::kFp16) floats_to_halves(reinterpret_cast<half_bits*>(bytes.data()), v.data(), n);
    if (ios[i].type.dtype == mil::DType::kFp32) std::memcpy(bytes.data(), v.data(), bytes.size());
    (void)kernel.write_input(i, bytes);
  }
}

Expected<Prepared> prepare(const Args& args, bool inputs_required) {
  const std::string path = args.positional()[1];
  ANE_ASSIGN_OR_RETURN(std::unique_ptr<mil::Program> program, load_program(path));
  const std::string fn_name = args.get("function", "main");
  ANE_ASSIGN_OR_RETURN(const mil::Function* fn, find_function(*program, fn_name));
  const auto& ins = args.get_all("in");
  if ((inputs_required || !ins.empty()) && ins.size() != fn->inputs.size()) {
    return invalid_argument(fn_name + " takes " + std::to_string(fn->inputs.size()) + " inputs, " +
                            std::to_string(ins.size()) + " --in given");
  }
  Prepared p;
  p.inputs = ios_of(fn->inputs);
  p.outputs = ios_of(fn->outputs);
  for (const auto& op : fn->ops) {
    const compiler::OpCost cost = compiler::op_cost(*op);
    p.flops += cost.flops;
    p.bytes += cost.bytes;
  }
  std::vector<size_t> in_sizes, out_sizes;
  for (const Io& io : p.inputs) in_sizes.push_back(io.type.num_bytes());
  for (const Io& io : p.outputs) out_sizes.push_back(io.type.num_bytes());
  ANE_ASSIGN_OR_RETURN(WeightDir weights, load_weight_dir(args.get("weights")));
  ANE_ASSIGN_OR_RETURN(EngineOptions options, engine_options(args));
  ANE_ASSIGN_OR_RETURN(p.engine, Engine::create(options));
  ANE_ASSIGN_OR_RETURN(p.kernel, p.engine->compile_program(std::move(program), weights.map, in_sizes, out_sizes, fn_name));
  for (size_t i = 0; i < ins.size(); ++i) {
    ANE_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, load_input(ins[i], p.inputs[i].type, i));
    ANE_RETURN_IF_ERROR(p.kernel->write_input(i, bytes));
  }
  if (ins.empty()) write_random_inputs(*p.kernel, p.inputs);
  return p;
}

int run_run(const Args& args) {
  const auto& outs = args.get_all("out");
  auto p = prepare(args, /*inputs_required=*/true);
  if (!p) return report(p.error());
  if (!outs.empty() && outs.size() != p->outputs.size()) {
    return report(invalid_argument("the function returns " + std::to_string(p->outputs.size()) + " outputs, " +
                                   std::to_string(outs.size()) + " --out given"));
  }
  if (Status s = p->kernel->run(); !s) return report(s.error());
  for (size_t j = 0; j < p->outputs.size(); ++j) {
    std::vector<uint8_t> bytes(p->outputs[j].type.num_bytes());
    if (Status s = p->kernel->read_output(j, bytes); !s) return report(s.error());
    if (outs.empty()) {
      print_summary(j, p->outputs[j], bytes);
    } else if (Status s = save_output(outs[j], p->outputs[j].type, std::move(bytes)); !s) {
      return report(s.error());
    }
  }
  return 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Writes a buffer larger than any last-level cache so the next run finds its weights and
// surfaces in memory, not in cache.
class CacheEvictor {
 public:
  explicit CacheEvictor(bool enabled) : buffer_(enabled ? kBytes : 0) {}
  void evict() {
    for (size_t i = 0; i < buffer_.size(); i += 64) buffer_[i] = static_cast<char>(buffer_[i] + 1);
  }

 private:
  static constexpr size_t kBytes = size_t{256} << 20;
  std::vector<char> buffer_;
};

int run_bench(const Args& args) {
  CacheEvictor caches(args.has("cold"));
  auto reps = args.get_int("reps", 20);
  if (!reps) return report(reps.error());
  if (*reps < 1) return report(invalid_argument("--reps must be at least 1"));
  auto p = prepare(args, /*inputs_required=*/false);
  if (!p) return report(p.error());
  Kernel& k = *p->kernel;
  if (Status s = k.run(); !s) return report(s.error());  // warm-up
  const int64_t products_before = k.stats().triangle_products;
  std::vector<double> ms;
  for (long long r = 0; r < *reps; ++r) {
    caches.evict();
    Timer t;
    if (Status s = k.run(); !s) return report(s.error());
    ms.push_back(t.ms());
  }
  const int64_t skipping_products = k.stats().triangle_products - products_before;  // over the timed runs
  // Per-step breakdown: the median of each step over a few profiled runs.
  std::vector<std::vector<double>> step_ms;
  std::vector<StepProfile> steps;
  for (int r = 0; r < 5; ++r) {
    caches.evict();
    if (Status s = k.profile(steps); !s) return report(s.error());
    step_ms.resize(steps.size());
    for (size_t i = 0; i < steps.size(); ++i) step_ms[i].push_back(steps[i].ms);
  }
  const double t = median(ms);
  const auto& opts = k.compile_options();
  std::printf("%s: %s backend, %s, %d threads, %lld runs%s\n", args.positional()[1].c_str(),
              p->engine->options().backend.c_str(), opts.precision == Precision::kFp16 ? "fp16" : "fp32",
              opts.threads > 0 ? opts.threads : default_thread_count(), *reps,
              args.has("cold") ? ", caches evicted before each" : "");
  std::printf("median %.3f ms (min %.3f, max %.3f); %.2f GFLOP/s, %.2f GB/s (%.3f GFLOP, %.1f MB per run)\n", t,
              *std::min_element(ms.begin(), ms.end()), *std::max_element(ms.begin(), ms.end()),
              p->flops / (t * 1e6), p->bytes / (t * 1e6), p->flops / 1e9, p->bytes / 1e6);
  if (skipping_products > 0) {
    std::printf("%.1f products a run skipped a zero triangle\n",
                static_cast<double>(skipping_products) / static_cast<double>(*reps));
  }
  std::printf("  %-44s %10s %6s %10s\n", "step", "ms", "%", "GFLOP/s");
  double sum = 0;
  for (const auto& v : step_ms) sum += median(v);
  for (size_t i = 0; i < steps.size(); ++i) {
    const double sm = median(step_ms[i]);
    std::printf("  %-44s %10.4f %5.1f%% %10.2f\n", steps[i].name.substr(0, 44).c_str(), sm,
                sum > 0 ? 100 * sm / sum : 0.0, sm > 0 ? steps[i].flops / (sm * 1e6) : 0.0);
  }
  return 0;
}

}  // namespace

int cmd_mil(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {"weights", "function", "in", "out", "backend", "precision", "threads", "reps"}, {"help", "cold"});
  if (!args) return report(args.error());
  const auto& pos = args->positional();
  if (args->has("help") || pos.size() != 2) {
    std::fputs(kMilHelp, args->has("help") ? stdout : stderr);
    return args->has("help") ? 0 : 2;
  }
  if (pos[0] == "check") return run_check(*args);
  if (pos[0] == "print") return run_print(*args);
  if (pos[0] == "run") return run_run(*args);
  if (pos[0] == "bench") return run_bench(*args);
  std::fprintf(stderr, "ane mil: unknown subcommand '%s'\n%s", pos[0].c_str(), kMilHelp);
  return 2;
}

}  // namespace ane::cli
