// OANECKPT: CRC-32 against known values and a bitwise reference, a file built by hand from
// the layout in checkpoint.h compared with the writer's, round trips, every single-bit flip
// detected with the right section and offset, truncation, and well-checksummed files whose
// contents break a rule.
#include "formats/checkpoint.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/file.h"
#include "formats/crc32.h"

namespace ane {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::span<const uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Bit-at-a-time CRC-32, the textbook definition.
uint32_t crc32_bitwise(std::span<const uint8_t> b) {
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t x : b) {
    c ^= x;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// A file name in this test's directory under the system's temporary one.
std::string temp_path(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / "openane_checkpoint_test";
  fs::create_directories(dir);
  return (dir / name).string();
}

TEST(Crc32, KnownValues) {
  EXPECT_EQ(crc32(as_bytes("")), 0u);
  EXPECT_EQ(crc32(as_bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32(as_bytes("The quick brown fox jumps over the lazy dog")), 0x414FA339u);
  EXPECT_EQ(crc32(as_bytes("56789"), crc32(as_bytes("1234"))), 0xCBF43926u);
}

TEST(Crc32, MatchesBitwiseReferenceOnRandomData) {
  std::mt19937 rng(7);
  std::vector<uint8_t> buf(4099);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t len : {0, 1, 7, 8, 9, 63, 64, 1000, 4099}) {
    for (size_t start : {0, 1, 3}) {
      if (start + len > buf.size()) continue;
      std::span<const uint8_t> s(buf.data() + start, len);
      EXPECT_EQ(crc32(s), crc32_bitwise(s)) << len << " at " << start;
    }
  }
}

template <typename T>
void append(std::vector<uint8_t>& b, T v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  b.insert(b.end(), p, p + sizeof v);
}
template <typename T>
T get(const std::vector<uint8_t>& b, size_t at) {
  T v;
  std::memcpy(&v, b.data() + at, sizeof v);
  return v;
}
uint64_t align64(uint64_t v) { return (v + 63) / 64 * 64; }

// One tensor-table record and its data, described by hand.
struct RawTensor {
  std::string name;
  uint32_t dtype;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> data;
  int64_t offset = -1;  // -1: the canonical offset
  int64_t size = -1;    // -1: data.size()
};

// A file assembled from the layout comment in checkpoint.h, with correct checksums. The
// overrides let tests build files that are well-checksummed but break a content rule.
std::vector<uint8_t> build_raw(const std::string& meta, const std::vector<RawTensor>& tensors,
                               const std::vector<uint8_t>& table_extra = {}) {
  uint64_t table_size = table_extra.size();
  for (const RawTensor& t : tensors) table_size += 4 + t.name.size() + 8 + 8 * t.shape.size() + 20;
  std::vector<uint8_t> table;
  uint64_t next = 64 + meta.size() + table_size;
  std::vector<uint64_t> offsets;
  for (const RawTensor& t : tensors) {
    append<uint32_t>(table, static_cast<uint32_t>(t.name.size()));
    table.insert(table.end(), t.name.begin(), t.name.end());
    append<uint32_t>(table, t.dtype);
    append<uint32_t>(table, static_cast<uint32_t>(t.shape.size()));
    for (uint64_t d : t.shape) append<uint64_t>(table, d);
    next = align64(next);
    offsets.push_back(next);
    append<uint64_t>(table, t.offset >= 0 ? static_cast<uint64_t>(t.offset) : next);
    append<uint64_t>(table, t.size >= 0 ? static_cast<uint64_t>(t.size) : t.data.size());
    append<uint32_t>(table, crc32_bitwise(t.data));
    next += t.data.size();
  }
  table.insert(table.end(), table_extra.begin(), table_extra.end());

  const char magic[8] = {'O', 'A', 'N', 'E', 'C', 'K', 'P', 'T'};
  std::vector<uint8_t> f(magic, magic + 8);
  append<uint32_t>(f, 1);  // version
  append<uint32_t>(f, 0);  // header crc, filled below
  append<uint64_t>(f, meta.size());
  append<uint64_t>(f, table.size());
  append<uint64_t>(f, next);  // file size
  append<uint32_t>(f, crc32_bitwise(as_bytes(meta)));
  append<uint32_t>(f, crc32_bitwise(table));
  append<uint32_t>(f, static_cast<uint32_t>(tensors.size()));
  append<uint32_t>(f, 0);
  append<uint64_t>(f, 0);
  EXPECT_EQ(f.size(), 64u);
  const uint32_t hcrc = crc32_bitwise(f);  // bytes 12..15 are still zero
  std::memcpy(f.data() + 12, &hcrc, 4);
  f.insert(f.end(), meta.begin(), meta.end());
  f.insert(f.end(), table.begin(), table.end());
  for (size_t i = 0; i < tensors.size(); ++i) {
    f.resize(offsets[i], 0);
    f.insert(f.end(), tensors[i].data.begin(), tensors[i].data.end());
  }
  return f;
}

// A small checkpoint: several dtypes, a scalar, an empty tensor, odd sizes for padding.
Checkpoint sample() {
  Checkpoint c;
  EXPECT_TRUE(c.set_model_config(*model_preset("tiny")).ok());
  EXPECT_TRUE(c.set_step(1234).ok());
  c.meta["optimizer"] = {{"kind", "adamw"}, {"b1", 0.9}, {"b2", 0.95}, {"eps", 1e-8}, {"wd", 0.1}};
  c.meta["data"] = {{"shard", 3}, {"position", 987654321012ull}};
  c.meta["loss_scale"] = 256.0;
  const std::vector<float> w = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-30f};
  c.tensors.push_back(NamedTensor::of<float>("layers.0.wq", {2, 3}, w));
  const std::vector<uint64_t> rng = {0x0123456789ABCDEFull, 42, 0, ~0ull};
  c.tensors.push_back(NamedTensor::of<uint64_t>("rng_state", {4}, rng));
  const std::vector<uint8_t> bytes = {1, 2, 3, 4, 5};
  c.tensors.push_back(NamedTensor::of<uint8_t>("mask", {5}, bytes));
  const std::vector<int64_t> scalar = {-7};
  c.tensors.push_back(NamedTensor::of<int64_t>("counter", {}, scalar));
  c.tensors.push_back(NamedTensor::of<float>("empty", {0, 4}, std::span<const float>()));
  NamedTensor half{"halves", CkptDType::kF16, {3}, {0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B}};
  c.tensors.push_back(half);
  return c;
}

TEST(Checkpoint, WriterMatchesAFileBuiltByHandFromTheLayout) {
  Checkpoint c;
  c.meta = {{"step", 5}};
  const std::vector<float> w = {1.0f, 2.0f, 3.0f};
  c.tensors.push_back(NamedTensor::of<float>("w", {3}, w));
  c.tensors.push_back(NamedTensor::of<uint8_t>("b", {1, 2}, std::vector<uint8_t>{9, 8}));
  auto bytes = c.serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
  std::vector<uint8_t> wdata(12);
  std::memcpy(wdata.data(), w.data(), 12);
  const auto expected = build_raw(R"({"step":5})", {{"w", 1, {3}, wdata}, {"b", 6, {1, 2}, {9, 8}}});
  EXPECT_EQ(*bytes, expected);
  // Spot checks straight from the layout.
  EXPECT_EQ(std::string(expected.begin(), expected.begin() + 8), "OANECKPT");
  EXPECT_EQ(get<uint32_t>(expected, 8), 1u);
  EXPECT_EQ(get<uint64_t>(expected, 32), expected.size());
  EXPECT_EQ(get<uint64_t>(expected, 16), 10u);
  EXPECT_EQ(std::string(expected.begin() + 64, expected.begin() + 74), R"({"step":5})");
  // Table at 74..164 (records of 41 and 49 bytes), w at 192..204, b at 256..258.
  EXPECT_EQ(expected.size(), 258u);
  EXPECT_EQ(get<float>(expected, 192), 1.0f);
  EXPECT_EQ(expected[257], 8);
}

TEST(Checkpoint, RoundTripThroughAFile) {
  const std::string path = temp_path("rt.oanckpt");
  const Checkpoint c = sample();
  ASSERT_TRUE(c.save(path).ok());
  auto back = Checkpoint::load(path);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->meta, c.meta);
  EXPECT_EQ(back->tensors, c.tensors);

