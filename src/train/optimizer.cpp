#include "train/optimizer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numbers>

#include "train/cpu_ops.h"

namespace ane::train {
namespace {

constexpr size_t kGrain = size_t{1} << 16;  // elements per parallel chunk

struct Chunk {
  size_t tensor, begin, end;
};

// Fixed-size chunks of every tensor of `w`, in tensor order.
std::vector<Chunk> chunks_of(const ModelWeights& w) {
  std::vector<Chunk> chunks;
  const auto ts = w.tensors();
  for (size_t t = 0; t < ts.size(); ++t) {
    const size_t n = ts[t].data.size();
    for (size_t b = 0; b < n; b += kGrain) chunks.push_back({t, b, std::min(n, b + kGrain)});
  }
  return chunks;
}

// Calls fn(i, chunks[i]) for every chunk, spread over `pool`. Threads claim chunks one at a
// time: chunks differ in their traffic (AdamW writes fp16 copies of some tensors; the norm
// reads only the tensors no GEMM reported), so equal halves would finish apart.
template <typename Fn>
void for_each_chunk(const std::vector<Chunk>& chunks, ThreadPool& pool, Fn&& fn) {
  parallel_claim(&pool, chunks.size(), [&](size_t i) { fn(i, chunks[i]); });
}

// Σ x² in double, summed in fp32 columns of 64 lanes over blocks of 4096 values (64 terms a
// lane, far inside fp32's precision): columns add elementwise, so the loop vectorises without
// reordering a reduction. The caller's fixed chunks keep the total thread-count independent.
double sum_of_squares(std::span<const float> x) {
  constexpr size_t kWidth = 64, kBlock = 4096;
  double total = 0;
  size_t i = 0;
  for (; i + kBlock <= x.size(); i += kBlock) {
    float column[kWidth] = {};
    for (size_t r = i; r < i + kBlock; r += kWidth) {
      for (size_t k = 0; k < kWidth; ++k) column[k] += x[r + k] * x[r + k];
    }
    double block = 0;
    for (float c : column) block += c;
    total += block;
  }
  for (; i < x.size(); ++i) total += static_cast<double>(x[i]) * x[i];
  return total;
}

}  // namespace

double LrSchedule::at(int64_t step) const {
  if (warmup > 0 && step < warmup) return lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const int64_t decay = std::max<int64_t>(total - warmup, 1);
  const double progress = std::clamp(static_cast<double>(step - warmup) / static_cast<double>(decay), 0.0, 1.0);
  return min_lr + 0.5 * (lr - min_lr) * (1.0 + std::cos(std::numbers::pi * progress));
}

Expected<AdamW> AdamW::create(const ModelConfig& config, AdamWConfig options, ThreadPool* pool) {
  AdamW a;
  a.options_ = options;
  ANE_ASSIGN_OR_RETURN(a.m_, ModelWeights::zeros(config, pool));
  ANE_ASSIGN_OR_RETURN(a.v_, ModelWeights::zeros(config, pool));
  return a;
}

Status AdamW::step(ModelWeights& weights, const ModelWeights& grads, double lr, float grad_scale, ThreadPool& pool,
                   std::span<const HalfCopy> copies) {
  auto w = weights.tensors();
  auto g = grads.tensors();
  auto m = m_.tensors(), v = v_.tensors();
  std::vector<std::span<half_bits>> halves(w.size());
  for (const HalfCopy& c : copies) {
    const auto t = std::find_if(w.begin(), w.end(), [&](const auto& x) { return x.data.data() == c.source; });
    if (t == w.end()) return invalid_argument("AdamW: an fp16 copy of a tensor that is not a weight");
    if (c.halves.size() != t->data.size()) {
      return invalid_argument("AdamW: the fp16 copy of " + t->name + " holds " + std::to_string(c.halves.size()) +
                              " values, the tensor " + std::to_string(t->data.size()));
    }
    halves[static_cast<size_t>(t - w.begin())] = c.halves;
  }
  ++t_;
  for_each_chunk(chunks_of(weights), pool, [&](size_t, const Chunk& k) {
    const size_t t = k.tensor, b = k.begin, e = k.end;
    AdamParams p;
    p.lr = static_cast<float>(lr);
    p.beta1 = static_cast<float>(options_.beta1);
    p.beta2 = static_cast<float>(options_.beta2);
    p.eps = static_cast<float>(options_.eps);
    p.weight_decay = w[t].shape.size() == 2 ? static_cast<float>(options_.weight_decay) : 0.0f;
    p.grad_scale = grad_scale;
    const size_t n = e - b;
    adamw_update(w[t].data.subspan(b, n), g[t].data.subspan(b, n), m[t].data.subspan(b, n), v[t].data.subspan(b, n),
                 static_cast<int>(t_), p, halves[t].empty() ? std::span<half_bits>() : halves[t].subspan(b, n));
  });
  return {};
}

double global_norm(const ModelWeights& grads, ThreadPool& pool, std::span<const std::optional<double>> known) {
  // Per-chunk sums added in chunk order (a known tensor's sum at its first chunk): the result
  // does not depend on the thread count.
  auto is_known = [&](size_t t) { return t < known.size() && known[t].has_value(); };
  const std::vector<Chunk> chunks = chunks_of(grads);
  std::vector<double> sums(chunks.size());
  const auto g = grads.tensors();
  for_each_chunk(chunks, pool, [&](size_t c, const Chunk& k) {
    if (is_known(k.tensor)) {
      sums[c] = k.begin == 0 ? *known[k.tensor] : 0.0;
    } else {
      sums[c] = sum_of_squares(g[k.tensor].data.subspan(k.begin, k.end - k.begin));
    }
  });
  double total = 0;
  for (double s : sums) total += s;
  return std::sqrt(total);
}

void zero_all(ModelWeights& grads, ThreadPool& pool) {
  auto g = grads.tensors();
  for_each_chunk(chunks_of(grads), pool, [&](size_t, const Chunk& k) {
    std::fill(g[k.tensor].data.begin() + static_cast<ptrdiff_t>(k.begin),
              g[k.tensor].data.begin() + static_cast<ptrdiff_t>(k.end), 0.0f);
  });
}

bool LossScaler::update(bool finite) {
  if (!finite) {
    if (dynamic_) scale_ = std::max(scale_ / 2, 1.0);
    clean_steps_ = 0;
    return false;
  }
  if (dynamic_ && ++clean_steps_ >= growth_interval_) {
    scale_ = std::min(scale_ * 2, 65536.0);
    clean_steps_ = 0;
  }
  return true;
}

}  // namespace ane::train
