// `ane kernels`: writes the trainer's layer kernels for a model shape as MIL files, so they can
// be read, checked and benchmarked on their own (`ane mil check|run|bench`).
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/file.h"
#include "formats/model_config.h"
#include "models/layer_kernels.h"
#include "train/kernel_set.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace ane::cli {
namespace {

constexpr const char* kUsage =
    "usage: ane kernels [--config NAME|FILE] -o DIR\n\n"
    "Writes the six fused layer kernels the trainer's dynamic pipeline compiles for a model shape\n"
    "(default stories15M) as DIR/<kernel>.mil, with the weight blobs they reference in\n"
    "DIR/weights/. Their weights are inputs of their own (after the activation inputs), so each\n"
    "runs on its own, e.g. `ane mil bench DIR/ffn_backward.mil --weights DIR`.\n";

Status write_kernel(const std::string& dir, const models::KernelProgram& k) {
  const std::string text = k.text();
  const std::string file = dir + "/" + k.name + ".mil";
  ANE_RETURN_IF_ERROR(write_file_atomic(file, text));
  for (const auto& [blob_path, bytes] : k.weight_files) {
    const std::string name = blob_path.substr(blob_path.rfind('/') + 1);  // @model_path/weights/NAME.bin
    ANE_RETURN_IF_ERROR(write_file_atomic(dir + "/weights/" + name, *bytes));
  }
  std::printf("%-18s in %s -> out %s  %s\n", k.name.c_str(), k.inputs.at(0).to_string().c_str(),
              k.outputs.at(0).to_string().c_str(), file.c_str());
  return {};
}

Status run_kernels(const Args& a) {
  if (!a.has("out")) return invalid_argument("kernels: -o DIR is required (see --help)");
  ANE_ASSIGN_OR_RETURN(ModelConfig config, config_from_name_or_file(a.get("config", "stories15M")));
  const std::string dir = a.get("out");
  std::error_code ec;
  std::filesystem::create_directories(dir + "/weights", ec);
  if (ec) return Error(ErrorCode::kIo, "kernels: cannot create " + dir + "/weights: " + ec.message());
  models::KernelGenerator gen(config);
  for (train::LayerKernel kind : train::kLayerKernels) {
    ANE_ASSIGN_OR_RETURN(models::KernelProgram k,
                         train::generate_layer_kernel(gen, kind, models::WeightSource::kStreamed));
    ANE_RETURN_IF_ERROR(write_kernel(dir, k));
  }
  return {};
}

}  // namespace

int cmd_kernels(const std::vector<std::string>& args) {
  return run_command(args, {"config", "out"}, kUsage, run_kernels);
}

}  // namespace ane::cli
