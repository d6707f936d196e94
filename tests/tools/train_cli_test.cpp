// `ane train` and `ane eval` end to end: loss falls on English text, an interrupted run
// resumed from its checkpoint and the static pipeline's self-restarts both reproduce the
// uninterrupted run's losses exactly, metrics are JSON lines with the documented keys, and
// bad input fails with a clear message.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "formats/blzt_checkpoint.h"
#include "formats/checkpoint.h"
#include "formats/token_shard.h"

namespace ane {
namespace {

// Byte-level tokens (vocab 256, the tiny preset's) of the English licence texts every Debian
// system ships.
std::vector<uint16_t> english_bytes() {
  std::vector<uint16_t> tokens;
  for (const char* name : {"GPL-3", "LGPL-3", "Apache-2.0", "GPL-2", "Artistic"}) {
    std::ifstream in(std::string("/usr/share/common-licenses/") + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    for (unsigned char ch : ss.str()) tokens.push_back(ch);
  }
  return tokens;
}

// step -> loss of the "step" records (later records win, as after a resume).
std::map<int64_t, double> step_losses(const std::string& metrics) {
  std::map<int64_t, double> out;
  std::ifstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j["type"] == "step") out[j["step"].get<int64_t>()] = j["loss"].get<double>();
  }
  return out;
}

class TrainCli : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    const std::vector<uint16_t> tokens = english_bytes();
    ASSERT_GT(tokens.size(), 50000u) << "no licence texts under /usr/share/common-licenses";
    ASSERT_TRUE(write_token_shard(path("text.bin"), tokens).ok());
  }
  // A tiny-model run with the given extra flags; returns its output.
  RunResult train(const std::string& name, const std::string& flags) {
    return run_ane("train --config tiny --data " + path("text.bin") + " --threads 2 --peak-gflops 100 --ckpt " +
                   path(name + ".ckpt") + " --metrics " + path(name + ".jsonl") + " " + flags);
  }
};

TEST_F(TrainCli, LossFallsOnEnglishTextAndMetricsAreJsonLines) {
  // the full vocabulary, so the run's validation loss is `ane eval`'s (compaction would
  // take the softmax over the ids the text uses only)
  RunResult r = train("run", "--steps 150 --lr 3e-3 --warmup 10 --eval-every 50 --eval-windows 8 --compact-vocab off");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Efficiency Report"), std::string::npos) << r.output;
  std::ifstream in(path("run.jsonl"));
  std::string line;
  std::vector<nlohmann::json> records;
  while (std::getline(in, line)) records.push_back(nlohmann::json::parse(line));
  ASSERT_GE(records.size(), 150u);
  EXPECT_EQ(records.front()["type"], "start");
  EXPECT_EQ(records.front()["config"]["dim"], 64);
  std::vector<double> val;
  for (const auto& j : records) {
    if (j["type"] == "step") {
      for (const char* key : {"step", "loss", "lr", "ms", "tok_s"}) EXPECT_TRUE(j.contains(key)) << key;
    }
    if (j["type"] == "eval") val.push_back(j["val_loss"].get<double>());
  }
  ASSERT_EQ(val.size(), 4u);  // steps 0, 50, 100 and the end
  EXPECT_LT(val.back(), val.front() - 2.0) << "validation loss should fall by 2 nats from ln(256)";
  // the final checkpoint evaluates to the last validation loss on the same windows
  RunResult e = run_ane("eval --model " + path("run.ckpt") + " --data " + path("text.bin") + " --windows 8");
  ASSERT_EQ(e.exit_code, 0) << e.output;
  char want[32];
  std::snprintf(want, sizeof want, "val_loss %.4f", val.back());
  EXPECT_NE(e.output.find(want), std::string::npos) << e.output << " vs " << want;
}

