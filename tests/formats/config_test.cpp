// ModelConfig: the seed's stories110M constants computed independently, presets, every
// validate() rule, JSON round trips and bad JSON, the llama2.c header.
#include "formats/model_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/file.h"

namespace ane {
namespace {

namespace fs = std::filesystem;

// A fresh file path in a per-test temporary directory.
std::string temp_path(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir = fs::temp_directory_path() / "openane_config_test" / info->name();
  fs::create_directories(dir);
  return (dir / name).string();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(ModelConfig, Stories110MMatchesTheSeedConstants) {
  auto c = model_preset("stories110M");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  // The seed's macros: DIM 768, HIDDEN 2048, HEADS 12, SEQ 256, NLAYERS 12, VOCAB 32000.
  const size_t dim = 768, hidden = 2048, heads = 12, seq = 256, layers = 12, vocab = 32000;
  const size_t wq = dim * dim, w1 = hidden * dim;
  EXPECT_EQ(wq, 589824u);
  EXPECT_EQ(w1, 1572864u);
  EXPECT_EQ(c->wq_size(), wq);
  EXPECT_EQ(c->wk_size(), wq);
  EXPECT_EQ(c->wv_size(), wq);
  EXPECT_EQ(c->wo_size(), wq);
  EXPECT_EQ(c->w1_size(), w1);
  EXPECT_EQ(c->w2_size(), w1);
  EXPECT_EQ(c->w3_size(), w1);
  EXPECT_EQ(c->score_channels(), 3072u);
  EXPECT_EQ(c->score_channels(), heads * seq);
  const size_t layer_params = 4 * 589824 + 3 * 1572864 + 2 * 768;
  EXPECT_EQ(c->layer_params(), layer_params);
  EXPECT_EQ(c->total_params(), layers * layer_params + 768 + vocab * dim);
  EXPECT_EQ(c->total_params(), 12u * (4 * 589824 + 3 * 1572864 + 2 * 768) + 768 + 32000u * 768);
  EXPECT_EQ(c->head_dim, 64);
  EXPECT_EQ(c->q_dim(), 768u);
  EXPECT_EQ(c->kv_dim(), 768u);
  EXPECT_EQ(c->gqa_ratio(), 1);
}

TEST(ModelConfig, Qwen3PresetIsGqaWithWideHeads) {
  auto c = model_preset("qwen3-0.6b");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->q_dim(), 16u * 128);
  EXPECT_EQ(c->kv_dim(), 8u * 128);
  EXPECT_EQ(c->gqa_ratio(), 2);
  EXPECT_EQ(c->wq_size(), 2048u * 1024);
  EXPECT_EQ(c->wk_size(), 1024u * 1024);
  EXPECT_EQ(c->wo_size(), 1024u * 2048);
  EXPECT_EQ(c->qk_norm_size(), 128u);
  EXPECT_TRUE(c->qk_norm);
  EXPECT_TRUE(c->shared_classifier);
  EXPECT_DOUBLE_EQ(c->rope_theta, 1e6);
  EXPECT_DOUBLE_EQ(c->norm_eps, 1e-6);
  // Per layer: q 2048x1024, k and v 1024x1024, o 1024x2048, three 3072x1024 FFN matrices,
  // two [1024] norms and two [128] qk norms.
  const size_t layer = 2 * 2048 * 1024 + 2 * 1024 * 1024 + 3 * 3072 * 1024 + 2 * 1024 + 2 * 128;
  EXPECT_EQ(c->layer_params(), layer);
  EXPECT_EQ(c->total_params(), 28 * layer + 1024 + 151936u * 1024);  // ~0.6B with tied embeddings
  EXPECT_GT(c->total_params(), 590'000'000u);
  EXPECT_LT(c->total_params(), 600'000'000u);
}

TEST(ModelConfig, EveryPresetValidatesAndRoundTripsThroughJson) {
  const std::vector<std::string> names = model_preset_names();
  EXPECT_EQ(names.size(), 5u);
  for (const std::string& name : names) {
    auto c = model_preset(name);
    ASSERT_TRUE(c.ok()) << name;
    EXPECT_EQ(c->name, name);
    EXPECT_TRUE(c->validate().ok()) << name << ": " << c->validate().to_string();
    auto back = ModelConfig::from_json(c->to_json());
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(*back, *c);
  }
  auto s15 = model_preset("stories15M");
  EXPECT_EQ(s15->dim, 288);
  EXPECT_EQ(s15->hidden_dim, 768);
  EXPECT_EQ(s15->seq_len, 256);
  auto s42 = model_preset("stories42M");
  EXPECT_EQ(s42->hidden_dim, 1376);
  EXPECT_EQ(s42->seq_len, 1024);
}

TEST(ModelConfig, UnknownPresetListsTheKnownOnes) {
  auto c = model_preset("stories7B");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("stories7B"), std::string::npos);
  EXPECT_NE(c.error().message().find("qwen3-0.6b"), std::string::npos);
}

// Each broken rule, with the words its message must contain.
TEST(ModelConfig, ValidateNamesEachBrokenRule) {
  struct Case {
    void (*mutate)(ModelConfig&);
    const char* expect;
  };
  const Case cases[] = {
      {[](ModelConfig& c) { c.dim = 0; }, "dim must be positive (got 0)"},
      {[](ModelConfig& c) { c.hidden_dim = -1; }, "hidden_dim must be positive"},
      {[](ModelConfig& c) { c.n_layers = 0; }, "n_layers must be positive"},
      {[](ModelConfig& c) { c.n_heads = 0; }, "n_heads must be positive"},
      {[](ModelConfig& c) { c.n_kv_heads = 0; }, "n_kv_heads must be positive"},
      {[](ModelConfig& c) { c.head_dim = 0; }, "head_dim must be positive"},
      {[](ModelConfig& c) { c.vocab_size = 0; }, "vocab_size must be positive"},
      {[](ModelConfig& c) { c.seq_len = 0; }, "seq_len must be positive"},
      {[](ModelConfig& c) { c.n_kv_heads = 3; }, "n_kv_heads (3) must divide n_heads (4)"},
      {[](ModelConfig& c) { c.n_kv_heads = 8; }, "n_kv_heads (8) must divide n_heads (4)"},
      {[](ModelConfig& c) { c.head_dim = 15; }, "head_dim (15) must be even"},
      {[](ModelConfig& c) { c.rope_theta = 0; }, "rope_theta must be positive and finite"},
      {[](ModelConfig& c) { c.norm_eps = -1e-5; }, "norm_eps must be positive and finite"},
      {[](ModelConfig& c) { c.norm_eps = std::numeric_limits<double>::quiet_NaN(); }, "norm_eps"},
      {[](ModelConfig& c) { c.dim = c.hidden_dim = c.vocab_size = c.n_layers = 1 << 30; }, "overflows"},
  };
  for (const Case& k : cases) {
    ModelConfig c = *model_preset("tiny");
    ASSERT_TRUE(c.validate().ok());
    k.mutate(c);
    Status st = c.validate();
    ASSERT_FALSE(st.ok()) << k.expect;
    EXPECT_NE(st.error().message().find(k.expect), std::string::npos) << st.error().message();
  }
}

TEST(ModelConfig, LargeVocabIsNotLimitedToUint16) {
  ModelConfig c = *model_preset("tiny");
  c.vocab_size = 200000;
  EXPECT_TRUE(c.validate().ok());
}

TEST(ModelConfig, HeadDimIsIndependentOfDim) {
  ModelConfig c = *model_preset("tiny");  // dim 64, 4 heads: head_dim could be 16 ...
  c.head_dim = 48;                        // ... but is 48 here
  ASSERT_TRUE(c.validate().ok());
  EXPECT_EQ(c.q_dim(), 4u * 48);
  EXPECT_EQ(c.kv_dim(), 2u * 48);
  EXPECT_EQ(c.wq_size(), 4u * 48 * 64);
  EXPECT_EQ(c.wo_size(), 64u * 4 * 48);
  EXPECT_EQ(c.wk_size(), 2u * 48 * 64);
}

TEST(ModelConfig, UnsharedClassifierAndQkNormCountInTotal) {
  ModelConfig c = *model_preset("tiny");
  const size_t base = c.total_params();
  c.shared_classifier = false;
  EXPECT_EQ(c.total_params(), base + 256u * 64);
  c.qk_norm = true;
  EXPECT_EQ(c.total_params(), base + 256u * 64 + 2u * 2 * 16);  // 2 layers x (q_norm + k_norm)
}

TEST(ModelConfigJson, ParsesAMinimalFileAndAppliesDefaults) {
  const std::string path = temp_path("cfg.json");
  write_text(path, R"({"dim": 64, "hidden_dim": 176, "n_layers": 2, "n_heads": 4, "n_kv_heads": 2,
                      "head_dim": 16, "vocab_size": 256, "seq_len": 32})");
  auto c = load_model_config(path);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->dim, 64);
  EXPECT_DOUBLE_EQ(c->rope_theta, 10000.0);
  EXPECT_DOUBLE_EQ(c->norm_eps, 1e-5);
  EXPECT_FALSE(c->qk_norm);
  EXPECT_TRUE(c->shared_classifier);
  EXPECT_EQ(c->name, "");
  ModelConfig tiny = *model_preset("tiny");
  tiny.name = "";
  EXPECT_EQ(*c, tiny);
}

