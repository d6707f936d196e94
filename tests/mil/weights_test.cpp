// resolve_weights on MILBlob v2 files written here byte by byte (an independent writer),
// including the corrupt cases: missing file, wrong sentinel, offsets past the end, size and
// dtype mismatches. Errors must sit at the const op's line:col and name path and offset.
#include "mil/weights.h"

#include <gtest/gtest.h>

#include <cstring>

#include "mil_test_util.h"

namespace ane::mil {
namespace {

using testing::expect_error;

void put32(std::vector<uint8_t>& f, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) f[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}
void put64(std::vector<uint8_t>& f, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) f[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}

// A MILBlob v2 file with one record per payload: record at 64-aligned offsets, data after it.
std::vector<uint8_t> blob_file(const std::vector<std::pair<uint32_t, std::vector<uint8_t>>>& blobs) {
  std::vector<uint8_t> f(64, 0);
  put32(f, 0, static_cast<uint32_t>(blobs.size()));
  put32(f, 4, 2);
  for (const auto& [code, payload] : blobs) {
    const size_t meta = f.size();
    const size_t data = meta + 64;
    f.resize(data + ((payload.size() + 63) / 64) * 64, 0);
    put32(f, meta, 0xDEADBEEF);
    put32(f, meta + 4, code);
    put64(f, meta + 8, payload.size());
    put64(f, meta + 16, data);
    std::memcpy(f.data() + data, payload.data(), payload.size());
  }
  return f;
}

std::vector<uint8_t> bytes(size_t n, uint8_t first) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(first + i);
  return v;
}

// A program whose const ops at lines 3, 4, ... refer to blobs.
struct BlobProgram {
  Program program;
  Function* fn = program.add_function("main", "ios18");