  auto cfg = back->model_config();
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(*cfg, *model_preset("tiny"));
  EXPECT_EQ(*back->step(), 1234);
  EXPECT_EQ(back->meta["data"]["position"].get<uint64_t>(), 987654321012ull);

  const NamedTensor* rng = back->find("rng_state");
  ASSERT_NE(rng, nullptr);
  EXPECT_EQ(*rng->values<uint64_t>(), (std::vector<uint64_t>{0x0123456789ABCDEFull, 42, 0, ~0ull}));
  std::vector<float> w(6);
  ASSERT_TRUE(back->find("layers.0.wq")->copy_to(std::span<float>(w)).ok());
  EXPECT_EQ(w[2], 3.25f);
  EXPECT_TRUE(std::signbit(w[4]));
  EXPECT_EQ(back->find("counter")->numel(), 1u);
  EXPECT_EQ(*back->find("counter")->values<int64_t>(), std::vector<int64_t>{-7});
  EXPECT_EQ(back->find("empty")->numel(), 0u);
  EXPECT_EQ(back->find("nope"), nullptr);

  // Every tensor's data starts 64-byte aligned.
  auto bytes = read_file(path);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(get<uint64_t>(*bytes, 32), bytes->size());
}

TEST(Checkpoint, TypedAccessChecksDtypeAndCount) {
  const Checkpoint c = sample();
  const NamedTensor* w = c.find("layers.0.wq");
  std::vector<double> wrong_type(6);
  Status st = w->copy_to(std::span<double>(wrong_type));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("is f32, not f64"), std::string::npos);
  std::vector<float> wrong_count(5);
  st = w->copy_to(std::span<float>(wrong_count));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("has 6 elements"), std::string::npos);
  EXPECT_FALSE(c.find("mask")->values<int8_t>().ok());
}

