// Token shards: headerless uint16 and llm.c's 1024-byte header, golden bytes, round trips
// through mapped files, validation against a vocabulary, and directory listing.
#include "formats/token_shard.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/file.h"
#include "test_util.h"

namespace ane {
namespace {

using test::Bytes;
using test::fails_at;
using test::put;

// Tokens 1, 0x1234, 0xFFFF, 2, little-endian.
const Bytes kRawGolden = {0x01, 0x00, 0x34, 0x12, 0xFF, 0xFF, 0x02, 0x00};

Bytes llmc_golden() {
  Bytes b(1024 + kRawGolden.size(), 0);
  b[0] = 0x88, b[1] = 0xD8, b[2] = 0x34, b[3] = 0x01;  // 20240520 = 0x0134D888
  b[4] = 1;                                            // version
  b[8] = 4;                                            // token count
  for (size_t i = 0; i < kRawGolden.size(); ++i) b[1024 + i] = kRawGolden[i];
  return b;
}

const std::vector<uint16_t> kTokens = {1, 0x1234, 0xFFFF, 2};

TEST(TokenShard, GoldenRaw) {
  auto v = parse_token_shard(kRawGolden, "data00.bin");
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(v->format, ShardFormat::kRawU16);
  EXPECT_EQ(v->header_bytes, 0u);
  EXPECT_EQ(std::vector<uint16_t>(v->tokens.begin(), v->tokens.end()), kTokens);
  EXPECT_EQ(serialize_token_shard(kTokens), kRawGolden);
}

TEST(TokenShard, GoldenLlmc) {
  const Bytes b = llmc_golden();
  auto v = parse_token_shard(b, "train_000001.bin");
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(v->format, ShardFormat::kLlmc);
  EXPECT_EQ(v->header_bytes, 1024u);
  EXPECT_EQ(std::vector<uint16_t>(v->tokens.begin(), v->tokens.end()), kTokens);
  EXPECT_EQ(serialize_token_shard(kTokens, ShardFormat::kLlmc), b);
}

TEST(TokenShard, EmptyRawShard) {
  auto v = parse_token_shard({}, "empty.bin");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->tokens.empty());
  EXPECT_TRUE(v->validate(1).ok());
}

TEST(TokenShard, RoundTripThroughMappedFiles) {
  test::ScratchDir dir;
  std::mt19937 rng(5);
  std::vector<uint16_t> tokens(4097);
  for (auto& t : tokens) t = static_cast<uint16_t>(rng() % 32000);
  for (ShardFormat f : {ShardFormat::kRawU16, ShardFormat::kLlmc}) {
    const std::string path = dir.file(f == ShardFormat::kLlmc ? "llmc.bin" : "raw.bin");
    ASSERT_TRUE(write_token_shard(path, tokens, f).ok());
    auto shard = TokenShard::open(path);
    ASSERT_TRUE(shard.ok()) << shard.error().to_string();
    EXPECT_EQ(shard->format(), f);
    EXPECT_EQ(std::vector<uint16_t>(shard->tokens().begin(), shard->tokens().end()), tokens);
    EXPECT_TRUE(shard->validate(32000).ok());
    // Moving the shard keeps the mapping and the view.
    TokenShard moved = std::move(*shard);
    EXPECT_EQ(moved.tokens()[4096], tokens[4096]);
  }
}

TEST(TokenShard, ValidateReportsFirstOutOfRangeToken) {
  auto raw = parse_token_shard(kRawGolden, "d.bin");
  ASSERT_TRUE(raw.ok());
  EXPECT_TRUE(fails_at(raw->validate(4096), 2, "token 1 is id 4660, out of range for vocab_size 4096",
                       ErrorCode::kOutOfRange));
  EXPECT_TRUE(raw->validate(65536).ok());
  EXPECT_TRUE(fails_at(raw->validate(1), 0, "token 0 is id 1", ErrorCode::kOutOfRange));
  const Bytes b = llmc_golden();
  auto llmc = parse_token_shard(b, "l.bin");
  ASSERT_TRUE(llmc.ok());
  EXPECT_TRUE(fails_at(llmc->validate(65535), 1024 + 4, "token 2 is id 65535", ErrorCode::kOutOfRange));
}

TEST(TokenShard, OddByteCount) {
  Bytes b = kRawGolden;
  b.push_back(0x07);
  EXPECT_TRUE(fails_at(parse_token_shard(b, "d.bin"), 8, "odd number of token bytes (9)"));
  EXPECT_TRUE(fails_at(parse_token_shard(Bytes{0x01}, "d.bin"), 0, "odd number of token bytes (1)"));
}

TEST(TokenShard, LlmcBadHeaders) {
  const Bytes good = llmc_golden();
  // Truncated inside the header, and at several points in the tokens.
  EXPECT_TRUE(fails_at(parse_token_shard(test::truncated(good, 100), "l"), 0,
                       "truncated: llm.c shard header needs 1024 bytes, 100 left"));
  EXPECT_TRUE(fails_at(parse_token_shard(test::truncated(good, 1024 + 6), "l"), 8,
                       "header says 4 tokens, the file holds 6 token bytes"));
  EXPECT_TRUE(fails_at(parse_token_shard(test::truncated(good, 1024 + 7), "l"), 8, "holds 7 token bytes"));
  EXPECT_TRUE(fails_at(parse_token_shard(test::truncated(good, 1024), "l"), 8, "holds 0 token bytes"));
  Bytes b = good;
  put<int32_t>(b, 4, 2);
  EXPECT_TRUE(fails_at(parse_token_shard(b, "l"), 4, "unsupported llm.c shard version 2 (expected 1"));
  b = good;
  put<int32_t>(b, 8, -1);
  EXPECT_TRUE(fails_at(parse_token_shard(b, "l"), 8, "header says -1 tokens"));
  b = good;
  put<int32_t>(b, 8, 0x7FFFFFFF);
  EXPECT_TRUE(fails_at(parse_token_shard(b, "l"), 8, "header says 2147483647 tokens"));
  // Another magic is not llm.c: the file is read as raw tokens.
  b = good;
  b[0] = 0x89;
  auto raw = parse_token_shard(b, "l");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->format, ShardFormat::kRawU16);
  EXPECT_EQ(raw->tokens.size(), 516u);
}

