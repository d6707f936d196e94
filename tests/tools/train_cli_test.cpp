// `ane train` and `ane eval` end to end: loss falls on English text, an interrupted run
// resumed from its checkpoint and the static pipeline's self-restarts both reproduce the
// uninterrupted run's losses exactly, metrics are JSON lines with the documented keys, and
// bad input fails with a clear message.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
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
  RunResult r = train("run", "--steps 150 --lr 3e-3 --warmup 10 --eval-every 50 --eval-windows 8");
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
  ASSERT_EQ(train("whole", "--steps 8 --accum 2 --lr 2e-3").exit_code, 0);
  RunResult first = train("part", "--steps 8 --accum 2 --lr 2e-3 --stop-at 3");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  RunResult second = train("part", "--steps 8 --accum 2 --lr 2e-3 --resume");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("resumed   at step 3"), std::string::npos) << second.output;
  const auto whole = step_losses(path("whole.jsonl")), part = step_losses(path("part.jsonl"));
  ASSERT_EQ(whole.size(), 8u);
  EXPECT_EQ(part, whole) << "resumed losses must equal the uninterrupted run's exactly";
}

TEST_F(TrainCli, ResumesFromTheOriginalsBlztCheckpoint) {
  ASSERT_EQ(train("whole", "--steps 6 --lr 2e-3").exit_code, 0);
  RunResult first = train("part", "--steps 6 --lr 2e-3 --stop-at 3 --blzt " + path("part.blzt"));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  RunResult second = run_ane("train --config tiny --data " + path("text.bin") + " --threads 2 --peak-gflops 100 --ckpt " +
                             path("part.blzt") + " --metrics " + path("part.jsonl") + " --steps 6 --lr 2e-3 --resume");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(step_losses(path("part.jsonl")), step_losses(path("whole.jsonl")));
  auto blzt = load_blzt(path("part.blzt"));
  ASSERT_TRUE(blzt.ok()) << blzt.error().to_string();
  EXPECT_EQ(blzt->header.step, 6);
  EXPECT_EQ(blzt->header.adam_t, 6);
  EXPECT_EQ(blzt->header.version, kBlztVersionGqa);  // tiny has 2 kv heads for 4 query heads
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

TEST_F(TrainCli, KeepsTheLastCheckpointsAndTheBest) {
  RunResult r = train("k", "--steps 6 --save-every 1 --keep-last 3 --eval-every 2 --eval-windows 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(path("k.ckpt")));
  EXPECT_TRUE(std::filesystem::exists(path("k.ckpt.best")));
  for (int s : {4, 5, 6}) EXPECT_TRUE(std::filesystem::exists(path("k.ckpt." + std::to_string(s)))) << s;
  for (int s : {1, 2, 3}) EXPECT_FALSE(std::filesystem::exists(path("k.ckpt." + std::to_string(s)))) << s;
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
