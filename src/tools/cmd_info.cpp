// `ane info`: what this build and this machine offer.
#include <cstdio>

#include "backends/cpu/cpu_backend.h"
#include "core/cpu_features.h"
#include "core/fp16.h"
#include "core/thread_pool.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace ane::cli {

int cmd_info(const std::vector<std::string>& args) {
  auto parsed = Args::parse(args, {}, {"help"});
  if (!parsed) return report(parsed.error());
  if (parsed->has("help")) {
    std::printf("usage: ane info\n\nPrints the version, the CPU features detected, the default thread count and the GEMM library.\n");
    return 0;
  }
  const CpuFeatures& cpu = cpu_features();
  std::printf("OpenANE %s\n", ANE_VERSION);
  std::printf("cpu:        %s\n", cpu.brand.c_str());
  std::printf("features:   %s\n", cpu.summary().c_str());
  std::printf("cores:      %d physical, %d logical\n", cpu.physical_cores, cpu.logical_cpus);
  std::printf("threads:    %d (default: physical cores)\n", default_thread_count());
  std::printf("fp16 path:  %s\n", fp16_uses_f16c() ? "F16C" : "portable");
  std::printf("gemm:       %s\n", cpu_gemm_library().c_str());
  std::printf("backends:   cpu (default), ref (float64 reference)\n");
#if defined(__AVX2__)
  std::printf("build:      native (AVX2 enabled at compile time)\n");
#else
  std::printf("build:      portable (kernels chosen at run time)\n");
#endif
  return 0;
}

}  // namespace ane::cli
