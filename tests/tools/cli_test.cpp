// The `ane` binary end to end: `ane inspect` identifies every format from files written by
// the format writers, `ane mil run` computes RMSNorm correctly (checked against a float64
// loop here), `ane export` and `ane generate` and the tokenizer commands agree with the
// libraries they wrap, and bad input gives a located error and a failing exit code.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "core/file.h"
#include "core/fp16.h"
#include "../text/reference_bpe.h"
#include "cli_util.h"
#include "formats/blzt_checkpoint.h"
#include "formats/checkpoint.h"
#include "formats/llama2_model.h"
#include "formats/model_config.h"
#include "formats/model_weights.h"
#include "formats/npy.h"
#include "formats/token_shard.h"
#include "formats/tokenizer_file.h"
#include "formats/weight_blob.h"
#include "infer/generate.h"
#include "text/tokenizer.h"

namespace ane {
namespace {

void expect_inspect(const std::string& file, const std::string& says) {
  RunResult r = run_ane("inspect " + file);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(says), std::string::npos) << r.output;
}

TEST_F(Cli, HelpAndInfo) {
  EXPECT_EQ(run_ane("--help").exit_code, 0);
  RunResult info = run_ane("info");
  EXPECT_EQ(info.exit_code, 0);
  EXPECT_NE(info.output.find("threads:"), std::string::npos);
  RunResult bad = run_ane("frobnicate");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("unknown command 'frobnicate'"), std::string::npos);
}

TEST_F(Cli, InspectIdentifiesEveryFormat) {
  std::vector<float> w(6 * 4, 0.5f);
  auto blob = build_blob(w, 6, 4);
  ASSERT_TRUE(blob.ok());
  ASSERT_TRUE(write_file_atomic(path("w.bin"), *blob).ok());
  expect_inspect(path("w.bin"), "MIL weight blob");

  Llama2Model m;
  m.header = {8, 16, 1, 2, 2, 10, 4, true};
  auto fill = [](std::vector<float>& v, size_t n) { v.assign(n, 0.01f); };
  fill(m.token_embedding, 80); fill(m.rms_att, 8); fill(m.wq, 64); fill(m.wk, 64); fill(m.wv, 64);
  fill(m.wo, 64); fill(m.rms_ffn, 8); fill(m.w1, 128); fill(m.w2, 128); fill(m.w3, 128); fill(m.rms_final, 8);
  ASSERT_TRUE(write_llama2_model(path("m0.bin"), m, Llama2Format::kV0).ok());
  ASSERT_TRUE(write_llama2_model(path("m1.bin"), m, Llama2Format::kV1).ok());
  expect_inspect(path("m0.bin"), "llama2.c model, v0");
  expect_inspect(path("m1.bin"), "llama2.c model, v1");

  TokenizerFile tok;
  tok.max_token_length = 5;
  for (const char* piece : {"<unk>", "\n<s>\n", "\n</s>\n", "<0x41>", " the", "a"}) tok.entries.push_back({0.f, piece});
  ASSERT_TRUE(write_tokenizer(path("tokenizer.bin"), tok).ok());
  expect_inspect(path("tokenizer.bin"), "llama2.c tokenizer, 6 tokens");

  std::vector<uint16_t> tokens = {1, 5, 9, 1, 7};
  ASSERT_TRUE(write_token_shard(path("data.bin"), tokens).ok());
  expect_inspect(path("data.bin"), "token shard (headerless uint16), 5 tokens");

  ModelConfig tiny = *model_preset("tiny");
  auto blzt = make_blzt_checkpoint(*model_preset("stories15M") , kBlztVersionMha);
  ASSERT_TRUE(blzt.ok()) << blzt.error().to_string();
  blzt->header.step = 42;
  ASSERT_TRUE(save_blzt(path("ckpt.bin"), *blzt).ok());
  expect_inspect(path("ckpt.bin"), "step 42 of");

  Checkpoint ck;
  ASSERT_TRUE(ck.set_model_config(tiny).ok());
  ASSERT_TRUE(ck.set_step(7).ok());
  std::vector<float> t(4, 1.f);
  ck.tensors.push_back(NamedTensor::of<float>("embedding", {2, 2}, t));
  ASSERT_TRUE(ck.save(path("ck.oane")).ok());
  expect_inspect(path("ck.oane"), "OpenANE checkpoint, 1 tensors, checksums verified");

  NpyArray a{"<f4", {2, 2}, std::vector<uint8_t>(16)};
  ASSERT_TRUE(write_npy(path("a.npy"), a).ok());
  expect_inspect(path("a.npy"), "NumPy array '<f4' [2, 2]");
}

