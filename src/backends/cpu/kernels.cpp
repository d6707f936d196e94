// The one place the kernel variant is chosen: AVX2 when the CPU has AVX2, FMA and F16C.
#include "backends/cpu/kernels.h"

#include <algorithm>

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

void softmax_columns(const float* x, float* y, int64_t n, int64_t inner, ThreadPool* pool) {
  constexpr int64_t kBlock = 32;  // columns per task: 128-byte runs of each row
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  const Kernels& k = kernels();
  auto run = [&](size_t begin, size_t end) {
    for (size_t blk = begin; blk < end; ++blk) {
      const int64_t c0 = static_cast<int64_t>(blk) * kBlock;
      k.softmax(x + c0, y + c0, n, std::min(kBlock, inner - c0), inner);
    }
  };
  parallel_for(n * inner < (int64_t{1} << 14) ? nullptr : pool, static_cast<size_t>(blocks), 1, run);
}

}  // namespace ane::cpu
