// llama2.c model files: golden v0 / v1 / v2 files laid out here from the format description
// (not by the writer), round trips through files, and header / size validation with offsets.
#include "formats/llama2_model.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cmath>
#include <functional>

#include "core/file.h"
#include "test_util.h"

namespace ane {
namespace {

using test::append;
using test::Bytes;
using test::fails_at;
using test::put;

// dim 4, hidden 6, 2 layers, 2 heads, 1 kv head (GQA, kv_dim 2), vocab 5, seq_len 3.
Llama2Header tiny_header(bool shared) {
  Llama2Header h;
  h.dim = 4;
  h.hidden_dim = 6;
  h.n_layers = 2;
  h.n_heads = 2;
  h.n_kv_heads = 1;
  h.vocab_size = 5;
  h.seq_len = 3;
  h.shared_classifier = shared;
  return h;
}

// Distinct, exactly representable values for array `id`: id + i / 1024.
std::vector<float> pattern(int id, size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(id) + static_cast<float>(i) / 1024.0f;
  return v;
}

// The tiny model with pattern values; sizes from the shapes in the format description.
Llama2Model tiny_model(bool shared) {
  Llama2Model m;
  m.header = tiny_header(shared);
  m.token_embedding = pattern(1, 5 * 4);
  m.rms_att = pattern(2, 2 * 4);
  m.wq = pattern(3, 2 * 4 * 4);
  m.wk = pattern(4, 2 * 2 * 4);
  m.wv = pattern(5, 2 * 2 * 4);
  m.wo = pattern(6, 2 * 4 * 4);
  m.rms_ffn = pattern(7, 2 * 4);
  m.w1 = pattern(8, 2 * 6 * 4);
  m.w2 = pattern(9, 2 * 4 * 6);
  m.w3 = pattern(10, 2 * 6 * 4);
  m.rms_final = pattern(11, 4);
  if (!shared) m.wcls = pattern(12, 5 * 4);
  return m;
}

void expect_same(const Llama2Model& a, const Llama2Model& b) {
  EXPECT_EQ(a.header.dim, b.header.dim);
  EXPECT_EQ(a.header.hidden_dim, b.header.hidden_dim);
  EXPECT_EQ(a.header.n_layers, b.header.n_layers);
  EXPECT_EQ(a.header.n_heads, b.header.n_heads);
  EXPECT_EQ(a.header.n_kv_heads, b.header.n_kv_heads);
  EXPECT_EQ(a.header.vocab_size, b.header.vocab_size);
  EXPECT_EQ(a.header.seq_len, b.header.seq_len);
  EXPECT_EQ(a.header.shared_classifier, b.header.shared_classifier);
  EXPECT_EQ(a.token_embedding, b.token_embedding);
  EXPECT_EQ(a.rms_att, b.rms_att);
  EXPECT_EQ(a.wq, b.wq);
  EXPECT_EQ(a.wk, b.wk);
  EXPECT_EQ(a.wv, b.wv);
  EXPECT_EQ(a.wo, b.wo);
  EXPECT_EQ(a.rms_ffn, b.rms_ffn);
  EXPECT_EQ(a.w1, b.w1);
  EXPECT_EQ(a.w2, b.w2);
  EXPECT_EQ(a.w3, b.w3);
  EXPECT_EQ(a.rms_final, b.rms_final);
  EXPECT_EQ(a.wcls, b.wcls);
}

constexpr size_t kRopeFloats = 3 * (2 / 2);  // seq_len * head_size / 2

// v0 by hand: 7 i32, arrays in run.c's order, two RoPE tables (filled with 99 / 98 here:
// readers skip them), then wcls when unshared. Offsets: wq starts at 28 + 4 * (20 + 8) = 140.
Bytes golden_v0(bool shared) {
  const Llama2Model m = tiny_model(shared);
  Bytes b;
  for (int32_t v : {4, 6, 2, 2, 1, shared ? 5 : -5, 3}) append(b, v);
  for (const auto* a : {&m.token_embedding, &m.rms_att, &m.wq, &m.wk, &m.wv, &m.wo, &m.rms_ffn, &m.w1, &m.w2,
                        &m.w3, &m.rms_final}) {
    test::append_all(b, *a);
  }
  test::append_all(b, std::vector<float>(kRopeFloats, 99.0f));
  test::append_all(b, std::vector<float>(kRopeFloats, 98.0f));
  if (!shared) test::append_all(b, m.wcls);
  return b;
}

// v1 by hand: 256-byte header, then norms, embedding, matrices, classifier.
Bytes golden_v1(bool shared) {
  const Llama2Model m = tiny_model(shared);
  Bytes b;
  append<uint32_t>(b, 0x616b3432);
  append<int32_t>(b, 1);
  for (int32_t v : {4, 6, 2, 2, 1, 5, 3}) append(b, v);
  append<uint8_t>(b, shared ? 1 : 0);
  b.resize(256, 0);
  for (const auto* a : {&m.rms_att, &m.rms_ffn, &m.rms_final, &m.token_embedding, &m.wq, &m.wk, &m.wv, &m.wo,
                        &m.w1, &m.w2, &m.w3}) {
    test::append_all(b, *a);
  }
  if (!shared) test::append_all(b, m.wcls);
  return b;
}

constexpr size_t kV0Size = 28 + 4 * (20 + 8 + 32 + 16 + 16 + 32 + 8 + 48 + 48 + 48 + 4 + 2 * kRopeFloats);

TEST(Llama2Model, GoldenV0Shared) {
  const Bytes b = golden_v0(true);
  ASSERT_EQ(b.size(), kV0Size);
  auto m = parse_llama2_model(b, "m.bin");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  expect_same(*m, tiny_model(true));
  EXPECT_EQ(m->header.head_size(), 2);
  EXPECT_EQ(m->header.kv_dim(), 2);
  auto info = parse_llama2_header(b, "m.bin");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->format, Llama2Format::kV0);
  EXPECT_EQ(info->file_size, kV0Size);
}

TEST(Llama2Model, GoldenV0UnsharedReadsWclsAfterRope) {
  auto m = parse_llama2_model(golden_v0(false), "m.bin");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_FALSE(m->header.shared_classifier);
  EXPECT_EQ(m->header.vocab_size, 5);
  expect_same(*m, tiny_model(false));
}

TEST(Llama2Model, WriterV0MatchesGoldenAndWritesRopeTables) {
  for (bool shared : {true, false}) {
    auto out = serialize_llama2_model(tiny_model(shared), Llama2Format::kV0);
    ASSERT_TRUE(out.ok()) << out.error().to_string();
    const Bytes golden = golden_v0(shared);
    ASSERT_EQ(out->size(), golden.size());
    const size_t rope_at = kV0Size - 4 * 2 * kRopeFloats;
    EXPECT_TRUE(std::equal(out->begin(), out->begin() + rope_at, golden.begin()));
    EXPECT_TRUE(std::equal(out->begin() + kV0Size, out->end(), golden.begin() + kV0Size));
    // head_size 2: one frequency (1), so cos table = cos(pos), sin table = sin(pos).
    for (size_t pos = 0; pos < 3; ++pos) {
      float c, s;
      std::memcpy(&c, out->data() + rope_at + 4 * pos, 4);
      std::memcpy(&s, out->data() + rope_at + 4 * (kRopeFloats + pos), 4);
      EXPECT_NEAR(c, std::cos(static_cast<double>(pos)), 1e-6);
      EXPECT_NEAR(s, std::sin(static_cast<double>(pos)), 1e-6);
    }
  }
}

TEST(Llama2Model, GoldenV1BothWays) {
  for (bool shared : {true, false}) {
    const Bytes golden = golden_v1(shared);
    auto m = parse_llama2_model(golden, "m.bin");
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    expect_same(*m, tiny_model(shared));
    auto out = serialize_llama2_model(tiny_model(shared), Llama2Format::kV1);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, golden);
  }
}