TEST(ModelConfigJson, SaveLoadRoundTrip) {
  const std::string path = temp_path("qwen.json");
  ModelConfig q = *model_preset("qwen3-0.6b");
  q.seq_len = 512;
  q.shared_classifier = false;
  ASSERT_TRUE(save_model_config(path, q).ok());
  auto back = load_model_config(path);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(*back, q);
  auto via = config_from_name_or_file(path);
  ASSERT_TRUE(via.ok());
  EXPECT_EQ(*via, q);
}

TEST(ModelConfigJson, NameOrFile) {
  auto preset = config_from_name_or_file("stories42M");
  ASSERT_TRUE(preset.ok());
  EXPECT_EQ(preset->dim, 512);
  auto missing = config_from_name_or_file("/nonexistent/dir/model.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("neither a model preset"), std::string::npos);
  EXPECT_NE(missing.error().message().find("stories110M"), std::string::npos);
  // A file that exists but is broken reports its own error, not "unknown preset".
  const std::string path = temp_path("bad.json");
  write_text(path, "{\"dim\": 1");
  auto broken = config_from_name_or_file(path);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message().find("model config: invalid JSON"), std::string::npos);
}

TEST(ModelConfigJson, BadJsonNamesTheKeyOrTheByte) {
  const std::string full = R"({"dim": 64, "hidden_dim": 176, "n_layers": 2, "n_heads": 4, "n_kv_heads": 2, "head_dim": 16, "vocab_size": 256, "seq_len": 32)";
  struct Case {
    std::string text;
    const char* expect;
  };
  const Case cases[] = {
      {full + R"(, "dimm": 3})", "unknown key 'dimm'"},
      {R"({"dim": 64})", "missing key 'hidden_dim'"},
      {full + R"(, "qk_norm": 1})", "key 'qk_norm' must be true or false"},
      {full + R"(, "name": 5})", "key 'name' must be a string"},
      {full + R"(, "rope_theta": "big"})", "key 'rope_theta' must be a number"},
      {R"({"dim": 64.5, "hidden_dim": 176})", "key 'dim' must be an integer"},
      {R"({"dim": 4294967296})", "key 'dim' = 4294967296 does not fit in a 32-bit int"},
      {full + R"(, "head_dim": 15})", "head_dim (15) must be even"},  // duplicate key: the last wins
      {R"([1, 2])", "expected a JSON object"},
  };
  for (const Case& k : cases) {
    auto c = parse_model_config(k.text, "cfg.json");
    ASSERT_FALSE(c.ok()) << k.text;
    EXPECT_NE(c.error().message().find(k.expect), std::string::npos) << c.error().message();
    EXPECT_EQ(c.error().where().file, "cfg.json");
  }
  // Validation failures come through from_json with the source attached.
  auto odd = parse_model_config(full + R"(, "n_kv_heads": 3})", "cfg.json");
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.error().message().find("must divide n_heads"), std::string::npos);
  // Syntax errors carry the byte offset.
  auto syntax = parse_model_config("{\"dim\": 64,, }", "cfg.json");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().code(), ErrorCode::kParse);
  EXPECT_EQ(syntax.error().where().byte_offset, 11);
  auto deep = parse_model_config(std::string(300, '{'), "deep.json");
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().where().byte_offset, 256);
  EXPECT_NE(deep.error().message().find("nested more than 256 levels"), std::string::npos);
}

