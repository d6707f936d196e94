#include "train/run.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iterator>
#include <random>
#include <span>

#include <nlohmann/json.hpp>

#include "backends/cpu/blas.h"
#include "core/file.h"
#include "core/timer.h"
#include "formats/metrics_log.h"
#include "train/blzt_state.h"

namespace ane::train {
namespace {

// Cumulative counters carried across restarts in the checkpoint's meta["run"].
struct RunState {
  double compile_ms = 0, train_ms = 0, wall_ms = 0;
  int64_t steps_timed = 0;
  std::optional<double> best_val_loss;
  std::optional<double> last_loss;  // the last step's training loss (BLZT's header keeps it)

  nlohmann::json to_json(uint64_t seed) const {
    nlohmann::json j = {{"seed", seed}, {"compile_ms", compile_ms}, {"train_ms", train_ms},
                        {"wall_ms", wall_ms}, {"steps_timed", steps_timed}};
    if (best_val_loss) j["best_val_loss"] = *best_val_loss;
    if (last_loss) j["last_loss"] = *last_loss;
    return j;
  }
  static RunState from_json(const nlohmann::json& j) {
    RunState s;
    if (!j.is_object()) return s;
    s.compile_ms = j.value("compile_ms", 0.0);
    s.train_ms = j.value("train_ms", 0.0);
    s.wall_ms = j.value("wall_ms", 0.0);
    s.steps_timed = j.value("steps_timed", int64_t{0});
    auto number = [&](const char* key) -> std::optional<double> {
      if (j.contains(key) && j[key].is_number()) return j[key].get<double>();
      return std::nullopt;
    };
    s.best_val_loss = number("best_val_loss");
    s.last_loss = number("last_loss");
    return s;
  }
};

// The mean loss of `windows` validation windows, remapped to the trainer's vocabulary rows.
Expected<double> mean_val_loss(Trainer& t, const TokenData& data, const VocabMap& map, int64_t windows) {
  double sum = 0;
  std::vector<uint16_t> remapped;
  for (int64_t i = 0; i < windows; ++i) {
    ANE_ASSIGN_OR_RETURN(double loss, t.loss(map.remap(data.val_window(i, windows), remapped)));
    sum += loss;
  }
  return sum / static_cast<double>(windows);
}

// Writes the checkpoint of step `step` to `path` and, with keep_last > 0, a copy
// "<path>.<step>", removing the oldest copies beyond keep_last.
Status write_checkpoint(const nlohmann::json& meta, std::span<const TensorView> tensors, int64_t step,
                        const RunOptions& o, const std::string& path) {
  ANE_RETURN_IF_ERROR(save_checkpoint(path, meta, tensors));
  if (o.keep_last <= 0 || path != o.ckpt) return {};
  // The stamped copy is a second name for the file just written: the next save replaces
  // `path` by a rename, so the copy keeps these bytes. Without hard links, write it again.
  namespace fs = std::filesystem;
  const std::string stamped = path + "." + std::to_string(step);
  if (!link_atomic(path, stamped).ok()) ANE_RETURN_IF_ERROR(save_checkpoint(stamped, meta, tensors));
  // the step-stamped copies, oldest first
  const fs::path base(path);
  const fs::path dir = base.has_parent_path() ? base.parent_path() : fs::path(".");
  std::vector<std::pair<int64_t, fs::path>> copies;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string(), prefix = base.filename().string() + ".";
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string suffix = name.substr(prefix.size());
    if (!std::all_of(suffix.begin(), suffix.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) continue;
    copies.emplace_back(std::stoll(suffix), entry.path());
  }
  std::sort(copies.begin(), copies.end());
  for (size_t i = 0; i + static_cast<size_t>(o.keep_last) < copies.size(); ++i) fs::remove(copies[i].second, ec);
  return {};
}

}  // namespace

Expected<ModelWeights> init_weights(const ModelConfig& config, uint64_t seed, ThreadPool* pool) {
  ANE_ASSIGN_OR_RETURN(ModelWeights w, ModelWeights::zeros(config, pool));
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  const float residual = 1.0f / std::sqrt(2.0f * static_cast<float>(config.n_layers));
  for (ModelWeights::Tensor& t : w.tensors()) {
    if (t.shape.size() == 1) {
      std::fill(t.data.begin(), t.data.end(), 1.0f);
      continue;
    }
    const bool residual_out = t.name.ends_with(".wo") || t.name.ends_with(".w2");
    for (float& x : t.data) x = normal(rng) * (residual_out ? residual : 1.0f);
  }
  return w;
}

double measure_peak_gflops(int threads) {
  constexpr int64_t n = 1024;
  std::vector<float> a(n * n, 1.0f), b(n * n, 0.5f), c(n * n);
  double best = 0;
  ThreadPool pool(threads);
  for (int rep = 0; rep < 4; ++rep) {
    const Timer t;
    cpu::sgemm({a.data(), n, 1}, {b.data(), n, 1}, c.data(), n, n, n, n, 0.0f, &pool);
    best = std::max(best, 2.0 * n * n * n / t.seconds() / 1e9);
  }
  return best;
}

Expected<RunOutcome> run_training(Engine& engine, const ModelSource& source, RunOptions o, RunObserver& observer) {
  const Timer wall;
  if (o.accum < 1) return invalid_argument("--accum must be at least 1");
  if (o.steps < 1) return invalid_argument("--steps must be at least 1");
  if (o.eval_windows < 1) return invalid_argument("--eval-windows must be at least 1");
  // The model: from a checkpoint, a llama2.c file, or random.
  std::optional<Checkpoint> resumed;
  ModelWeights weights;
  if (o.resume) {
    if (o.ckpt.empty()) return invalid_argument("--resume needs --ckpt");
    // Read in place from the mapped file (OANECKPT or BLZT): the state is never in memory twice.
    ANE_ASSIGN_OR_RETURN(MappedFile opened, MappedFile::open(o.ckpt));
    const auto file = std::make_shared<const MappedFile>(std::move(opened));
    if (model_file_kind(file->bytes()) == ModelFileKind::kBlzt) {
      ANE_ASSIGN_OR_RETURN(resumed, checkpoint_from_blzt(file, o.ckpt));
      // keep the original's file in its format; the full state goes beside it
      if (o.blzt.empty()) o.blzt = o.ckpt;
      o.ckpt += ".oane";
    } else {
      ANE_ASSIGN_OR_RETURN(resumed, Checkpoint::map(file));
    }
    ANE_ASSIGN_OR_RETURN(weights, weights_from_checkpoint(*resumed));
  } else if (!source.llama2_path.empty()) {
    ANE_ASSIGN_OR_RETURN(weights, load_model_weights(source.llama2_path));
  } else if (source.config) {
    ANE_ASSIGN_OR_RETURN(weights, init_weights(*source.config, o.seed, engine.thread_pool().get()));
  } else {
    return invalid_argument("no model: give a config, a model file, or --resume");
  }
  if (o.seq_len && !resumed) weights.config.seq_len = *o.seq_len;
  ANE_RETURN_IF_ERROR(weights.config.validate());
  const ModelConfig config = weights.config;

  o.data.window = config.seq_len + 1;
  o.data.vocab_size = config.vocab_size;
  ANE_ASSIGN_OR_RETURN(TokenData data, TokenData::open(o.data));
  // The vocabulary rows trained: the ids the data uses, or every id. The set depends on the
  // data alone, so a resumed run derives it again.
  const std::span<const uint16_t> data_ids = data.token_ids();
  VocabMap map = VocabMap::all(config.vocab_size);
  if (compacts(o.compact_vocab, std::ssize(data_ids), config.vocab_size)) {
    ANE_ASSIGN_OR_RETURN(map, VocabMap::of({data_ids.begin(), data_ids.end()}, config.vocab_size));
  }
  ANE_ASSIGN_OR_RETURN(RunVocab vocab, RunVocab::split(weights, std::move(map)));
  VocabChange vocab_change;
  if (resumed) {
    ANE_ASSIGN_OR_RETURN(vocab_change, align_state(*resumed, vocab.map()));
  }

  o.trainer.schedule.total = o.steps;
  const int compiles_before = engine.compile_count();
  ANE_ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer, Trainer::create(engine, std::move(weights), o.trainer));
  RunState state;
  if (resumed) {
    ANE_RETURN_IF_ERROR(trainer->restore_state(*resumed));
    state = RunState::from_json(resumed->meta.value("run", nlohmann::json::object()));
    resumed.reset();  // the trainer has its own copy now (and the file is unmapped)
  }
  // Counters of earlier processes of this run plus this one's so far.
  auto totals = [&] {
    RunState t = state;
    t.compile_ms += trainer->times().compile;
    t.wall_ms += wall.ms();
    return t;
  };