TEST(Llama2Model, WriterV1NeedsNoRopeTableWhateverSeqLenSays) {
  // v1 holds no RoPE tables; the writer once built one anyway, [seq_len, head_size / 2]: 8 GB
  // here (found by the llama2 fuzzer, which read such a header from 3 KB).
  Llama2Model m = tiny_model(true);
  m.header.seq_len = INT32_MAX;
  auto peak_kb = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
  };
  const long before = peak_kb();
  auto out = serialize_llama2_model(m, Llama2Format::kV1);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(out->size(), golden_v1(true).size());
  EXPECT_LT(peak_kb() - before, 64 * 1024) << "KB of peak memory for a 3 KB file";
}

// v2 by hand, group size 4. Each quantized tensor: int8 values q[i] = (i % 7) - 3 + id, then
// scales s[g] = id / 8 + g / 16; expected value q[i] * s[i / 4].
struct V2Golden {
  Bytes bytes;
  Llama2Model expect;
};

V2Golden golden_v2(bool shared) {
  V2Golden g;
  g.expect.header = tiny_header(shared);
  Bytes& b = g.bytes;
  append<uint32_t>(b, 0x616b3432);
  append<int32_t>(b, 2);
  for (int32_t v : {4, 6, 2, 2, 1, 5, 3}) append(b, v);
  append<uint8_t>(b, shared ? 1 : 0);
  append<int32_t>(b, 4);  // group size at 37, unaligned
  EXPECT_EQ(b.size(), 41u);
  b.resize(256, 0);
  const Llama2Model norms = tiny_model(shared);
  g.expect.rms_att = norms.rms_att;
  g.expect.rms_ffn = norms.rms_ffn;
  g.expect.rms_final = norms.rms_final;
  test::append_all(b, norms.rms_att);
  test::append_all(b, norms.rms_ffn);
  test::append_all(b, norms.rms_final);
  int id = 0;
  // One quantized tensor of n values appended to b and to *dst.
  auto tensor = [&](std::vector<float>* dst, size_t n) {
    ++id;
    std::vector<float> scales(n / 4);
    for (size_t k = 0; k < scales.size(); ++k) scales[k] = static_cast<float>(id) / 8 + static_cast<float>(k) / 16;
    for (size_t i = 0; i < n; ++i) {
      const auto q = static_cast<int8_t>(static_cast<int>(i % 7) - 3 + id);
      append(b, q);
      dst->push_back(static_cast<float>(q) * scales[i / 4]);
    }
    test::append_all(b, scales);
  };
  Llama2Model& e = g.expect;
  tensor(&e.token_embedding, 20);
  for (auto [dst, n] : std::initializer_list<std::pair<std::vector<float>*, size_t>>{
           {&e.wq, 16}, {&e.wk, 8}, {&e.wv, 8}, {&e.wo, 16}, {&e.w1, 24}, {&e.w2, 24}, {&e.w3, 24}}) {
    for (int layer = 0; layer < 2; ++layer) tensor(dst, n);
  }
  if (!shared) tensor(&e.wcls, 20);
  return g;
}

