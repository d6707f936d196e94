#include "formats/weight_blob.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace ane {
namespace {

struct DTypeInfo {
  const char* name;
  int bits;
};

// Indexed by dtype code; code 0 is unused.
constexpr std::array<DTypeInfo, 18> kDTypes = {{
    {"unknown", 0}, {"fp16", 16}, {"fp32", 32}, {"uint8", 8}, {"int8", 8}, {"bf16", 16},
    {"int16", 16}, {"uint16", 16}, {"int4", 4}, {"uint1", 1}, {"uint2", 2}, {"uint4", 4},
    {"uint3", 3}, {"uint6", 6}, {"int32", 32}, {"uint32", 32}, {"fp8e4m3", 8}, {"fp8e5m2", 8},
}};
static_assert(kDTypes.size() == static_cast<size_t>(BlobDType::kFp8E5M2) + 1, "one row per dtype code");

// Field offsets inside a metadata record.
constexpr uint64_t kSentinelField = 0;
constexpr uint64_t kDTypeField = 4;
constexpr uint64_t kSizeField = 8;
constexpr uint64_t kOffsetField = 16;
constexpr uint64_t kPaddingField = 24;

template <typename T>
T load(std::span<const uint8_t> bytes, uint64_t at) {
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof(T));
  return v;
}

// Parses and validates the metadata record at `pos`; the file must be at least pos + 64 long
// (checked by the caller through ByteReader::take).
Expected<BlobEntry> parse_record(const ByteReader& r, uint64_t pos) {
  const auto bytes = r.all();
  const uint64_t file_size = bytes.size();
  const std::string at = "blob metadata record at offset " + std::to_string(pos) + ": ";

  const uint32_t sentinel = load<uint32_t>(bytes, pos + kSentinelField);
  if (sentinel != kBlobSentinel) {
    return r.error_at(pos, at + "bad sentinel " + hex32(sentinel) + " (expected " + hex32(kBlobSentinel) + ")");
  }
  const uint32_t code = load<uint32_t>(bytes, pos + kDTypeField);
  if (!blob_dtype_known(code)) return r.error_at(pos + kDTypeField, at + "unknown dtype code " + std::to_string(code));

  BlobEntry e;
  e.metadata_offset = pos;
  e.dtype = static_cast<BlobDType>(code);
  e.size = load<uint64_t>(bytes, pos + kSizeField);
  e.data_offset = load<uint64_t>(bytes, pos + kOffsetField);
  e.padding_bits = load<uint64_t>(bytes, pos + kPaddingField);

  if (e.data_offset % kBlobAlignment != 0) {
    return r.error_at(pos + kOffsetField, at + "data offset " + std::to_string(e.data_offset) +
                                              " is not 64-byte aligned");
  }
  if (e.data_offset < pos + kBlobRecordSize) {
    return r.error_at(pos + kOffsetField, at + "data offset " + std::to_string(e.data_offset) +
                                              " overlaps or precedes its own metadata record");
  }
  if (e.data_offset > file_size) {
    return r.error_at(pos + kOffsetField, at + "data offset " + std::to_string(e.data_offset) +
                                              " is past the end of the file (" + std::to_string(file_size) +
                                              " bytes)");
  }
  if (e.size > file_size - e.data_offset) {  // overflow-safe form of data_offset + size > file_size
    return r.error_at(pos + kSizeField, at + "blob of " + std::to_string(e.size) + " bytes at data offset " +
                                            std::to_string(e.data_offset) + " runs past the end of the file (" +
                                            std::to_string(file_size) + " bytes)");
  }
  const int bits = blob_dtype_bits(e.dtype);
  if (bits >= 8 && e.size % static_cast<uint64_t>(bits / 8) != 0) {
    return r.error_at(pos + kSizeField, at + "size " + std::to_string(e.size) + " is not a whole number of " +
                                            blob_dtype_name(e.dtype) + " elements");
  }
  const bool sub_byte = bits < 8;
  if ((sub_byte && e.padding_bits >= 8) || (!sub_byte && e.padding_bits != 0) ||
      (e.padding_bits > 0 && e.size == 0)) {
    return r.error_at(pos + kPaddingField, at + "padding of " + std::to_string(e.padding_bits) +
                                               " bits is invalid for " + blob_dtype_name(e.dtype) + " data of " +
                                               std::to_string(e.size) + " bytes");
  }
  e.data = bytes.subspan(static_cast<size_t>(e.data_offset), static_cast<size_t>(e.size));
  return e;
}