  RunStart start;
  start.config = config;
  start.options = &o;
  start.params = static_cast<int64_t>(config.total_params());
  start.first_step = trainer->steps_done();
  start.tokens_per_step = static_cast<int64_t>(o.accum) * config.seq_len;
  start.flops_per_step = trainer->flops_per_window() * o.accum;
  start.kernels_compiled = engine.compile_count() - compiles_before;
  start.compile_ms = trainer->times().compile;
  start.peak_gflops = o.peak_gflops > 0 ? o.peak_gflops : measure_peak_gflops(o.trainer.threads);
  start.train_tokens = data.train_tokens();
  start.val_tokens = data.val_tokens();
  start.data_ids = std::ssize(data_ids);
  start.trained_ids = vocab.map().rows();
  start.vocab_change = vocab_change;
  observer.on_start(start);

  ANE_ASSIGN_OR_RETURN(MetricsLogWriter metrics, MetricsLogWriter::open(o.metrics, o.resume));
  ANE_RETURN_IF_ERROR(metrics.write({{"type", "start"}, {"config", config.to_json()}, {"step", start.first_step},
                                     {"steps", o.steps}, {"params", start.params}, {"accum", o.accum},
                                     {"seq_len", config.seq_len}, {"pipeline", pipeline_name(o.trainer.pipeline)},
                                     {"threads", o.trainer.threads}, {"lr", o.trainer.schedule.lr},
                                     {"flops_per_step", start.flops_per_step}, {"peak_gflops", start.peak_gflops},
                                     {"active_vocab", start.trained_ids}, {"resumed", o.resume}}));

