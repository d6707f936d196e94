// `ane export`: a checkpoint's weights as a llama2.c model file, for llama2.c's run.c.
#include <cstdio>
#include <string>

#include "formats/llama2_model.h"
#include "formats/model_weights.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace ane::cli {
namespace {

constexpr const char* kUsage =
    "usage: ane export --ckpt FILE -o OUT [--version 0|1]\n\n"
    "Writes the weights of an OpenANE checkpoint (tensors under \"model.\") or a BLZT checkpoint\n"
    "as a llama2.c model. --version 0 (default) is the legacy format run.c reads; 1 is \"ak42\" fp32.\n"
    "Models with qk_norm, head_dim != dim / n_heads or rope_theta != 10000 cannot be exported.\n";

Status run_export(const Args& a) {
  if (!a.has("ckpt") || !a.has("out")) return invalid_argument("export: --ckpt and -o are required (see --help)");
  ANE_ASSIGN_OR_RETURN(long long version, a.get_int("version", 0));
  if (version != 0 && version != 1) {
    return invalid_argument("export: --version must be 0 or 1, got " + std::to_string(version));
  }
  const std::string in = a.get("ckpt"), out = a.get("out");
  ANE_ASSIGN_OR_RETURN(ModelWeights weights, load_model_weights(in));
  auto model = weights_to_llama2(weights);
  if (!model) return model.error().with_context("cannot export " + in);
  const Llama2Format format = version == 0 ? Llama2Format::kV0 : Llama2Format::kV1;
  ANE_RETURN_IF_ERROR(write_llama2_model(out, *model, format));
  std::printf("%s -> %s: llama2.c %s, %zu parameters\n", in.c_str(), out.c_str(), llama2_format_name(format),
              weights.config.total_params());
  return {};
}

}  // namespace

int cmd_export(const std::vector<std::string>& args) {
  return run_command(args, {"ckpt", "out", "version"}, kUsage, run_export);
}

}  // namespace ane::cli
