// MILBlob v2 weight files: golden bytes written here from the layout (not by the writer),
// round trips, and every validation rule with its byte offset.
#include "formats/weight_blob.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/file.h"
#include "test_util.h"

namespace ane {
namespace {

using test::append;
using test::Bytes;
using test::fails_at;
using test::put;

// A metadata record placed by hand: sentinel, dtype, size, data offset, padding bits.
void put_record(Bytes& b, size_t at, uint32_t dtype, uint64_t size, uint64_t data_offset, uint64_t padding = 0) {
  put<uint32_t>(b, at, 0xDEADBEEF);
  put<uint32_t>(b, at + 4, dtype);
  put<uint64_t>(b, at + 8, size);
  put<uint64_t>(b, at + 16, data_offset);
  put<uint64_t>(b, at + 24, padding);
  if (b.size() < at + 64) b.resize(at + 64, 0);
}

// The original's single-weight file for a [2, 2] fp16 matrix (1, 2, -0.5, 65504), byte by byte.
Bytes golden_single() {
  Bytes b(136, 0);
  b[0] = 0x01;                                   // count
  b[4] = 0x02;                                   // version
  b[64] = 0xEF, b[65] = 0xBE, b[66] = 0xAD, b[67] = 0xDE;  // sentinel
  b[68] = 0x01;                                  // dtype fp16
  b[72] = 8;                                     // size, u32 as the original writes it
  b[80] = 128;                                   // data offset, u32
  const uint8_t data[8] = {0x00, 0x3C, 0x00, 0x40, 0x00, 0xB8, 0xFF, 0x7B};
  std::memcpy(b.data() + 128, data, 8);
  return b;
}

TEST(WeightBlob, BuildBlobMatchesOriginalLayout) {
  const std::vector<float> w = {1.0f, 2.0f, -0.5f, 65504.0f};
  auto built = build_blob(w, 2, 2);
  ASSERT_TRUE(built.ok()) << built.error().to_string();
  EXPECT_EQ(*built, golden_single());
}

TEST(WeightBlob, ParsesGoldenSingle) {
  const Bytes b = golden_single();
  auto blob = parse_weight_blob(b, "w.bin");
  ASSERT_TRUE(blob.ok()) << blob.error().to_string();
  EXPECT_EQ(blob->count, 1u);
  EXPECT_EQ(blob->version, 2u);
  ASSERT_EQ(blob->entries.size(), 1u);
  const BlobEntry& e = blob->entries[0];
  EXPECT_EQ(e.metadata_offset, 64u);
  EXPECT_EQ(e.dtype, BlobDType::kFp16);
  EXPECT_EQ(e.size, 8u);
  EXPECT_EQ(e.data_offset, 128u);
  EXPECT_EQ(e.data.data(), b.data() + 128);
  auto f = blob->floats_at(64, 4);
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(*f, (std::vector<float>{1.0f, 2.0f, -0.5f, 65504.0f}));
}

TEST(WeightBlob, TransposedStoresColumnsFirst) {
  // w = [[1, 2, 3], [4, 5, 6]] stored as [[1, 4], [2, 5], [3, 6]].
  const std::vector<float> w = {1, 2, 3, 4, 5, 6};
  auto built = build_blob_transposed(w, 2, 3);
  ASSERT_TRUE(built.ok());
  const uint16_t expect[6] = {0x3C00, 0x4400, 0x4000, 0x4500, 0x4200, 0x4600};  // 1 4 2 5 3 6
  ASSERT_EQ(built->size(), 128u + 12u);
  EXPECT_EQ(std::memcmp(built->data() + 128, expect, 12), 0);
  EXPECT_EQ((*built)[72], 12);
}

TEST(WeightBlob, Fp16RawBlobKeepsBits) {
  const std::vector<half_bits> h = {0x7C00, 0xFC00, 0x0001, 0x7E00};  // inf, -inf, subnormal, NaN
  const Bytes b = build_blob_fp16(h);
  Bytes expect = golden_single();
  std::memcpy(expect.data() + 128, h.data(), 8);
  EXPECT_EQ(b, expect);
}

// A blob written in place (the caller converts straight into the file) is byte for byte the
// copied one, and reserving enough keeps earlier blobs where they are.
TEST(WeightBlob, BlobsWrittenInPlaceAreTheCopiedOnes) {
  const std::vector<half_bits> a = {0x3C00, 0x4000, 0xC000}, b = {0x7C00, 0x0001, 0x7E00, 0x8000, 0x3555};
  BlobWriter copied;
  const uint64_t ca = copied.add_fp16(a), cb = copied.add_fp16(b);
  BlobWriter in_place;
  in_place.reserve(BlobWriter::fp16_bytes(a.size()) + BlobWriter::fp16_bytes(b.size()));
  const auto [pa, sa] = in_place.add_fp16_space(a.size());
  std::copy(a.begin(), a.end(), sa.begin());
  const uint8_t* first = in_place.bytes().data();
  const auto [pb, sb] = in_place.add_fp16_space(b.size());
  std::copy(b.begin(), b.end(), sb.begin());
  EXPECT_EQ(in_place.bytes().data(), first) << "reserve() left room for both";
  EXPECT_EQ(pa, ca);
  EXPECT_EQ(pb, cb);
  EXPECT_EQ(std::move(in_place).finish(), std::move(copied).finish());
}

// Fused QKV with GQA: wq [4, 3], wk [2, 3], wv [2, 3]. Records at 64, 192, 320 (each data
// right after its record, the next record at the next 64-aligned offset).
TEST(WeightBlob, QkvGoldenLayoutWithGqa) {
  const std::vector<float> wq = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const std::vector<float> wk = {-1, -2, -3, -4, -5, -6};
  const std::vector<float> wv = {0.5f, 0.25f, 0.125f, 1, 2, 4};
  auto built = build_qkv_blob(wq, wk, wv, 4, 2, 3);
  ASSERT_TRUE(built.ok()) << built.error().to_string();
  EXPECT_EQ(built->offsets, (std::vector<uint64_t>{64, 192, 320}));

  Bytes expect;
  put<uint32_t>(expect, 0, 3);
  put<uint32_t>(expect, 4, 2);
  put_record(expect, 64, 1, 24, 128);
  put_record(expect, 192, 1, 12, 256);
  put_record(expect, 320, 1, 12, 384);
  auto put_halves = [&](size_t at, const std::vector<float>& v) {
    for (size_t i = 0; i < v.size(); ++i) put<uint16_t>(expect, at + 2 * i, float_to_half_ref(v[i]));
  };
  put_halves(128, wq);
  put_halves(256, wk);
  put_halves(384, wv);
  EXPECT_EQ(built->bytes, expect);

  auto blob = parse_weight_blob(built->bytes, "qkv.bin");
  ASSERT_TRUE(blob.ok()) << blob.error().to_string();
  auto k = blob->floats_at(192, 6);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, wk);
}

TEST(WeightBlob, FfnUpHoldsTwoChunks) {
  const auto w1 = test::random_floats(4 * 3, 1), w3 = test::random_floats(4 * 3, 2);
  auto built = build_ffn_up_blob(w1, w3, 4, 3);
  ASSERT_TRUE(built.ok());
  ASSERT_EQ(built->offsets.size(), 2u);
  auto blob = parse_weight_blob(built->bytes, "ffn.bin");
  ASSERT_TRUE(blob.ok());
  auto got = blob->floats_at(built->offsets[1], 12);
  ASSERT_TRUE(got.ok());
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ((*got)[i], round_to_half(w3[i])) << i;
}

// The original's multi-chunk files say count = 1 and pack chunks back to back.
TEST(WeightBlob, OriginalMultiChunkWithCountOne) {
  Bytes b;
  put<uint32_t>(b, 0, 1);
  put<uint32_t>(b, 4, 2);
  for (uint32_t k = 0; k < 3; ++k) {
    const size_t rec = 64 + k * (64 + 64);
    put_record(b, rec, 1, 64, rec + 64);
    for (size_t i = 0; i < 32; ++i) put<uint16_t>(b, rec + 64 + 2 * i, static_cast<uint16_t>(0x3C00 + k));
  }
  ASSERT_EQ(b.size(), 64u + 3 * 128u);
  auto blob = parse_weight_blob(b, "orig.bin");
  ASSERT_TRUE(blob.ok()) << blob.error().to_string();
  ASSERT_EQ(blob->entries.size(), 3u);
  auto third = blob->entry_at(320);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->data_offset, 384u);
  EXPECT_EQ(third->data[0], 0x02);
}