TEST(Llama2Model, GoldenV2DequantizesPerLayerTensors) {
  for (bool shared : {true, false}) {
    const V2Golden g = golden_v2(shared);
    auto info = parse_llama2_header(g.bytes, "q.bin");
    ASSERT_TRUE(info.ok()) << info.error().to_string();
    EXPECT_EQ(info->format, Llama2Format::kV2);
    EXPECT_EQ(info->group_size, 4);
    auto m = parse_llama2_model(g.bytes, "q.bin");
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    expect_same(*m, g.expect);
  }
}

TEST(Llama2Model, RoundTripRandomThroughFiles) {
  test::ScratchDir dir;
  uint32_t seed = 10;
  for (Llama2Format f : {Llama2Format::kV0, Llama2Format::kV1}) {
    for (bool shared : {true, false}) {
      Llama2Model m = tiny_model(shared);
      for (auto* a : {&m.token_embedding, &m.rms_att, &m.wq, &m.wk, &m.wv, &m.wo, &m.rms_ffn, &m.w1, &m.w2, &m.w3,
                      &m.rms_final, &m.wcls}) {
        *a = test::random_floats(a->size(), seed++);
      }
      const std::string path = dir.file("m.bin");
      ASSERT_TRUE(write_llama2_model(path, m, f).ok());
      auto back = read_llama2_model(path);
      ASSERT_TRUE(back.ok()) << back.error().to_string();
      expect_same(*back, m);
    }
  }
}

