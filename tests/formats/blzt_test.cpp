// BLZT: the header layout against hand-written offsets, files built by hand from the spec
// (not by the writer) read and re-written byte for byte, and bad files rejected with the
// right byte offset.
#include "formats/blzt_checkpoint.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>

#include "core/file.h"

namespace ane {
namespace {

namespace fs = std::filesystem;

// The header offsets, written out from the field list and C's alignment rules.
TEST(BlztHeader, LayoutIsTheNaturallyAlignedCStruct) {
  EXPECT_EQ(sizeof(BlztHeader), 96u);
  EXPECT_EQ(offsetof(BlztHeader, magic), 0u);
  EXPECT_EQ(offsetof(BlztHeader, version), 4u);
  EXPECT_EQ(offsetof(BlztHeader, step), 8u);
  EXPECT_EQ(offsetof(BlztHeader, total_steps), 12u);
  EXPECT_EQ(offsetof(BlztHeader, n_layers), 16u);
  EXPECT_EQ(offsetof(BlztHeader, vocab_size), 20u);
  EXPECT_EQ(offsetof(BlztHeader, dim), 24u);
  EXPECT_EQ(offsetof(BlztHeader, hidden_dim), 28u);
  EXPECT_EQ(offsetof(BlztHeader, n_heads), 32u);
  EXPECT_EQ(offsetof(BlztHeader, seq_len), 36u);
  EXPECT_EQ(offsetof(BlztHeader, lr), 40u);
  EXPECT_EQ(offsetof(BlztHeader, loss), 44u);
  EXPECT_EQ(offsetof(BlztHeader, cum_compile), 48u);
  EXPECT_EQ(offsetof(BlztHeader, cum_train), 56u);
  EXPECT_EQ(offsetof(BlztHeader, cum_wall), 64u);
  EXPECT_EQ(offsetof(BlztHeader, cum_steps), 72u);
  EXPECT_EQ(offsetof(BlztHeader, cum_batches), 76u);
  EXPECT_EQ(offsetof(BlztHeader, adam_t), 80u);
  EXPECT_EQ(offsetof(BlztHeader, kv_heads), 84u);
  EXPECT_EQ(offsetof(BlztHeader, head_dim), 88u);
  EXPECT_EQ(offsetof(BlztHeader, q_dim), 92u);
}

// Little-endian stores into a byte buffer.
template <typename T>
void put(std::vector<uint8_t>& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof v);
}
template <typename T>
void append(std::vector<uint8_t>& b, T v) {
  b.resize(b.size() + sizeof v);
  put(b, b.size() - sizeof v, v);
}

// A small model described by hand; q_dim and kv_dim as the spec defines them.
struct Dims {
  int version, layers, vocab, dim, hidden, heads, seq;
  int kv_heads = 0, head_dim = 0;  // version 4
  int q_dim() const { return version == 4 ? heads * head_dim : dim; }
  int kv_dim() const { return version == 4 ? kv_heads * head_dim : dim; }
};

// Sizes of the nine per-layer tensors in file order.
std::vector<int> layer_sizes(const Dims& d) {
  return {d.q_dim() * d.dim, d.kv_dim() * d.dim, d.kv_dim() * d.dim, d.dim * d.q_dim(), d.hidden * d.dim,
          d.dim * d.hidden,  d.hidden * d.dim,   d.dim,              d.dim};
}

// The value at index i of the a-th array in file order.
float pattern(int a, int i) { return static_cast<float>(a * 1000 + i) * 0.5f; }

// A BLZT file written straight from the spec: header fields at their offsets, then the arrays
// in file order filled with pattern(array number, index).
std::vector<uint8_t> hand_built(const Dims& d) {
  std::vector<uint8_t> b(96, 0);
  put<int32_t>(b, 0, 0x424C5A54);
  put<int32_t>(b, 4, d.version);
  put<int32_t>(b, 8, 123);  // step
  put<int32_t>(b, 12, 10000);
  put<int32_t>(b, 16, d.layers);
  put<int32_t>(b, 20, d.vocab);
  put<int32_t>(b, 24, d.dim);
  put<int32_t>(b, 28, d.hidden);
  put<int32_t>(b, 32, d.heads);
  put<int32_t>(b, 36, d.seq);
  put<float>(b, 40, 3e-4f);
  put<float>(b, 44, 2.5f);
  put<double>(b, 48, 1500.25);
  put<double>(b, 56, 90000.5);
  put<double>(b, 64, 120000.75);
  put<int32_t>(b, 72, 123);
  put<int32_t>(b, 76, 12);
  put<int32_t>(b, 80, 122);
  if (d.version == 4) {
    put<int32_t>(b, 84, d.kv_heads);
    put<int32_t>(b, 88, d.head_dim);
    put<int32_t>(b, 92, d.q_dim());
  }
  int a = 0;
  auto array = [&](int n) {
    for (int i = 0; i < n; ++i) append<float>(b, pattern(a, i));
    ++a;
  };
  const std::vector<int> sizes = layer_sizes(d);
  for (int l = 0; l < d.layers; ++l) {
    for (int n : sizes) array(n);  // weights
    for (int n : sizes) {          // m then v per tensor
      array(n);
      array(n);
    }
  }
  for (int k = 0; k < 3; ++k) array(d.dim);              // rms_final w m v
  for (int k = 0; k < 3; ++k) array(d.vocab * d.dim);  // embedding w m v
  return b;
}

const Dims kMha{2, 2, 5, 4, 8, 2, 3};
const Dims kGqa{4, 1, 5, 4, 8, 4, 3, 2, 2};  // q_dim 8 != dim 4, kv_dim 4

void expect_pattern(const std::vector<float>& v, size_t n, int a, const std::string& what) {
  ASSERT_EQ(v.size(), n) << what;
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(v[i], pattern(a, static_cast<int>(i))) << what << "[" << i << "]";
}

void expect_matches_hand_built(const BlztCheckpoint& c, const Dims& d) {
  EXPECT_EQ(c.header.version, d.version);
  EXPECT_EQ(c.header.step, 123);
  EXPECT_EQ(c.header.total_steps, 10000);
  EXPECT_EQ(c.header.lr, 3e-4f);
  EXPECT_EQ(c.header.loss, 2.5f);
  EXPECT_EQ(c.header.cum_compile, 1500.25);
  EXPECT_EQ(c.header.cum_train, 90000.5);
  EXPECT_EQ(c.header.cum_wall, 120000.75);
  EXPECT_EQ(c.header.cum_steps, 123);
  EXPECT_EQ(c.header.cum_batches, 12);
  EXPECT_EQ(c.header.adam_t, 122);
  ASSERT_EQ(c.layers.size(), static_cast<size_t>(d.layers));
  const std::vector<int> sizes = layer_sizes(d);
  for (int l = 0; l < d.layers; ++l) {
    const BlztLayer& L = c.layers[l];
    const BlztTensor* t[] = {&L.wq, &L.wk, &L.wv, &L.wo, &L.w1, &L.w2, &L.w3, &L.rms_att, &L.rms_ffn};
    for (int k = 0; k < 9; ++k) {
      const int base = l * 27;
      const std::string what = "layer " + std::to_string(l) + " tensor " + std::to_string(k);
      expect_pattern(t[k]->w, sizes[k], base + k, what + " w");
      expect_pattern(t[k]->m, sizes[k], base + 9 + 2 * k, what + " m");
      expect_pattern(t[k]->v, sizes[k], base + 10 + 2 * k, what + " v");
    }
  }
  const int g = d.layers * 27;
  expect_pattern(c.rms_final.w, d.dim, g, "rms_final.w");
  expect_pattern(c.rms_final.m, d.dim, g + 1, "rms_final.m");
  expect_pattern(c.rms_final.v, d.dim, g + 2, "rms_final.v");
  expect_pattern(c.embedding.w, d.vocab * d.dim, g + 3, "embedding.w");
  expect_pattern(c.embedding.m, d.vocab * d.dim, g + 4, "embedding.m");
  expect_pattern(c.embedding.v, d.vocab * d.dim, g + 5, "embedding.v");
}

TEST(Blzt, ReadsAHandBuiltVersion2FileAndWritesItBackByteForByte) {
  const std::vector<uint8_t> file = hand_built(kMha);
  // 96 + 2 layers x 168 floats x 3 x 4 bytes + 3 x 4 x 4 + 3 x 20 x 4.
  ASSERT_EQ(file.size(), 96u + 2 * 168 * 12 + 48 + 240);
  auto c = parse_blzt(file, "v2.bin");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  expect_matches_hand_built(*c, kMha);
  auto size = blzt_file_size(c->header);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, file.size());
  auto back = serialize_blzt(*c);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(*back, file);
}