TEST_F(Cli, InspectReportsMissingAndCorruptFiles) {
  RunResult missing = run_ane("inspect " + path("nope.bin"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("nope.bin"), std::string::npos);

  std::vector<float> w(4, 1.f);
  auto blob = build_blob(w, 2, 2);
  ASSERT_TRUE(blob.ok());
  blob->resize(blob->size() - 2);  // data runs past the end
  ASSERT_TRUE(write_file_atomic(path("cut.bin"), *blob).ok());
  RunResult cut = run_ane("inspect " + path("cut.bin"));
  EXPECT_EQ(cut.exit_code, 1);
  EXPECT_NE(cut.output.find("byte"), std::string::npos) << cut.output;
}

TEST_F(Cli, MilRunComputesRmsNorm) {
  const std::string prog = std::string(ANE_SOURCE_DIR) + "/examples/mil/rmsnorm.mil";
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<float> dist(0.f, 2.f);
  std::vector<float> x(32);
  for (float& v : x) v = round_to_half(dist(rng));
  NpyArray in{"<f4", {1, 8, 1, 4}, std::vector<uint8_t>(128)};
  std::memcpy(in.data.data(), x.data(), 128);
  ASSERT_TRUE(write_npy(path("x.npy"), in).ok());
  RunResult r = run_ane("mil run " + prog + " --in " + path("x.npy") + " --out " + path("y.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto y = read_npy(path("y.npy"));
  ASSERT_TRUE(y.ok());
  ASSERT_EQ(y->descr, "<f2");
  for (int s = 0; s < 4; ++s) {
    double ss = 0;
    for (int c = 0; c < 8; ++c) ss += double(x[c * 4 + s]) * x[c * 4 + s];
    const double rrms = 1.0 / std::sqrt(ss / 8 + 1e-5);
    for (int c = 0; c < 8; ++c) {
      half_bits h;
      std::memcpy(&h, y->data.data() + 2 * (c * 4 + s), 2);
      const double want = x[c * 4 + s] * rrms;
      EXPECT_NEAR(half_to_float(h), want, 2e-3 * std::max(1.0, std::fabs(want))) << "c " << c << " s " << s;
    }
  }
}

TEST_F(Cli, MilCheckAndBenchReportCostsAndPlan) {
  const std::string prog = std::string(ANE_SOURCE_DIR) + "/examples/mil/rmsnorm.mil";
  RunResult check = run_ane("mil check " + prog);
  ASSERT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("MFLOP"), std::string::npos) << check.output;
  EXPECT_NE(check.output.find("peak memory (cpu backend plan)"), std::string::npos) << check.output;
  RunResult bench = run_ane("mil bench " + prog + " --reps 3");
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  EXPECT_NE(bench.output.find("median"), std::string::npos) << bench.output;
  EXPECT_NE(bench.output.find("reduce_sum 'ss'"), std::string::npos) << bench.output;
  EXPECT_EQ(run_ane("mil bench " + prog + " --reps 0").exit_code, 1);
  RunResult cold = run_ane("mil bench " + prog + " --reps 2 --cold");
  ASSERT_EQ(cold.exit_code, 0) << cold.output;
  EXPECT_NE(cold.output.find("caches evicted before each"), std::string::npos) << cold.output;
  EXPECT_NE(cold.output.find("reduce_sum 'ss'"), std::string::npos) << cold.output;
}

// The trainer's layer kernels, written as MIL files, check and run on their own.
TEST_F(Cli, KernelsWritesTheLayerKernelsAsMilFiles) {
  RunResult r = run_ane("kernels --config tiny -o " + path("k"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* name : {"attention_forward", "ffn_forward", "ffn_backward", "sdpa_backward1", "sdpa_backward2",
                           "qkv_backward"}) {
    const std::string mil = path("k") + "/" + name + ".mil";
    EXPECT_NE(r.output.find(mil), std::string::npos) << r.output;
    RunResult bench = run_ane("mil bench " + mil + " --weights " + path("k") + " --reps 2");
    EXPECT_EQ(bench.exit_code, 0) << name << ": " << bench.output;
    EXPECT_NE(bench.output.find("matmul"), std::string::npos) << name << ": " << bench.output;
    // The attention kernels' runs skip the masked half (random inputs stay inside the bound).
    const bool causal = std::string(name) == "attention_forward" || std::string(name) == "sdpa_backward1";
    EXPECT_EQ(bench.output.find("products a run skipped a zero triangle") != std::string::npos, causal)
        << name << ": " << bench.output;
  }
  // The kernels that form attention probabilities under the causal mask: the pass finds it.
  RunResult check = run_ane("mil check " + path("k") + "/attention_forward.mil --weights " + path("k"));
  ASSERT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("1 causal softmaxes"), std::string::npos) << check.output;
  EXPECT_EQ(run_ane("kernels --config tiny").exit_code, 1);  // no -o
}

TEST_F(Cli, MilCheckPointsAtTheBrokenLine) {
  const std::string bad =
      "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 4, 1, 2]> x) {\n"
      "        tensor<fp16, [1, 4, 1, 2]> y = mul(x = x, y = z)[name = string(\"y\")];\n    } -> (y);\n}\n";
  ASSERT_TRUE(write_file_atomic(path("bad.mil"), bad).ok());
  RunResult r = run_ane("mil check " + path("bad.mil"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("bad.mil:4:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'z'"), std::string::npos) << r.output;
}

// A small GQA model with an unshared classifier, weights ~ N(0, 0.3^2).
ModelWeights random_weights(ModelConfig c, uint64_t seed, int vocab_size = 32) {
  c.name = "cli-test";
  c.dim = 16, c.hidden_dim = 24, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2, c.head_dim = 4;
  c.vocab_size = vocab_size, c.seq_len = 10;
  ModelWeights w = *ModelWeights::zeros(c);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.f, 0.3f);
  for (ModelWeights::Tensor& t : w.tensors())
    for (float& x : t.data) x = d(rng);
  return w;
}

ModelConfig unshared() {
  ModelConfig c;
  c.shared_classifier = false;
  return c;
}

// Logits at the first positions of a fixed sequence.
std::vector<float> logits_of(const ModelWeights& w) {
  auto model = InferenceModel::create(w);
  EXPECT_TRUE(model.ok()) << model.error().to_string();
  std::vector<float> all;
  for (int pos = 0; pos < 4; ++pos) {
    auto l = model->forward((pos * 7 + 3) % w.config.vocab_size, pos);
    EXPECT_TRUE(l.ok());
    all.insert(all.end(), l->begin(), l->end());
  }
  return all;
}

TEST_F(Cli, ExportWritesTheCheckpointsWeightsExactly) {
  const ModelWeights w = random_weights(unshared(), 1);
  Checkpoint ck;
  ASSERT_TRUE(add_weights_to_checkpoint(ck, w).ok());
  ASSERT_TRUE(ck.save(path("ck.oane")).ok());
  for (const std::string version : {"0", "1"}) {
    const std::string out = path("model_v" + version + ".bin");
    RunResult r = run_ane("export --ckpt " + path("ck.oane") + " -o " + out + " --version " + version);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("llama2.c v" + version), std::string::npos) << r.output;
    auto model = read_llama2_model(out);
    ASSERT_TRUE(model.ok()) << model.error().to_string();
    auto back = weights_from_llama2(*model, w.config.name);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_TRUE(*back == w) << "version " << version;
    EXPECT_EQ(logits_of(*back), logits_of(w)) << "version " << version;
  }
  // v0 is the default: what run.c reads.
  ASSERT_EQ(run_ane("export --ckpt " + path("ck.oane") + " -o " + path("default.bin")).exit_code, 0);
  expect_inspect(path("default.bin"), "llama2.c model, v0");
}

TEST_F(Cli, ExportReadsBlztCheckpoints) {
  ModelConfig c = *model_preset("tiny");
  c.n_kv_heads = c.n_heads / 2;
  auto blzt = make_blzt_checkpoint(c, kBlztVersionGqa);
  ASSERT_TRUE(blzt.ok()) << blzt.error().to_string();
  float next = 0.f;
  auto fill = [&](BlztTensor& t) {
    for (float& x : t.w) x = (next += 0.001f);
  };
  for (BlztLayer& l : blzt->layers)
    for (BlztTensor* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w1, &l.w2, &l.w3, &l.rms_att, &l.rms_ffn}) fill(*t);
  fill(blzt->rms_final);
  fill(blzt->embedding);
  ASSERT_TRUE(save_blzt(path("ckpt.bin"), *blzt).ok());
  RunResult r = run_ane("export --ckpt " + path("ckpt.bin") + " -o " + path("m.bin"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto model = read_llama2_model(path("m.bin"));
  ASSERT_TRUE(model.ok()) << model.error().to_string();
  auto w = weights_from_llama2(*model);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->config.n_kv_heads, c.n_kv_heads);
  EXPECT_EQ(w->embedding, blzt->embedding.w);
  EXPECT_EQ(w->rms_final, blzt->rms_final.w);
  for (size_t i = 0; i < w->layers.size(); ++i) {
    const BlztLayer& b = blzt->layers[i];
    const LayerWeights& l = w->layers[i];
    EXPECT_TRUE(l.wq == b.wq.w && l.wk == b.wk.w && l.wv == b.wv.w && l.wo == b.wo.w && l.w1 == b.w1.w &&
                l.w2 == b.w2.w && l.w3 == b.w3.w && l.rms_att == b.rms_att.w && l.rms_ffn == b.rms_ffn.w)
        << "layer " << i;
  }
}

TEST_F(Cli, ExportRejectsWhatLlama2CannotHold) {
  ModelConfig c;
  c.qk_norm = true;
  Checkpoint ck;
  ASSERT_TRUE(add_weights_to_checkpoint(ck, random_weights(c, 2)).ok());
  ASSERT_TRUE(ck.save(path("qk.oane")).ok());
  RunResult r = run_ane("export --ckpt " + path("qk.oane") + " -o " + path("qk.bin"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("cannot export"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("qk_norm"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(path("qk.bin")));
  EXPECT_EQ(run_ane("export --ckpt " + path("qk.oane") + " -o " + path("x.bin") + " --version 2").exit_code, 1);
  EXPECT_EQ(run_ane("export -o " + path("x.bin")).exit_code, 1);
}

// A tokenizer.bin with the byte pieces and `n` tokens in all.
TokenizerFile tokenizer_of_size(size_t n) {
  TokenizerFile f = test::vocabulary_head();
  while (f.entries.size() < n) f.entries.push_back({-1, std::to_string(f.entries.size()) + "p"});
  f.max_token_length = f.longest_piece();
  return f;
}

// The byte pieces, the characters of " hello world" (259..266) and merges that spell it
// (267..276), 300 tokens in all.
TokenizerFile hello_tokenizer() {
  TokenizerFile f = tokenizer_of_size(259);
  for (const char* c : {" ", "h", "e", "l", "o", "w", "r", "d"}) f.entries.push_back({0, c});
  const char* merges[] = {"he", "ll", "hell", "hello", " hello", "or", "ld", " w", " wor", " world"};
  float score = 0;
  for (const char* piece : merges) f.entries.push_back({score += 1, piece});
  while (f.entries.size() < 300) f.entries.push_back({-1, std::to_string(f.entries.size()) + "x"});
  f.max_token_length = f.longest_piece();
  return f;
}

TEST_F(Cli, GenerateMatchesTheLibraryFromModelsAndCheckpoints) {
  const ModelWeights w = random_weights(unshared(), 3);
  Checkpoint ck;
  ASSERT_TRUE(add_weights_to_checkpoint(ck, w).ok());
  ASSERT_TRUE(ck.save(path("ck.oane")).ok());
  ASSERT_TRUE(write_llama2_model(path("m.bin"), *weights_to_llama2(w), Llama2Format::kV0).ok());

  auto model = InferenceModel::create(w);
  auto sampler = Sampler::create(w.config.vocab_size, {0.8f, 0.9f, 1234});
  ASSERT_TRUE(model.ok() && sampler.ok());
  std::string want;
  auto stats = generate(*model, std::vector<int>{1, 5, 9}, 8, *sampler,
                        [&](int, int next) { want += std::to_string(next) + " "; });
  ASSERT_TRUE(stats.ok());

  for (const std::string file : {"m.bin", "ck.oane"}) {
    RunResult r = run_ane("generate --model " + path(file) +
                          " --prompt-ids 1,5,9 --temperature 0.8 --topp 0.9 --steps 8 --seed 1234 --threads 1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.rfind(want, 0), 0u) << file << ": " << r.output << " vs " << want;
    EXPECT_NE(r.output.find("achieved tok/s"), std::string::npos) << r.output;
  }
}

TEST_F(Cli, GenerateDecodesTheLibrarysTokensWithATokenizer) {
  const ModelWeights w = random_weights(ModelConfig{}, 5, 300);
  ASSERT_TRUE(write_llama2_model(path("m.bin"), *weights_to_llama2(w), Llama2Format::kV0).ok());
  ASSERT_TRUE(write_tokenizer(path("tok.bin"), hello_tokenizer()).ok());
  auto tok = Tokenizer::create(hello_tokenizer());
  ASSERT_TRUE(tok.ok()) << tok.error().to_string();
  const std::vector<int32_t> ids = tok->encode("hello world", true, false);
  ASSERT_EQ(ids, (std::vector<int32_t>{1, 271, 276})) << "BOS, \" hello\", \" world\"";

  // the library's tokens, each decoded after the one before it as run.c prints them
  auto model = InferenceModel::create(w);
  auto sampler = Sampler::create(w.config.vocab_size, {1.0f, 0.9f, 77});
  ASSERT_TRUE(model.ok() && sampler.ok());
  std::string want;
  int sampled = 0;
  auto stats = generate(*model, std::vector<int>(ids.begin(), ids.end()), 0, *sampler, [&](int prev, int next) {
    auto piece = tok->decode(prev, next);
    ASSERT_TRUE(piece.ok()) << piece.error().to_string();
    want += *piece;
    ++sampled;
  });
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(want.rfind("hello world", 0), 0u) << want;
  EXPECT_GT(sampled, 2) << "the model stopped at BOS at once; pick another seed";

  RunResult r = run_ane("generate --model " + path("m.bin") + " --tokenizer " + path("tok.bin") +
                        " --prompt 'hello world' --temperature 1 --seed 77 --steps 0 --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind(want + "\n", 0), 0u) << r.output << " vs " << want;
  EXPECT_NE(r.output.find("achieved tok/s"), std::string::npos) << r.output;
  // ids with a tokenizer give text too
  RunResult by_ids = run_ane("generate --model " + path("m.bin") + " --tokenizer " + path("tok.bin") +
                             " --prompt-ids 1,271,276 --temperature 1 --seed 77 --steps 0 --threads 1");
  ASSERT_EQ(by_ids.exit_code, 0) << by_ids.output;
  EXPECT_EQ(by_ids.output.rfind(want + "\n", 0), 0u) << by_ids.output;
}

TEST_F(Cli, GenerateReportsBadInput) {
  ASSERT_TRUE(write_llama2_model(path("m.bin"), *weights_to_llama2(random_weights(unshared(), 4)), Llama2Format::kV1).ok());
  RunResult text = run_ane("generate --model " + path("m.bin") + " --prompt hello");
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.output.find("--prompt needs --tokenizer"), std::string::npos) << text.output;
  ASSERT_TRUE(write_tokenizer(path("tok.bin"), hello_tokenizer()).ok());
  RunResult vocab = run_ane("generate --model " + path("m.bin") + " --tokenizer " + path("tok.bin") + " --prompt hello");
  EXPECT_EQ(vocab.exit_code, 1);
  EXPECT_NE(vocab.output.find("has 300 tokens but the model's vocabulary has 32"), std::string::npos) << vocab.output;
  ASSERT_TRUE(write_llama2_model(path("m300.bin"), *weights_to_llama2(random_weights(unshared(), 4, 300)),
                                 Llama2Format::kV0).ok());
  // BOS and 10 tokens do not fit in the 10 positions; BOS and 9 do
  RunResult long_text = run_ane("generate --model " + path("m300.bin") + " --tokenizer " + path("tok.bin") +
                                " --prompt 'hello hello hello hello hello hello hello hello hello hello' --seed 1");
  EXPECT_EQ(long_text.exit_code, 1);
  EXPECT_NE(long_text.output.find("the prompt is 11 tokens (with BOS), longer than the 10-token context"),
            std::string::npos) << long_text.output;
  EXPECT_EQ(run_ane("generate --model " + path("m300.bin") + " --tokenizer " + path("tok.bin") +
                    " --prompt 'hello hello hello hello hello hello hello hello hello' --seed 1").exit_code, 0);
  RunResult long_ids = run_ane("generate --model " + path("m.bin") + " --prompt-ids 1,2,3,4,5,6,7,8,9,10,11");
  EXPECT_EQ(long_ids.exit_code, 1);
  EXPECT_NE(long_ids.output.find("the prompt is 11 tokens, longer than the 10-token context"), std::string::npos)
      << long_ids.output;
  RunResult both = run_ane("generate --model " + path("m300.bin") + " --tokenizer " + path("tok.bin") +
                           " --prompt hello --prompt-ids 1");
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_NE(both.output.find("not both"), std::string::npos) << both.output;
  RunResult ids = run_ane("generate --model " + path("m.bin") + " --prompt-ids 1,x");
  EXPECT_EQ(ids.exit_code, 1);
  EXPECT_NE(ids.output.find("'x' is not a token id"), std::string::npos) << ids.output;
  RunResult range = run_ane("generate --model " + path("m.bin") + " --prompt-ids 1,500");
  EXPECT_EQ(range.exit_code, 1);
  EXPECT_NE(range.output.find("token 500 is outside the vocabulary"), std::string::npos) << range.output;
  RunResult missing = run_ane("generate --model " + path("none.bin"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("none.bin"), std::string::npos) << missing.output;
}

TEST_F(Cli, TokenizerTrainTokenizeDetokenize) {
  std::string corpus;
  for (int i = 0; i < 200; ++i) corpus += "line " + std::to_string(i % 17) + " of the little corpus, some words repeat\n";
  ASSERT_TRUE(write_file_atomic(path("corpus.txt"), corpus).ok());
  RunResult trained = run_ane("tokenizer train --vocab 300 " + path("corpus.txt") + " -o " + path("tok.bin"));
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("300 tokens"), std::string::npos) << trained.output;
  auto file = read_tokenizer_until_eof(path("tok.bin"));
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  auto tok = Tokenizer::create(*file);
  ASSERT_TRUE(tok.ok()) << tok.error().to_string();

  std::vector<std::string> docs;
  for (int i = 0; i < 20; ++i) docs.push_back("document " + std::to_string(i) + " words \xC3\xA9\xF0\x9F\x98\x80\nline two");
  std::string joined;
  for (const auto& d : docs) joined += d + "\n%\n";
  ASSERT_TRUE(write_file_atomic(path("docs.txt"), joined).ok());
  std::vector<uint16_t> want_train, want_val;
  for (size_t i = 0; i < docs.size(); ++i) {
    for (int32_t id : tok->encode(docs[i], true, false)) (i < 18 ? want_train : want_val).push_back(static_cast<uint16_t>(id));
  }
  // Two threads share 18 training documents out in batches of 16: the shard keeps their order.
  for (int threads : {2, 1}) {
    RunResult tokenized = run_ane("tokenize --tokenizer " + path("tok.bin") + " " + path("docs.txt") + " -o " +
                                  path("s.bin") + " --doc-separator '\\n%\\n' --val-fraction 0.1 --format llmc --threads " +
                                  std::to_string(threads));
    ASSERT_EQ(tokenized.exit_code, 0) << tokenized.output;
    auto train = TokenShard::open(path("s.bin"));
    auto val = TokenShard::open(path("s_val.bin"));
    ASSERT_TRUE(train.ok() && val.ok());
    EXPECT_EQ(train->format(), ShardFormat::kLlmc);
    EXPECT_EQ(std::vector<uint16_t>(train->tokens().begin(), train->tokens().end()), want_train) << threads;
    EXPECT_EQ(std::vector<uint16_t>(val->tokens().begin(), val->tokens().end()), want_val) << threads;
  }

  RunResult text = run_ane("detokenize --tokenizer " + path("tok.bin") + " " + path("s.bin") + " --doc-separator '\\n%\\n'");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  std::string want_text;
  for (size_t i = 0; i < 18; ++i) want_text += (i ? "\n%\n" : "") + docs[i];
  EXPECT_EQ(text.output, want_text);
}

TEST_F(Cli, TokenizeRefusesWhatItCannotStore) {
  ASSERT_TRUE(write_file_atomic(path("in.txt"), std::string("some text")).ok());
  ASSERT_TRUE(write_tokenizer(path("big.bin"), tokenizer_of_size(70000)).ok());
  RunResult big = run_ane("tokenize --tokenizer " + path("big.bin") + " " + path("in.txt") + " -o " + path("s.bin"));
  EXPECT_EQ(big.exit_code, 1);
  EXPECT_NE(big.output.find("70000 tokens; shards hold uint16 ids, so at most 65536"), std::string::npos) << big.output;

  TokenizerFile no_bytes;
  no_bytes.entries = {{0, "<unk>"}, {0, "a"}};
  ASSERT_TRUE(write_tokenizer(path("small.bin"), no_bytes).ok());
  RunResult small = run_ane("tokenize --tokenizer " + path("small.bin") + " " + path("in.txt") + " -o " + path("s.bin"));
  EXPECT_EQ(small.exit_code, 1);
  EXPECT_NE(small.output.find("byte fallback"), std::string::npos) << small.output;

  ASSERT_TRUE(write_tokenizer(path("ok.bin"), tokenizer_of_size(300)).ok());
  RunResult frac = run_ane("tokenize --tokenizer " + path("ok.bin") + " " + path("in.txt") + " -o " + path("s.bin") +
                           " --val-fraction 0.5");
  EXPECT_EQ(frac.exit_code, 1);
  EXPECT_NE(frac.output.find("at least 2 documents"), std::string::npos) << frac.output;
  EXPECT_FALSE(std::filesystem::exists(path("s.bin")));

  ASSERT_TRUE(write_token_shard(path("high.bin"), std::vector<uint16_t>{1, 40, 300}).ok());
  RunResult high = run_ane("detokenize --tokenizer " + path("ok.bin") + " " + path("high.bin"));
  EXPECT_EQ(high.exit_code, 1);
  EXPECT_NE(high.output.find("300"), std::string::npos) << high.output;
}

}  // namespace
}  // namespace ane