TEST(Llama2Model, WriterRejectsInconsistentModels) {
  Llama2Model m = tiny_model(true);
  m.wk.pop_back();
  EXPECT_TRUE(fails_at(serialize_llama2_model(m, Llama2Format::kV1), -1, "wk has 15 values, the header implies 16",
                       ErrorCode::kInvalidArgument));
  m = tiny_model(true);
  m.wcls = pattern(1, 20);
  EXPECT_TRUE(fails_at(serialize_llama2_model(m, Llama2Format::kV0), -1, "wcls must be empty",
                       ErrorCode::kInvalidArgument));
  m = tiny_model(false);
  m.wcls.clear();
  EXPECT_TRUE(fails_at(serialize_llama2_model(m, Llama2Format::kV0), -1, "wcls has 0 values",
                       ErrorCode::kInvalidArgument));
  m = tiny_model(true);
  m.header.n_kv_heads = 3;
  EXPECT_TRUE(fails_at(serialize_llama2_model(m, Llama2Format::kV1), -1, "n_kv_heads (3) must divide n_heads (2)",
                       ErrorCode::kInvalidArgument));
  EXPECT_TRUE(fails_at(serialize_llama2_model(tiny_model(true), Llama2Format::kV2), -1, "v2",
                       ErrorCode::kUnsupported));
}

// ---- bad input ----

TEST(Llama2Model, V0TruncatedAtSeveralPoints) {
  const Bytes b = golden_v0(true);
  EXPECT_TRUE(fails_at(parse_llama2_model(test::truncated(b, 0), "m"), 0, "truncated: dim needs 4 bytes"));
  EXPECT_TRUE(fails_at(parse_llama2_model(test::truncated(b, 10), "m"), 8, "truncated: n_layers needs 4 bytes, 2 left"));
  EXPECT_TRUE(fails_at(parse_llama2_model(test::truncated(b, 28), "m"), 28,
                       "truncated: token_embedding [V, D] needs 80 bytes from offset 28"));
  // Inside wq (which starts at 140): blamed on wq's start, with both sizes.
  EXPECT_TRUE(fails_at(parse_llama2_model(test::truncated(b, 150), "m"), 140,
                       "wq [L, D, D] needs 128 bytes from offset 140; file is 150 bytes, the header implies " +
                           std::to_string(kV0Size)));
  // Inside the RoPE tables.
  const size_t rope_at = kV0Size - 24;
  EXPECT_TRUE(fails_at(parse_llama2_model(test::truncated(b, kV0Size - 1), "m"), static_cast<int64_t>(rope_at + 12),
                       "rope_sin"));
}

TEST(Llama2Model, V0UnsharedWithoutClassifierIsTruncated) {
  Bytes b = golden_v0(true);
  put<int32_t>(b, 20, -5);  // says unshared, but no wcls follows
  EXPECT_TRUE(fails_at(parse_llama2_model(b, "m"), static_cast<int64_t>(kV0Size), "truncated: wcls [V, D] needs 80 bytes"));
}