// Which section a byte belongs to, from the header fields and the canonical layout; returns
// the words the error for a flip there must contain, and the earliest offset it may name.
struct Expect {
  std::string words;
  uint64_t min_offset, max_offset;
};
Expect section_of(const std::vector<uint8_t>& f, const Checkpoint& c, uint64_t pos) {
  if (pos < 8) return {"bad magic", 0, 0};
  if (pos < 12) return {"unsupported version", 8, 8};
  if (pos < 64) return {"header: checksum mismatch", 12, 12};
  const uint64_t meta_end = 64 + get<uint64_t>(f, 16);
  const uint64_t table_end = meta_end + get<uint64_t>(f, 24);
  if (pos < meta_end) return {"metadata: checksum mismatch", 64, 64};
  if (pos < table_end) return {"tensor table: checksum mismatch", meta_end, meta_end};
  uint64_t at = table_end;
  for (const NamedTensor& t : c.tensors) {
    const uint64_t begin = align64(at);
    if (pos < begin) return {"padding: nonzero byte", pos, pos};
    if (pos < begin + t.data.size()) return {"tensor '" + t.name + "': checksum mismatch", begin, begin};
    at = begin + t.data.size();
  }
  return {"past the end", 0, 0};
}

// Checkpoint::map: the same tensors as load(), their bytes left in the file; a corrupted
// file fails with the same error; a tensor copied out no longer counts as resident.
TEST(Checkpoint, MappedTensorsMatchLoadedOnesAndAreCheckedTheSame) {
  const std::string path = temp_path("mapped.oanckpt");
  const Checkpoint c = sample();
  ASSERT_TRUE(c.save(path).ok());
  auto file = MappedFile::open(path);
  ASSERT_TRUE(file.ok());
  auto mapped = Checkpoint::map(std::make_shared<const MappedFile>(std::move(*file)));
  ASSERT_TRUE(mapped.ok()) << mapped.error().to_string();
  EXPECT_EQ(mapped->meta, c.meta);
  EXPECT_EQ(mapped->tensors, c.tensors);
  const NamedTensor* wq = mapped->find("layers.0.wq");
  ASSERT_NE(wq, nullptr);
  EXPECT_TRUE(wq->data.empty()) << "bytes stay in the file";
  std::vector<float> w(6);
  ASSERT_TRUE(wq->copy_to(std::span<float>(w)).ok());
  EXPECT_EQ(w[2], 3.25f);
  ASSERT_TRUE(wq->copy_to(std::span<float>(w)).ok()) << "released pages read again";
  EXPECT_EQ(w[2], 3.25f);

  auto bytes = read_file(path);
  ASSERT_TRUE(bytes.ok());
  (*bytes)[bytes->size() - 1] ^= 1;  // the last tensor's last byte
  ASSERT_TRUE(write_file_atomic(path, *bytes).ok());
  auto bad_file = MappedFile::open(path);
  ASSERT_TRUE(bad_file.ok());
  auto bad = Checkpoint::map(std::make_shared<const MappedFile>(std::move(*bad_file)));
  auto parsed = Checkpoint::parse(*bytes, path);
  ASSERT_FALSE(bad.ok());
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(bad.error().to_string(), parsed.error().to_string());
}

