// ModelWeights: tensor naming and sizes, llama2.c conversion both ways, checkpoint round trip.
#include <gtest/gtest.h>

#include <random>

#include "formats/model_weights.h"

namespace ane {
namespace {

ModelConfig small_config(bool shared) {
  ModelConfig c;
  c.name = "small";
  c.dim = 16, c.hidden_dim = 40, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2, c.head_dim = 4;
  c.vocab_size = 11, c.seq_len = 8, c.shared_classifier = shared;
  return c;
}

ModelWeights random_weights(const ModelConfig& c, uint64_t seed) {
  auto w = ModelWeights::zeros(c);
  EXPECT_TRUE(w.ok()) << w.error().to_string();
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::normal_distribution<float> d;
  for (auto& t : w->tensors())
    for (float& x : t.data) x = d(rng);
  return std::move(w).value();
}

TEST(ModelWeights, NamesShapesAndSizesFollowTheConfig) {
  ModelConfig c = small_config(false);
  c.qk_norm = true;
  auto w = ModelWeights::zeros(c);
  ASSERT_TRUE(w.ok());
  const auto ts = w->tensors();
  ASSERT_EQ(ts.size(), 1 + 2 * 11 + 2u);
  EXPECT_EQ(ts.front().name, "embedding");
  EXPECT_EQ(ts[2].name, "layers.0.wq");
  EXPECT_EQ(ts[2].shape, (std::vector<uint64_t>{16, 16}));
  EXPECT_EQ(ts[3].shape, (std::vector<uint64_t>{8, 16}));  // wk: kv_dim = 2 * 4
  EXPECT_EQ(ts.back().name, "classifier");
  size_t total = 0;
  for (const auto& t : ts) total += t.data.size();
  EXPECT_EQ(total, c.total_params());
  EXPECT_TRUE(w->validate().ok());
  w->layers[1].w2.pop_back();
  Status s = w->validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.to_string().find("layers.1.w2"), std::string::npos) << s.to_string();
}

TEST(ModelWeights, Llama2RoundTripSharedAndUnshared) {
  for (bool shared : {true, false}) {
    ModelConfig c = small_config(shared);
    c.n_kv_heads = 2;
    const ModelWeights w = random_weights(c, shared ? 1 : 2);
    auto m = weights_to_llama2(w);
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    EXPECT_EQ(m->header.shared_classifier, shared);
    // layer 1's wq starts after layer 0's in the stacked llama2 array
    EXPECT_EQ(m->wq[c.wq_size()], w.layers[1].wq[0]);
    auto back = weights_from_llama2(*m, "small");
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_TRUE(*back == w);
  }
}

TEST(ModelWeights, Llama2RejectsWhatItCannotExpress) {
  ModelConfig c = small_config(true);
  c.qk_norm = true;
  auto r = weights_to_llama2(random_weights(c, 3));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().to_string().find("qk_norm"), std::string::npos);
  c = small_config(true);
  c.head_dim = 8;
  r = weights_to_llama2(random_weights(c, 3));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().to_string().find("head_dim"), std::string::npos);
}

TEST(ModelWeights, CheckpointRoundTripAndErrors) {
  const ModelWeights w = random_weights(small_config(false), 4);
  Checkpoint ck;
  ASSERT_TRUE(add_weights_to_checkpoint(ck, w).ok());
  auto bytes = ck.serialize();
  ASSERT_TRUE(bytes.ok());
  auto parsed = Checkpoint::parse(*bytes, "mem");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  auto back = weights_from_checkpoint(*parsed);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_TRUE(*back == w);

  ck.tensors.erase(ck.tensors.begin() + 3);  // layers.0.wk
  auto missing = weights_from_checkpoint(ck);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().to_string().find("model.layers.0.wk"), std::string::npos);
}

}  // namespace
}  // namespace ane