TEST(WeightBlob, TrailingZerosAfterDeclaredBlobsAreIgnored) {
  Bytes b = golden_single();
  b.resize(256, 0);
  auto blob = parse_weight_blob(b, "w.bin");
  ASSERT_TRUE(blob.ok()) << blob.error().to_string();
  EXPECT_EQ(blob->entries.size(), 1u);
}

TEST(WeightBlob, EmptyFileWithZeroBlobs) {
  Bytes b(64, 0);
  b[4] = 2;
  auto blob = parse_weight_blob(b, "e.bin");
  ASSERT_TRUE(blob.ok());
  EXPECT_TRUE(blob->entries.empty());
  EXPECT_TRUE(fails_at(blob->entry_at(64), 64, "no blob metadata record starts at offset 64", ErrorCode::kOutOfRange));
}

TEST(WeightBlob, Int8QuantizeRoundsHalfToEvenAndClamps) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {0.0f, 0.25f, 0.75f, -1.25f, -100.0f, 100.0f, inf, -inf, 1.0f};
  // x / 0.5 = 0, 0.5, 1.5, -2.5, -200, 200, inf, -inf, 2; rounded half-even, + 3, clamped.
  auto q = quantize_int8(x, 0.5f, 3);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, (std::vector<int8_t>{3, 3, 5, 1, -128, 127, 127, -128, 5}));

  auto blob = build_blob_int8_quantized(x, 0.5f, 3);
  ASSERT_TRUE(blob.ok());
  Bytes expect;
  put<uint32_t>(expect, 0, 1);
  put<uint32_t>(expect, 4, 2);
  put_record(expect, 64, 4, 9, 128);
  for (int8_t v : *q) append(expect, v);
  EXPECT_EQ(*blob, expect);
  EXPECT_EQ(build_blob_int8(*q), expect);
}

