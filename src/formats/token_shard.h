// Pretokenized data shards: little-endian uint16 token ids, either headerless (llama2.c) or
// after llm.c's 256 x i32 header (magic 20240520, version 1, token count at index 2),
// detected by the magic. Shards are memory-mapped, never copied.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/file.h"
#include "core/status.h"

namespace ane {

enum class ShardFormat {
  kRawU16,  // headerless uint16 tokens
  kLlmc,    // llm.c: 1024-byte header, then uint16 tokens
};

inline constexpr int32_t kLlmcShardMagic = 20240520;
inline constexpr int32_t kLlmcShardVersion = 1;  // uint16 tokens
inline constexpr size_t kLlmcHeaderBytes = 256 * sizeof(int32_t);

// The tokens of a shard held in memory elsewhere.
struct TokenShardView {
  std::string source;                 // file name used in errors
  ShardFormat format = ShardFormat::kRawU16;
  size_t header_bytes = 0;            // byte offset of token 0
  std::span<const uint16_t> tokens;   // [n_tokens]

  // The first token id >= vocab_size as an out-of-range error at its byte offset; ok if none.
  Status validate(int64_t vocab_size) const;
};

// Parses a shard held in `bytes` (which must outlive the view and be 2-byte aligned).
// Errors: odd token byte count, llm.c header truncated or with a bad version or a token count
// that disagrees with the file size.
Expected<TokenShardView> parse_token_shard(std::span<const uint8_t> bytes, std::string source);

// A shard file mapped read-only. Move-only; the view stays valid while this lives.
class TokenShard {
 public:
  static Expected<TokenShard> open(const std::string& path);

  const TokenShardView& view() const { return view_; }
  std::span<const uint16_t> tokens() const { return view_.tokens; }
  ShardFormat format() const { return view_.format; }
  Status validate(int64_t vocab_size) const { return view_.validate(vocab_size); }

 private:
  MappedFile file_;
  TokenShardView view_;
};

// The bytes of a shard holding `tokens` in the given format.
std::vector<uint8_t> serialize_token_shard(std::span<const uint16_t> tokens, ShardFormat format = ShardFormat::kRawU16);
// serialize_token_shard, written atomically.
Status write_token_shard(const std::string& path, std::span<const uint16_t> tokens,
                         ShardFormat format = ShardFormat::kRawU16);

// The shard files of a data directory (`--data DIR`): the regular files ending in ".bin",
// sorted by name (llama2.c's data00.bin is the validation shard by convention). An error when
// the directory cannot be read or holds no shard.
Expected<std::vector<std::string>> list_token_shards(const std::string& dir);

}  // namespace ane