bool sentinel_at(std::span<const uint8_t> bytes, uint64_t pos) {
  return bytes.size() - pos >= 4 && load<uint32_t>(bytes, pos) == kBlobSentinel;
}

}  // namespace

bool blob_dtype_known(uint32_t code) { return code >= 1 && code < kDTypes.size(); }

const char* blob_dtype_name(BlobDType dtype) {
  const auto code = static_cast<uint32_t>(dtype);
  return blob_dtype_known(code) ? kDTypes[code].name : "unknown";
}

int blob_dtype_bits(BlobDType dtype) {
  const auto code = static_cast<uint32_t>(dtype);
  return blob_dtype_known(code) ? kDTypes[code].bits : 0;
}

namespace {

// Checks the 64-byte file header (present, version 2).
Status check_file_header(ByteReader& r) {
  ANE_RETURN_IF_ERROR(r.take(kBlobHeaderSize, "file header").status());
  const uint32_t version = load<uint32_t>(r.all(), 4);
  if (version != kBlobVersion) {
    return r.error_at(4, "unsupported weight blob version " + std::to_string(version) + " (expected " +
                             std::to_string(kBlobVersion) + ")");
  }
  return {};
}

}  // namespace

Expected<BlobEntry> read_blob_entry(std::span<const uint8_t> bytes, uint64_t metadata_offset, std::string source) {
  ByteReader r(bytes, std::move(source));
  ANE_RETURN_IF_ERROR(check_file_header(r));
  if (metadata_offset < kBlobHeaderSize) {
    return r.error_at(metadata_offset, "blob metadata record at offset " + std::to_string(metadata_offset) +
                                           " overlaps the 64-byte file header");
  }
  ANE_RETURN_IF_ERROR(r.seek(metadata_offset, "blob metadata record"));
  ANE_RETURN_IF_ERROR(r.take(kBlobRecordSize, "blob metadata record").status());
  return parse_record(r, metadata_offset);
}

Expected<WeightBlob> parse_weight_blob(std::span<const uint8_t> bytes, std::string source) {
  ByteReader r(bytes, source);
  WeightBlob blob;
  blob.source = std::move(source);
  ANE_RETURN_IF_ERROR(check_file_header(r));
  blob.count = load<uint32_t>(bytes, 0);
  blob.version = kBlobVersion;
  blob.entries.reserve(std::min<uint64_t>(blob.count, bytes.size() / (2 * kBlobRecordSize)));

  uint64_t pos = kBlobHeaderSize;
  while (pos < bytes.size()) {
    // Past the declared count, keep going only while records follow (the original's
    // multi-chunk files declare one blob); anything else is trailing padding.
    if (blob.entries.size() >= blob.count && !sentinel_at(bytes, pos)) break;
    ANE_RETURN_IF_ERROR(r.seek(pos, "blob metadata record"));
    ANE_RETURN_IF_ERROR(r.take(kBlobRecordSize, "blob metadata record").status());
    ANE_ASSIGN_OR_RETURN(BlobEntry e, parse_record(r, pos));
    // data_offset + size <= file size, so neither the sum nor its alignment can overflow.
    pos = (e.data_offset + e.size + kBlobAlignment - 1) / kBlobAlignment * kBlobAlignment;
    blob.entries.push_back(e);
  }
  if (blob.entries.size() < blob.count) {
    return r.error_at(std::min<uint64_t>(pos, bytes.size()),
                      "header declares " + std::to_string(blob.count) + " blobs but the file holds " +
                          std::to_string(blob.entries.size()) + " (file is " + std::to_string(bytes.size()) +
                          " bytes)");
  }
  return blob;
}

Expected<BlobEntry> WeightBlob::entry_at(uint64_t metadata_offset) const {
  auto it = std::lower_bound(entries.begin(), entries.end(), metadata_offset,
                             [](const BlobEntry& e, uint64_t off) { return e.metadata_offset < off; });
  if (it != entries.end() && it->metadata_offset == metadata_offset) return *it;
  std::string known;
  for (size_t i = 0; i < entries.size() && i < 8; ++i) known += (i ? ", " : "") + std::to_string(entries[i].metadata_offset);
  if (entries.size() > 8) known += ", ...";
  return Error(ErrorCode::kOutOfRange,
               "no blob metadata record starts at offset " + std::to_string(metadata_offset) +
                   (known.empty() ? " (the file holds no blobs)" : " (records start at " + known + ")"),
               Location::bytes(source, static_cast<int64_t>(metadata_offset)));
}