TEST(WeightBlob, Int8QuantizeRejectsBadArguments) {
  const std::vector<float> x = {1.0f, std::nanf(""), 2.0f};
  EXPECT_TRUE(fails_at(quantize_int8(x, 1.0f, 0), -1, "value 1 is NaN", ErrorCode::kInvalidArgument));
  const std::vector<float> ok = {1.0f};
  EXPECT_TRUE(fails_at(quantize_int8(ok, 0.0f, 0), -1, "scale must be finite and positive", ErrorCode::kInvalidArgument));
  EXPECT_TRUE(fails_at(quantize_int8(ok, std::nanf(""), 0), -1, "scale", ErrorCode::kInvalidArgument));
  EXPECT_TRUE(fails_at(quantize_int8(ok, 1.0f, 128), -1, "zero point 128", ErrorCode::kInvalidArgument));
}

TEST(WeightBlob, RoundTripMixedDtypesThroughFile) {
  const auto floats = test::random_floats(33, 7);
  std::vector<half_bits> halves(50);
  floats_to_halves(halves.data(), test::random_floats(50, 8).data(), 50);
  const Bytes int8s = {0x80, 0x7F, 0x00, 0x01, 0xFF};
  const Bytes int4s = {0x21, 0x43, 0x05};  // 5 nibbles, 4 padding bits

  BlobWriter w;
  const uint64_t a = w.add(BlobDType::kFp32, {reinterpret_cast<const uint8_t*>(floats.data()), floats.size() * 4});
  const uint64_t b = w.add_fp16(halves);
  const uint64_t c = w.add(BlobDType::kInt8, int8s);
  const uint64_t d = w.add(BlobDType::kInt4, int4s, 4);
  EXPECT_EQ(a, 64u);
  EXPECT_EQ(w.count(), 4u);

  test::ScratchDir dir;
  ASSERT_TRUE(w.write(dir.file("w.bin")).ok());
  auto file = WeightBlobFile::open(dir.file("w.bin"));
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  const WeightBlob& blob = file->blob();
  ASSERT_EQ(blob.entries.size(), 4u);
  EXPECT_EQ(blob.count, 4u);
  for (const auto& e : blob.entries) {
    EXPECT_EQ(e.metadata_offset % 64, 0u);
    EXPECT_EQ(e.data_offset % 64, 0u);
  }
  auto fa = blob.floats_at(a, 33);
  ASSERT_TRUE(fa.ok());
  EXPECT_EQ(*fa, floats);
  auto eb = file->entry_at(b);
  ASSERT_TRUE(eb.ok());
  EXPECT_EQ(std::memcmp(eb->data.data(), halves.data(), 100), 0);
  auto ec = file->entry_at(c);
  ASSERT_TRUE(ec.ok());
  EXPECT_EQ(ec->dtype, BlobDType::kInt8);
  EXPECT_EQ(Bytes(ec->data.begin(), ec->data.end()), int8s);
  auto ed = file->entry_at(d);
  ASSERT_TRUE(ed.ok());
  EXPECT_EQ(ed->dtype, BlobDType::kInt4);
  EXPECT_EQ(ed->padding_bits, 4u);
  EXPECT_EQ(Bytes(ed->data.begin(), ed->data.end()), int4s);
  // The writer's bytes and the file agree.
  auto raw = read_file(dir.file("w.bin"));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(Bytes(w.bytes().begin(), w.bytes().end()), *raw);
}