// Resident pages of this process (Linux /proc/self/statm), in bytes.
int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<int64_t>(::sysconf(_SC_PAGESIZE));
}

TEST(Checkpoint, MappedTensorsHandTheirPagesBack) {
  const std::string path = temp_path("large.oanckpt");
  constexpr size_t kFloats = size_t{16} << 20;  // 64 MB
  {
    Checkpoint c;
    std::vector<float> big(kFloats, 1.5f);
    c.tensors.push_back(NamedTensor::of<float>("big", {kFloats}, std::span<const float>(big)));
    ASSERT_TRUE(c.save(path).ok());
  }
  auto file = MappedFile::open(path);
  ASSERT_TRUE(file.ok());
  std::vector<float> into(kFloats, 0.0f);  // resident before the measurement starts
  const int64_t before = resident_bytes();
  auto mapped = Checkpoint::map(std::make_shared<const MappedFile>(std::move(*file)));
  ASSERT_TRUE(mapped.ok());
  EXPECT_LT(resident_bytes() - before, int64_t{16} << 20) << "checking the CRC left the file resident";
  ASSERT_TRUE(mapped->find("big")->copy_to(std::span<float>(into)).ok());
  EXPECT_LT(resident_bytes() - before, int64_t{16} << 20) << "copying out left the file resident";
  EXPECT_EQ(into[kFloats - 1], 1.5f);
  fs::remove(path);
}

TEST(Checkpoint, EverySingleBitFlipIsDetectedWithSectionAndOffset) {
  const Checkpoint c = sample();
  auto good = c.serialize();
  ASSERT_TRUE(good.ok());
  std::vector<uint8_t> f = *good;
  ASSERT_LT(f.size(), 2048u);  // keep the loop fast
  for (uint64_t pos = 0; pos < f.size(); ++pos) {
    const Expect want = section_of(f, c, pos);
    for (int bit = 0; bit < 8; ++bit) {
      f[pos] ^= static_cast<uint8_t>(1u << bit);
      auto r = Checkpoint::parse(f, "flip.ckpt");
      f[pos] ^= static_cast<uint8_t>(1u << bit);
      ASSERT_FALSE(r.ok()) << "flip of bit " << bit << " at byte " << pos << " went unnoticed";
      const Error& e = r.error();
      ASSERT_NE(e.message().find(want.words), std::string::npos) << "byte " << pos << ": " << e.to_string();
      ASSERT_EQ(e.where().file, "flip.ckpt");
      ASSERT_GE(e.where().byte_offset, static_cast<int64_t>(want.min_offset)) << pos;
      ASSERT_LE(e.where().byte_offset, static_cast<int64_t>(want.max_offset)) << pos;
    }
  }
  ASSERT_TRUE(Checkpoint::parse(f, "flip.ckpt").ok());
}

