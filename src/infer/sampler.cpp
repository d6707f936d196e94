#include "infer/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace ane {

uint32_t XorShiftRng::next_u32() {
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  return static_cast<uint32_t>((state_ * 0x2545F4914F6CDD1Dull) >> 32);
}

float XorShiftRng::next_f32() { return static_cast<float>(next_u32() >> 8) / 16777216.0f; }

int sample_argmax(std::span<const float> logits) {
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return static_cast<int>(best);
}

int sample_multinomial(std::span<const float> probs, float coin) {
  float cdf = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    cdf += probs[i];
    if (coin < cdf) return static_cast<int>(i);
  }
  return static_cast<int>(probs.size()) - 1;  // rounding left the cdf just under coin
}

Sampler::Sampler(int vocab_size, const SamplerOptions& options)
    : options_(options), rng_(options.seed), probs_(static_cast<size_t>(vocab_size)),
      candidates_(static_cast<size_t>(vocab_size)) {}

Expected<Sampler> Sampler::create(int vocab_size, const SamplerOptions& options) {
  if (vocab_size < 1) return invalid_argument("sampler: vocab_size must be positive, got " + std::to_string(vocab_size));
  if (!(options.temperature >= 0.0f) || !std::isfinite(options.temperature)) {
    return invalid_argument("sampler: temperature must be >= 0, got " + std::to_string(options.temperature));
  }
  if (!(options.topp >= 0.0f && options.topp <= 1.0f)) {
    return invalid_argument("sampler: topp must be in [0, 1], got " + std::to_string(options.topp));
  }
  if (options.seed == 0) return invalid_argument("sampler: seed must be non-zero (xorshift stays at zero)");
  return Sampler(vocab_size, options);
}

Expected<int> Sampler::sample(std::span<const float> logits) {
  const size_t n = probs_.size();
  if (logits.size() != n) {
    return invalid_argument("sampler: " + std::to_string(logits.size()) + " logits for a vocabulary of " +
                            std::to_string(n));
  }
  if (options_.temperature == 0.0f) return sample_argmax(logits);
  // run.c's order of operations (scale, then a max-shifted softmax), so seeds reproduce its runs.
  for (size_t i = 0; i < n; ++i) probs_[i] = logits[i] / options_.temperature;
  const float mx = *std::max_element(probs_.begin(), probs_.begin() + static_cast<ptrdiff_t>(n));
  float sum = 0;
  for (size_t i = 0; i < n; ++i) sum += (probs_[i] = std::exp(probs_[i] - mx));
  for (size_t i = 0; i < n; ++i) probs_[i] /= sum;
  const float coin = rng_.next_f32();
  if (options_.topp <= 0.0f || options_.topp >= 1.0f) return sample_multinomial({probs_.data(), n}, coin);
  return sample_topp(coin);
}

// The smallest set of most likely tokens whose mass exceeds topp, then a draw within it.
int Sampler::sample_topp(float coin) {
  const size_t n = probs_.size();
  // Tokens below this cannot be in the nucleus (as in run.c): it saves sorting the tail. For
  // tiny topp on a flat distribution it can exclude every token; then all are candidates.
  const float cutoff = n > 1 ? (1.0f - options_.topp) / static_cast<float>(n - 1) : 0.0f;
  auto collect = [&](float threshold) {
    size_t kept = 0;
    for (size_t i = 0; i < n; ++i) {
      if (probs_[i] >= threshold) candidates_[kept++] = {probs_[i], static_cast<int>(i)};
    }
    return kept;
  };
  size_t kept = collect(cutoff);
  if (kept == 0) kept = collect(0.0f);
  std::sort(candidates_.begin(), candidates_.begin() + static_cast<ptrdiff_t>(kept),
            [](const Candidate& a, const Candidate& b) { return a.prob > b.prob || (a.prob == b.prob && a.index < b.index); });
  float mass = 0;
  size_t last = kept - 1;
  for (size_t i = 0; i < kept; ++i) {
    mass += candidates_[i].prob;
    if (mass > options_.topp) {
      last = i;
      break;
    }
  }
  const float r = coin * mass;
  float cdf = 0;
  for (size_t i = 0; i <= last; ++i) {
    cdf += candidates_[i].prob;
    if (r < cdf) return candidates_[i].index;
  }
  return candidates_[last].index;
}

}  // namespace ane