TEST(WeightBlob, DtypeTable) {
  for (uint32_t code = 1; code <= 17; ++code) EXPECT_TRUE(blob_dtype_known(code)) << code;
  EXPECT_FALSE(blob_dtype_known(0));
  EXPECT_FALSE(blob_dtype_known(18));
  EXPECT_STREQ(blob_dtype_name(BlobDType::kBf16), "bf16");
  EXPECT_STREQ(blob_dtype_name(BlobDType::kFp8E5M2), "fp8e5m2");
  EXPECT_EQ(blob_dtype_bits(BlobDType::kUint3), 3);
  EXPECT_EQ(blob_dtype_bits(BlobDType::kInt32), 32);
}

// ---- bad input ----

TEST(WeightBlob, TruncatedAtSeveralPoints) {
  const Bytes b = golden_single();
  EXPECT_TRUE(fails_at(parse_weight_blob(test::truncated(b, 0), "w"), 0, "truncated: file header needs 64 bytes"));
  EXPECT_TRUE(fails_at(parse_weight_blob(test::truncated(b, 63), "w"), 0, "63 left"));
  // Cut inside the metadata record: the record starts at 64.
  EXPECT_TRUE(fails_at(parse_weight_blob(test::truncated(b, 100), "w"), 64, "blob metadata record needs 64 bytes"));
  // Header only: count says 1, nothing follows.
  EXPECT_TRUE(fails_at(parse_weight_blob(test::truncated(b, 64), "w"), 64, "declares 1 blobs but the file holds 0"));
  // Cut inside the data: blamed on the size field at 64 + 8.
  EXPECT_TRUE(fails_at(parse_weight_blob(test::truncated(b, 130), "w"), 72, "runs past the end of the file (130 bytes)"));
  // Cut exactly at the data: the offset itself is still inside (== size), the size is not.
  EXPECT_TRUE(fails_at(parse_weight_blob(test::truncated(b, 128), "w"), 72, "blob of 8 bytes at data offset 128"));
}

TEST(WeightBlob, WrongVersion) {
  Bytes b = golden_single();
  b[4] = 3;
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 4, "unsupported weight blob version 3 (expected 2)"));
  b[4] = 1;
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 4, "version 1"));
}

TEST(WeightBlob, WrongSentinel) {
  Bytes b = golden_single();
  b[64] = 0xEE;
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 64, "bad sentinel 0xDEADBEEE (expected 0xDEADBEEF)"));
}

TEST(WeightBlob, SecondRecordWrongSentinel) {
  auto built = build_qkv_blob(test::random_floats(6, 1), test::random_floats(6, 2), test::random_floats(6, 3), 2, 2, 3);
  ASSERT_TRUE(built.ok());
  Bytes b = built->bytes;
  put<uint32_t>(b, 192, 0x12345678);
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 192, "record at offset 192: bad sentinel 0x12345678"));
}

TEST(WeightBlob, UnknownDtype) {
  Bytes b = golden_single();
  b[68] = 0;
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 68, "unknown dtype code 0"));
  b[68] = 18;
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 68, "unknown dtype code 18"));
}