  std::vector<uint16_t> remapped;  // a window in vocabulary rows
  auto save = [&](const std::string& path) -> Status {
    const RunState t = totals();
    nlohmann::json meta = vocab.state_meta(*trainer);
    meta["run"] = t.to_json(o.seed);
    const std::vector<TensorView> tensors = vocab.state_tensors(*trainer);
    ANE_RETURN_IF_ERROR(write_checkpoint(meta, tensors, trainer->steps_done(), o, path));
    observer.on_checkpoint(path, trainer->steps_done());
    if (o.blzt.empty() || path != o.ckpt) return {};
    const BlztRunInfo info{o.steps, trainer->options().schedule.at(trainer->steps_done()), t.last_loss.value_or(0.0),
                           t.compile_ms, t.train_ms, t.wall_ms};
    ANE_RETURN_IF_ERROR(save_blzt_state(o.blzt, meta, tensors, vocab.map(), info));
    observer.on_checkpoint(o.blzt, trainer->steps_done());
    return {};
  };
  // The state to o.ckpt and, when it is also the best so far, to "<ckpt>.best" as a second name
  // for the same file rather than a second copy (a Stories110M state is 1.3 GB; a copy where
  // the filesystem has no hard links).
  auto save_checkpoints = [&](bool best) -> Status {
    ANE_RETURN_IF_ERROR(save(o.ckpt));
    if (!best) return {};
    const std::string best_path = o.ckpt + ".best";
    if (!link_atomic(o.ckpt, best_path).ok()) return save(best_path);
    observer.on_checkpoint(best_path, trainer->steps_done());
    return {};
  };
  // The best state so far goes to "<ckpt>.best" (unless save_best is off: the caller saves it
  // with the step's checkpoint). True when this evaluation is the best so far.
  auto evaluate_now = [&](bool save_best = true) -> Expected<bool> {
    ANE_ASSIGN_OR_RETURN(double val, mean_val_loss(*trainer, data, vocab.map(), o.eval_windows));
    const bool best = !state.best_val_loss || val < *state.best_val_loss;
    if (best) state.best_val_loss = val;
    observer.on_eval(trainer->steps_done(), val, best);
    ANE_RETURN_IF_ERROR(
        metrics.write({{"type", "eval"}, {"step", trainer->steps_done()}, {"val_loss", val}, {"val_ppl", std::exp(val)}}));
    if (best && save_best && !o.ckpt.empty()) ANE_RETURN_IF_ERROR(save(o.ckpt + ".best"));
    return best;
  };
  auto sample_now = [&]() -> Status {
    if (!o.sample) return {};
    // samples come from the full model: a compacted run's trained rows in the full tensors
    ANE_ASSIGN_OR_RETURN(std::string text,
                         vocab.compacted() ? o.sample(vocab.full_weights(*trainer)) : o.sample(trainer->weights()));
    observer.on_sample(trainer->steps_done(), text);
    return metrics.write({{"type", "sample"}, {"step", trainer->steps_done()}, {"text", text}});
  };
  auto finish = [&](bool restarting) -> Status {
    const RunState t = totals();
    RunEnd end;
    end.steps = trainer->steps_done();
    end.compile_ms = t.compile_ms;
    end.train_ms = t.train_ms;
    end.wall_ms = t.wall_ms;
    end.steps_timed = t.steps_timed;
    end.this_process = trainer->times();
    end.flops_per_step = start.flops_per_step;
    end.restarting = restarting;
    end.best_val_loss = state.best_val_loss;
    observer.on_end(end);
    return metrics.write({{"type", "end"}, {"step", end.steps}, {"compile_ms", end.compile_ms},
                          {"train_ms", end.train_ms}, {"wall_ms", end.wall_ms}, {"restarting", restarting}});
  };