TEST(Blzt, ReadsAHandBuiltVersion4GqaFileAndWritesItBackByteForByte) {
  const std::vector<uint8_t> file = hand_built(kGqa);
  auto c = parse_blzt(file, "v4.bin");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  expect_matches_hand_built(*c, kGqa);
  EXPECT_EQ(c->header.kv_heads, 2);
  EXPECT_EQ(c->header.head_dim, 2);
  EXPECT_EQ(c->header.q_dim, 8);
  EXPECT_EQ(c->layers[0].wq.w.size(), 32u);  // [q_dim 8, dim 4]
  EXPECT_EQ(c->layers[0].wk.w.size(), 16u);  // [kv_dim 4, dim 4]
  EXPECT_EQ(c->layers[0].wo.w.size(), 32u);  // [dim 4, q_dim 8]
  auto back = serialize_blzt(*c);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, file);

  auto cfg = blzt_model_config(c->header);
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(cfg->n_kv_heads, 2);
  EXPECT_EQ(cfg->head_dim, 2);
  EXPECT_EQ(cfg->q_dim(), 8u);
  EXPECT_EQ(cfg->vocab_size, 5);
}

// The arrays of a file, as for_each_blzt_array gives them: name, part, count, byte offset.
struct Visited {
  std::string tensor;
  BlztPart part;
  uint64_t count;
  size_t offset;
  std::span<const uint8_t> bytes;
};
std::vector<Visited> visit_all(const std::vector<uint8_t>& file) {
  std::vector<Visited> out;
  Status st = for_each_blzt_array(file, "test.bin", [&](const BlztArray& a, std::span<const uint8_t> bytes) {
    out.push_back({a.tensor, a.part, a.count(), static_cast<size_t>(bytes.data() - file.data()), bytes});
    return Status();
  });
  EXPECT_TRUE(st.ok()) << st.error().to_string();
  return out;
}