Expected<std::vector<float>> WeightBlob::floats_at(uint64_t metadata_offset, uint64_t expected_elements) const {
  ANE_ASSIGN_OR_RETURN(BlobEntry e, entry_at(metadata_offset));
  const Location where = Location::bytes(source, static_cast<int64_t>(metadata_offset));
  if (e.dtype != BlobDType::kFp16 && e.dtype != BlobDType::kFp32) {
    return parse_error(std::string("blob dtype ") + blob_dtype_name(e.dtype) + " cannot be read as floats", where);
  }
  const uint64_t elem = e.dtype == BlobDType::kFp16 ? 2 : 4;
  if (e.size / elem != expected_elements) {
    return parse_error(std::string(blob_dtype_name(e.dtype)) + " blob holds " + std::to_string(e.size / elem) +
                           " elements, expected " + std::to_string(expected_elements),
                       where);
  }
  std::vector<float> out(static_cast<size_t>(expected_elements));
  if (e.dtype == BlobDType::kFp32) {
    if (e.size > 0) std::memcpy(out.data(), e.data.data(), e.data.size());
  } else {
    std::vector<half_bits> halves(out.size());
    if (e.size > 0) std::memcpy(halves.data(), e.data.data(), e.data.size());
    halves_to_floats(out.data(), halves.data(), out.size());
  }
  return out;
}

Expected<WeightBlobFile> WeightBlobFile::open(const std::string& path) {
  WeightBlobFile f;
  ANE_ASSIGN_OR_RETURN(f.file_, MappedFile::open(path));
  // The mapping's address survives moves of MappedFile, so the entries' views stay valid.
  ANE_ASSIGN_OR_RETURN(f.blob_, parse_weight_blob(f.file_.bytes(), path));
  return f;
}

BlobWriter::BlobWriter() : out_(std::vector<uint8_t>(kBlobHeaderSize, 0)) {
  out_.patch<uint32_t>(4, kBlobVersion);  // the count at 0 is patched by add()
}

std::pair<uint64_t, std::span<uint8_t>> BlobWriter::add_space(BlobDType dtype, size_t bytes, uint64_t padding_bits) {
  const uint64_t pos = (out_.size() + kBlobAlignment - 1) / kBlobAlignment * kBlobAlignment;
  out_.pad_to(pos);
  out_.put<uint32_t>(kBlobSentinel);
  out_.put<uint32_t>(static_cast<uint32_t>(dtype));
  out_.put<uint64_t>(bytes);
  out_.put<uint64_t>(pos + kBlobRecordSize);
  out_.put<uint64_t>(padding_bits);
  out_.pad_to(pos + kBlobRecordSize);
  out_.patch<uint32_t>(0, ++count_);
  return {pos, out_.extend(bytes)};
}

uint64_t BlobWriter::add(BlobDType dtype, std::span<const uint8_t> data, uint64_t padding_bits) {
  const auto [pos, space] = add_space(dtype, data.size(), padding_bits);
  if (!data.empty()) std::memcpy(space.data(), data.data(), data.size());
  return pos;
}

uint64_t BlobWriter::add_fp16(std::span<const half_bits> halves) {
  return add(BlobDType::kFp16, {reinterpret_cast<const uint8_t*>(halves.data()), halves.size_bytes()});
}

std::pair<uint64_t, std::span<half_bits>> BlobWriter::add_fp16_space(size_t count) {
  const auto [pos, space] = add_space(BlobDType::kFp16, count * sizeof(half_bits));
  return {pos, {reinterpret_cast<half_bits*>(space.data()), count}};
}

size_t BlobWriter::fp16_bytes(size_t count) { return kBlobAlignment + kBlobRecordSize + count * sizeof(half_bits); }

Status BlobWriter::write(const std::string& path) const { return write_file_atomic(path, out_.view()); }