  if (start.first_step == 0 && o.eval_every > 0) ANE_RETURN_IF_ERROR(evaluate_now().status());
  const int64_t last = o.stop_at > 0 ? std::min(o.stop_at, o.steps) : o.steps;
  while (trainer->steps_done() < last) {
    const int64_t step = trainer->steps_done();
    const Timer timer;
    double loss = 0;
    for (int micro = 0; micro < o.accum; ++micro) {
      ANE_ASSIGN_OR_RETURN(double l, trainer->accumulate(vocab.map().remap(data.train_window(o.seed, step, micro), remapped)));
      loss += l / o.accum;
    }
    ANE_ASSIGN_OR_RETURN(StepReport report, trainer->step());
    state.last_loss = loss;
    RunStep rs;
    rs.report = report;
    rs.loss = loss;
    rs.ms = timer.ms();
    rs.tok_s = static_cast<double>(start.tokens_per_step) / (rs.ms / 1e3);
    rs.mfu = start.flops_per_step / (rs.ms / 1e3) / (start.peak_gflops * 1e9);
    state.train_ms += rs.ms;
    ++state.steps_timed;
    observer.on_step(rs, o.steps);
    ANE_RETURN_IF_ERROR(metrics.write({{"type", "step"}, {"step", report.step}, {"loss", loss}, {"lr", report.lr},
                                       {"ms", rs.ms}, {"tok_s", rs.tok_s},
                                       {"grad_norm", std::isfinite(report.grad_norm) ? report.grad_norm : -1.0},
                                       {"loss_scale", report.loss_scale}, {"skipped", !report.applied},
                                       {"mfu", rs.mfu}}));
    const int64_t done = report.step;
    const bool save_due = !o.ckpt.empty() && (report.kernels_stale ||
                                              (o.save_every > 0 && done % o.save_every == 0 && done < o.steps));
    bool best = false;
    if (o.eval_every > 0 && done % o.eval_every == 0 && done < o.steps) {
      ANE_ASSIGN_OR_RETURN(best, evaluate_now(/*save_best=*/!save_due));
    }
    if (o.sample_every > 0 && done % o.sample_every == 0 && done < o.steps) ANE_RETURN_IF_ERROR(sample_now());
    if (report.kernels_stale) {
      if (o.ckpt.empty()) return invalid_argument("the static pipeline spent its compile budget and needs --ckpt to restart");
      ANE_RETURN_IF_ERROR(save_checkpoints(best));
      ANE_RETURN_IF_ERROR(finish(/*restarting=*/true));
      return RunOutcome::kRestart;
    }
    if (save_due) ANE_RETURN_IF_ERROR(save_checkpoints(best));
  }
  bool final_is_best = false;
  if (last == o.steps) {
    ANE_ASSIGN_OR_RETURN(final_is_best, evaluate_now(/*save_best=*/false));
    if (o.sample_every > 0) ANE_RETURN_IF_ERROR(sample_now());
  }
  if (!o.ckpt.empty()) ANE_RETURN_IF_ERROR(save_checkpoints(final_is_best));
  ANE_RETURN_IF_ERROR(finish(/*restarting=*/false));
  return RunOutcome::kFinished;
}

Expected<EvalResult> evaluate(Engine& engine, const ModelWeights& weights, const DataOptions& data_options,
                              int64_t windows, int threads) {
  DataOptions d = data_options;
  d.window = weights.config.seq_len + 1;
  d.vocab_size = weights.config.vocab_size;
  ANE_ASSIGN_OR_RETURN(TokenData data, TokenData::open(d));
  TrainerOptions to;
  to.threads = threads;
  to.evaluate_only = true;
  ANE_ASSIGN_OR_RETURN(std::unique_ptr<Trainer> t, Trainer::create(engine, weights, to));
  ANE_ASSIGN_OR_RETURN(double loss, mean_val_loss(*t, data, VocabMap::all(weights.config.vocab_size), windows));
  return EvalResult{loss, windows};
}

}  // namespace ane::train
