// InferenceModel (fp32, KV cache, one token at a time) against the float64 reference
// transformer run on the whole sequence at once, on random models of every shape it supports.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "infer/transformer.h"
#include "infer_test_util.h"

namespace ane {
namespace {

using infer_test::logits_at;
using infer_test::random_weights;
using infer_test::small_config;

// max |got - want| / max |want| over every position of a random sequence.
double max_relative_error(const ModelWeights& w, uint64_t seed, int threads = 1) {
  const ModelConfig& c = w.config;
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::vector<int> tokens(static_cast<size_t>(c.seq_len));
  for (int& t : tokens) t = static_cast<int>(rng() % static_cast<uint32_t>(c.vocab_size));
  const reference::Vec want_all = infer_test::reference_logits(infer_test::to_reference(w), tokens);

  auto model = InferenceModel::create(w, threads);
  EXPECT_TRUE(model.ok()) << model.error().to_string();
  double max_diff = 0, max_want = 0;
  for (int pos = 0; pos < c.seq_len; ++pos) {
    auto got = model->forward(tokens[static_cast<size_t>(pos)], pos);
    EXPECT_TRUE(got.ok()) << got.error().to_string();
    const std::vector<double> want = logits_at(want_all, c.vocab_size, c.seq_len, pos);
    for (size_t v = 0; v < want.size(); ++v) {
      max_diff = std::max(max_diff, std::abs((*got)[v] - want[v]));
      max_want = std::max(max_want, std::abs(want[v]));
    }
  }
  return max_diff / max_want;
}

TEST(InferenceModel, MatchesReferenceSharedClassifier) {
  EXPECT_LT(max_relative_error(random_weights(small_config(), 1), 11), 1e-5);
}

TEST(InferenceModel, MatchesReferenceUnsharedClassifier) {
  ModelConfig c = small_config();
  c.shared_classifier = false;
  EXPECT_LT(max_relative_error(random_weights(c, 2), 12), 1e-5);
}

TEST(InferenceModel, MatchesReferenceGqa) {
  ModelConfig c = small_config();
  c.n_kv_heads = 2;
  EXPECT_LT(max_relative_error(random_weights(c, 3), 13), 1e-5);
  c.n_kv_heads = 1;
  EXPECT_LT(max_relative_error(random_weights(c, 4), 14), 1e-5);
}

// Qwen3's shape: head_dim * n_heads != dim, per-head q/k RMSNorm, RoPE base 1e6.
TEST(InferenceModel, MatchesReferenceQwenStyle) {
  ModelConfig c = small_config();
  c.n_kv_heads = 2;
  c.head_dim = 12;
  c.qk_norm = true;
  c.rope_theta = 1e6;
  c.shared_classifier = false;
  EXPECT_LT(max_relative_error(random_weights(c, 5), 15), 1e-5);
}

TEST(InferenceModel, ThreadedMatchesReference) {
  ModelConfig c = small_config();
  c.n_kv_heads = 2;
  EXPECT_LT(max_relative_error(random_weights(c, 6), 16, 2), 1e-5);
}

TEST(InferenceModel, RejectsBadPositionsTokensAndWeights) {
  const ModelWeights w = random_weights(small_config(), 7);
  auto model = InferenceModel::create(w);
  ASSERT_TRUE(model.ok());
  auto past_end = model->forward(0, w.config.seq_len);
  ASSERT_FALSE(past_end.ok());
  EXPECT_NE(past_end.error().message().find("position 12 is outside the context [0, 12)"), std::string::npos)
      << past_end.error().message();
  EXPECT_FALSE(model->forward(0, -1).ok());
  auto bad_token = model->forward(w.config.vocab_size, 0);
  ASSERT_FALSE(bad_token.ok());
  EXPECT_NE(bad_token.error().message().find("token 64 is outside the vocabulary"), std::string::npos);

  ModelWeights broken = w;
  broken.layers[1].wk.pop_back();
  auto bad = InferenceModel::create(broken);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("layers.1.wk"), std::string::npos) << bad.error().message();
}

}  // namespace
}  // namespace ane
