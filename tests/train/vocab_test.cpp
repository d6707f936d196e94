// Vocabulary compaction: a compacted run trains exactly what a trainer on a hand-gathered
// compact model with hand-remapped windows trains; its checkpoint holds the full vocabulary
// (untrained rows as initialised, trained rows as trained); a resume continues the same
// trajectory and lines the saved moments up by id when the data's ids changed; `auto`
// compacts exactly below half the vocabulary. Data are fresh random ids every run.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "formats/token_shard.h"
#include "train/run.h"
#include "train/vocab.h"

namespace ane::train {
namespace {

// Losses, evaluations and the start-up summary of a run.
class Recorder : public RunObserver {
 public:
  void on_start(const RunStart& s) override {
    trained_ids = s.trained_ids;
    data_ids = s.data_ids;
    vocab_change = s.vocab_change;
  }
  void on_step(const RunStep& r, int64_t) override { losses[r.report.step] = r.loss; }
  void on_eval(int64_t step, double val_loss, bool) override { evals[step] = val_loss; }

  int64_t trained_ids = 0, data_ids = 0;
  VocabChange vocab_change;
  std::map<int64_t, double> losses, evals;
};

ModelConfig tiny(bool shared_classifier) {
  ModelConfig c = model_preset("tiny").value();
  c.shared_classifier = shared_classifier;
  return c;
}

std::unique_ptr<Engine> engine() { return Engine::create(EngineOptions{.threads = 2, .compile_budget = 0}).value(); }

// `n` tokens drawn uniformly from `ids`.
std::vector<uint16_t> tokens_from(const std::vector<uint16_t>& ids, size_t n, std::mt19937_64& rng) {
  std::vector<uint16_t> t(n);
  for (auto& x : t) x = ids[rng() % ids.size()];
  return t;
}

// `k` distinct ids below `vocab`, in random order.
std::vector<uint16_t> random_ids(size_t k, int vocab, std::mt19937_64& rng) {
  std::vector<uint16_t> all(static_cast<size_t>(vocab));
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(k);
  return all;
}

// The distinct ids of token sequences, ascending.
std::vector<int32_t> distinct(std::initializer_list<const std::vector<uint16_t>*> seqs) {
  std::set<int32_t> s;
  for (const auto* q : seqs) s.insert(q->begin(), q->end());
  return {s.begin(), s.end()};
}

std::vector<float> row(std::span<const float> t, size_t r, size_t width) {
  return {t.begin() + static_cast<ptrdiff_t>(r * width), t.begin() + static_cast<ptrdiff_t>((r + 1) * width)};
}

std::vector<float> f32(const Checkpoint& ck, const std::string& name) {
  const NamedTensor* t = ck.find(name);
  EXPECT_NE(t, nullptr) << name;
  return t ? t->values<float>().value() : std::vector<float>{};
}

class Compaction : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ane_vocab_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    const uint64_t seed = std::random_device{}();
    rng_.seed(seed);
    RecordProperty("data_seed", std::to_string(seed));
    std::printf("data seed %llu\n", static_cast<unsigned long long>(seed));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string shard(const std::string& name, const std::vector<uint16_t>& tokens) {
    EXPECT_TRUE(write_token_shard(path(name), tokens).ok());
    return path(name);
  }

  RunOptions options(CompactVocab mode, int64_t steps, const std::vector<std::string>& train,
                     const std::vector<std::string>& val = {}) {
    RunOptions o;
    o.trainer.threads = 2;
    o.trainer.schedule.lr = 3e-3;
    o.data.train = train;
    o.data.val = val;
    o.steps = steps;
    o.accum = 2;
    o.seed = rng_() % 1000;
    o.eval_windows = 3;
    o.peak_gflops = 100;
    o.compact_vocab = mode;
    return o;
  }
  Expected<RunOutcome> run(const ModelConfig& config, const RunOptions& o, Recorder& rec) {
    auto e = engine();
    return run_training(*e, ModelSource{config, ""}, o, rec);
  }