  Value* blob_const(const std::string& name, TensorType t, std::string path, uint64_t offset, int line) {
    Op* op = fn->add_op("const", Location::text("model.mil", line, 5));
    Constant c;
    c.type = t;
    c.blob = BlobRef{std::move(path), offset};
    op->attributes.push_back({"name", Constant::scalar_string(name)});
    Value* v = fn->add_value(name, t, ValueKind::kOpResult, op->loc);
    v->producer = op;
    v->constant = c;
    op->outputs.push_back(v);
    return v;
  }
};

const TensorType kW{DType::kFp16, {4, 2, 1, 1}};  // 16 bytes

TEST(Weights, FillsEveryBlobConstant) {
  auto file = blob_file({{1, bytes(16, 0)}, {2, bytes(12, 100)}});
  BlobProgram p;
  Value* a = p.blob_const("wa", kW, "@model_path/weights/w.bin", 64, 3);
  Value* b = p.blob_const("wb", {DType::kFp32, {3}}, "@model_path/weights/w.bin", 192, 4);
  ASSERT_TRUE(resolve_weights(p.program, {{"@model_path/weights/w.bin", file}}).ok());
  EXPECT_EQ(a->constant->data, bytes(16, 0));
  EXPECT_EQ(b->constant->data, bytes(12, 100));
  EXPECT_TRUE(a->constant->has_data());
  ASSERT_TRUE(a->constant->blob.has_value());  // the reference stays for printing
  EXPECT_EQ(p.fn->ops[0]->attribute("val"), nullptr);  // the value lives in the result only
}

TEST(Weights, OriginalSingleWeightLayout) {
  // The original's 128-byte header: count 1, version 2, record at 64 with 32-bit size/offset.
  std::vector<uint8_t> f(128 + 16, 0);
  f[0] = 1;
  f[4] = 2;
  put32(f, 64, 0xDEADBEEF);
  f[68] = 1;
  put32(f, 72, 16);
  put32(f, 80, 128);
  BlobProgram p;
  Value* w = p.blob_const("w", kW, "@model_path/weights/w.bin", 64, 3);
  ASSERT_TRUE(resolve_weights(p.program, {{"@model_path/weights/w.bin", f}}).ok());
  EXPECT_EQ(w->constant->data.size(), 16u);
}

TEST(Weights, MissingFileListsAvailable) {
  auto file = blob_file({{1, bytes(16, 0)}});
  BlobProgram p;
  p.blob_const("wq", kW, "@model_path/weights/wq.bin", 64, 7);
  Status s = resolve_weights(p.program, {{"@model_path/weights/wk.bin", file}});
  expect_error(s, {"const 'wq'", "'@model_path/weights/wq.bin' offset 64", "file not found", "available: @model_path/weights/wk.bin"},
               7, 5);
}

TEST(Weights, WrongSentinel) {
  auto file = blob_file({{1, bytes(16, 0)}});
  put32(file, 64, 0x12345678);
  BlobProgram p;
  p.blob_const("w", kW, "w.bin", 64, 3);
  expect_error(resolve_weights(p.program, {{"w.bin", file}}), {"'w.bin' offset 64", "bad sentinel 0x12345678 (expected 0xDEADBEEF)"},
               3, 5);
}

TEST(Weights, OffsetPastTheEnd) {
  auto file = blob_file({{1, bytes(16, 0)}});
  BlobProgram p;
  p.blob_const("w", kW, "w.bin", 4096, 5);
  expect_error(resolve_weights(p.program, {{"w.bin", file}}), {"'w.bin' offset 4096", "past the end"}, 5, 5);
}

TEST(Weights, DataPastTheEnd) {
  auto file = blob_file({{1, bytes(16, 0)}});
  put64(file, 64 + 16, 10048);  // data offset (64-aligned, past the end)
  BlobProgram p;
  p.blob_const("w", kW, "w.bin", 64, 6);
  expect_error(resolve_weights(p.program, {{"w.bin", file}}), {"'w.bin' offset 64", "data offset", "past the end"}, 6, 5);
}

TEST(Weights, TruncatedFile) {
  auto file = blob_file({{1, bytes(16, 0)}});
  file.resize(140);
  BlobProgram p;
  p.blob_const("w", kW, "w.bin", 64, 6);
  expect_error(resolve_weights(p.program, {{"w.bin", file}}), {"runs past the end of the file"}, 6, 5);
}

TEST(Weights, SizeMismatch) {
  auto file = blob_file({{1, bytes(12, 0)}});
  BlobProgram p;
  p.blob_const("w", kW, "w.bin", 64, 8);
  expect_error(resolve_weights(p.program, {{"w.bin", file}}),
               {"const 'w'", "blob holds 12 bytes but tensor<fp16, [4, 2, 1, 1]> needs 16"}, 8, 5);
}

TEST(Weights, DtypeMismatch) {
  auto file = blob_file({{2, bytes(16, 0)}});  // fp32 code, 16 bytes
  BlobProgram p;
  p.blob_const("w", kW, "w.bin", 64, 9);
  expect_error(resolve_weights(p.program, {{"w.bin", file}}), {"blob holds fp32 data but the const is declared tensor<fp16"}, 9, 5);
}

TEST(Weights, WrongVersion) {
  auto file = blob_file({{1, bytes(16, 0)}});
  put32(file, 4, 1);
  BlobProgram p;
  p.blob_const("w", kW, "w.bin", 64, 2);
  expect_error(resolve_weights(p.program, {{"w.bin", file}}), {"unsupported weight blob version 1 (expected 2)"}, 2, 5);
}

TEST(Weights, RecordInsideHeader) {
  auto file = blob_file({{1, bytes(16, 0)}});
  BlobProgram p;
  p.blob_const("w", kW, "w.bin", 0, 2);
  expect_error(resolve_weights(p.program, {{"w.bin", file}}), {"overlaps the 64-byte file header"}, 2, 5);
}

TEST(Weights, Int8AndLiteralConstsUntouched) {
  auto file = blob_file({{4, bytes(6, 1)}});
  BlobProgram p;
  Value* q = p.blob_const("q", {DType::kInt8, {6}}, "q.bin", 64, 2);
  Op* lit = p.fn->add_op("const", Location::text("model.mil", 3, 5));
  Value* three = p.fn->add_value("three", {DType::kInt32, {}}, ValueKind::kOpResult, lit->loc);
  three->producer = lit;
  three->constant = Constant::scalar_int(DType::kInt32, 3);
  lit->outputs.push_back(three);
  ASSERT_TRUE(resolve_weights(p.program, {{"q.bin", file}}).ok());
  EXPECT_EQ(q->constant->data, bytes(6, 1));
  EXPECT_EQ(three->constant->element_as_int(0), 3);
}

}  // namespace
}  // namespace ane::mil
