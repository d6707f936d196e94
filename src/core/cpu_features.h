// What the processor offers, detected once and read everywhere kernels are chosen.
#pragma once

#include <string>

namespace ane {

struct CpuFeatures {
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  std::string brand;      // e.g. "AMD EPYC"
  int logical_cpus = 1;   // online hardware threads
  int physical_cores = 1; // distinct cores; the default thread count
  std::string summary() const;  // "avx2 fma f16c"
};

// Detected on first call; constant afterwards (the hardware does not change).
const CpuFeatures& cpu_features();

}  // namespace ane