TEST(WeightBlob, OffsetsAndSizesOutsideTheFile) {
  Bytes b = golden_single();
  put<uint64_t>(b, 80, uint64_t{1} << 40);
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 80, "data offset 1099511627776 is past the end of the file (136 bytes)"));

  b = golden_single();
  put<uint64_t>(b, 80, 130);
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 80, "data offset 130 is not 64-byte aligned"));

  b = golden_single();
  put<uint64_t>(b, 80, 64);
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 80, "overlaps or precedes its own metadata record"));

  b = golden_single();
  put<uint64_t>(b, 80, 0);
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 80, "data offset 0 "));
}

TEST(WeightBlob, SizesThatWouldOverflow) {
  Bytes b = golden_single();
  put<uint64_t>(b, 72, std::numeric_limits<uint64_t>::max());
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 72, "blob of 18446744073709551615 bytes"));
  // offset + size wraps around to a small number; must still be rejected.
  put<uint64_t>(b, 72, std::numeric_limits<uint64_t>::max() - 127);
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 72, "runs past the end"));
  // A huge count must neither allocate nor pass.
  b = golden_single();
  put<uint32_t>(b, 0, 0xFFFFFFFFu);
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 136, "declares 4294967295 blobs but the file holds 1"));
}

TEST(WeightBlob, SizeNotWholeElements) {
  Bytes b = golden_single();
  put<uint64_t>(b, 72, 7);
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 72, "size 7 is not a whole number of fp16 elements"));
}

TEST(WeightBlob, PaddingBitsChecked) {
  Bytes b = golden_single();
  put<uint64_t>(b, 88, 3);  // fp16 has no padding
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 88, "padding of 3 bits is invalid for fp16"));
  b = golden_single();
  b[68] = 8;  // int4
  put<uint64_t>(b, 88, 8);
  EXPECT_TRUE(fails_at(parse_weight_blob(b, "w"), 88, "padding of 8 bits is invalid for int4"));
  put<uint64_t>(b, 88, 4);
  EXPECT_TRUE(parse_weight_blob(b, "w").ok());
}

TEST(WeightBlob, LookupErrors) {
  const Bytes b = golden_single();
  auto blob = parse_weight_blob(b, "w.bin");
  ASSERT_TRUE(blob.ok());
  auto miss = blob->entry_at(128);  // the data, not the record
  EXPECT_TRUE(fails_at(miss, 128, "no blob metadata record starts at offset 128 (records start at 64)",
                       ErrorCode::kOutOfRange));
  EXPECT_EQ(miss.error().where().file, "w.bin");
  EXPECT_TRUE(fails_at(blob->floats_at(64, 5), 64, "fp16 blob holds 4 elements, expected 5"));
  auto i8 = parse_weight_blob(build_blob_int8(std::vector<int8_t>{1, 2}), "i");
  ASSERT_TRUE(i8.ok());
  EXPECT_TRUE(fails_at(i8->floats_at(64, 2), 64, "blob dtype int8 cannot be read as floats"));
}

TEST(WeightBlob, BuildersRejectShapeMismatch) {
  const auto w = test::random_floats(6, 1);
  EXPECT_TRUE(fails_at(build_blob(w, 2, 2), -1, "expected [2, 2]", ErrorCode::kInvalidArgument));
  EXPECT_TRUE(fails_at(build_blob_transposed(w, 0, 6), -1, "build_blob_transposed", ErrorCode::kInvalidArgument));
  EXPECT_TRUE(fails_at(build_blob(w, -2, -3), -1, "positive", ErrorCode::kInvalidArgument));
  EXPECT_TRUE(fails_at(build_blob(w, int64_t{1} << 62, 8), -1, "expected", ErrorCode::kInvalidArgument));
  EXPECT_TRUE(fails_at(build_qkv_blob(w, w, test::random_floats(5, 2), 2, 2, 3), -1, "chunk 2",
                       ErrorCode::kInvalidArgument));
}

TEST(WeightBlob, MissingFileIsAnIoError) {
  test::ScratchDir dir;
  auto f = WeightBlobFile::open(dir.file("absent.bin"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace ane
