// llama2.c tokenizer.bin: u32 max_token_length, then for each token id 0..vocab_size-1:
// f32 score, i32 byte length, the bytes (no terminator). vocab_size is not stored; it comes
// from the model, or from reading until the end of the file.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace ane {

// One vocabulary entry.
struct TokenizerEntry {
  float score = 0.0f;  // merge priority (higher merges first)
  std::string piece;   // raw bytes, not necessarily valid UTF-8
};

// A whole tokenizer file.
struct TokenizerFile {
  uint32_t max_token_length = 0;        // as stored; pieces longer than this are accepted
  std::vector<TokenizerEntry> entries;  // [vocab_size], indexed by token id
  // Oddities a lenient reader accepts, each with its byte offset: pieces longer than
  // max_token_length, bytes left after vocab_size tokens. Not part of the file.
  std::vector<std::string> warnings;

  size_t vocab_size() const { return entries.size(); }
  // The length of the longest piece (what max_token_length should be).
  uint32_t longest_piece() const;
};

// Reads exactly `vocab_size` tokens (trailing bytes give a warning). Errors (negative length,
// a piece or field past the end of the file) name the token id and the byte offset.
Expected<TokenizerFile> parse_tokenizer(std::span<const uint8_t> bytes, const std::string& source,
                                        int64_t vocab_size);
// Reads tokens until the end of the file; vocab_size() is then the count found.
Expected<TokenizerFile> parse_tokenizer_until_eof(std::span<const uint8_t> bytes, const std::string& source);
// The same, from a file.
Expected<TokenizerFile> read_tokenizer(const std::string& path, int64_t vocab_size);
Expected<TokenizerFile> read_tokenizer_until_eof(const std::string& path);

// The file bytes: max_token_length as stored in `tok`, then every entry (warnings are not written).
Expected<std::vector<uint8_t>> serialize_tokenizer(const TokenizerFile& tok);
// serialize_tokenizer, written atomically.
Status write_tokenizer(const std::string& path, const TokenizerFile& tok);

}  // namespace ane