TEST_F(TrainCli, ResumeContinuesTheSameTrajectory) {
  for (const std::string mode : {"off", "on"}) {
    SCOPED_TRACE("--compact-vocab " + mode);
    const std::string flags = "--steps 8 --accum 2 --lr 2e-3 --compact-vocab " + mode;
    ASSERT_EQ(train("whole" + mode, flags).exit_code, 0);
    RunResult first = train("part" + mode, flags + " --stop-at 3");
    ASSERT_EQ(first.exit_code, 0) << first.output;
    RunResult second = train("part" + mode, flags + " --resume");
    ASSERT_EQ(second.exit_code, 0) << second.output;
    EXPECT_NE(second.output.find("resumed   at step 3"), std::string::npos) << second.output;
    EXPECT_EQ(second.output.find("vocabulary differs"), std::string::npos) << second.output;
    const auto whole = step_losses(path("whole" + mode + ".jsonl")), part = step_losses(path("part" + mode + ".jsonl"));
    ASSERT_EQ(whole.size(), 8u);
    EXPECT_EQ(part, whole) << "resumed losses must equal the uninterrupted run's exactly";
  }
}

// The "start" record of a metrics log.
nlohmann::json start_record(const std::string& metrics) {
  std::ifstream in(metrics);
  std::string line;
  std::getline(in, line);
  return nlohmann::json::parse(line);
}

TEST_F(TrainCli, CompactedRunsWriteCheckpointsEveryToolReads) {
  const std::vector<uint16_t> text = english_bytes();
  const size_t used = std::set<uint16_t>(text.begin(), text.end()).size();
  RunResult r = train("c", "--steps 20 --lr 3e-3 --eval-windows 4 --compact-vocab on");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string summary = "vocabulary 256, training on the " + std::to_string(used) + " ids the data uses";
  EXPECT_NE(r.output.find(summary), std::string::npos) << r.output;
  EXPECT_EQ(start_record(path("c.jsonl"))["active_vocab"], used);
  double val = 0;
  {
    std::ifstream in(path("c.jsonl"));
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      if (j["type"] == "eval") val = j["val_loss"].get<double>();
    }
  }
  // `ane eval` takes the softmax over every id: never below the run's loss over the used ids
  const std::string data = " --data " + path("text.bin") + " --windows 4";
  RunResult from_ckpt = run_ane("eval --model " + path("c.ckpt") + data);
  ASSERT_EQ(from_ckpt.exit_code, 0) << from_ckpt.output;
  double full = 0;
  ASSERT_EQ(std::sscanf(from_ckpt.output.c_str(), "val_loss %lf", &full), 1) << from_ckpt.output;
  EXPECT_GT(full, val - 1e-4) << from_ckpt.output;
  RunResult exported = run_ane("export --ckpt " + path("c.ckpt") + " -o " + path("c.bin"));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  RunResult from_bin = run_ane("eval --model " + path("c.bin") + data);
  EXPECT_EQ(from_bin.output, from_ckpt.output);
  const std::string gen = " --prompt-ids 1,84,104 --steps 12 --seed 7 --temperature 0";
  RunResult g_ckpt = run_ane("generate --model " + path("c.ckpt") + gen), g_bin = run_ane("generate --model " + path("c.bin") + gen);
  ASSERT_EQ(g_ckpt.exit_code, 0) << g_ckpt.output;
  auto first_line = [](const std::string& out) { return out.substr(0, out.find('\n')); };
  EXPECT_EQ(first_line(g_ckpt.output), first_line(g_bin.output)) << "the same tokens (then timings)";
  // auto compacts this text (fewer than 128 of the 256 byte ids); off trains every id
  RunResult off = train("off", "--steps 1 --eval-windows 1 --compact-vocab off");
  ASSERT_EQ(off.exit_code, 0) << off.output;
  EXPECT_NE(off.output.find("vocabulary 256, all trained (the data uses " + std::to_string(used) + " ids)"),
            std::string::npos) << off.output;
  EXPECT_EQ(start_record(path("off.jsonl"))["active_vocab"], 256);
  RunResult bad = train("bad", "--steps 1 --compact-vocab maybe");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--compact-vocab must be auto, on or off"), std::string::npos) << bad.output;
}