TEST(ModelConfigLlama2, FromSevenIntHeader) {
  auto c = model_config_from_llama2({288, 768, 6, 6, 6, 32000, 256}, "stories15M");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(*c, *model_preset("stories15M"));

  auto gqa = model_config_from_llama2({64, 172, 5, 8, 4, -512, 512});  // stories260K-like, unshared
  ASSERT_TRUE(gqa.ok()) << gqa.error().to_string();
  EXPECT_EQ(gqa->head_dim, 8);
  EXPECT_EQ(gqa->kv_dim(), 32u);
  EXPECT_EQ(gqa->vocab_size, 512);
  EXPECT_FALSE(gqa->shared_classifier);

  auto bad = model_config_from_llama2({100, 768, 6, 6, 6, 32000, 256});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("multiple of n_heads"), std::string::npos);
  auto zero_heads = model_config_from_llama2({288, 768, 6, 0, 6, 32000, 256});
  ASSERT_FALSE(zero_heads.ok());
  auto min_vocab = model_config_from_llama2({288, 768, 6, 6, 6, INT32_MIN, 256});
  ASSERT_FALSE(min_vocab.ok());
  EXPECT_NE(min_vocab.error().message().find("vocab_size must be positive"), std::string::npos);
}

}  // namespace
}  // namespace ane