TEST(Blzt, ArraysAreVisitedInFileOrderAsViewsOfTheBytes) {
  const std::vector<uint8_t> file = hand_built(kMha);  // two layers
  const std::vector<Visited> arrays = visit_all(file);
  ASSERT_EQ(arrays.size(), 2u * 27 + 6);  // 9 tensors x 3 arrays a layer, then rms_final and embedding
  EXPECT_EQ(arrays[0].tensor, "layers.0.wq");
  EXPECT_EQ(arrays[0].part, BlztPart::kWeights);
  EXPECT_EQ(arrays[0].offset, 96u);
  EXPECT_EQ(arrays[0].count, 16u);  // [dim 4, dim 4]
  EXPECT_EQ(arrays[8].tensor, "layers.0.rms_ffn");
  EXPECT_EQ(arrays[9].tensor, "layers.0.wq");  // then each tensor's m and v
  EXPECT_EQ(arrays[9].part, BlztPart::kM);
  EXPECT_EQ(arrays[10].part, BlztPart::kV);
  EXPECT_EQ(arrays[27].tensor, "layers.1.wq");
  EXPECT_EQ(arrays[54].tensor, "rms_final");
  EXPECT_EQ(arrays.back().tensor, "embedding");
  EXPECT_EQ(arrays.back().part, BlztPart::kV);
  EXPECT_EQ(arrays.back().offset + arrays.back().bytes.size(), file.size());
  for (size_t i = 1; i < arrays.size(); ++i) {
    EXPECT_EQ(arrays[i].offset, arrays[i - 1].offset + arrays[i - 1].bytes.size()) << i;
    EXPECT_EQ(arrays[i].bytes.size(), arrays[i].count * 4) << i;
  }
  // The bytes are parse_blzt's values.
  auto c = parse_blzt(file, "v2.bin");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(std::memcmp(arrays[28].bytes.data(), c->layers[1].wk.w.data(), 64), 0);
  EXPECT_EQ(std::memcmp(arrays.back().bytes.data(), c->embedding.v.data(), c->embedding.v.size() * 4), 0);
  // A damaged file fails as parse_blzt fails, before any array is visited.
  const std::vector<uint8_t> cut(file.begin(), file.end() - 1);
  int visited = 0;
  Status st = for_each_blzt_array(cut, "cut.bin", [&](const BlztArray&, std::span<const uint8_t>) {
    ++visited;
    return Status();
  });
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().to_string().find("inside embedding.v"), std::string::npos) << st.error().to_string();
  EXPECT_EQ(visited, 0);
}