TEST(Checkpoint, TruncatedOrExtendedFilesAreRejected) {
  auto good = sample().serialize();
  ASSERT_TRUE(good.ok());
  const std::vector<uint8_t>& f = *good;
  const uint64_t meta_end = 64 + get<uint64_t>(f, 16);
  const uint64_t table_end = meta_end + get<uint64_t>(f, 24);
  for (uint64_t len = 0; len < f.size(); len += (len < 80 ? 1 : 13)) {
    auto r = Checkpoint::parse(std::span<const uint8_t>(f.data(), len), "short.ckpt");
    ASSERT_FALSE(r.ok()) << len;
    const std::string& m = r.error().message();
    if (len < 64) {
      EXPECT_NE(m.find("truncated: checkpoint header needs 64 bytes"), std::string::npos) << m;
      EXPECT_EQ(r.error().where().byte_offset, 0);
      continue;
    }
    EXPECT_EQ(r.error().where().byte_offset, static_cast<int64_t>(len)) << m;
    EXPECT_NE(m.find("truncated: the file ends at byte " + std::to_string(len)), std::string::npos) << m;
    const char* section = len < meta_end ? "checkpoint metadata" : len < table_end ? "checkpoint tensor table" : "checkpoint tensor data";
    EXPECT_EQ(m.rfind(section, 0), 0u) << m;
  }
  std::vector<uint8_t> longer = f;
  longer.push_back(0);
  auto r = Checkpoint::parse(longer, "long.ckpt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().where().byte_offset, static_cast<int64_t>(f.size()));
  EXPECT_NE(r.error().message().find("1 unexpected bytes"), std::string::npos);
}

void expect_bad(const std::vector<uint8_t>& f, int64_t offset, const std::string& words) {
  auto r = Checkpoint::parse(f, "bad.ckpt");
  ASSERT_FALSE(r.ok()) << words;
  EXPECT_EQ(r.error().where().byte_offset, offset) << r.error().to_string();
  EXPECT_NE(r.error().message().find(words), std::string::npos) << r.error().to_string();
}

TEST(Checkpoint, WellChecksummedButInvalidContents) {
  const std::vector<uint8_t> four = {1, 2, 3, 4};
  // Metadata: not JSON, not an object.
  expect_bad(build_raw("{\"a\": }", {}), 64 + 6, "checkpoint metadata: invalid JSON");
  expect_bad(build_raw("[1, 2]", {}), 64, "must be a JSON object, not array");
  // Table rules. "{}" makes the table start at 66.
  expect_bad(build_raw("{}", {{"x", 6, {4}, four}, {"x", 6, {4}, four}}), 66 + 4 + 1 + 8 + 8 + 20,
             "duplicate tensor name 'x'");
  expect_bad(build_raw("{}", {{"x", 99, {4}, four}}), 66 + 5, "unknown dtype 99");
  expect_bad(build_raw("{}", {{"x", 0, {4}, four}}), 66 + 5, "unknown dtype 0");
  expect_bad(build_raw("{}", {{"x", 6, {1, 1, 1, 1, 1, 1, 1, 1, 4}, four}}), 66 + 9, "has rank 9");
  expect_bad(build_raw("{}", {{"", 6, {4}, four}}), 66, "has a name of 0 bytes");
  expect_bad(build_raw("{}", {{"x", 6, {5}, four}}), 66 + 21, "data size 4 does not match its dtype and shape");
  expect_bad(build_raw("{}", {{"x", 1, {4}, four}}), 66 + 21, "does not match its dtype and shape");
  expect_bad(build_raw("{}", {{"x", 6, {4}, four, 64}}), 66 + 21, "is not at the expected offset 128");
  expect_bad(build_raw("{}", {{"x", 6, {4}, four}}, {0, 0, 0}), 66 + 41, "3 bytes left over after 1 records");
  // Shape overflow: 2^32 x 2^32 u8.
  expect_bad(build_raw("{}", {{"x", 6, {1ull << 32, 1ull << 32}, four}}), 66 + 29, "does not match");
}

TEST(Checkpoint, WrongMagicAndVersion) {
  std::vector<uint8_t> f = *sample().serialize();
  std::vector<uint8_t> m = f;
  m[7] = 'X';
  expect_bad(m, 0, "checkpoint header: bad magic");
  std::vector<uint8_t> v = f;
  v[8] = 2;
  expect_bad(v, 8, "unsupported version 2");
  expect_bad(std::vector<uint8_t>(f.begin(), f.begin() + 10), 0, "needs 64 bytes");
}

TEST(Checkpoint, SerializeRejectsBadInput) {
  auto fails_with = [](const Checkpoint& c, const std::string& words) {
    auto r = c.serialize();
    ASSERT_FALSE(r.ok()) << words;
    EXPECT_NE(r.error().message().find(words), std::string::npos) << r.error().message();
  };
  Checkpoint c = sample();
  c.tensors.push_back(c.tensors[0]);
  fails_with(c, "'layers.0.wq': duplicate name");
  c = sample();
  c.tensors[0].name.clear();
  fails_with(c, "empty name");
  c = sample();
  c.tensors[0].data.pop_back();
  fails_with(c, "shape and dtype imply 24 bytes, data has 23");
  c = sample();
  c.tensors[0].dtype = static_cast<CkptDType>(77);
  fails_with(c, "unknown dtype 77");
  c = sample();
  c.tensors[0].shape.assign(9, 1);
  fails_with(c, "rank 9");
  c = sample();
  c.meta = json::array({1, 2});
  fails_with(c, "must be a JSON object");
  c = sample();
  c.meta["bad"] = std::string("\xff\xfe");
  fails_with(c, "cannot be written as JSON");
}

TEST(Checkpoint, DeeplyNestedMetadataIsRejectedBeforeParsing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  expect_bad(build_raw(deep, {}), 64 + 256, "checkpoint metadata: JSON nested more than 256 levels deep");
  // Brackets inside strings do not count.
  const std::string quoted = "{\"k\": \"" + std::string(1000, '[') + "\\\"\"}";
  auto ok = Checkpoint::parse(build_raw(quoted, {}), "quoted");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->meta["k"].get<std::string>(), std::string(1000, '[') + "\"");
}