TEST_F(TrainCli, ResumeOnDataWithOtherIdsSaysSo) {
  ASSERT_EQ(train("p", "--steps 4 --stop-at 2 --compact-vocab on").exit_code, 0);
  // the same text and ten more ids (byte values it does not hold)
  std::vector<uint16_t> more = english_bytes();
  const std::set<uint16_t> had(more.begin(), more.end());
  int added = 0;
  for (uint16_t id = 128; added < 10; ++id) {
    if (!had.contains(id)) more.insert(more.begin() + 1000 * ++added, id);
  }
  ASSERT_TRUE(write_token_shard(path("more.bin"), more).ok());
  RunResult r = run_ane("train --config tiny --data " + path("more.bin") + " --threads 2 --peak-gflops 100 --ckpt " +
                        path("p.ckpt") + " --steps 4 --compact-vocab on --resume");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("vocabulary differs from the checkpoint's: 10 ids new"), std::string::npos) << r.output;
}

// Also for a compacted vocabulary: BLZT holds every id's moments, the run's rows realigned.
TEST_F(TrainCli, ResumesFromTheOriginalsBlztCheckpoint) {
  for (const std::string vocab : {"off", "on"}) {
    SCOPED_TRACE("--compact-vocab " + vocab);
    const std::string flags = "--steps 6 --lr 2e-3 --compact-vocab " + vocab;
    ASSERT_EQ(train("whole", flags).exit_code, 0);
    RunResult first = train("part", flags + " --stop-at 3 --blzt " + path("part.blzt"));
    ASSERT_EQ(first.exit_code, 0) << first.output;
    const std::string resume = "train --config tiny --data " + path("text.bin") + " --threads 2 --peak-gflops 100 --ckpt " +
                               path("part.blzt") + " " + flags + " --resume";
    RunResult second = run_ane(resume + " --metrics " + path("part.jsonl"));
    ASSERT_EQ(second.exit_code, 0) << second.output;
    const std::map<int64_t, double> losses = step_losses(path("whole.jsonl"));
    EXPECT_EQ(step_losses(path("part.jsonl")), losses);
    auto blzt = load_blzt(path("part.blzt"));
    ASSERT_TRUE(blzt.ok()) << blzt.error().to_string();
    EXPECT_EQ(blzt->header.step, 6);
    EXPECT_EQ(blzt->header.adam_t, 6);
    EXPECT_EQ(blzt->header.version, kBlztVersionGqa);  // tiny has 2 kv heads for 4 query heads
    EXPECT_EQ(blzt->header.loss, static_cast<float>(losses.rbegin()->second));
    // Resumed with no step left to train, the file keeps its last loss and the run's counters.
    RunResult third = run_ane(resume);
    ASSERT_EQ(third.exit_code, 0) << third.output;
    auto again = load_blzt(path("part.blzt"));
    ASSERT_TRUE(again.ok()) << again.error().to_string();
    EXPECT_EQ(again->header.step, 6);
    EXPECT_EQ(again->header.loss, blzt->header.loss);
    EXPECT_GE(again->header.cum_train, blzt->header.cum_train);
    EXPECT_GT(again->header.cum_wall, blzt->header.cum_wall);
    // Compacted, ids the data never uses have no moments (the full softmax gives every id some).
    const auto& m = blzt->embedding.m;
    const size_t dim = m.size() / 256;
    auto row_is_zero = [&](size_t id) {
      return std::all_of(m.begin() + static_cast<ptrdiff_t>(id * dim), m.begin() + static_cast<ptrdiff_t>((id + 1) * dim),
                         [](float x) { return x == 0.0f; });
    };
    EXPECT_EQ(row_is_zero(255), vocab == "on") << "id 255 is not in the text";
    EXPECT_FALSE(row_is_zero('e'));
    std::filesystem::remove(path("part.blzt"));
    std::filesystem::remove(path("part.blzt.oane"));
    std::filesystem::remove(path("part.jsonl"));
    std::filesystem::remove(path("whole.jsonl"));
  }
}

