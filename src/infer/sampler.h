// Next-token sampling compatible with llama2.c's run.c: greedy at temperature 0, else
// softmax(logits / temperature) and a multinomial or top-p (nucleus) draw, from run.c's
// xorshift* generator, so a seed reproduces a run.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"

namespace ane {

// run.c's xorshift* generator. The state must be non-zero (zero is a fixed point).
class XorShiftRng {
 public:
  explicit XorShiftRng(uint64_t seed) : state_(seed) {}
  uint32_t next_u32();
  float next_f32();  // uniform in [0, 1), 24 bits
  uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

// The index of the largest value; the first one on ties.
int sample_argmax(std::span<const float> logits);
// Draws from `probs` (summing to 1) with coin in [0, 1).
int sample_multinomial(std::span<const float> probs, float coin);

struct SamplerOptions {
  float temperature = 1.0f;  // 0: greedy
  float topp = 0.9f;         // nucleus mass; <= 0 or >= 1: plain multinomial
  uint64_t seed = 1;         // non-zero
};

class Sampler {
 public:
  // Checks temperature >= 0, topp in [0, 1] and seed != 0.
  static Expected<Sampler> create(int vocab_size, const SamplerOptions& options);

  // The next token for logits [V] (V = the vocab_size given to create); consumes one random
  // draw unless greedy.
  Expected<int> sample(std::span<const float> logits);

 private:
  Sampler(int vocab_size, const SamplerOptions& options);
  int sample_topp(float coin);

  SamplerOptions options_;
  XorShiftRng rng_;
  std::vector<float> probs_;  // [V]
  struct Candidate {
    float prob;
    int index;
  };
  std::vector<Candidate> candidates_;  // [V] scratch for top-p
};

}  // namespace ane