// A save streamed array by array writes the file byte for byte; a source that gives a wrong
// size or fails leaves no file behind.
TEST(Blzt, StreamedSaveWritesTheFileByteForByte) {
  const std::vector<uint8_t> file = hand_built(kGqa);
  std::map<std::pair<std::string, BlztPart>, std::span<const float>> arrays;
  for (const Visited& v : visit_all(file)) {
    arrays[{v.tensor, v.part}] = {reinterpret_cast<const float*>(v.bytes.data()), v.count};
  }
  BlztHeader header;
  std::memcpy(&header, file.data(), sizeof header);
  const fs::path dir = fs::temp_directory_path() / ("ane_blzt_stream_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "streamed.bin").string();
  std::vector<std::string> asked;
  Status st = save_blzt(path, header, [&](const BlztArray& a) -> Expected<std::span<const float>> {
    asked.push_back(a.tensor);
    return arrays.at({a.tensor, a.part});
  });
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  auto written = read_file(path);
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(*written, file);
  EXPECT_EQ(asked.size(), arrays.size());  // each array asked for once

  const std::string other = (dir / "short.bin").string();
  st = save_blzt(other, header, [&](const BlztArray& a) -> Expected<std::span<const float>> {
    const std::span<const float> x = arrays.at({a.tensor, a.part});
    return a.tensor == "layers.0.w2" && a.part == BlztPart::kV ? x.first(x.size() - 1) : x;
  });
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("layer 0 W2.v has 31 floats, the header implies 32"), std::string::npos)
      << st.error().message();
  st = save_blzt(other, header, [&](const BlztArray&) -> Expected<std::span<const float>> {
    return invalid_argument("no such state");
  });
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("no such state"), std::string::npos);
  EXPECT_FALSE(fs::exists(other));
  fs::remove_all(dir);
}

TEST(Blzt, Stories110MFileSizeFromTheSeedConstants) {
  BlztHeader h;
  h.n_layers = 12;
  h.vocab_size = 32000;
  h.dim = 768;
  h.hidden_dim = 2048;
  h.n_heads = 12;
  h.seq_len = 256;
  const uint64_t layer_params = 4 * 589824ull + 3 * 1572864ull + 2 * 768;
  const uint64_t expected = 96 + 12 * layer_params * 3 * 4 + 3 * 768 * 4 + 3 * 32000ull * 768 * 4;
  auto size = blzt_file_size(h);
  ASSERT_TRUE(size.ok()) << size.error().to_string();
  EXPECT_EQ(*size, expected);
  auto cfg = blzt_model_config(h);
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(*cfg, [] {
    ModelConfig c = *model_preset("stories110M");
    c.name = "";
    return c;
  }());
}

TEST(Blzt, MakeSaveLoadRoundTrip) {
  const fs::path dir = fs::temp_directory_path() / "openane_blzt_test";
  fs::create_directories(dir);
  for (int version : {2, 4}) {
    ModelConfig cfg = *model_preset("tiny");
    if (version == 2) cfg.n_kv_heads = cfg.n_heads;
    auto c = make_blzt_checkpoint(cfg, version);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    c->header.step = 7;
    c->header.cum_wall = 42.5;
    c->layers[1].w2.v[5] = 1.25f;
    c->embedding.m.back() = -3.0f;
    const std::string path = (dir / ("ckpt_v" + std::to_string(version) + ".bin")).string();
    ASSERT_TRUE(save_blzt(path, *c).ok());
    auto back = load_blzt(path);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(std::memcmp(&back->header, &c->header, sizeof(BlztHeader)), 0);
    EXPECT_EQ(back->layers, c->layers);
    EXPECT_EQ(back->rms_final, c->rms_final);
    EXPECT_EQ(back->embedding, c->embedding);
    auto cfg_back = blzt_model_config(back->header);
    ASSERT_TRUE(cfg_back.ok()) << cfg_back.error().to_string();
    cfg.name = "";
    EXPECT_EQ(*cfg_back, cfg);
    EXPECT_EQ(fs::file_size(path), *blzt_file_size(c->header));
  }
}

