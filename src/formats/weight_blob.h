// MIL weight storage ("MILBlob" version 2): the weights/*.bin files that MIL programs name
// with BLOBFILE(path = ..., offset = N).
//
// Layout (little-endian):
//   [0, 64)   file header: u32 count, u32 version (= 2), zeros
//   per blob  a 64-byte metadata record at a 64-aligned offset: u32 sentinel 0xDEADBEEF,
//             u32 dtype code, u64 size in bytes, u64 absolute data offset (64-aligned),
//             u64 padding in bits (sub-byte types), zeros; the data follows at its offset,
//             and the next record starts at the next 64-aligned offset after the data.
// BLOBFILE's offset names a blob's metadata record, not its data.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/file.h"
#include "core/fp16.h"
#include "core/status.h"
#include "formats/binary_io.h"

namespace ane {

// Element types and their on-disk codes.
enum class BlobDType : uint32_t {
  kFp16 = 1, kFp32 = 2, kUint8 = 3, kInt8 = 4, kBf16 = 5, kInt16 = 6, kUint16 = 7, kInt4 = 8,
  kUint1 = 9, kUint2 = 10, kUint4 = 11, kUint3 = 12, kUint6 = 13, kInt32 = 14, kUint32 = 15,
  kFp8E4M3 = 16, kFp8E5M2 = 17,
};

// True for the codes listed above.
bool blob_dtype_known(uint32_t code);
// "fp16", "int4", ...; "unknown" for other codes.
const char* blob_dtype_name(BlobDType dtype);
// Bits per element: 16 for fp16, 4 for int4, ...; 0 for unknown codes.
int blob_dtype_bits(BlobDType dtype);

inline constexpr uint32_t kBlobSentinel = 0xDEADBEEF;
inline constexpr uint32_t kBlobVersion = 2;
inline constexpr uint64_t kBlobAlignment = 64;
inline constexpr uint64_t kBlobHeaderSize = 64;
inline constexpr uint64_t kBlobRecordSize = 64;

// One blob as found in a file. `data` views the bytes that were parsed.
struct BlobEntry {
  uint64_t metadata_offset = 0;  // where its 64-byte record starts (BLOBFILE's offset)
  BlobDType dtype = BlobDType::kFp16;
  uint64_t size = 0;             // data bytes
  uint64_t data_offset = 0;      // absolute, 64-aligned
  uint64_t padding_bits = 0;     // unused bits at the end of sub-byte data
  std::span<const uint8_t> data;  // [size] bytes
};

// A parsed weight file: a view of bytes owned by the caller (or by WeightBlobFile).
struct WeightBlob {
  std::string source;              // file name used in errors
  uint32_t count = 0;              // the header's blob count (the original writes 1 in multi-chunk files)
  uint32_t version = 0;            // always kBlobVersion after a successful parse
  std::vector<BlobEntry> entries;  // in file order, ascending metadata_offset

  // The blob whose metadata record starts at `metadata_offset` (what BLOBFILE(offset=N) means);
  // an out-of-range error located at that offset when no record starts there.
  Expected<BlobEntry> entry_at(uint64_t metadata_offset) const;

  // The blob at `metadata_offset` decoded to floats. It must be fp16 or fp32 and hold exactly
  // `expected_elements` values (the MIL const's shape).
  Expected<std::vector<float>> floats_at(uint64_t metadata_offset, uint64_t expected_elements) const;
};

// Parses and validates a whole weight file: version, sentinels, dtype codes, alignment, and
// every offset and size within the file (overflow-safe). Records are found by walking from
// offset 64; when the header count is smaller than the number of records found (the
// original's multi-chunk files say 1), the walk continues while sentinels follow. Trailing
// bytes after the last declared blob that do not start with a sentinel are ignored.
Expected<WeightBlob> parse_weight_blob(std::span<const uint8_t> bytes, std::string source);

// Reads just the blob whose metadata record starts at `metadata_offset` (BLOBFILE's offset),
// validating the file header, the record and the data's bounds, without walking the file.
Expected<BlobEntry> read_blob_entry(std::span<const uint8_t> bytes, uint64_t metadata_offset, std::string source);

// A weight file mapped read-only and parsed; entries view the mapping. Move-only.
class WeightBlobFile {
 public:
  static Expected<WeightBlobFile> open(const std::string& path);