TEST_F(TrainCli, StaticPipelineRestartsItselfAndMatchesTheDynamicPipeline) {
  ASSERT_EQ(train("dyn", "--steps 5 --pipeline dynamic").exit_code, 0);
  // one load of the tiny model's static kernels is 10 compiles (plus 1 at start): a budget
  // of 23 forces a checkpoint and exec() every other step
  RunResult r = train("sta", "--steps 5 --pipeline static --compile-budget 23");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("restarting from the checkpoint"), std::string::npos) << r.output;
  const auto dyn = step_losses(path("dyn.jsonl")), sta = step_losses(path("sta.jsonl"));
  ASSERT_EQ(sta.size(), 5u);
  for (const auto& [step, loss] : dyn) EXPECT_NEAR(sta.at(step), loss, 1e-5 * loss) << "step " << step;
  auto ck = Checkpoint::load(path("sta.ckpt"));
  ASSERT_TRUE(ck.ok()) << ck.error().to_string();
  EXPECT_EQ(*ck->step(), 5);
}

TEST_F(TrainCli, ExportedModelsEvaluateAlikeAndFineTune) {
  ASSERT_EQ(train("base", "--steps 20 --lr 3e-3").exit_code, 0);
  RunResult exported = run_ane("export --ckpt " + path("base.ckpt") + " -o " + path("base.bin"));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const std::string data = " --data " + path("text.bin") + " --windows 4";
  RunResult from_ckpt = run_ane("eval --model " + path("base.ckpt") + data);
  RunResult from_bin = run_ane("eval --model " + path("base.bin") + data);
  ASSERT_EQ(from_ckpt.exit_code, 0) << from_ckpt.output;
  EXPECT_EQ(from_ckpt.output, from_bin.output) << "the llama2.c export must hold the same weights";
  RunResult tuned = run_ane("train --model " + path("base.bin") + " --data " + path("text.bin") +
                            " --steps 2 --eval-windows 4 --peak-gflops 100 --ckpt " + path("tuned.ckpt"));
  ASSERT_EQ(tuned.exit_code, 0) << tuned.output;
  EXPECT_NE(tuned.output.find("base.bin: dim 64"), std::string::npos) << tuned.output;
}

TEST_F(TrainCli, KeepsTheLastCheckpointsAndTheBest) {
  RunResult r = train("k", "--steps 6 --save-every 1 --keep-last 3 --eval-every 2 --eval-windows 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(path("k.ckpt")));
  EXPECT_TRUE(std::filesystem::exists(path("k.ckpt.best")));
  for (int s : {4, 5, 6}) EXPECT_TRUE(std::filesystem::exists(path("k.ckpt." + std::to_string(s)))) << s;
  for (int s : {1, 2, 3}) EXPECT_FALSE(std::filesystem::exists(path("k.ckpt." + std::to_string(s)))) << s;
  // .best holds the step of the lowest validation loss; when that is the final step it is a
  // second name for the final checkpoint, not a second copy.
  int64_t best_step = -1, last_eval_step = -1;
  double best_val = 0;
  std::ifstream in(path("k.jsonl"));
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["type"] != "eval") continue;
    last_eval_step = j["step"].get<int64_t>();
    if (best_step < 0 || j["val_loss"].get<double>() < best_val) best_step = last_eval_step, best_val = j["val_loss"];
  }
  ASSERT_EQ(last_eval_step, 6);
  auto best = Checkpoint::load(path("k.ckpt.best"));
  ASSERT_TRUE(best.ok()) << best.error().to_string();
  EXPECT_EQ(*best->step(), best_step);
  EXPECT_EQ(std::filesystem::equivalent(path("k.ckpt"), path("k.ckpt.best")), best_step == 6);
}

// The "text" of each "sample" record, by step.
std::map<int64_t, std::string> samples(const std::string& metrics) {
  std::map<int64_t, std::string> out;
  std::ifstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j["type"] == "sample") out[j["step"].get<int64_t>()] = j["text"].get<std::string>();
  }
  return out;
}

// How the console shows a sample: quoted, later lines indented to the opening quote.
std::string shown(int64_t step, const std::string& text) {
  const std::string head = "sample step " + std::to_string(step) + ": \"";
  std::string out = head;
  for (char c : text) {
    out += c;
    if (c == '\n') out += std::string(head.size(), ' ');
  }
  return out + "\"\n";
}

