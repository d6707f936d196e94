#include "formats/token_shard.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "core/byte_reader.h"
#include "formats/binary_io.h"

namespace ane {
namespace {

// Every shard holds its tokens as uint16 values starting at `header_bytes`.
Expected<TokenShardView> make_view(std::span<const uint8_t> bytes, std::string source, ShardFormat format,
                                   size_t header_bytes) {
  ByteReader r(bytes, source);
  const uint64_t token_bytes = bytes.size() - header_bytes;
  if (token_bytes % 2 != 0) {
    return r.error_at(bytes.size() - 1, "odd number of token bytes (" + std::to_string(token_bytes) +
                                            "): a shard holds uint16 tokens");
  }
  const uint8_t* first = bytes.data() + header_bytes;
  if (reinterpret_cast<uintptr_t>(first) % alignof(uint16_t) != 0) {
    return invalid_argument("token shard bytes are not 2-byte aligned", Location::bytes(source, 0));
  }
  TokenShardView v;
  v.source = std::move(source);
  v.format = format;
  v.header_bytes = header_bytes;
  // The bytes are 2-aligned and hold nothing but tokens; a file mapping has no other object.
  v.tokens = {reinterpret_cast<const uint16_t*>(first), static_cast<size_t>(token_bytes / 2)};
  return v;
}

}  // namespace

Status TokenShardView::validate(int64_t vocab_size) const {
  auto bad = std::find_if(tokens.begin(), tokens.end(), [&](uint16_t t) { return t >= vocab_size; });
  if (bad == tokens.end()) return {};
  const auto index = static_cast<uint64_t>(bad - tokens.begin());
  return Error(ErrorCode::kOutOfRange,
               "token " + std::to_string(index) + " is id " + std::to_string(*bad) + ", out of range for vocab_size " +
                   std::to_string(vocab_size),
               Location::bytes(source, static_cast<int64_t>(header_bytes + 2 * index)));
}

Expected<TokenShardView> parse_token_shard(std::span<const uint8_t> bytes, std::string source) {
  ByteReader r(bytes, source);
  int32_t magic = 0;
  if (bytes.size() >= 4) std::memcpy(&magic, bytes.data(), 4);
  if (magic != kLlmcShardMagic) return make_view(bytes, std::move(source), ShardFormat::kRawU16, 0);

  ANE_ASSIGN_OR_RETURN(std::span<const uint8_t> header, r.take(kLlmcHeaderBytes, "llm.c shard header"));
  int32_t fields[3];
  std::memcpy(fields, header.data(), sizeof fields);
  if (fields[1] != kLlmcShardVersion) {
    return r.error_at(4, "unsupported llm.c shard version " + std::to_string(fields[1]) + " (expected " +
                             std::to_string(kLlmcShardVersion) + ": uint16 tokens)");
  }
  const uint64_t have = (bytes.size() - kLlmcHeaderBytes) / 2;
  if (fields[2] < 0 || static_cast<uint64_t>(fields[2]) != have || (bytes.size() - kLlmcHeaderBytes) % 2 != 0) {
    return r.error_at(8, "llm.c shard header says " + std::to_string(fields[2]) + " tokens, the file holds " +
                             std::to_string(bytes.size() - kLlmcHeaderBytes) + " token bytes (file is " +
                             std::to_string(bytes.size()) + " bytes)");
  }
  return make_view(bytes, std::move(source), ShardFormat::kLlmc, kLlmcHeaderBytes);
}

Expected<TokenShard> TokenShard::open(const std::string& path) {
  TokenShard s;
  ANE_ASSIGN_OR_RETURN(s.file_, MappedFile::open(path));
  // The mapping's address survives moves of MappedFile, so the view stays valid.
  ANE_ASSIGN_OR_RETURN(s.view_, parse_token_shard(s.file_.bytes(), path));
  return s;
}

std::vector<uint8_t> serialize_token_shard(std::span<const uint16_t> tokens, ShardFormat format) {
  ByteWriter out(tokens.size_bytes() + kLlmcHeaderBytes);
  if (format == ShardFormat::kLlmc) {
    out.put<int32_t>(kLlmcShardMagic);
    out.put<int32_t>(kLlmcShardVersion);
    out.put<int32_t>(static_cast<int32_t>(tokens.size()));
    out.pad_to(kLlmcHeaderBytes);
  }
  out.put_array(tokens);
  return std::move(out).take();
}

Status write_token_shard(const std::string& path, std::span<const uint16_t> tokens, ShardFormat format) {
  if (format == ShardFormat::kLlmc && tokens.size() > static_cast<size_t>(INT32_MAX)) {
    return invalid_argument("an llm.c shard holds at most 2^31 - 1 tokens, got " + std::to_string(tokens.size()));
  }
  return write_file_atomic(path, serialize_token_shard(tokens, format));
}

Expected<std::vector<std::string>> list_token_shards(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return io_error("cannot list data directory: " + ec.message(), Location{dir});
  std::vector<std::string> out;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return io_error("cannot list data directory: " + ec.message(), Location{dir});
    std::error_code type_ec;
    if (it->path().extension() == ".bin" && it->is_regular_file(type_ec)) out.push_back(it->path().string());
  }
  if (ec) return io_error("cannot list data directory: " + ec.message(), Location{dir});
  if (out.empty()) return io_error("no token shards (*.bin) in the data directory", Location{dir});
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ane