TEST(Blzt, MakeRefusesWhatTheFormatCannotHold) {
  ModelConfig cfg = *model_preset("tiny");  // GQA
  auto v2 = make_blzt_checkpoint(cfg, 2);
  ASSERT_FALSE(v2.ok());
  EXPECT_NE(v2.error().message().find("use version 4"), std::string::npos);
  auto v3 = make_blzt_checkpoint(cfg, 3);
  ASSERT_FALSE(v3.ok());
  auto qwen = make_blzt_checkpoint(*model_preset("qwen3-0.6b"), 4);
  ASSERT_FALSE(qwen.ok());
  EXPECT_NE(qwen.error().message().find("qk-norm"), std::string::npos);
  cfg.shared_classifier = false;
  auto unshared = make_blzt_checkpoint(cfg, 4);
  ASSERT_FALSE(unshared.ok());
  EXPECT_NE(unshared.error().message().find("classifier"), std::string::npos);
}

TEST(Blzt, WriterChecksTensorSizes) {
  auto c = make_blzt_checkpoint(*model_preset("tiny"), 4);
  ASSERT_TRUE(c.ok());
  c->layers[1].wk.m.pop_back();
  auto bytes = serialize_blzt(*c);
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.error().message().find("layer 1 Wk.m has 2047 floats, the header implies 2048"), std::string::npos)
      << bytes.error().message();
  c->layers.pop_back();
  EXPECT_FALSE(serialize_blzt(*c).ok());
}

// Error for `bytes`, which must fail to parse.
Error parse_failure(const std::vector<uint8_t>& bytes) {
  auto c = parse_blzt(bytes, "bad.bin");
  EXPECT_FALSE(c.ok());
  return c.ok() ? Error(ErrorCode::kInternal, "parsed") : c.error();
}

void expect_error(const std::vector<uint8_t>& bytes, int64_t offset, const std::string& text) {
  Error e = parse_failure(bytes);
  EXPECT_EQ(e.where().file, "bad.bin");
  EXPECT_EQ(e.where().byte_offset, offset) << e.to_string();
  EXPECT_NE(e.message().find(text), std::string::npos) << e.to_string();
}

TEST(BlztBad, TruncatedSaysWhereTheDataRanOut) {
  const std::vector<uint8_t> file = hand_built(kMha);
  const size_t n = file.size();  // 4416
  auto cut = [&](size_t len) { return std::vector<uint8_t>(file.begin(), file.begin() + len); };
  for (size_t len : {0, 4, 95}) expect_error(cut(len), 0, "truncated: BLZT header needs 96 bytes");
  // 168 floats a layer: Wq, Wk, Wv, Wo 16 each, W1..W3 32 each, two norms of 4.
  expect_error(cut(96), 96, "data ran out at byte 96 inside layer 0 Wq (bytes 96..160)");
  expect_error(cut(97), 97, "inside layer 0 Wq (bytes 96..160)");
  expect_error(cut(160), 160, "inside layer 0 Wk (bytes 160..224)");
  expect_error(cut(96 + 168 * 4), 768, "inside layer 0 Wq.m (bytes 768..832)");
  expect_error(cut(832), 832, "inside layer 0 Wq.v (bytes 832..896)");
  expect_error(cut(96 + 2016 + 10), 2122, "inside layer 1 Wq (bytes 2112..2176)");
  expect_error(cut(96 + 2 * 2016), 4128, "inside rms_final (bytes 4128..4144)");
  expect_error(cut(n - 1), static_cast<int64_t>(n - 1), "inside embedding.v (bytes 4336..4416)");
  expect_error(cut(n - 1), static_cast<int64_t>(n - 1), "the header implies 4416 bytes");
}