  std::filesystem::path dir_;
  std::mt19937_64 rng_;
};

class CompactionOfClassifier : public Compaction, public ::testing::WithParamInterface<bool> {};

// (a) against a trainer on a hand-gathered compact model with hand-remapped windows, and
// (b) the checkpoint's full-vocabulary tensors.
TEST_P(CompactionOfClassifier, TrainsWhatAHandGatheredCompactModelTrains) {
  const ModelConfig config = tiny(/*shared_classifier=*/GetParam());
  const size_t D = static_cast<size_t>(config.dim);
  const std::vector<uint16_t> pool = random_ids(40, config.vocab_size, rng_);
  const std::vector<uint16_t> train = tokens_from(pool, 4000, rng_);
  // the validation shard also uses ids the training shard does not
  std::vector<uint16_t> val_pool(pool.begin(), pool.begin() + 20);
  for (uint16_t id : random_ids(60, config.vocab_size, rng_)) {
    if (std::find(pool.begin(), pool.end(), id) == pool.end() && val_pool.size() < 25) val_pool.push_back(id);
  }
  const std::vector<uint16_t> val = tokens_from(val_pool, 1000, rng_);
  const std::vector<int32_t> ids = distinct({&train, &val});
  RunOptions o = options(CompactVocab::kOn, 5, {shard("train.bin", train)}, {shard("val.bin", val)});
  o.ckpt = path("run.ckpt");
  Recorder rec;
  ASSERT_TRUE(run(config, o, rec).ok());
  EXPECT_EQ(rec.trained_ids, std::ssize(ids));
  EXPECT_EQ(rec.data_ids, std::ssize(ids));

  // The reference: the compact model and windows made here, on a plain Trainer.
  const ModelWeights initial = init_weights(config, o.seed).value();
  ModelConfig compact_config = config;
  compact_config.vocab_size = static_cast<int>(ids.size());
  ModelWeights compact = ModelWeights::zeros(compact_config).value();
  for (const auto& t : initial.tensors()) {
    if (t.name == "embedding" || t.name == "classifier") continue;
    for (auto& u : compact.tensors()) {
      if (u.name == t.name) std::copy(t.data.begin(), t.data.end(), u.data.begin());
    }
  }
  for (size_t r = 0; r < ids.size(); ++r) {
    const auto from = static_cast<ptrdiff_t>(static_cast<size_t>(ids[r]) * D), to = static_cast<ptrdiff_t>(r * D);
    std::copy_n(initial.embedding.begin() + from, D, compact.embedding.begin() + to);
    if (!config.shared_classifier) std::copy_n(initial.classifier.begin() + from, D, compact.classifier.begin() + to);
  }
  auto remap = [&](std::span<const uint16_t> w) {
    std::vector<uint16_t> out;
    for (uint16_t t : w) out.push_back(static_cast<uint16_t>(std::lower_bound(ids.begin(), ids.end(), t) - ids.begin()));
    return out;
  };
  DataOptions d = o.data;
  d.window = config.seq_len + 1;
  d.vocab_size = config.vocab_size;
  const TokenData data = TokenData::open(d).value();
  TrainerOptions to = o.trainer;
  to.schedule.total = o.steps;
  auto e = engine();
  auto ref = Trainer::create(*e, compact, to).value();
  for (int64_t step = 0; step < o.steps; ++step) {
    double loss = 0;
    for (int micro = 0; micro < o.accum; ++micro) {
      loss += ref->accumulate(remap(data.train_window(o.seed, step, micro))).value() / o.accum;
    }
    ASSERT_TRUE(ref->step().ok());
    EXPECT_EQ(rec.losses.at(step + 1), loss) << "step " << step + 1;
  }
  double val_loss = 0;
  for (int64_t i = 0; i < o.eval_windows; ++i) val_loss += ref->loss(remap(data.val_window(i, o.eval_windows))).value();
  EXPECT_EQ(rec.evals.at(o.steps), val_loss / static_cast<double>(o.eval_windows)) << "validation over the active ids";

  // (b) The checkpoint: full-vocabulary weights, compact moments and the id map.
  const Checkpoint ck = Checkpoint::load(o.ckpt).value();
  EXPECT_EQ(ck.model_config().value().vocab_size, config.vocab_size);
  EXPECT_EQ(ck.find(kActiveIdsTensor)->values<int32_t>().value(), ids);
  const ModelWeights saved = load_model_weights(o.ckpt).value();
  for (const std::string& name : vocab_tensor_names(config)) {
    const bool emb = name == "embedding";
    const std::span<const float> full = emb ? saved.embedding : saved.classifier;
    const std::span<const float> init = emb ? initial.embedding : initial.classifier;
    const std::span<const float> trained = emb ? ref->weights().embedding : ref->weights().classifier;
    ASSERT_EQ(full.size(), static_cast<size_t>(config.vocab_size) * D);
    for (size_t id = 0; id < static_cast<size_t>(config.vocab_size); ++id) {
      const auto r = std::lower_bound(ids.begin(), ids.end(), static_cast<int32_t>(id));
      if (r != ids.end() && *r == static_cast<int32_t>(id)) {
        EXPECT_EQ(row(full, id, D), row(trained, static_cast<size_t>(r - ids.begin()), D)) << name << " id " << id;
      } else {
        EXPECT_EQ(row(full, id, D), row(init, id, D)) << name << " id " << id << " (unused) changed";
      }
    }
    const std::vector<float> m = f32(ck, "adam.m." + name);
    const std::span<const float> ref_m = emb ? ref->adam().m().embedding : ref->adam().m().classifier;
    EXPECT_TRUE(std::equal(m.begin(), m.end(), ref_m.begin(), ref_m.end())) << "adam.m." << name;
  }
  for (const auto& t : saved.tensors()) {
    if (t.name == "embedding" || t.name == "classifier") continue;
    for (const auto& u : ref->weights().tensors()) {
      if (u.name == t.name) EXPECT_TRUE(std::equal(t.data.begin(), t.data.end(), u.data.begin(), u.data.end())) << t.name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Vocab, CompactionOfClassifier, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "SharedClassifier" : "UnsharedClassifier"; });

// (c) An interrupted compacted run resumed from its checkpoint gives the same losses.
TEST_F(Compaction, ResumeContinuesTheSameTrajectory) {
  const ModelConfig config = tiny(/*shared_classifier=*/false);
  const std::string data = shard("d.bin", tokens_from(random_ids(30, config.vocab_size, rng_), 5000, rng_));
  RunOptions o = options(CompactVocab::kAuto, 6, {data});
  o.ckpt = path("whole.ckpt");
  Recorder whole;
  ASSERT_TRUE(run(config, o, whole).ok());
  ASSERT_EQ(whole.trained_ids, 30);
  o.ckpt = path("part.ckpt");
  o.stop_at = 2;
  Recorder first, second;
  ASSERT_TRUE(run(config, o, first).ok());
  o.stop_at = 0;
  o.resume = true;
  ASSERT_TRUE(run(config, o, second).ok());
  EXPECT_EQ(second.vocab_change.added, 0);
  EXPECT_EQ(second.vocab_change.dropped, 0);
  std::map<int64_t, double> parts = first.losses;
  parts.insert(second.losses.begin(), second.losses.end());
  ASSERT_EQ(whole.losses.size(), 6u);
  EXPECT_EQ(parts, whole.losses) << "resumed losses must equal the uninterrupted run's exactly";
  EXPECT_EQ(second.evals, whole.evals);
}

// Resuming on data whose ids changed, or with compaction switched on or off: the saved
// moments are lined up by id (new ids at zero), the full weights kept.
TEST_F(Compaction, ResumeLinesTheMomentsUpByIdWhenTheIdsChange) {
  const ModelConfig config = tiny(/*shared_classifier=*/false);
  const size_t D = static_cast<size_t>(config.dim), V = static_cast<size_t>(config.vocab_size);
  const std::vector<uint16_t> pool = random_ids(50, config.vocab_size, rng_);
  const std::vector<uint16_t> a_ids(pool.begin(), pool.begin() + 30), b_ids(pool.begin() + 10, pool.end());
  const std::vector<uint16_t> a = tokens_from(a_ids, 4000, rng_), b = tokens_from(b_ids, 4000, rng_);
  const std::string a_path = shard("a.bin", a), b_path = shard("b.bin", b);
  std::vector<int32_t> every_id(V);
  std::iota(every_id.begin(), every_id.end(), 0);
  // The ids whose rows a checkpoint's moments hold.
  auto moment_ids = [&](const Checkpoint& ck) {
    const NamedTensor* t = ck.find(kActiveIdsTensor);
    return t ? t->values<int32_t>().value() : every_id;
  };
  struct Case {
    CompactVocab before, after;
    bool change_data;
  };
  for (const Case& c : {Case{CompactVocab::kOn, CompactVocab::kOn, true}, Case{CompactVocab::kOff, CompactVocab::kOn, false},
                        Case{CompactVocab::kOn, CompactVocab::kOff, false}}) {
    SCOPED_TRACE(testing::Message() << "before " << static_cast<int>(c.before) << " after " << static_cast<int>(c.after));
    RunOptions o = options(c.before, 3, {a_path});
    o.ckpt = path("c.ckpt");
    Recorder first, second;
    ASSERT_TRUE(run(config, o, first).ok());
    const Checkpoint old = Checkpoint::load(o.ckpt).value();
    // resumed at its last step: nothing trains, the realigned state is saved again
    o.resume = true;
    o.compact_vocab = c.after;
    if (c.change_data) o.data.train = {b_path};
    ASSERT_TRUE(run(config, o, second).ok());
    const Checkpoint now = Checkpoint::load(o.ckpt).value();
    const std::vector<int32_t> before = moment_ids(old), after = moment_ids(now);
    EXPECT_EQ(after, c.after == CompactVocab::kOn ? distinct({c.change_data ? &b : &a}) : every_id);
    int64_t added = 0, dropped = 0;
    for (int32_t id : after) added += !std::binary_search(before.begin(), before.end(), id);
    for (int32_t id : before) dropped += !std::binary_search(after.begin(), after.end(), id);
    EXPECT_GT(added + dropped, 0);
    EXPECT_EQ(second.vocab_change.added, added);
    EXPECT_EQ(second.vocab_change.dropped, dropped);
    for (const char* name : {"embedding", "classifier"}) {
      EXPECT_EQ(f32(now, std::string("model.") + name), f32(old, std::string("model.") + name)) << "weights are kept";
      for (const char* moment : {"adam.m.", "adam.v."}) {
        const std::vector<float> was = f32(old, moment + std::string(name)), is = f32(now, moment + std::string(name));
        ASSERT_EQ(is.size(), after.size() * D);
        for (size_t r = 0; r < after.size(); ++r) {
          const auto at = std::lower_bound(before.begin(), before.end(), after[r]);
          const std::vector<float> want = at != before.end() && *at == after[r]
                                              ? row(was, static_cast<size_t>(at - before.begin()), D)
                                              : std::vector<float>(D, 0.0f);
          EXPECT_EQ(row(is, r, D), want) << moment << name << " id " << after[r];
        }
      }
    }
    std::filesystem::remove(o.ckpt);
  }
}

// (d) auto compacts exactly when the data uses fewer than half of the ids.
TEST(CompactVocab, AutoCompactsBelowHalfTheVocabulary) {
  EXPECT_FALSE(compacts(CompactVocab::kAuto, 128, 256));
  EXPECT_TRUE(compacts(CompactVocab::kAuto, 127, 256));
  EXPECT_TRUE(compacts(CompactVocab::kAuto, 128, 257));
  EXPECT_FALSE(compacts(CompactVocab::kAuto, 129, 257));
  EXPECT_TRUE(compacts(CompactVocab::kOn, 256, 256));
  EXPECT_FALSE(compacts(CompactVocab::kOff, 1, 256));
}

TEST_F(Compaction, AutoDecidesByTheDataOfARun) {
  const ModelConfig config = tiny(/*shared_classifier=*/true);
  for (size_t k : {size_t{127}, size_t{128}}) {
    // every one of the k ids occurs, the rest in random order
    const std::vector<uint16_t> ids = random_ids(k, config.vocab_size, rng_);
    std::vector<uint16_t> tokens = tokens_from(ids, 3000, rng_);
    tokens.insert(tokens.end(), ids.begin(), ids.end());
    std::shuffle(tokens.begin(), tokens.end(), rng_);
    RunOptions o = options(CompactVocab::kAuto, 1, {shard("k.bin", tokens)});
    o.accum = 1;
    o.eval_windows = 1;
    Recorder rec;
    ASSERT_TRUE(run(config, o, rec).ok());
    EXPECT_EQ(rec.data_ids, static_cast<int64_t>(k));
    EXPECT_EQ(rec.trained_ids, k < 128 ? static_cast<int64_t>(k) : 256) << k << " of 256 ids";
  }
}

TEST(VocabMap, RemapsWindowsAndRealignsRowsById) {
  EXPECT_FALSE(VocabMap::of({3, 2}, 10).ok());
  EXPECT_FALSE(VocabMap::of({2, 2}, 10).ok());
  EXPECT_FALSE(VocabMap::of({2, 10}, 10).ok());
  EXPECT_FALSE(VocabMap::of({}, 10).ok());
  EXPECT_FALSE(VocabMap::of({70000}, 151936).ok()) << "data ids are uint16";
  const VocabMap a = VocabMap::of({1, 4, 7}, 10).value(), b = VocabMap::of({0, 4, 7, 9}, 10).value();
  std::vector<uint16_t> scratch;
  const std::vector<uint16_t> window{7, 1, 4, 7};
  const auto mapped = a.remap(window, scratch);
  EXPECT_EQ(std::vector<uint16_t>(mapped.begin(), mapped.end()), (std::vector<uint16_t>{2, 0, 1, 2}));
  const VocabMap all = VocabMap::all(10);
  EXPECT_EQ(all.remap(window, scratch).data(), window.data()) << "every id: the window as is";
  // rows of width 2 holding their id
  const std::vector<float> in{1, 1, 4, 4, 7, 7};
  std::vector<float> out(8, -1);
  realign_rows(in, a, out, b, 2);
  EXPECT_EQ(out, (std::vector<float>{0, 0, 4, 4, 7, 7, 0, 0}));
  std::vector<float> full(20, -1);
  realign_rows(in, a, full, all, 2);
  EXPECT_EQ(full, (std::vector<float>{0, 0, 1, 1, 0, 0, 0, 0, 4, 4, 0, 0, 0, 0, 7, 7, 0, 0, 0, 0}));
}

TEST(VocabMap, AMisShapedCheckpointIsAnError) {
  const ModelConfig c = model_preset("tiny").value();
  Checkpoint ck;
  ASSERT_TRUE(add_weights_to_checkpoint(ck, ModelWeights::zeros(c).value()).ok());
  ASSERT_TRUE(add_weights_to_checkpoint(ck, ModelWeights::zeros(c).value(), "adam.m.").ok());
  ASSERT_TRUE(add_weights_to_checkpoint(ck, ModelWeights::zeros(c).value(), "adam.v.").ok());
  const std::vector<int32_t> ids{1, 5};
  ck.tensors.push_back(NamedTensor::of<int32_t>(kActiveIdsTensor, {2}, ids));
  auto r = align_state(ck, VocabMap::of({1, 5, 9}, c.vocab_size).value());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().to_string().find("adam.m.embedding"), std::string::npos) << r.error().to_string();
}

}  // namespace
}  // namespace ane::train