TEST(TokenShard, MisalignedBytesAreRejected) {
  Bytes b(9, 0);
  auto v = parse_token_shard(std::span<const uint8_t>(b).subspan(1), "m");
  EXPECT_TRUE(fails_at(v, 0, "not 2-byte aligned", ErrorCode::kInvalidArgument));
}

TEST(TokenShard, ListShardsSortedBinFilesOnly) {
  test::ScratchDir dir;
  for (const char* name : {"data01.bin", "data00.bin", "data10.bin", "notes.txt"}) {
    ASSERT_TRUE(write_token_shard(dir.file(name), kTokens).ok());
  }
  std::filesystem::create_directory(dir.file("subdir.bin"));
  auto list = list_token_shards(dir.path());
  ASSERT_TRUE(list.ok()) << list.error().to_string();
  EXPECT_EQ(*list, (std::vector<std::string>{dir.file("data00.bin"), dir.file("data01.bin"), dir.file("data10.bin")}));
}

TEST(TokenShard, ListShardsErrors) {
  test::ScratchDir dir;
  auto empty = list_token_shards(dir.path());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), ErrorCode::kIo);
  EXPECT_NE(empty.error().message().find("no token shards"), std::string::npos);
  EXPECT_EQ(empty.error().where().file, dir.path());
  auto missing = list_token_shards(dir.file("absent"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kIo);
  EXPECT_NE(missing.error().message().find("cannot list data directory"), std::string::npos);
}

TEST(TokenShard, MissingFileIsAnIoError) {
  test::ScratchDir dir;
  auto s = TokenShard::open(dir.file("absent.bin"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace ane
