// The binary and text formats' readers, each with what a fuzzer asserts of it besides "no
// crash, hang, leak or undefined behaviour". Shared by the fuzz targets (<family>_fuzz, one
// per entry) and by tests/formats/mutated_input_test.cpp, which replays the seed corpora and
// deterministic corruptions of them in every CI run.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/binary_io.h"
#include "formats/blzt_checkpoint.h"
#include "formats/checkpoint.h"
#include "formats/crc32.h"
#include "formats/llama2_model.h"
#include "formats/metrics_log.h"
#include "formats/model_config.h"
#include "formats/npy.h"
#include "formats/token_shard.h"
#include "formats/tokenizer_file.h"
#include "formats/weight_blob.h"

namespace ane::fuzz {

// What a check found: whether the reader accepted the input, and what went wrong ("" when
// nothing did: the reader refused the input with an error, or accepted it and the property
// held).
struct Verdict {
  bool accepted = false;
  std::string failure;
};
using Check = Verdict (*)(std::span<const uint8_t> bytes);

// Rewrites a (mutated) input's checksums and size fields so that it gets past them to the
// parts of the reader behind them; nullptr for formats without any.
using Repair = void (*)(std::vector<uint8_t>& bytes);

struct FormatCheck {
  const char* family;  // the corpus folder fuzz/corpus/<family>/ and the fuzzer <family>_fuzz
  Check check;
  Repair repair = nullptr;
};

// A value a reader accepts is written by the matching writer to bytes the reader accepts
// again, and writing the value read back gives the same bytes: a writer and a reader that
// disagree would lose a user's data on the next save.
template <typename Parse, typename Serialize>
Verdict round_trip(std::span<const uint8_t> input, Parse parse, Serialize serialize) {
  auto first = parse(input);
  if (!first.ok()) return {};
  auto bytes = serialize(*first);
  if (!bytes.ok()) return {true, "the writer rejects what the reader accepted: " + bytes.error().to_string()};
  auto second = parse(std::span<const uint8_t>(*bytes));
  if (!second.ok()) return {true, "the written bytes do not read back: " + second.error().to_string()};
  auto again = serialize(*second);
  if (!again.ok() || *again != *bytes) return {true, "writing the value read back gives other bytes"};
  return {true, ""};
}

inline std::string_view as_text(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

inline Verdict check_llama2_model(std::span<const uint8_t> input) {  // any version, written as v1
  return round_trip(
      input, [](std::span<const uint8_t> b) { return parse_llama2_model(b, "input.bin"); },
      [](const Llama2Model& m) { return serialize_llama2_model(m, Llama2Format::kV1); });
}

inline Verdict check_tokenizer_file(std::span<const uint8_t> input) {
  return round_trip(
      input, [](std::span<const uint8_t> b) { return parse_tokenizer_until_eof(b, "input.bin"); },
      [](const TokenizerFile& t) { return serialize_tokenizer(t); });
}

inline Verdict check_blzt_checkpoint(std::span<const uint8_t> input) {
  return round_trip(
      input, [](std::span<const uint8_t> b) { return parse_blzt(b, "input.ckpt"); },
      [](const BlztCheckpoint& c) { return serialize_blzt(c); });
}

inline Verdict check_checkpoint(std::span<const uint8_t> input) {
  return round_trip(
      input, [](std::span<const uint8_t> b) { return Checkpoint::parse(b, "input.ckpt"); },
      [](const Checkpoint& c) { return c.serialize(); });
}

// OANECKPT (formats/checkpoint.h): file_size, then every tensor's data CRC, the metadata and
// table CRCs, and the header CRC, each wherever the fields it reads lie inside the bytes.
inline void repair_checkpoint(std::vector<uint8_t>& bytes) {
  if (bytes.size() < 64) return;
  const uint64_t size = bytes.size();
  ByteWriter b(std::move(bytes));
  auto field = [&](uint64_t at, auto type) {
    decltype(type) v;
    std::memcpy(&v, b.view().data() + at, sizeof v);
    return static_cast<uint64_t>(v);
  };
  auto crc_of = [&](uint64_t begin, uint64_t n) { return crc32(b.view().subspan(begin, n)); };
  const uint64_t meta = field(16, uint64_t{}), table_size = field(24, uint64_t{}), table = 64 + meta;
  [&] {  // each step needs the fields before it inside the bytes
    b.patch<uint64_t>(32, size);
    if (meta > size - 64) return;
    b.patch<uint32_t>(40, crc_of(64, meta));
    if (table_size > size - table) return;
    // Each record: u32 name_len, name, u32 dtype, u32 rank, u64 dims[rank], u64 data_offset,
    // u64 data_size, u32 data_crc.
    for (uint64_t at = table, end = table + table_size; at + 4 <= end;) {
      const uint64_t name_len = field(at, uint32_t{});
      if (name_len > end - at - 4 || end - at - 4 - name_len < 8) break;
      const uint64_t rank = field(at + 4 + name_len + 4, uint32_t{});
      if (rank > 64) break;
      const uint64_t fields = at + 4 + name_len + 8 + 8 * rank;
      if (fields > end || end - fields < 20) break;
      const uint64_t offset = field(fields, uint64_t{}), n = field(fields + 8, uint64_t{});
      if (offset <= size && n <= size - offset) b.patch<uint32_t>(fields + 16, crc_of(offset, n));
      at = fields + 20;
    }
    b.patch<uint32_t>(44, crc_of(table, table_size));
    b.patch<uint32_t>(12, 0);
    b.patch<uint32_t>(12, crc_of(0, 64));
  }();
  bytes = std::move(b).take();
}

inline Verdict check_npy(std::span<const uint8_t> input) {
  return round_trip(
      input, [](std::span<const uint8_t> b) { return parse_npy(b, "input.npy"); },
      [](const NpyArray& a) { return serialize_npy(a); });
}

inline Verdict check_model_config(std::span<const uint8_t> input) {  // written back as JSON
  return round_trip(
      input, [](std::span<const uint8_t> b) { return parse_model_config(std::string(as_text(b)), "input.json"); },
      [](const ModelConfig& c) -> Expected<std::vector<uint8_t>> {
        const std::string text = c.to_json().dump();
        return std::vector<uint8_t>(text.begin(), text.end());
      });
}

inline Verdict check_metrics_log(std::span<const uint8_t> input) {  // reading it is the test
  return {parse_metrics_log(as_text(input), "input.jsonl").ok(), ""};
}

// The tokens of an accepted shard are exactly the bytes after its header.
inline Verdict check_token_shard(std::span<const uint8_t> input) {
  // Shards are read from mapped (page-aligned) files: give the reader an aligned copy.
  std::vector<uint16_t> aligned((input.size() + 1) / 2);
  if (!input.empty()) std::memcpy(aligned.data(), input.data(), input.size());
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(aligned.data()), input.size());
  auto shard = parse_token_shard(bytes, "input.bin");
  if (!shard.ok()) return {};
  const auto* first = reinterpret_cast<const uint8_t*>(shard->tokens.data());
  if (first != bytes.data() + shard->header_bytes || shard->header_bytes + shard->tokens.size_bytes() != bytes.size()) {
    return {true, "the tokens are not the bytes after the header"};
  }
  (void)shard->validate(32000);
  return {true, ""};
}

// Every blob the whole-file reader lists, the single-blob reader (BLOBFILE(offset = N)'s)
// finds the same, and a whole fp16 or fp32 blob decodes.
inline Verdict check_weight_blob(std::span<const uint8_t> input) {
  auto blob = parse_weight_blob(input, "input.bin");
  if (!blob.ok()) return {};
  for (const BlobEntry& e : blob->entries) {
    auto one = read_blob_entry(input, e.metadata_offset, "input.bin");
    if (!one.ok()) return {true, "a listed blob does not read alone: " + one.error().to_string()};
    if (one->dtype != e.dtype || one->size != e.size || one->data_offset != e.data_offset ||
        one->data.data() != e.data.data()) {
      return {true, "the two readers disagree on the blob at " + std::to_string(e.metadata_offset)};
    }
    if (e.dtype != BlobDType::kFp16 && e.dtype != BlobDType::kFp32) continue;
    const uint64_t item = static_cast<uint64_t>(blob_dtype_bits(e.dtype)) / 8;
    if (e.size % item != 0) continue;
    if (auto values = blob->floats_at(e.metadata_offset, e.size / item); !values.ok()) {
      return {true, "a whole " + std::string(blob_dtype_name(e.dtype)) + " blob does not decode: " +
                        values.error().to_string()};
    }
  }
  return {true, ""};
}

inline std::span<const FormatCheck> format_checks() {
  static const FormatCheck kChecks[] = {
      {"llama2", check_llama2_model},
      {"tokenizer", check_tokenizer_file},
      {"blzt", check_blzt_checkpoint},
      {"checkpoint", check_checkpoint, repair_checkpoint},
      {"npy", check_npy},
      {"model", check_model_config},
      {"metrics", check_metrics_log},
      {"token", check_token_shard},
      {"weight", check_weight_blob},
  };
  return kChecks;
}

}  // namespace ane::fuzz
