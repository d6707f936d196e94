// The llama2.c tokenizer: byte-fallback BPE over a tokenizer.bin vocabulary, encoding exactly
// as llama2.c's run.c does (dummy space prefix, UTF-8 codepoints or their bytes, then greedy
// merges of the best-scoring adjacent pair), with a hash map for piece lookup and a heap for
// the merges so that long texts encode in O(n log n).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "formats/tokenizer_file.h"

namespace ane {

inline constexpr int32_t kBosId = 1;
inline constexpr int32_t kEosId = 2;
inline constexpr int32_t kFirstByteId = 3;  // "<0x00>"; "<0xFF>" is 258
inline constexpr int32_t kByteTokenCount = 256;

class Tokenizer {
 public:
  // Errors: a vocabulary without "<0x00>".."<0xFF>" at ids 3..258, or too large for int32 ids.
  static Expected<Tokenizer> create(TokenizerFile file);

  int32_t vocab_size() const { return static_cast<int32_t>(file_.entries.size()); }
  // The id of a piece (the lowest if it appears twice), or -1.
  int32_t lookup(std::string_view piece) const;

  // The ids of `text` (any bytes; a NUL is an ordinary byte), after BOS and before EOS if asked.
  std::vector<int32_t> encode(std::string_view text, bool bos, bool eos) const;

  // The text of `token` following `prev_token`, as run.c prints it: a leading space is dropped
  // after BOS, and a "<0xXX>" piece is the raw byte. The view lives as long as the tokenizer.
  Expected<std::string_view> decode(int32_t prev_token, int32_t token) const;
  // The text of a whole sequence: BOS and EOS give no text (BOS still drops the next piece's
  // leading space), so decode_all(encode(t, true, eos)) == t.
  Expected<std::string> decode_all(std::span<const int32_t> ids) const;

  // False for a piece that is one control byte other than whitespace (a "<0xXX>" byte
  // token can decode to one): run.c does not print those. Bytes from 0x80 up are printable
  // here (run.c drops them too), so UTF-8 spelled out in byte tokens still prints.
  static bool printable(std::string_view piece);

 private:
  struct PieceHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  explicit Tokenizer(TokenizerFile file);
  // Appends the ids of text's codepoints (run.c's grouping), byte fallback for unknown ones.
  void append_codepoints(std::string_view text, std::vector<int32_t>* ids) const;
  void merge_pairs(std::vector<int32_t>* ids) const;

  TokenizerFile file_;
  std::unordered_map<std::string, int32_t, PieceHash, std::equal_to<>> ids_;
  std::vector<int32_t> canonical_;  // [vocab]: the lowest id with the same piece
  // (canonical left id, canonical right id) -> the piece (lowest id) their texts join to, for
  // the pieces that may merge: merge_pairs' lookups without building or hashing strings.
  std::unordered_map<uint64_t, int32_t> merges_;
};

}  // namespace ane
