// tokenizer.bin: a golden file written byte by byte, round trips, lenient and strict cases.
#include "formats/tokenizer_file.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace ane {
namespace {

using test::Bytes;
using test::fails_at;
using test::put;

// max_token_length 5; tokens "<unk>" (0.0), "\n<s>\n" (0.0), " a" (-1.5), "" (2.0).
// Token offsets: 4, 17, 30, 40; file is 48 bytes.
Bytes golden() {
  return Bytes{
      0x05, 0x00, 0x00, 0x00,                                      // max_token_length 5
      0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, '<', 'u', 'n', 'k', '>',   // 0.0, 5, "<unk>"
      0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, '\n', '<', 's', '>', '\n',  // 0.0, 5, "\n<s>\n"
      0x00, 0x00, 0xC0, 0xBF, 0x02, 0x00, 0x00, 0x00, ' ', 'a',                // -1.5, 2, " a"
      0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00,                          // 2.0, 0, ""
  };
}

void expect_golden_entries(const TokenizerFile& t) {
  EXPECT_EQ(t.max_token_length, 5u);
  ASSERT_EQ(t.vocab_size(), 4u);
  EXPECT_EQ(t.entries[0].piece, "<unk>");
  EXPECT_EQ(t.entries[1].piece, "\n<s>\n");
  EXPECT_EQ(t.entries[2].piece, " a");
  EXPECT_EQ(t.entries[2].score, -1.5f);
  EXPECT_EQ(t.entries[3].piece, "");
  EXPECT_EQ(t.entries[3].score, 2.0f);
  EXPECT_EQ(t.longest_piece(), 5u);
}

TEST(TokenizerFile, GoldenWithVocabSize) {
  auto t = parse_tokenizer(golden(), "tok.bin", 4);
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  expect_golden_entries(*t);
  EXPECT_TRUE(t->warnings.empty());
}

TEST(TokenizerFile, GoldenUntilEof) {
  auto t = parse_tokenizer_until_eof(golden(), "tok.bin");
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  expect_golden_entries(*t);
}

TEST(TokenizerFile, WriterMatchesGolden) {
  TokenizerFile t;
  t.max_token_length = 5;
  t.entries = {{0.0f, "<unk>"}, {0.0f, "\n<s>\n"}, {-1.5f, " a"}, {2.0f, ""}};
  auto out = serialize_tokenizer(t);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, golden());
}

TEST(TokenizerFile, RoundTripThroughFileWithRawBytes) {
  TokenizerFile t;
  std::mt19937 rng(3);
  for (int i = 0; i < 300; ++i) {
    std::string piece(rng() % 12, '\0');
    for (char& c : piece) c = static_cast<char>(rng() & 0xFF);  // not UTF-8, may contain NUL
    t.entries.push_back({static_cast<float>(static_cast<int>(rng() % 2000) - 1000) / 7.0f, piece});
  }
  t.max_token_length = t.longest_piece();
  test::ScratchDir dir;
  ASSERT_TRUE(write_tokenizer(dir.file("tok.bin"), t).ok());
  for (int pass = 0; pass < 2; ++pass) {
    auto back = pass == 0 ? read_tokenizer(dir.file("tok.bin"), 300) : read_tokenizer_until_eof(dir.file("tok.bin"));
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(back->max_token_length, t.max_token_length);
    ASSERT_EQ(back->vocab_size(), 300u);
    for (size_t i = 0; i < 300; ++i) {
      EXPECT_EQ(back->entries[i].piece, t.entries[i].piece);
      EXPECT_EQ(back->entries[i].score, t.entries[i].score);
    }
    EXPECT_TRUE(back->warnings.empty());
  }
}

TEST(TokenizerFile, FewerTokensThanAskedIsTruncation) {
  // A fifth token would start at 48, the end of the file.
  EXPECT_TRUE(fails_at(parse_tokenizer(golden(), "tok.bin", 5), 48, "token 4: truncated: score needs 4 bytes, 0 left"));
}

TEST(TokenizerFile, TruncatedAtSeveralPoints) {
  const Bytes b = golden();
  EXPECT_TRUE(fails_at(parse_tokenizer(test::truncated(b, 2), "t", 4), 0, "truncated: max_token_length needs 4 bytes"));
  EXPECT_TRUE(fails_at(parse_tokenizer_until_eof(test::truncated(b, 0), "t"), 0, "max_token_length"));
  // Inside token 1's score (at 17).
  EXPECT_TRUE(fails_at(parse_tokenizer(test::truncated(b, 19), "t", 4), 17, "token 1: truncated: score"));
  // Inside token 1's length (at 21).
  EXPECT_TRUE(fails_at(parse_tokenizer_until_eof(test::truncated(b, 23), "t"), 21, "token 1: truncated: byte length"));
  // Inside token 2's bytes: blamed on its length field (34).
  EXPECT_TRUE(fails_at(parse_tokenizer(test::truncated(b, 39), "t", 4), 34,
                       "token 2: byte length 2 runs past the end of the file (1 bytes left after offset 38)"));
}

TEST(TokenizerFile, NegativeLength) {
  Bytes b = golden();
  put<int32_t>(b, 21, -1);
  EXPECT_TRUE(fails_at(parse_tokenizer(b, "t", 4), 21, "token 1: negative byte length -1"));
}

TEST(TokenizerFile, HugeLength) {
  Bytes b = golden();
  put<int32_t>(b, 8, 0x7FFFFFFF);
  EXPECT_TRUE(fails_at(parse_tokenizer(b, "t", 4), 8, "token 0: byte length 2147483647 runs past the end"));
}

TEST(TokenizerFile, LenientAboutLongPiecesAndTrailingBytes) {
  Bytes b = golden();
  put<uint32_t>(b, 0, 3);  // "<unk>" and "\n<s>\n" are longer than 3
  b.push_back(0xAB);
  auto t = parse_tokenizer(b, "t", 4);
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  ASSERT_EQ(t->warnings.size(), 3u);
  EXPECT_NE(t->warnings[0].find("byte 8: token 0: length 5 exceeds max_token_length 3"), std::string::npos)
      << t->warnings[0];
  EXPECT_NE(t->warnings[1].find("byte 21: token 1"), std::string::npos) << t->warnings[1];
  EXPECT_NE(t->warnings[2].find("byte 48: 1 bytes follow the 4 tokens"), std::string::npos) << t->warnings[2];
  // Reading to the end instead: the trailing byte is a truncated token.
  EXPECT_TRUE(fails_at(parse_tokenizer_until_eof(b, "t"), 48, "token 4: truncated: score needs 4 bytes, 1 left"));
}

TEST(TokenizerFile, BadArguments) {
  EXPECT_TRUE(fails_at(parse_tokenizer(golden(), "t", -1), -1, "must not be negative", ErrorCode::kInvalidArgument));
  auto zero = parse_tokenizer(golden(), "t", 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->vocab_size(), 0u);
  // A huge vocab_size must fail on the data, not on a reservation.
  EXPECT_TRUE(fails_at(parse_tokenizer(golden(), "t", int64_t{1} << 40), 48, "token 4"));
}

TEST(TokenizerFile, MissingFileIsAnIoError) {
  test::ScratchDir dir;
  auto t = read_tokenizer(dir.file("none.bin"), 10);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace ane
