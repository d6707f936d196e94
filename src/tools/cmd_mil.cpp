// `ane mil check|print|run`: verify, print and run MIL programs from the command line.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/file.h"
#include "core/fp16.h"
#include "formats/npy.h"
#include "mil/parser.h"
#include "mil/printer.h"
#include "mil/verifier.h"
#include "mil/weights.h"
#include "runtime/engine.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace ane::cli {
namespace {

constexpr const char* kMilHelp =
    "usage: ane mil <check|print|run> PROG.mil [options]\n"
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

int run_check(const Args& args) {
  const std::string path = args.positional()[1];
  auto program = load_program(path);
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
  std::printf("  %-4s %-16s %-24s %-36s %s\n", "line", "op", "name", "output", "bytes");
  for (const auto& op : f.ops) {
    for (const mil::Value* out : op->outputs) {
      const size_t bytes = out->type.num_bytes();
      (op->type == "const" ? weight_bytes : activation_bytes) += bytes;
      if (op->type == "const" && !(out->constant && out->constant->blob)) continue;  // small literals
      std::printf("  %-4d %-16s %-24s %-36s %s\n", op->loc.line, op->type.c_str(), out->name.c_str(),
                  out->type.to_string().c_str(), human_bytes(static_cast<double>(bytes)).c_str());
    }
  }
  for (size_t j = 0; j < f.outputs.size(); ++j) {
    std::printf("  output %zu %-20s %s (%s)\n", j, f.outputs[j]->name.c_str(), f.outputs[j]->type.to_string().c_str(),
                human_bytes(static_cast<double>(f.outputs[j]->type.num_bytes())).c_str());
  }
  std::printf("constants: %s; op results (unplanned total): %s\nok: verified%s\n",
              human_bytes(static_cast<double>(weight_bytes)).c_str(),
              human_bytes(static_cast<double>(activation_bytes)).c_str(),
              args.has("weights") ? ", weights resolved" : "");
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

int run_run(const Args& args) {
  const std::string path = args.positional()[1];
  auto text = read_text_file(path);
  if (!text) return report(text.error());
  auto program = mil::parse_program(*text, path);
  if (!program) return report(program.error());
  const std::string fn_name = args.get("function", "main");
  auto fn = find_function(**program, fn_name);
  if (!fn) return report(fn.error());
  const auto& ins = args.get_all("in");
  const auto& outs = args.get_all("out");
  if (ins.size() != (*fn)->inputs.size()) {
    return report(invalid_argument(fn_name + " takes " + std::to_string((*fn)->inputs.size()) + " inputs, " +
                                   std::to_string(ins.size()) + " --in given"));
  }
  if (!outs.empty() && outs.size() != (*fn)->outputs.size()) {
    return report(invalid_argument(fn_name + " returns " + std::to_string((*fn)->outputs.size()) + " outputs, " +
                                   std::to_string(outs.size()) + " --out given"));
  }
  const std::vector<Io> in_ios = ios_of((*fn)->inputs), out_ios = ios_of((*fn)->outputs);
  std::vector<size_t> in_sizes, out_sizes;
  for (const Io& io : in_ios) in_sizes.push_back(io.type.num_bytes());
  for (const Io& io : out_ios) out_sizes.push_back(io.type.num_bytes());
  auto weights = load_weight_dir(args.get("weights"));
  if (!weights) return report(weights.error());
  auto options = engine_options(args);
  if (!options) return report(options.error());
  auto engine = Engine::create(*options);
  if (!engine) return report(engine.error());
  auto kernel = (*engine)->compile_program(std::move(*program), weights->map, in_sizes, out_sizes, fn_name);
  if (!kernel) return report(kernel.error());
  for (size_t i = 0; i < ins.size(); ++i) {
    auto bytes = load_input(ins[i], in_ios[i].type, i);
    if (!bytes) return report(bytes.error());
    if (Status s = (*kernel)->write_input(i, *bytes); !s) return report(s.error());
  }
  if (Status s = (*kernel)->run(); !s) return report(s.error());
  for (size_t j = 0; j < out_ios.size(); ++j) {
    std::vector<uint8_t> bytes(out_sizes[j]);
    if (Status s = (*kernel)->read_output(j, bytes); !s) return report(s.error());
    if (outs.empty()) {
      print_summary(j, out_ios[j], bytes);
    } else if (Status s = save_output(outs[j], out_ios[j].type, std::move(bytes)); !s) {
      return report(s.error());
    }
  }
  return 0;
}

}  // namespace

int cmd_mil(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {"weights", "function", "in", "out", "backend", "precision", "threads"}, {"help"});
  if (!args) return report(args.error());
  const auto& pos = args->positional();
  if (args->has("help") || pos.size() != 2) {
    std::fputs(kMilHelp, args->has("help") ? stdout : stderr);
    return args->has("help") ? 0 : 2;
  }
  if (pos[0] == "check") return run_check(*args);
  if (pos[0] == "print") return run_print(*args);
  if (pos[0] == "run") return run_run(*args);
  std::fprintf(stderr, "ane mil: unknown subcommand '%s'\n%s", pos[0].c_str(), kMilHelp);
  return 2;
}

}  // namespace ane::cli
