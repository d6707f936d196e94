// sentencepiece training on a small generated corpus: the exported tokenizer.bin parses back,
// has the requested size and llama2.c's layout, round trips text, encodes like the reference,
// and two trainings agree.
#include "text/tokenizer_train.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "reference_bpe.h"
#include "text/tokenizer.h"

namespace ane {
namespace {

constexpr int kVocab = 400;

// About 6 KB of English-like lines.
std::string generated_corpus() {
  const std::vector<std::string> subjects = {"The cat", "A small dog", "My brother", "The old teacher", "Every child",
                                             "The baker", "Our neighbour", "A tired bird"};
  const std::vector<std::string> verbs = {"walked to", "looked at", "thought about", "found", "painted", "sang near",
                                          "forgot", "remembered"};
  const std::vector<std::string> objects = {"the garden", "a red house", "the river", "two apples", "the quiet town",
                                            "an open window", "the market", "3 green boats"};
  std::mt19937 rng(42);
  auto pick = [&](const std::vector<std::string>& v) { return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)]; };
  std::string corpus;
  while (corpus.size() < 6000) corpus += pick(subjects) + " " + pick(verbs) + " " + pick(objects) + ".\n";
  return corpus;
}

class TrainedTokenizer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto t = train_tokenizer(generated_corpus(), {.vocab_size = kVocab});
    ASSERT_TRUE(t.ok()) << t.error().to_string();
    trained_ = new TokenizerFile(std::move(t).value());
  }
  static void TearDownTestSuite() {
    delete trained_;
    trained_ = nullptr;
  }
  static TokenizerFile* trained_;
};
TokenizerFile* TrainedTokenizer::trained_ = nullptr;

TEST_F(TrainedTokenizer, HasLlama2cLayoutAndParsesBack) {
  const TokenizerFile& f = *trained_;
  ASSERT_EQ(f.vocab_size(), static_cast<size_t>(kVocab));
  EXPECT_EQ(f.entries[0].piece, "<unk>");
  EXPECT_EQ(f.entries[1].piece, "\n<s>\n");
  EXPECT_EQ(f.entries[2].piece, "\n</s>\n");
  for (int b = 0; b < 256; ++b) {
    char want[8];
    std::snprintf(want, sizeof want, "<0x%02X>", b);
    EXPECT_EQ(f.entries[static_cast<size_t>(3 + b)].piece, want);
  }
  bool has_word_piece = false;
  for (const auto& e : f.entries) {
    EXPECT_EQ(e.piece.find("\xE2\x96\x81"), std::string::npos) << "unconverted word mark in '" << e.piece << "'";
    has_word_piece |= e.piece.size() > 3 && e.piece[0] == ' ';
  }
  EXPECT_TRUE(has_word_piece);
  EXPECT_EQ(f.max_token_length, f.longest_piece());

  auto bytes = serialize_tokenizer(f);
  ASSERT_TRUE(bytes.ok());
  auto back = parse_tokenizer_until_eof(*bytes, "trained.bin");
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  ASSERT_EQ(back->vocab_size(), f.vocab_size());
  EXPECT_TRUE(back->warnings.empty());
  for (size_t i = 0; i < f.vocab_size(); ++i) {
    EXPECT_EQ(back->entries[i].piece, f.entries[i].piece);
    EXPECT_EQ(back->entries[i].score, f.entries[i].score);
  }
}

TEST_F(TrainedTokenizer, EncodesLikeTheReferenceAndRoundTrips) {
  auto t = Tokenizer::create(*trained_);
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  const test::ReferenceBpe ref(*trained_);
  const std::string corpus = generated_corpus();
  const std::vector<std::string> texts = {
      "The cat walked to the garden.", corpus.substr(0, 500), "Zebras \xF0\x9F\xA6\x93 eat 1234 caf\xC3\xA9s!\n\ttab",
      "", " leading and  double  spaces ", std::string("nul\0byte", 8)};
  for (const std::string& text : texts) {
    const auto ids = t->encode(text, true, false);
    EXPECT_EQ(ids, ref.encode(text, true, false)) << text;
    auto back = t->decode_all(ids);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, text);
  }
  // The merges learned something: corpus text takes far fewer tokens than bytes.
  EXPECT_LT(t->encode(corpus.substr(0, 500), false, false).size(), 200u);
}

TEST_F(TrainedTokenizer, IsDeterministic) {
  auto again = train_tokenizer(generated_corpus(), {.vocab_size = kVocab});
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  ASSERT_EQ(again->vocab_size(), trained_->vocab_size());
  for (size_t i = 0; i < again->vocab_size(); ++i) {
    EXPECT_EQ(again->entries[i].piece, trained_->entries[i].piece) << i;
    EXPECT_EQ(again->entries[i].score, trained_->entries[i].score) << i;
  }
}

TEST(TokenizerTrain, Errors) {
  auto empty = train_tokenizer("\n\n", {.vocab_size = kVocab});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message().find("no text"), std::string::npos);
  auto too_big = train_tokenizer("tiny corpus\n", {.vocab_size = 5000});
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.error().message().find("sentencepiece"), std::string::npos) << too_big.error().to_string();
}

}  // namespace
}  // namespace ane
