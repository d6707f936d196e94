// The project's GEMM (blas.h): a micro-kernel (micro_kernel.h: BLIS's for this CPU, or our
// own AVX-512 one) under our own blocking, packing and threading (docs/gemm-choice.md).
//
// Why not bli_sgemm itself: its threads wait for each other by spinning, which collapses on a
// shared machine, and splitting a product into one single-threaded bli_sgemm call per pool
// thread made every thread pack the whole shared operand again. Here the pool's threads pack
// B once, together, and take rows of C from a shared queue, each with its own packed blocks
// of A; nobody waits for a fixed share of another thread's work. Packing reads fp16 operands
// directly (MatrixRef::halves), so an fp16 surface needs no separate conversion pass.
//
// Loop order and block sizes follow BLIS (Goto's algorithm): for each KC-deep block of k, each
// chunk of A's rows (at most MC) is packed into MR-row micro-panels (kept in L2), and the
// micro-kernel runs over every NR-column micro-panel of the packed B (one in L1 at a time).
#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "backends/cpu/blas.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/micro_kernel.h"
#include "core/aligned_buffer.h"
#include "core/cpu_features.h"

namespace ane::cpu {
namespace {

// Grow-only packing buffers, one set per thread that runs GEMMs: packing needs a few hundred
// KB to a few MB per product, and allocating them per call would page-fault every time.
// A micro-kernel may load the next k's row of a panel before its loop ends (BLIS's does), so
// it reads up to 64 bytes past the last panel: the slack keeps that read inside the buffer (a large
// buffer ends exactly at the end of its pages).
float* scratch(AlignedBuffer& buffer, int64_t floats) {
  constexpr int64_t kSlackFloats = 64;
  const size_t bytes = static_cast<size_t>(floats + kSlackFloats) * sizeof(float);
  if (buffer.size() < bytes) buffer = AlignedBuffer(bytes);
  return buffer.as<float>();
}
thread_local AlignedBuffer t_packed_b;
thread_local AlignedBuffer t_packed_a;

// Progress counters shared by the threads of one product, reset per call (grow-only, one set
// per calling thread).
struct Counters {
  std::unique_ptr<std::atomic<int32_t>[]> values;
  size_t size = 0;
};
thread_local Counters t_counters;

// Per-panel sums of one product (grow-only, one set per calling thread).
thread_local std::vector<double> t_sums;

double* zeroed_sums(size_t n) {
  t_sums.assign(n, 0.0);
  return t_sums.data();
}

std::atomic<int32_t>* zeroed_counters(size_t n) {
  Counters& c = t_counters;
  if (c.size < n) {
    c.values = std::make_unique<std::atomic<int32_t>[]>(n);
    c.size = n;
  }
  for (size_t i = 0; i < n; ++i) c.values[i].store(0, std::memory_order_relaxed);
  return c.values.get();
}

// A thread waiting on another spins briefly, then yields its core (the machine may be shared).
void backoff(int& spins) {
  if (++spins > 2000) {
    std::this_thread::yield();
  } else {
    spin_pause();
  }
}

// Operand x from element (i0, p0) on, as pack_panel reads it: i indexes a panel's rows (rows
// of A; columns of B, so B is read transposed), p runs along k.
PackSource source(const MatrixRef& x, int64_t i0, int64_t p0, bool transposed) {
  const int64_t rs = transposed ? x.cs : x.rs, cs = transposed ? x.rs : x.cs;
  const int64_t offset = i0 * rs + p0 * cs;
  PackSource s;
  s.rs = rs;
  s.cs = cs;
  if (x.halves != nullptr) {
    s.halves = x.halves + offset;
  } else {
    s.floats = x.data + offset;
  }
  return s;
}

// One product with row-stored C: c[i * rs_c + j * cs_c].
struct Product {
  MatrixRef a, b;
  float* c;
  int64_t rs_c, cs_c, m, n, k;
  float beta;
  Structure structure;
  double* sum_of_squares;
};

// The part [lo, hi) of k that can add to the tile of rows [i0, i1) and columns [j0, j1).
struct KRange {
  int64_t lo, hi;
};
KRange k_range(const Structure& s, int64_t k, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  KRange r{0, k};
  if (s.a == Triangle::kLower) r.hi = std::min(r.hi, i1);  // a[i, p] = 0 for p > i
  if (s.a == Triangle::kUpper) r.lo = std::max(r.lo, i0);  // a[i, p] = 0 for p < i
  if (s.b == Triangle::kLower) r.lo = std::max(r.lo, j0);  // b[p, j] = 0 for p < j
  if (s.b == Triangle::kUpper) r.hi = std::min(r.hi, j1);  // b[p, j] = 0 for p > j
  return r;
}

// False when no entry of the tile lies in c's wanted triangle.
bool tile_wanted(Triangle c, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  if (c == Triangle::kLower) return j0 < i1;  // some j <= i
  if (c == Triangle::kUpper) return j1 > i0;  // some j >= i
  return true;
}

// c = beta * c over an m x n block (beta 0: c is not read).
void scale_tile(float* c, int64_t rs_c, int64_t cs_c, int64_t m, int64_t n, float beta) {
  const bool rows = cs_c == 1;  // lines along the stride-1 side
  for (int64_t outer = 0; outer < (rows ? m : n); ++outer) {
    float* line = c + outer * (rows ? rs_c : cs_c);
    const int64_t step = rows ? cs_c : rs_c, count = rows ? n : m;
    if (beta == 0.0f && step == 1) {
      std::fill_n(line, count, 0.0f);
      continue;
    }
    for (int64_t t = 0; t < count; ++t) line[t * step] = beta == 0.0f ? 0.0f : beta * line[t * step];
  }
}

void run(const Product& g, const MicroKernel& u, ThreadPool* pool) {
  const Structure& st = g.structure;
  const bool structured = st.any();
  const Kernels& kern = kernels();
  const int64_t k_blocks = (g.k + u.kc - 1) / u.kc;
  const int64_t n_panels = (g.n + u.nr - 1) / u.nr;
  const int64_t n_padded = n_panels * u.nr;
  // Below this many flops a second thread costs more than it saves.
  constexpr int64_t kSplitFlops = int64_t{1} << 22;
  const int threads = pool != nullptr && g.m * g.n * g.k >= kSplitFlops ? pool->size() : 1;
  // Rows of C per work item: about four items per thread, at most one A block.
  const int64_t chunk = std::min(u.mc, ((g.m + 4 * threads - 1) / (4 * threads) + u.mr - 1) / u.mr * u.mr);
  const int64_t row_chunks = (g.m + chunk - 1) / chunk;

  // Packed B: k block `blk` (rows [blk * kc, ...) of B) holds n_panels panels of kcb x nr.
  float* packed_b = scratch(t_packed_b, g.k * n_padded);
  auto pack_b = [&](int64_t blk, int64_t panel) {
    const int64_t p0 = blk * u.kc, kcb = std::min(u.kc, g.k - p0), j0 = panel * u.nr;
    kern.pack_panel(packed_b + p0 * n_padded + panel * kcb * u.nr, u.nr, source(g.b, j0, p0, true),
                    std::min(u.nr, g.n - j0), kcb);
  };
  // Σ c² per micro-panel of C's rows (each summed by the work item that finishes its rows).
  const int64_t row_panels = (g.m + u.mr - 1) / u.mr;
  double* panel_squares = g.sum_of_squares ? zeroed_sums(static_cast<size_t>(row_panels)) : nullptr;
  // Rows [r0, r1) of C (at most one A block) times k block `blk` of A and the packed B.
  auto compute = [&](int64_t blk, int64_t r0, int64_t r1) {
    float* packed_a = scratch(t_packed_a, ((u.mc + u.mr - 1) / u.mr) * u.mr * u.kc);
    const int64_t p0 = blk * u.kc, kcb = std::min(u.kc, g.k - p0), rows = r1 - r0;
    const float beta = p0 == 0 ? g.beta : 1.0f;
    for (int64_t ir = 0; ir < rows; ir += u.mr) {
      kern.pack_panel(packed_a + ir * kcb, u.mr, source(g.a, r0 + ir, p0, false), std::min(u.mr, rows - ir), kcb);
    }
    const float* b_block = packed_b + p0 * n_padded;
    for (int64_t jp = 0; jp < n_panels; ++jp) {
      const float* bp = b_block + jp * kcb * u.nr;
      const int64_t j0 = jp * u.nr, nr = std::min(u.nr, g.n - j0);
      for (int64_t ir = 0; ir < rows; ir += u.mr) {
        const float* ap = packed_a + ir * kcb;
        const int64_t i0 = r0 + ir, mr = std::min(u.mr, rows - ir);
        float* c = g.c + i0 * g.rs_c + j0 * g.cs_c;
        int64_t lo = 0, hi = kcb;  // of this k block
        if (structured) {
          const KRange r = tile_wanted(st.c, i0, i0 + mr, j0, j0 + nr) ? k_range(st, g.k, i0, i0 + mr, j0, j0 + nr)
                                                                       : KRange{0, 0};
          lo = std::clamp(r.lo - p0, int64_t{0}, kcb);
          hi = std::clamp(r.hi - p0, lo, kcb);
        }
        if (lo == hi) {  // nothing to add: the first k block still owes c its beta
          if (p0 == 0) scale_tile(c, g.rs_c, g.cs_c, mr, nr, g.beta);
        } else {
          const bool last_a = ir + u.mr >= rows;  // the micro-kernel prefetches the next panels
          const float* next_a = last_a ? packed_a : ap + u.mr * kcb;
          const float* next_b = last_a && jp + 1 < n_panels ? bp + kcb * u.nr : bp;
          u.tile(mr, nr, hi - lo, ap + lo * u.mr, bp + lo * u.nr, beta, c, g.rs_c, g.cs_c, next_a, next_b);
        }
      }
    }
    // After the last k block the chunk's rows of C are final and still in L2: one pass sums
    // each row panel's squares, row by row.
    for (int64_t ir = 0; panel_squares != nullptr && blk + 1 == k_blocks && ir < rows; ir += u.mr) {
      double sum = 0;
      for (int64_t i = r0 + ir; i < std::min(r1, r0 + ir + u.mr); ++i) {
        sum += line_sum_of_squares(g.c + i * g.rs_c, g.n, g.cs_c);
      }
      panel_squares[(r0 + ir) / u.mr] = sum;
    }
  };

  // Work is shared out dynamically, so a thread that starts late or loses its core to
  // another process simply does less: B's panels are claimed one at a time, then items (k
  // block, row chunk) in k-block order. An item waits until its k block of B is packed
  // (packing unclaimed panels meanwhile) and its rows have the previous k block added in.
  const int64_t b_tasks = k_blocks * n_panels, items = k_blocks * row_chunks;
  std::atomic<int32_t>* packed = zeroed_counters(static_cast<size_t>(k_blocks + row_chunks));  // panels, per k block
  std::atomic<int32_t>* rows_done = packed + k_blocks;  // k blocks added in, per row chunk
  std::atomic<int64_t> next_b{0}, next_item{0};
  auto pack_next = [&] {
    const int64_t t = next_b.fetch_add(1, std::memory_order_relaxed);
    if (t >= b_tasks) return false;
    pack_b(t / n_panels, t % n_panels);
    packed[t / n_panels].fetch_add(1, std::memory_order_release);
    return true;
  };
  auto work = [&] {
    for (int64_t item; (item = next_item.fetch_add(1, std::memory_order_relaxed)) < items;) {
      const int64_t blk = item / row_chunks, rc = item % row_chunks;
      for (int spins = 0; packed[blk].load(std::memory_order_acquire) < n_panels;) {
        if (!pack_next()) backoff(spins);
      }
      for (int spins = 0; rows_done[rc].load(std::memory_order_acquire) < blk;) backoff(spins);
      compute(blk, rc * chunk, std::min(g.m, (rc + 1) * chunk));
      rows_done[rc].store(static_cast<int32_t>(blk + 1), std::memory_order_release);
    }
  };
  if (threads <= 1) {
    work();
  } else {
    pool->parallel_for(static_cast<size_t>(threads), 1, [&](size_t, size_t) { work(); });
  }
  if (panel_squares != nullptr) {
    double total = 0;
    for (int64_t p = 0; p < row_panels; ++p) total += panel_squares[p];
    *g.sum_of_squares = total;
  }
}

}  // namespace

const MicroKernel* micro_kernel(GemmKernel kind) {
  const bool avx512 = cpu_features().avx512f;
  switch (kind) {
    case GemmKernel::kBest:
      return avx512 ? &avx512_micro_kernel() : &blis_micro_kernel();
    case GemmKernel::kBlis:
      return &blis_micro_kernel();
    case GemmKernel::kAvx512:
      return avx512 ? &avx512_micro_kernel() : nullptr;
  }
  return nullptr;
}

bool gemm_kernel_available(GemmKernel kernel) { return micro_kernel(kernel) != nullptr; }

void sgemm(MatrixRef a, MatrixRef b, float* c, int64_t ldc, int64_t m, int64_t n, int64_t k, float beta,
           ThreadPool* pool, const GemmOptions& options) {
  if (options.sum_of_squares != nullptr) *options.sum_of_squares = 0;
  if (m <= 0 || n <= 0) return;
  const Structure& st = options.structure;
  const MicroKernel* u = micro_kernel(options.kernel);
  if (u == nullptr) u = micro_kernel(GemmKernel::kBest);
  Product g{a, b, c, ldc, 1, m, n, k, beta, st, options.sum_of_squares};
  if (k <= 0) {
    scale_tile(c, ldc, 1, m, n, beta);
    for (int64_t i = 0; i < m && options.sum_of_squares != nullptr; ++i) {
      *options.sum_of_squares += line_sum_of_squares(c + i * ldc, n, 1);
    }
    return;
  }
  if (u->prefers_cols) {  // C^T = B^T A^T: column-stored C^T is C itself
    const Structure t{transposed(st.b), transposed(st.a), transposed(st.c)};
    g = Product{transposed(b), transposed(a), c, 1, ldc, n, m, k, beta, t, options.sum_of_squares};
  }
  run(g, *u, pool);
}

}  // namespace ane::cpu

namespace ane {

std::string cpu_gemm_library() {
  return cpu::micro_kernel(cpu::GemmKernel::kBest)->name + " micro-kernel, own packing and threads";
}

}  // namespace ane