TEST_F(TrainCli, SamplesTextWithATokenizerDuringTraining) {
  // a 300-token BPE vocabulary trained on sentences of a few words, and a tiny model of that
  // vocabulary
  const char* words[] = {"the", "cat", "sat", "on", "a", "mat", "dog", "ran", "to", "big", "red", "house", "and"};
  std::mt19937 rng(3);
  std::string corpus;
  while (corpus.size() < 60000) {
    corpus += "The";
    for (int n = 3 + static_cast<int>(rng() % 6); n > 0; --n) corpus.append(" ").append(words[rng() % std::size(words)]);
    corpus += ".\n";
  }
  {
    std::ofstream out(path("corpus.txt"), std::ios::binary);
    out << corpus;
  }
  RunResult tok = run_ane("tokenizer train --vocab 300 " + path("corpus.txt") + " -o " + path("tok.bin"));
  ASSERT_EQ(tok.exit_code, 0) << tok.output;
  RunResult shard = run_ane("tokenize --tokenizer " + path("tok.bin") + " " + path("corpus.txt") + " -o " + path("t.bin"));
  ASSERT_EQ(shard.exit_code, 0) << shard.output;
  {
    std::ofstream out(path("tiny300.json"));
    out << R"({"name": "tiny300", "dim": 64, "hidden_dim": 176, "n_layers": 2, "n_heads": 4, "n_kv_heads": 2,
              "head_dim": 16, "vocab_size": 300, "seq_len": 32})";
  }
  const std::string run = "train --config " + path("tiny300.json") + " --data " + path("t.bin") +
                          " --threads 2 --peak-gflops 100 --steps 6 --lr 3e-3 --tokenizer " + path("tok.bin");
  RunResult r = run_ane(run + " --sample-every 3 --sample-prompt 'The cat' --sample-tokens 12 --ckpt " +
                        path("s.ckpt") + " --metrics " + path("s.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto texts = samples(path("s.jsonl"));
  ASSERT_EQ(texts.size(), 2u) << r.output;  // step 3 and the end
  for (const auto& [step, text] : texts) {
    EXPECT_TRUE(step == 3 || step == 6) << step;
    EXPECT_EQ(text.rfind("The cat", 0), 0u) << text;
    EXPECT_GT(text.size(), std::string("The cat").size()) << text;
    EXPECT_NE(r.output.find("sample step " + std::to_string(step) + ": \"The cat"), std::string::npos) << r.output;
    // the metrics hold valid UTF-8 (U+FFFD for bad bytes) where the console has the raw bytes
    if (text.find("\xEF\xBF\xBD") == std::string::npos) {
      EXPECT_NE(r.output.find(shown(step, text)), std::string::npos) << r.output << "\nwant " << shown(step, text);
    }
  }
  // a fixed seed: the same weights give the same sample; --tokenizer alone samples at the end
  RunResult again = run_ane(run + " --sample-prompt 'The cat' --sample-tokens 12 --ckpt " + path("a.ckpt") +
                            " --metrics " + path("a.jsonl"));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  const auto end_only = samples(path("a.jsonl"));
  ASSERT_EQ(end_only.size(), 1u) << again.output;
  EXPECT_EQ(end_only.at(6), texts.at(6));

  RunResult no_tok = train("n", "--steps 2 --sample-every 1");
  EXPECT_EQ(no_tok.exit_code, 1);
  EXPECT_NE(no_tok.output.find("--sample-every needs --tokenizer"), std::string::npos) << no_tok.output;
  RunResult vocab = train("v", "--steps 2 --sample-every 1 --tokenizer " + path("tok.bin"));
  EXPECT_EQ(vocab.exit_code, 1);
  EXPECT_NE(vocab.output.find("has 300 tokens but the model's vocabulary has 256"), std::string::npos) << vocab.output;
}

TEST_F(TrainCli, BadInputFailsClearly) {
  RunResult r = run_ane("train --config tiny --data " + path("missing.bin"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("missing.bin"), std::string::npos) << r.output;
  std::vector<uint16_t> big{1, 2, 300, 4};
  ASSERT_TRUE(write_token_shard(path("big.bin"), big).ok());
  r = run_ane("train --config tiny --data " + path("big.bin"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("300"), std::string::npos) << r.output;
  r = run_ane("train --config nonsense --data " + path("text.bin"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("nonsense"), std::string::npos) << r.output;
  r = train("x", "--resume --steps 2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("x.ckpt"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace ane
