// The tokenizer against the plain reference encoder (tests/text/reference_bpe.h) on a
// hand-written vocabulary and random text, hand-checked encodings, decode round trips, and
// the vocabularies it must refuse.
#include "text/tokenizer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "reference_bpe.h"

namespace ane {
namespace {

using test::random_codepoint;
using test::ReferenceBpe;
using test::utf8;
using test::vocabulary_head;

// Byte tokens, then pieces with distinct and tied scores, non-ASCII pieces, a piece that is
// invalid UTF-8 on its own, and a duplicate (the first id must win).
TokenizerFile hand_vocabulary() {
  TokenizerFile f = vocabulary_head();
  const std::vector<TokenizerEntry> pieces = {
      {-1, " "},    {-1, "a"},    {-1, "b"},     {-1, "c"},     {-1, "d"},       {-1, "e"},   {-1, "t"},
      {-1, "h"},    {-1, "\xC3\xA9"}, {-1, "\xF0\x9F\x98\x80"}, {-1, "\xFF"},   {-1, "\x80\x80"},
      {-2, "ab"},   {-2, "bc"},   {-3, "abc"},   {-1.5f, "cd"}, {-4, " a"},      {-5, " ab"}, {-2, "th"},
      {-2.5f, "he"}, {-3, "the"}, {-6, " the"}, {-7, " t"},    {-2, "\xC3\xA9\xC3\xA9"}, {-3, "a\xC3\xA9"},
      {-1, "dd"},   {-1, "ddd"},  {-9, "  "},    {-1, "ab"},    {-1e10f, "ee"},  {-0.5f, "e\xFF"},
  };
  for (const auto& p : pieces) f.entries.push_back(p);
  f.max_token_length = f.longest_piece();
  return f;
}

Tokenizer make_tokenizer(TokenizerFile f) {
  auto t = Tokenizer::create(std::move(f));
  EXPECT_TRUE(t.ok()) << t.error().to_string();
  return std::move(t).value();
}

std::vector<int32_t> ids_of(const Tokenizer& t, const std::vector<std::string>& pieces) {
  std::vector<int32_t> ids;
  for (const auto& p : pieces) ids.push_back(t.lookup(p));
  return ids;
}

// Text drawn from the vocabulary's characters plus random codepoints, emoji, invalid bytes
// (lone continuation bytes, truncated sequences, 0xFF) and NUL.
std::string random_text(std::mt19937& rng, size_t max_len) {
  const std::vector<std::string> alphabet = {"a", "b", "c", "d", "e", "t", "h", " ", "  ", "\xC3\xA9", "\xF0\x9F\x98\x80",
                                             "\xFF", "\x80", "\x80\x80\x80\x80\x80", "\xE2\x82", "\xC3", std::string(1, '\0'),
                                             "\n", "the ", "abc"};
  const size_t len = std::uniform_int_distribution<size_t>(0, max_len)(rng);
  std::string s;
  while (s.size() < len) {
    if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
      s += utf8(random_codepoint(rng));
    } else {
      s += alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
    }
  }
  return s;
}

TEST(Tokenizer, HandCheckedEncodings) {
  const Tokenizer t = make_tokenizer(hand_vocabulary());
  EXPECT_EQ(t.encode("", false, false), std::vector<int32_t>{});
  EXPECT_EQ(t.encode("", true, true), (std::vector<int32_t>{kBosId, kEosId}));
  // "ab" (-2) beats " a" (-4), then " " "ab" join as " ab" (-5).
  EXPECT_EQ(t.encode("ab", false, false), ids_of(t, {" ab"}));
  // abc: "ab" and "bc" tie at -2; the left one wins, then "abc" (-3).
  EXPECT_EQ(t.encode("abc", false, false), ids_of(t, {" ", "abc"}));
  // bcd: "cd" (-1.5) beats "bc" (-2).
  EXPECT_EQ(t.encode("bcd", false, false), ids_of(t, {" ", "b", "cd"}));
  // "ee" scores -1e10, which run.c never merges.
  EXPECT_EQ(t.encode("ee", false, false), ids_of(t, {" ", "e", "e"}));
  // Unknown codepoint: its bytes + 3.
  EXPECT_EQ(t.encode("\xE2\x82\xAC", true, false), (std::vector<int32_t>{kBosId, t.lookup(" "), 0xE2 + 3, 0x82 + 3, 0xAC + 3}));
  // "ab" appears twice; the lower id (259 + 12) wins.
  EXPECT_EQ(t.lookup("ab"), 271);
}

TEST(Tokenizer, ByteTokensMergeAsTheirText) {
  // run.c joins piece texts, so a byte token only merges through its "<0xXX>" spelling.
  TokenizerFile f = hand_vocabulary();
  f.entries.push_back({5, "<0xE2>e"});
  const Tokenizer t = make_tokenizer(f);
  EXPECT_EQ(t.encode("\xE2" "e", false, false), ids_of(t, {" ", "<0xE2>e"}));
}

TEST(Tokenizer, BosTakesPartInMerges) {
  TokenizerFile f = hand_vocabulary();
  f.entries.push_back({5, "\n<s>\n "});
  const Tokenizer t = make_tokenizer(f);
  EXPECT_EQ(t.encode("d", true, false), ids_of(t, {"\n<s>\n ", "d"}));
}

TEST(Tokenizer, MatchesReferenceOnRandomText) {
  const TokenizerFile f = hand_vocabulary();
  const Tokenizer t = make_tokenizer(f);
  const ReferenceBpe ref(f);
  std::mt19937 rng(7);
  for (int i = 0; i < 400; ++i) {
    const std::string text = random_text(rng, 200);
    const bool bos = i % 2 == 0, eos = i % 3 == 0;
    ASSERT_EQ(t.encode(text, bos, eos), ref.encode(text, bos, eos)) << "case " << i;
  }
}

TEST(Tokenizer, RoundTripsArbitraryText) {
  const Tokenizer t = make_tokenizer(hand_vocabulary());
  std::mt19937 rng(11);
  for (int i = 0; i < 300; ++i) {
    std::string text;
    const int n = std::uniform_int_distribution<int>(0, 60)(rng);
    for (int k = 0; k < n; ++k) text += utf8(random_codepoint(rng));
    if (i % 2) text += random_text(rng, 40);  // invalid UTF-8 too
    const auto ids = t.encode(text, true, i % 3 == 0);
    auto back = t.decode_all(ids);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    ASSERT_EQ(*back, text) << "case " << i;
  }
}

// Every single byte against the rule (control bytes other than whitespace are not printed)
// checked by hand here, and longer pieces always printed.
TEST(Tokenizer, PrintableSkipsLoneControlBytesOnly) {
  for (int b = 0; b < 256; ++b) {
    const bool control = b < 0x20 || b == 0x7F;
    const bool whitespace = b == ' ' || (b >= '\t' && b <= '\r');
    EXPECT_EQ(Tokenizer::printable(std::string(1, static_cast<char>(b))), !control || whitespace) << b;
  }
  EXPECT_TRUE(Tokenizer::printable(std::string("\x01\x02", 2)));
  EXPECT_TRUE(Tokenizer::printable(" the"));
  EXPECT_TRUE(Tokenizer::printable(""));
}

TEST(Tokenizer, LongTextMatchesReference) {
  const TokenizerFile f = hand_vocabulary();
  const Tokenizer t = make_tokenizer(f);
  std::mt19937 rng(3);
  std::string text;
  while (text.size() < 4000) text += random_text(rng, 100);
  EXPECT_EQ(t.encode(text, true, false), ReferenceBpe(f).encode(text, true, false));
}

TEST(Tokenizer, DecodeLikeRunC) {
  const Tokenizer t = make_tokenizer(hand_vocabulary());
  const int32_t space_a = t.lookup(" a");
  auto after_bos = t.decode(kBosId, space_a);
  ASSERT_TRUE(after_bos.ok());
  EXPECT_EQ(*after_bos, "a");
  EXPECT_EQ(*t.decode(5, space_a), " a");
  EXPECT_EQ(*t.decode(5, kFirstByteId + 0x41), "A");
  EXPECT_EQ(*t.decode(5, kFirstByteId), std::string(1, '\0'));
  EXPECT_EQ(*t.decode(5, kBosId), "\n<s>\n");
  // Several documents: each BOS drops the next leading space.
  auto docs = t.decode_all(std::vector<int32_t>{kBosId, space_a, kEosId, kBosId, space_a, t.lookup("b")});
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(*docs, "aab");
}

TEST(Tokenizer, DecodeRejectsIdsOutsideTheVocabulary) {
  const Tokenizer t = make_tokenizer(hand_vocabulary());
  auto bad = t.decode(0, t.vocab_size());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kOutOfRange);
  EXPECT_NE(bad.error().message().find("outside the vocabulary"), std::string::npos);
  auto all = t.decode_all(std::vector<int32_t>{kBosId, 40, -1});
  ASSERT_FALSE(all.ok());
  EXPECT_NE(all.error().message().find("token 2"), std::string::npos) << all.error().to_string();
}

TEST(Tokenizer, RefusesVocabulariesWithoutByteTokens) {
  TokenizerFile small;
  small.entries = {{0, "<unk>"}, {0, "\n<s>\n"}, {0, "\n</s>\n"}, {0, "a"}};
  auto t = Tokenizer::create(small);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message().find("byte fallback"), std::string::npos) << t.error().to_string();

  TokenizerFile wrong = hand_vocabulary();
  wrong.entries[100].piece = "x";
  auto w = Tokenizer::create(wrong);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message().find("token 100 is 'x', expected '<0x61>'"), std::string::npos) << w.error().to_string();
}

}  // namespace
}  // namespace ane