TEST(Checkpoint, AccessorsReportMissingEntries) {
  Checkpoint c;
  EXPECT_TRUE(c.set_meta("lr", 3e-4).ok());
  ModelConfig broken = *model_preset("tiny");
  broken.n_kv_heads = 3;
  EXPECT_FALSE(c.set_model_config(broken).ok());
  Checkpoint not_object;
  not_object.meta = json::array();
  Status st = not_object.set_step(3);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("must be a JSON object, not array"), std::string::npos);
  EXPECT_FALSE(c.model_config().ok());
  EXPECT_FALSE(c.step().ok());
  c.meta["model"] = {{"dim", 3}};
  auto cfg = c.model_config();
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message().find("missing key"), std::string::npos);
  // An empty checkpoint is a valid file.
  auto bytes = Checkpoint().serialize();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), 64u + 2);
  auto back = Checkpoint::parse(*bytes, "empty");
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_TRUE(back->tensors.empty());
}

}  // namespace
TEST(Checkpoint, StreamingSaveWritesTheSameBytesAndKeepsTheOldFileOnError) {
  Checkpoint c;
  c.meta["step"] = 7;
  std::vector<float> a(37, 1.5f);
  std::vector<uint16_t> b(5, 9);
  c.tensors.push_back(NamedTensor::of<float>("a", {37}, a));
  c.tensors.push_back(NamedTensor::of<uint16_t>("b", {5}, b));
  const std::vector<TensorView> views{TensorView::of<float>("a", {37}, a), TensorView::of<uint16_t>("b", {5}, b)};
  const std::string path = ::testing::TempDir() + "stream.ckpt";
  ASSERT_TRUE(save_checkpoint(path, c.meta, views).ok());
  auto want = c.serialize();
  auto got = read_file(path);
  ASSERT_TRUE(want.ok() && got.ok());
  EXPECT_EQ(*got, *want);
  const std::vector<TensorView> bad{TensorView::of<float>("a", {36}, a)};  // shape disagrees with the data
  Status s = save_checkpoint(path, c.meta, bad);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.to_string().find("'a'"), std::string::npos) << s.to_string();
  auto still = read_file(path);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(*still, *want);
  std::remove(path.c_str());
}

}  // namespace ane
