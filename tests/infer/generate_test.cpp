// Greedy generation from llama2.c files (written, read back) against greedy decoding with the
// float64 reference re-run on the growing sequence; run.c's BOS stop and step limits.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "formats/llama2_model.h"
#include "infer/generate.h"
#include "infer_test_util.h"

namespace ane {
namespace {

using infer_test::small_config;

// Greedy decoding by the reference: the prompt is forced, then each next token is the argmax
// at the last position; stops at BOS or after `steps` positions. Also checks that every argmax
// wins by a margin the fp32 model cannot close, so the comparison is meaningful.
std::vector<int> reference_greedy(const reference::Model& m, const std::vector<int>& prompt, int steps) {
  const ModelConfig& c = m.config;
  std::vector<int> seq = prompt;
  std::vector<int> out;  // every token after the first, as generate's callback sees them
  for (int pos = 0; pos < steps; ++pos) {
    int next = 0;
    if (pos + 1 < static_cast<int>(prompt.size())) {
      next = prompt[static_cast<size_t>(pos) + 1];
    } else {
      std::vector<double> l = infer_test::logits_at(infer_test::reference_logits(m, seq), c.vocab_size, c.seq_len, pos);
      next = static_cast<int>(std::max_element(l.begin(), l.end()) - l.begin());
      std::sort(l.begin(), l.end());
      EXPECT_GT(l[l.size() - 1] - l[l.size() - 2], 1e-3) << "near-tie at position " << pos;
      seq.push_back(next);
    }
    if (next == kBosToken) break;
    out.push_back(next);
  }
  return out;
}

class Generate : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ane_generate_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `w` as a llama2.c v1 file and reads it back: generation runs on what a user's file holds.
  ModelWeights through_llama2_file(const ModelWeights& w) {
    const std::string path = (dir_ / "model.bin").string();
    auto model = weights_to_llama2(w);
    EXPECT_TRUE(model.ok()) << model.error().to_string();
    EXPECT_TRUE(write_llama2_model(path, *model, Llama2Format::kV1).ok());
    auto read = read_llama2_model(path);
    EXPECT_TRUE(read.ok()) << read.error().to_string();
    auto back = weights_from_llama2(*read);
    EXPECT_TRUE(back.ok()) << back.error().to_string();
    return *back;
  }

  void expect_greedy_matches_reference(const ModelConfig& c, uint64_t seed) {
    const ModelWeights w = through_llama2_file(infer_test::random_weights(c, seed));
    auto model = InferenceModel::create(w);
    ASSERT_TRUE(model.ok()) << model.error().to_string();
    auto sampler = Sampler::create(c.vocab_size, {0.0f, 0.9f, 1});
    ASSERT_TRUE(sampler.ok());
    const std::vector<int> prompt = {1, 17, 42};
    std::vector<int> got;
    auto stats = generate(*model, prompt, 0, *sampler, [&](int, int next) { got.push_back(next); });
    ASSERT_TRUE(stats.ok()) << stats.error().to_string();

    const std::vector<int> want = reference_greedy(infer_test::to_reference(w), prompt, c.seq_len);
    EXPECT_EQ(got, want);
    EXPECT_GT(want.size(), prompt.size() + 3) << "the model stopped at BOS early; pick another seed";
    EXPECT_EQ(stats->prompt_tokens, 2);
    // Each pass yields one token; a BOS ends the run without being reported.
    const bool stopped_at_bos = want.size() < static_cast<size_t>(c.seq_len);
    EXPECT_EQ(stats->positions, static_cast<int>(want.size()) + (stopped_at_bos ? 1 : 0));
  }

  std::filesystem::path dir_;
};

TEST_F(Generate, GreedyMatchesReferenceSharedClassifier) { expect_greedy_matches_reference(small_config(), 21); }

TEST_F(Generate, GreedyMatchesReferenceUnsharedClassifier) {
  ModelConfig c = small_config();
  c.shared_classifier = false;
  expect_greedy_matches_reference(c, 22);
}

TEST_F(Generate, GreedyMatchesReferenceGqa) {
  ModelConfig c = small_config();
  c.n_kv_heads = 2;
  expect_greedy_matches_reference(c, 23);
}

TEST_F(Generate, StopsAtBosAndAfterSteps) {
  const ModelWeights w = infer_test::random_weights(small_config(), 24);
  auto model = InferenceModel::create(w);
  ASSERT_TRUE(model.ok());
  auto sampler = Sampler::create(w.config.vocab_size, {1.0f, 0.9f, 5});
  ASSERT_TRUE(sampler.ok());
  int calls = 0;
  auto count = [&](int, int) { ++calls; };

  // run.c stops at BOS even when the prompt forces it.
  auto bos = generate(*model, std::vector<int>{5, 1, 7}, 0, *sampler, count);
  ASSERT_TRUE(bos.ok());
  EXPECT_EQ(bos->positions, 1);
  EXPECT_EQ(calls, 0);

  const std::vector<int> six = {5, 6, 7, 8, 9, 10};
  auto forced = generate(*model, six, 6, *sampler, count);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->positions, 6);
  EXPECT_EQ(forced->prompt_tokens, 5);
  EXPECT_GE(calls, 5);  // the sixth position samples, possibly the stopping BOS

  // A prompt longer than the positions to run is an error, not cut short.
  auto cut = generate(*model, six, 5, *sampler, count);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().message().find("6 tokens, more than the 5 positions"), std::string::npos);

  auto empty = generate(*model, std::vector<int>{}, 3, *sampler, count);
  ASSERT_FALSE(empty.ok());
  auto bad_token = generate(*model, std::vector<int>{5, 999}, 4, *sampler, count);
  ASSERT_FALSE(bad_token.ok());
  EXPECT_NE(bad_token.error().message().find("token 999"), std::string::npos);
}

}  // namespace
}  // namespace ane
