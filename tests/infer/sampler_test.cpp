// The run.c-compatible sampler: xorshift values, greedy ties, multinomial and top-p draws.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "infer/sampler.h"

namespace ane {
namespace {

// Seed 1 by hand: the shifts give 0x2000001 then 0x4004000802801; each times
// 0x2545F4914F6CDD1D mod 2^64, top 32 bits.
TEST(XorShiftRng, MatchesHandComputedValues) {
  XorShiftRng rng(1);
  EXPECT_EQ(rng.next_u32(), 1206177355u);
  EXPECT_EQ(rng.state(), 0x2000001u);
  XorShiftRng rng2(0x2000001);
  EXPECT_EQ(rng2.next_u32(), 2882512552u);
  EXPECT_EQ(rng2.state(), 0x4004000802801u);
  XorShiftRng rng3(0x2000001);
  EXPECT_FLOAT_EQ(rng3.next_f32(), static_cast<float>(2882512552u >> 8) / 16777216.0f);
}

TEST(Sampler, ArgmaxTakesTheFirstOfTiedMaxima) {
  EXPECT_EQ(sample_argmax(std::vector<float>{1, 3, 3, 2}), 1);
  EXPECT_EQ(sample_argmax(std::vector<float>{-2, -2, -2}), 0);
  EXPECT_EQ(sample_argmax(std::vector<float>{0, 1, 2, 5}), 3);
  auto greedy = Sampler::create(4, {0.0f, 0.9f, 7});
  ASSERT_TRUE(greedy.ok());
  EXPECT_EQ(*greedy->sample(std::vector<float>{0.5f, 4, 4, 1}), 1);
}

std::vector<float> log_probs(const std::vector<float>& p) {
  std::vector<float> l;
  for (float x : p) l.push_back(std::log(x));
  return l;
}

std::vector<int> histogram(Sampler& s, const std::vector<float>& logits, int draws) {
  std::vector<int> counts(logits.size());
  for (int i = 0; i < draws; ++i) ++counts[static_cast<size_t>(*s.sample(logits))];
  return counts;
}

TEST(Sampler, TopPDrawsOnlyFromTheNucleusInProportion) {
  // Sorted masses 0.5, 0.3 pass topp 0.7: the nucleus is {0, 2}, renormalised to 0.625 / 0.375.
  const std::vector<float> logits = log_probs({0.5f, 0.05f, 0.3f, 0.15f});
  auto s = Sampler::create(4, {1.0f, 0.7f, 42});
  ASSERT_TRUE(s.ok());
  const int draws = 20000;
  const std::vector<int> c = histogram(*s, logits, draws);
  EXPECT_EQ(c[1], 0);
  EXPECT_EQ(c[3], 0);
  EXPECT_NEAR(c[0] / double(draws), 0.625, 0.02);
  EXPECT_NEAR(c[2] / double(draws), 0.375, 0.02);
}

TEST(Sampler, MultinomialFollowsTheSoftmaxAtTemperature) {
  const std::vector<float> logits = log_probs({0.5f, 0.05f, 0.3f, 0.15f});
  auto plain = Sampler::create(4, {1.0f, 1.0f, 42});
  ASSERT_TRUE(plain.ok());
  const int draws = 20000;
  const std::vector<double> want = {0.5, 0.05, 0.3, 0.15};
  std::vector<int> c = histogram(*plain, logits, draws);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(c[i] / double(draws), want[i], 0.02) << i;

  // Temperature 0.5 squares the probabilities before renormalising.
  auto sharp = Sampler::create(4, {0.5f, 0.0f, 43});
  ASSERT_TRUE(sharp.ok());
  c = histogram(*sharp, logits, draws);
  double norm = 0;
  for (double p : want) norm += p * p;
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(c[i] / double(draws), want[i] * want[i] / norm, 0.02) << i;
}

TEST(Sampler, SameSeedSameTokens) {
  const std::vector<float> logits = log_probs({0.2f, 0.2f, 0.2f, 0.2f, 0.2f});
  auto a = Sampler::create(5, {1.0f, 0.9f, 99});
  auto b = Sampler::create(5, {1.0f, 0.9f, 99});
  auto other = Sampler::create(5, {1.0f, 0.9f, 100});
  std::vector<int> ta, tb, tother;
  for (int i = 0; i < 50; ++i) {
    ta.push_back(*a->sample(logits));
    tb.push_back(*b->sample(logits));
    tother.push_back(*other->sample(logits));
  }
  EXPECT_EQ(ta, tb);
  EXPECT_NE(ta, tother);
}

TEST(Sampler, RejectsBadOptionsAndLogits) {
  EXPECT_FALSE(Sampler::create(4, {-1.0f, 0.9f, 1}).ok());
  EXPECT_FALSE(Sampler::create(4, {1.0f, 1.5f, 1}).ok());
  auto zero_seed = Sampler::create(4, {1.0f, 0.9f, 0});
  ASSERT_FALSE(zero_seed.ok());
  EXPECT_NE(zero_seed.error().message().find("seed must be non-zero"), std::string::npos);
  auto s = Sampler::create(4, {1.0f, 0.9f, 1});
  ASSERT_TRUE(s.ok());
  auto wrong = s->sample(std::vector<float>{1, 2, 3});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message().find("3 logits for a vocabulary of 4"), std::string::npos);
}

}  // namespace
}  // namespace ane