  const WeightBlob& blob() const { return blob_; }
  Expected<BlobEntry> entry_at(uint64_t metadata_offset) const { return blob_.entry_at(metadata_offset); }

 private:
  MappedFile file_;
  WeightBlob blob_;
};

// Builds a weight file blob by blob. Each record goes at the next 64-aligned offset, its data
// right after it (so one fp16 blob gives the original's layout: record at 64, data at 128).
class BlobWriter {
 public:
  BlobWriter();

  // Appends a blob; returns the offset of its metadata record (for BLOBFILE).
  uint64_t add(BlobDType dtype, std::span<const uint8_t> data, uint64_t padding_bits = 0);
  uint64_t add_fp16(std::span<const half_bits> halves);
  // Appends an fp16 blob of `count` values whose data the caller writes into the returned
  // span (valid until the next add): a weight converted straight into the file, no copy.
  std::pair<uint64_t, std::span<half_bits>> add_fp16_space(size_t count);
  // At most the bytes an fp16 blob of `count` values adds (alignment included), for reserve().
  static size_t fp16_bytes(size_t count);
  // Makes room for `bytes` more, so that adding blobs does not move the ones before.
  void reserve(size_t bytes) { out_.reserve(out_.size() + bytes); }

  uint32_t count() const { return count_; }
  // The file so far (header count included).
  std::span<const uint8_t> bytes() const { return out_.view(); }
  std::vector<uint8_t> finish() && { return std::move(out_).take(); }
  // Writes the file atomically (temp file, fsync, rename).
  Status write(const std::string& path) const;

 private:
  std::pair<uint64_t, std::span<uint8_t>> add_space(BlobDType dtype, size_t bytes, uint64_t padding_bits = 0);
  ByteWriter out_;
  uint32_t count_ = 0;
};

// ---- The original's builders (fp16 weights, one file per kernel) ----

// A row-major fp32 matrix: data is [rows, cols].
struct MatrixF32 {
  std::span<const float> data;
  int64_t rows = 0;
  int64_t cols = 0;
};

// A multi-blob file and the metadata offset of each chunk, in the order given.
struct MultiBlob {
  std::vector<uint8_t> bytes;
  std::vector<uint64_t> offsets;
};

// One fp16 blob of w ([rows, cols] row-major fp32), stored [rows, cols]. Record at 64, data at 128.
Expected<std::vector<uint8_t>> build_blob(std::span<const float> w, int64_t rows, int64_t cols);
// One fp16 blob of the transpose of w ([rows, cols] row-major fp32): stored [cols, rows].
Expected<std::vector<uint8_t>> build_blob_transposed(std::span<const float> w, int64_t rows, int64_t cols);
// One fp16 blob of raw half values, stored as given.
std::vector<uint8_t> build_blob_fp16(std::span<const half_bits> halves);

// Several fp16 blobs in one file, one per matrix, each stored [rows, cols].
Expected<MultiBlob> build_multi_blob(std::span<const MatrixF32> chunks);
// Fused QKV: wq [q_dim, dim], wk [kv_dim, dim], wv [kv_dim, dim] (GQA: kv_dim <= q_dim).
Expected<MultiBlob> build_qkv_blob(std::span<const float> wq, std::span<const float> wk,
                                   std::span<const float> wv, int64_t q_dim, int64_t kv_dim, int64_t dim);
// Fused FFN up-projection: w1 [hidden, dim], w3 [hidden, dim].
Expected<MultiBlob> build_ffn_up_blob(std::span<const float> w1, std::span<const float> w3, int64_t hidden,
                                      int64_t dim);

// ---- int8 ----

// q = clamp(round(x / scale) + zero_point, -128, 127), rounding half to even. scale must be
// finite and positive, zero_point in [-128, 127], x free of NaN.
Expected<std::vector<int8_t>> quantize_int8(std::span<const float> x, float scale, int zero_point);
// One int8 blob of raw values.
std::vector<uint8_t> build_blob_int8(std::span<const int8_t> values);
// One int8 blob of quantize_int8(x, scale, zero_point).
Expected<std::vector<uint8_t>> build_blob_int8_quantized(std::span<const float> x, float scale, int zero_point);

}  // namespace ane