TEST(Llama2Model, TrailingBytesRejected) {
  Bytes b = golden_v0(true);
  b.push_back(0);
  EXPECT_TRUE(fails_at(parse_llama2_model(b, "m"), static_cast<int64_t>(kV0Size),
                       "unexpected trailing data: file is " + std::to_string(kV0Size + 1)));
  Bytes v1 = golden_v1(true);
  v1.resize(v1.size() + 4);
  EXPECT_TRUE(fails_at(parse_llama2_model(v1, "m"), static_cast<int64_t>(v1.size() - 4), "unexpected trailing data"));
}

TEST(Llama2Model, V1TruncatedAtSeveralPoints) {
  const Bytes b = golden_v1(false);
  EXPECT_TRUE(fails_at(parse_llama2_model(test::truncated(b, 6), "m"), 4, "truncated: version needs 4 bytes"));
  EXPECT_TRUE(fails_at(parse_llama2_model(test::truncated(b, 100), "m"), 0,
                       "truncated: 256-byte header needs 256 bytes, 100 left"));
  // v1 order: rms_att (32 B) at 256, rms_ffn at 288, rms_final at 320, token_embedding at 336.
  EXPECT_TRUE(fails_at(parse_llama2_model(test::truncated(b, 300), "m"), 288, "rms_ffn [L, D] needs 32 bytes"));
  EXPECT_TRUE(fails_at(parse_llama2_model(test::truncated(b, b.size() - 4), "m"), static_cast<int64_t>(b.size() - 80),
                       "wcls [V, D] needs 80 bytes"));
}

TEST(Llama2Model, WrongVersionAndMagic) {
  Bytes b = golden_v1(true);
  put<int32_t>(b, 4, 3);
  EXPECT_TRUE(fails_at(parse_llama2_model(b, "m"), 4, "unsupported llama2.c model version 3 (expected 1 or 2)"));
  put<int32_t>(b, 4, 0);
  EXPECT_TRUE(fails_at(parse_llama2_model(b, "m"), 4, "version 0"));
  // Another magic is not v1: read as v0, its words are nonsense dimensions.
  b = golden_v1(true);
  put<uint32_t>(b, 0, 0x616b3433);  // dim 1634415667, hidden 1, n_layers 4, n_heads 6
  EXPECT_TRUE(fails_at(parse_llama2_model(b, "m"), 12, "n_heads (6) does not divide dim (1634415667)"));
}

