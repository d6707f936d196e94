// A llama2.c v0 file's next-token logits through baked kernels against the float64 reference
// model on the same tokens. (The trainer's loss and gradients: tests/train/gradients_test.cpp.)
#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>

#include "formats/llama2_model.h"
#include "harness.h"
#include "models/layer_kernels.h"
#include "train/cpu_ops.h"

namespace ane::testing {
namespace {

using reference::Vec;

// fp32 copies of a reference model's tensors, viewed per layer.
struct ModelViews {
  std::vector<std::vector<float>> store;
  std::vector<models::WeightViews> layers;
  ModelViews(reference::Model& m) {
    store.reserve(2 + m.layers.size() * 11);
    auto view = [&](const Vec& v) {
      store.push_back(to_float(v));
      return std::span<const float>(store.back());
    };
    const auto emb = view(m.embedding), fin = view(m.rms_final);
    for (const reference::Layer& l : m.layers) {
      layers.push_back({view(l.rms_att), view(l.wq), view(l.wk), view(l.wv), view(l.wo), view(l.rms_ffn),
                        view(l.w1), view(l.w2), view(l.w3), view(l.q_norm), view(l.k_norm), fin, emb});
    }
  }
};

void randomize_tokens(std::vector<uint16_t>& tokens, std::vector<int>& as_int, int V, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < tokens.size(); ++i) as_int[i] = tokens[i] = static_cast<uint16_t>(rng() % uint64_t(V));
}

TEST(Llama2Model, NextTokenLogitsMatchReference) {
  // A small random llama2.c v0 file, read back and run.
  Llama2Model lm;
  lm.header = {64, 176, 2, 4, 2, 256, 32, true};
  auto cfg = model_config_from_llama2({64, 176, 2, 4, 2, 256, 32});
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  const ModelConfig c = *cfg;
  reference::Model m = reference::random_model(c, 9);
  for (Vec* p : m.params()) round_fp16(*p);
  auto cat = [&](auto field) {
    std::vector<float> out;
    for (const reference::Layer& l : m.layers) {
      const Vec& v = l.*field;
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  };
  using L = reference::Layer;
  lm.token_embedding = to_float(m.embedding);
  lm.rms_att = cat(&L::rms_att);
  lm.wq = cat(&L::wq);
  lm.wk = cat(&L::wk);
  lm.wv = cat(&L::wv);
  lm.wo = cat(&L::wo);
  lm.rms_ffn = cat(&L::rms_ffn);
  lm.w1 = cat(&L::w1);
  lm.w2 = cat(&L::w2);
  lm.w3 = cat(&L::w3);
  lm.rms_final = to_float(m.rms_final);
  const std::string path = (std::filesystem::temp_directory_path() / "openane_kernels_llama2_v0.bin").string();
  ASSERT_TRUE(write_llama2_model(path, lm, Llama2Format::kV0).ok());
  auto back = read_llama2_model(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  ASSERT_EQ(back->wq, lm.wq);

  auto engine = make_engine();
  ModelViews mv(m);  // the same values the file holds
  models::KernelGenerator gen(c);
  std::vector<RunnableKernel> att, ffn;
  for (size_t l = 0; l < m.layers.size(); ++l) {  // baked: one compile per layer
    att.push_back(compile_checked(*engine, gen.attention_forward(models::WeightSource::kBaked, &mv.layers[l]), nullptr));
    ffn.push_back(compile_checked(*engine, gen.ffn_forward(models::WeightSource::kBaked, &mv.layers[l]), nullptr));
  }
  RunnableKernel norm = compile_checked(*engine, gen.final_rmsnorm(models::WeightSource::kBaked, &mv.layers[0]), nullptr);
  RunnableKernel cls = compile_checked(*engine, gen.classifier_forward(models::WeightSource::kBaked, &mv.layers[0]), nullptr);
  ASSERT_TRUE(norm.kernel && cls.kernel);

  const int D = c.dim, S = c.seq_len;
  std::vector<uint16_t> tokens(static_cast<size_t>(S));
  std::vector<int> tok_i(static_cast<size_t>(S));
  randomize_tokens(tokens, tok_i, c.vocab_size, 4);
  std::vector<float> x0(size_t(D * S));
  ASSERT_TRUE(train::embed_lookup(x0, back->token_embedding, tokens, c.vocab_size, D, S).ok());
  Vec x = to_double(x0);
  for (size_t l = 0; l < m.layers.size(); ++l) {
    const std::vector<float> a = att[l].run({&x});
    for (size_t i = 0; i < x.size(); ++i) x[i] += a[i];
    round_fp16(x);
    const std::vector<float> f = ffn[l].run({&x});
    for (size_t i = 0; i < x.size(); ++i) x[i] += f[i];
    round_fp16(x);
  }
  const Vec xf = to_double(norm.run({&x}));
  const std::vector<float> logits = cls.run({&xf});
  const reference::ModelResult want = reference::model_forward(m, tok_i, tok_i);
  EXPECT_LT(rel_err(logits, 0, want.logits), 1e-2);
  // The next-token prediction at the last position agrees.
  auto argmax_last = [&](auto get) {
    int best = 0;
    for (int v = 1; v < c.vocab_size; ++v)
      if (get(v) > get(best)) best = v;
    return best;
  };
  const int got_tok = argmax_last([&](int v) { return double(logits[size_t(v * S + S - 1)]); });
  const int want_tok = argmax_last([&](int v) { return want.logits[size_t(v * S + S - 1)]; });
  EXPECT_EQ(got_tok, want_tok);
}

}  // namespace
}  // namespace ane::testing