TEST(BlztBad, TooLong) {
  std::vector<uint8_t> file = hand_built(kMha);
  file.resize(file.size() + 4, 0);
  expect_error(file, 4416, "4 unexpected bytes after the last array");
}

TEST(BlztBad, HeaderFieldsAreCheckedAtTheirOffsets) {
  const std::vector<uint8_t> good = hand_built(kMha);
  const std::vector<uint8_t> gqa = hand_built(kGqa);
  auto with = [](std::vector<uint8_t> b, size_t at, int32_t v) {
    put<int32_t>(b, at, v);
    return b;
  };
  expect_error(with(good, 0, 0x544C5A42), 0, "bad magic 0x544C5A42, expected 0x424C5A54");
  expect_error(with(good, 4, 3), 4, "unsupported version 3 (expected 2 or 4)");
  expect_error(with(good, 4, 1), 4, "unsupported version 1");
  expect_error(with(good, 16, 0), 16, "n_layers = 0 must be positive");
  expect_error(with(good, 20, -5), 20, "vocab_size = -5 must be positive");
  expect_error(with(good, 24, 0), 24, "dim = 0 must be positive");
  expect_error(with(good, 28, 0), 28, "hidden_dim = 0");
  expect_error(with(good, 32, 0), 32, "n_heads = 0");
  expect_error(with(good, 36, 0), 36, "seq_len = 0");
  expect_error(with(good, 32, 3), 24, "dim 4 is not a multiple of n_heads 3");
  expect_error(with(gqa, 84, 0), 84, "kv_heads = 0");
  expect_error(with(gqa, 88, -2), 88, "head_dim = -2");
  expect_error(with(gqa, 92, 0), 92, "q_dim = 0");
  expect_error(with(gqa, 84, 3), 84, "kv_heads 3 does not divide n_heads 4");
  expect_error(with(gqa, 92, 4), 92, "q_dim 4 != n_heads * head_dim = 8");
  // Version 2 ignores the pad words, as the original did.
  EXPECT_TRUE(parse_blzt(with(good, 84, 7), "pad.bin").ok());
  // A version 2 file relabelled 4 has a zero kv_heads.
  expect_error(with(good, 4, 4), 84, "kv_heads = 0 must be positive");
}

TEST(BlztBad, AShapeThatIsNoModelIsRefusedWhenRead) {
  // Four heads of one value each: a consistent layout, but RoPE has no pairs to rotate. Found
  // by the blzt fuzzer: such a file read, and failed later without naming the file.
  const Dims odd_heads{4, 1, 5, 4, 8, 4, 3, 2, 1};
  expect_error(hand_built(odd_heads), 0, "not a model OpenANE can hold: ");
  expect_error(hand_built(odd_heads), 0, "head_dim (1) must be even");
  // Version 2's head_dim is dim / n_heads.
  expect_error(hand_built(Dims{2, 1, 5, 4, 8, 4, 3}), 0, "head_dim (1) must be even");
}

TEST(BlztBad, HugeDimensionsFailWithoutAllocating) {
  std::vector<uint8_t> header = hand_built(kMha);
  header.resize(96);
  auto with = [&](std::initializer_list<std::pair<size_t, int32_t>> fields) {
    std::vector<uint8_t> b = header;
    for (auto [at, v] : fields) put<int32_t>(b, at, v);
    return b;
  };
  // 2^30 everywhere: more than 2^64 bytes.
  expect_error(with({{16, 1 << 30}, {20, 1 << 30}, {24, 1 << 30}, {28, 1 << 30}, {32, 1}}), 0,
               "dimensions imply a file of more than 2^64 bytes");
  // 2^20 wide, one layer: representable, so the file is simply far too short.
  expect_error(with({{16, 1}, {20, 1 << 20}, {24, 1 << 20}, {28, 1 << 20}, {32, 1}}), 96,
               "data ran out at byte 96 inside layer 0 Wq (bytes 96..4398046511200)");
  // Max int everywhere.
  expect_error(with({{16, INT32_MAX}, {20, INT32_MAX}, {24, INT32_MAX}, {28, INT32_MAX}, {32, 1}}), 0, "2^64");
}

}  // namespace
}  // namespace ane