TEST(Llama2Model, HeaderRulesPointAtTheField) {
  struct Case {
    int field;
    int32_t value;
    std::string text;
  };
  const std::vector<Case> cases = {
      {0, 0, "dim must be positive, got 0"},
      {1, -6, "hidden_dim must be positive, got -6"},
      {2, 0, "n_layers must be positive"},
      {3, 3, "n_heads (3) does not divide dim (4)"},
      {3, 4, "head_size dim / n_heads = 1 is odd"},
      {4, 3, "n_kv_heads (3) must divide n_heads (2)"},
      {4, 0, "n_kv_heads must be positive"},
      {5, 0, "vocab_size must be positive, got 0"},
      {6, -1, "seq_len must be positive"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    Bytes v0 = golden_v0(true);
    put<int32_t>(v0, 4 * static_cast<size_t>(c.field), c.value);
    // The n_heads = 3 case is blamed on n_heads, the n_kv_heads cases on n_kv_heads, etc.
    const int blamed = c.field;
    EXPECT_TRUE(fails_at(parse_llama2_model(v0, "m"), 4 * blamed, c.text));
    Bytes v1 = golden_v1(true);
    put<int32_t>(v1, 8 + 4 * static_cast<size_t>(c.field), c.value);
    EXPECT_TRUE(fails_at(parse_llama2_model(v1, "m"), 8 + 4 * blamed, c.text));
  }
  Bytes v0 = golden_v0(true);
  put<int32_t>(v0, 20, INT32_MIN);
  EXPECT_TRUE(fails_at(parse_llama2_model(v0, "m"), 20, "vocab_size -2147483648 is out of range"));
  Bytes v1 = golden_v1(true);
  put<int32_t>(v1, 28, -5);  // v1 has an explicit flag; a negative vocab_size is just wrong
  EXPECT_TRUE(fails_at(parse_llama2_model(v1, "m"), 28, "vocab_size must be positive, got -5"));
  v1 = golden_v1(true);
  v1[36] = 2;
  EXPECT_TRUE(fails_at(parse_llama2_model(v1, "m"), 36, "shared_classifier flag is 2"));
}

TEST(Llama2Model, OverflowingDimensionsAreRejectedBeforeAllocating) {
  Bytes b;
  for (int32_t v : {1 << 30, 1 << 30, 1 << 30, 1, 1, 1 << 30, 1 << 30}) append(b, v);
  EXPECT_TRUE(fails_at(parse_llama2_model(b, "m"), 0, "the header implies a model of more than 2^64 bytes"));
  Bytes v1 = golden_v1(true);
  for (size_t i = 0; i < 7; ++i) put<int32_t>(v1, 8 + 4 * i, i == 3 || i == 4 ? 2 : 1 << 30);
  EXPECT_TRUE(fails_at(parse_llama2_model(v1, "m"), 8, "more than 2^64 bytes"));
  // Large but representable: a ~100 TB model in a small file is a truncation, found without allocating.
  Bytes big;
  for (int32_t v : {1 << 16, 1 << 16, 1 << 12, 1 << 8, 1 << 8, 1 << 16, 1 << 12}) append(big, v);
  big.resize(1024, 0);
  EXPECT_TRUE(fails_at(parse_llama2_model(big, "m"), 28, "truncated: token_embedding [V, D] needs 17179869184 bytes"));
}

TEST(Llama2Model, V2GroupSizeChecks) {
  Bytes b = golden_v2(true).bytes;
  put<int32_t>(b, 37, 0);
  EXPECT_TRUE(fails_at(parse_llama2_model(b, "q"), 37, "group_size must be positive, got 0"));
  put<int32_t>(b, 37, 3);
  EXPECT_TRUE(fails_at(parse_llama2_model(b, "q"), 37, "group_size 3 does not divide token_embedding's 20 values"));
  // Group size 8 divides 16 and 24 but not token_embedding's 20.
  put<int32_t>(b, 37, 8);
  EXPECT_TRUE(fails_at(parse_llama2_model(b, "q"), 37, "does not divide token_embedding"));
  // Group size 2 is valid but implies twice the scales: with it, w2 would start at 828 and
  // run past the end of this 856-byte file.
  ASSERT_EQ(b.size(), 856u);
  put<int32_t>(b, 37, 2);
  EXPECT_TRUE(fails_at(parse_llama2_model(b, "q"), 828, "truncated: w2 [L, D, H] needs 144 bytes"));
}

TEST(Llama2Model, V2Truncated) {
  const Bytes b = golden_v2(false).bytes;
  // Norms: 256 + 4 * (8 + 8 + 4) = 336, then token_embedding: 20 int8 + 5 scales = 40 bytes.
  EXPECT_TRUE(fails_at(parse_llama2_model(test::truncated(b, 340), "q"), 336,
                       "token_embedding [V, D] needs 40 bytes from offset 336"));
  // wq: 2 layers x (16 + 4 * 4) = 64 bytes at 376.
  EXPECT_TRUE(fails_at(parse_llama2_model(test::truncated(b, 420), "q"), 376, "wq [L, D, D] needs 64 bytes"));
}

TEST(Llama2Model, MissingFileIsAnIoError) {
  test::ScratchDir dir;
  auto m = read_llama2_model(dir.file("nope.bin"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace ane
