#include "formats/tokenizer_file.h"

#include <algorithm>
#include <limits>

#include "core/byte_reader.h"
#include "core/file.h"
#include "formats/binary_io.h"

namespace ane {
namespace {

constexpr uint64_t kMinEntryBytes = 8;  // f32 score + i32 length

// Reads the entry for token `id` at the reader's offset.
Status read_entry(ByteReader& r, int64_t id, TokenizerFile* tok) {
  const std::string token = "token " + std::to_string(id);
  auto s = r.read<float>("score");
  if (!s) return s.error().with_context(token);
  const uint64_t length_at = r.offset();
  auto len = r.read<int32_t>("byte length");
  if (!len) return len.error().with_context(token);
  if (*len < 0) return r.error_at(length_at, token + ": negative byte length " + std::to_string(*len));
  if (static_cast<uint64_t>(*len) > r.remaining()) {
    return r.error_at(length_at, token + ": byte length " + std::to_string(*len) + " runs past the end of the file (" +
                                     std::to_string(r.remaining()) + " bytes left after offset " +
                                     std::to_string(r.offset()) + ")");
  }
  if (static_cast<uint32_t>(*len) > tok->max_token_length) {
    tok->warnings.push_back(r.source() + ": byte " + std::to_string(length_at) + ": " + token + ": length " +
                            std::to_string(*len) + " exceeds max_token_length " +
                            std::to_string(tok->max_token_length));
  }
  auto bytes = r.take(static_cast<uint64_t>(*len), "piece");
  if (!bytes) return bytes.error().with_context(token);
  tok->entries.push_back({*s, std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size())});
  return {};
}

// Reads the header, then `vocab_size` entries (or until the end when vocab_size < 0).
Expected<TokenizerFile> parse(std::span<const uint8_t> bytes, const std::string& source, int64_t vocab_size) {
  ByteReader r(bytes, source);
  TokenizerFile tok;
  ANE_ASSIGN_OR_RETURN(tok.max_token_length, r.read<uint32_t>("max_token_length"));
  const bool until_eof = vocab_size < 0;
  // Never reserve more than the file could hold.
  const uint64_t fits = r.remaining() / kMinEntryBytes;
  tok.entries.reserve(static_cast<size_t>(until_eof ? fits : std::min<uint64_t>(fits, static_cast<uint64_t>(vocab_size))));
  for (int64_t id = 0; until_eof ? r.remaining() > 0 : id < vocab_size; ++id) {
    ANE_RETURN_IF_ERROR(read_entry(r, id, &tok));
  }
  if (r.remaining() > 0) {
    tok.warnings.push_back(source + ": byte " + std::to_string(r.offset()) + ": " + std::to_string(r.remaining()) +
                           " bytes follow the " + std::to_string(vocab_size) + " tokens");
  }
  return tok;
}

Expected<TokenizerFile> read_from(const std::string& path, int64_t vocab_size) {
  ANE_ASSIGN_OR_RETURN(MappedFile f, MappedFile::open(path));
  return parse(f.bytes(), path, vocab_size);
}

}  // namespace

uint32_t TokenizerFile::longest_piece() const {
  size_t n = 0;
  for (const auto& e : entries) n = std::max(n, e.piece.size());
  return static_cast<uint32_t>(std::min<size_t>(n, std::numeric_limits<uint32_t>::max()));
}

Expected<TokenizerFile> parse_tokenizer(std::span<const uint8_t> bytes, const std::string& source,
                                        int64_t vocab_size) {
  if (vocab_size < 0) return invalid_argument("tokenizer vocab_size must not be negative, got " + std::to_string(vocab_size));
  return parse(bytes, source, vocab_size);
}

Expected<TokenizerFile> parse_tokenizer_until_eof(std::span<const uint8_t> bytes, const std::string& source) {
  return parse(bytes, source, -1);
}

Expected<TokenizerFile> read_tokenizer(const std::string& path, int64_t vocab_size) {
  if (vocab_size < 0) return invalid_argument("tokenizer vocab_size must not be negative, got " + std::to_string(vocab_size));
  return read_from(path, vocab_size);
}

Expected<TokenizerFile> read_tokenizer_until_eof(const std::string& path) { return read_from(path, -1); }

Expected<std::vector<uint8_t>> serialize_tokenizer(const TokenizerFile& tok) {
  ByteWriter out;
  out.put<uint32_t>(tok.max_token_length);
  for (size_t id = 0; id < tok.entries.size(); ++id) {
    const auto& e = tok.entries[id];
    if (e.piece.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      return invalid_argument("token " + std::to_string(id) + ": piece of " + std::to_string(e.piece.size()) +
                              " bytes does not fit an i32 length");
    }
    out.put<float>(e.score);
    out.put<int32_t>(static_cast<int32_t>(e.piece.size()));
    out.put_bytes({reinterpret_cast<const uint8_t*>(e.piece.data()), e.piece.size()});
  }
  return std::move(out).take();
}

Status write_tokenizer(const std::string& path, const TokenizerFile& tok) {
  ANE_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, serialize_tokenizer(tok));
  return write_file_atomic(path, bytes);
}

}  // namespace ane
