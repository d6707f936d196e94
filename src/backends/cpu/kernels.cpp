// The one place the kernel variant is chosen: AVX2 when the CPU has AVX2, FMA and F16C.
#include "backends/cpu/kernels.h"

#include "core/cpu_features.h"

namespace ane::cpu {
namespace avx2 { const Kernels& table(); }
namespace portable { const Kernels& table(); }

const Kernels& portable_kernels() { return portable::table(); }

const Kernels& kernels() {
  static const Kernels& chosen = [&]() -> const Kernels& {
    const CpuFeatures& f = cpu_features();
    return f.avx2 && f.fma && f.f16c ? avx2::table() : portable::table();
  }();
  return chosen;
}

}  // namespace ane::cpu