namespace {

// Checks that a matrix's buffer holds rows * cols values.
Status check_matrix(const MatrixF32& m, const char* what) {
  uint64_t n = 0;
  if (m.rows <= 0 || m.cols <= 0 ||
      !checked_mul(static_cast<uint64_t>(m.rows), static_cast<uint64_t>(m.cols), &n) || n != m.data.size()) {
    return invalid_argument(std::string(what) + ": expected [" + std::to_string(m.rows) + ", " +
                            std::to_string(m.cols) + "] positive dimensions matching " +
                            std::to_string(m.data.size()) + " values");
  }
  return {};
}

std::vector<half_bits> to_halves(std::span<const float> w) {
  std::vector<half_bits> h(w.size());
  floats_to_halves(h.data(), w.data(), w.size());
  return h;
}

}  // namespace

Expected<std::vector<uint8_t>> build_blob(std::span<const float> w, int64_t rows, int64_t cols) {
  ANE_RETURN_IF_ERROR(check_matrix({w, rows, cols}, "build_blob"));
  return build_blob_fp16(to_halves(w));
}

Expected<std::vector<uint8_t>> build_blob_transposed(std::span<const float> w, int64_t rows, int64_t cols) {
  ANE_RETURN_IF_ERROR(check_matrix({w, rows, cols}, "build_blob_transposed"));
  const auto r = static_cast<size_t>(rows), c = static_cast<size_t>(cols);
  std::vector<float> t(w.size());  // [cols, rows]
  for (size_t i = 0; i < r; ++i)
    for (size_t j = 0; j < c; ++j) t[j * r + i] = w[i * c + j];
  return build_blob_fp16(to_halves(t));
}

std::vector<uint8_t> build_blob_fp16(std::span<const half_bits> halves) {
  BlobWriter w;
  w.add_fp16(halves);
  return std::move(w).finish();
}

Expected<MultiBlob> build_multi_blob(std::span<const MatrixF32> chunks) {
  BlobWriter w;
  MultiBlob out;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const std::string what = "build_multi_blob chunk " + std::to_string(i);
    ANE_RETURN_IF_ERROR(check_matrix(chunks[i], what.c_str()));
    out.offsets.push_back(w.add_fp16(to_halves(chunks[i].data)));
  }
  out.bytes = std::move(w).finish();
  return out;
}

Expected<MultiBlob> build_qkv_blob(std::span<const float> wq, std::span<const float> wk, std::span<const float> wv,
                                   int64_t q_dim, int64_t kv_dim, int64_t dim) {
  const std::array<MatrixF32, 3> chunks = {{{wq, q_dim, dim}, {wk, kv_dim, dim}, {wv, kv_dim, dim}}};
  return build_multi_blob(chunks);
}

Expected<MultiBlob> build_ffn_up_blob(std::span<const float> w1, std::span<const float> w3, int64_t hidden,
                                      int64_t dim) {
  const std::array<MatrixF32, 2> chunks = {{{w1, hidden, dim}, {w3, hidden, dim}}};
  return build_multi_blob(chunks);
}

Expected<std::vector<int8_t>> quantize_int8(std::span<const float> x, float scale, int zero_point) {
  if (!std::isfinite(scale) || scale <= 0.0f) {
    return invalid_argument("quantize_int8: scale must be finite and positive, got " + std::to_string(scale));
  }
  if (zero_point < -128 || zero_point > 127) {
    return invalid_argument("quantize_int8: zero point " + std::to_string(zero_point) + " is outside [-128, 127]");
  }
  std::vector<int8_t> q(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i])) return invalid_argument("quantize_int8: value " + std::to_string(i) + " is NaN");
    // Divide in fp32 as MIL does, round half to even (the IEEE default mode), then clamp in
    // double so that huge values and infinities saturate instead of overflowing the cast.
    const double v = static_cast<double>(std::nearbyint(x[i] / scale)) + zero_point;
    q[i] = static_cast<int8_t>(std::clamp(v, -128.0, 127.0));
  }
  return q;
}

std::vector<uint8_t> build_blob_int8(std::span<const int8_t> values) {
  BlobWriter w;
  w.add(BlobDType::kInt8, {reinterpret_cast<const uint8_t*>(values.data()), values.size()});
  return std::move(w).finish();
}

Expected<std::vector<uint8_t>> build_blob_int8_quantized(std::span<const float> x, float scale, int zero_point) {
  ANE_ASSIGN_OR_RETURN(std::vector<int8_t> q, quantize_int8(x, scale, zero_point));
  return build_blob_int8(q);
}

}  // namespace ane
