// `ane train` and `ane eval`: the trainer from the command line, with the console display
// (start-up summary, one line per step or a progress bar on a terminal, validation lines,
// the Efficiency Report) and the static pipeline's self-restart when the compile budget is spent.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "formats/model_config.h"
#include "infer/sampler.h"
#include "infer/transformer.h"
#include "runtime/engine.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/text_generation.h"
#include "train/run.h"

namespace ane::cli {
namespace {

constexpr const char* kTrainHelp =
    "usage: ane train [--config NAME|FILE | --model MODEL.bin] --data PATH... [options]\n"
    "\n"
    "model (one of):\n"
    "  --config NAME|FILE   a preset (stories15M, stories42M, stories110M, qwen3-0.6b, tiny) or a\n"
    "                       JSON config, trained from random weights (default stories15M)\n"
    "  --model PATH         a llama2.c model file or OpenANE checkpoint to fine-tune\n"
    "  --resume             continue the run saved in --ckpt (same trajectory, step for step)\n"
    "  --scratch            random weights even when --model is given\n"
    "data:\n"
    "  --data PATH...       uint16 token shards (llama2.c raw or llm.c) or directories of *.bin\n"
    "  --val-data PATH...   validation shards (default: the last --val-fraction of each shard)\n"
    "  --val-fraction F     default 0.05\n"
    "  --seq-len N          training context (default: the model's)\n"
    "  --compact-vocab auto|on|off  train only the ids the data uses: their embedding and\n"
    "                       classifier rows, the softmax over them (auto: when fewer than half\n"
    "                       the vocabulary's); checkpoints still hold the full vocabulary\n"
    "optimisation:\n"
    "  --steps N            optimizer steps (default 100)     --accum N   windows per step (1)\n"
    "  --lr F               peak learning rate (3e-4)         --min-lr F  cosine floor (lr / 10)\n"
    "  --warmup N           linear warmup steps (0)           --clip F    global grad norm (1.0; 0 off)\n"
    "  --weight-decay F     AdamW, matrices only (0.1)        --beta1 F (0.9)  --beta2 F (0.95)\n"
    "  --loss-scale N|dynamic  gradient scale through fp16 surfaces (dynamic from 1024)\n"
    "  --residual-scale F   x + F * branch(x) (1.0)           --seed N    weights and windows (42)\n"
    "engine:\n"
    "  --pipeline static|dynamic  baked weights recompiled per step, or streamed (dynamic)\n"
    "  --precision fp32|fp16      kernel arithmetic (fp32)     --threads N (physical cores)\n"
    "  --compile-budget N   compiles before the static pipeline checkpoints and restarts (100)\n"
    "output:\n"
    "  --ckpt PATH          checkpoint (default ane_<config>.ckpt); PATH.best holds the best;\n"
    "                       --resume also reads the original's BLZT checkpoints\n"
    "  --blzt PATH          also save the original's BLZT checkpoint (stories-shaped models)\n"
    "  --save-every N       also every N steps                --keep-last K  keep K copies PATH.<step>\n"
    "  --eval-every N       validation every N steps (and at the end)  --eval-windows N (16)\n"
    "  --metrics FILE       JSON lines: start, step, eval, sample and end records\n"
    "  --peak-gflops F      peak for the MFU estimate (default: measured sgemm at start-up)\n"
    "  --stop-at N          save and stop after step N (continue later with --resume)\n"
    "samples (generated text from the weights being trained):\n"
    "  --tokenizer FILE     llama2.c tokenizer.bin with the model's vocabulary; alone: one sample at the end\n"
    "  --sample-every N     also a sample every N steps (needs --tokenizer)\n"
    "  --sample-prompt TEXT the start of each sample (default empty: BOS alone)\n"
    "  --sample-tokens N    tokens generated per sample (64)\n"
    "  --sample-temperature F  (0.8; top-p 0.9 and a fixed seed, so samples are reproducible)\n";

constexpr const char* kEvalHelp =
    "usage: ane eval --model MODEL --data PATH... [--val-data PATH...] [--val-fraction F]\n"
    "                [--windows N] [--seq-len N] [--threads N]\n"
    "  validation loss and perplexity of a checkpoint or llama2.c model on token shards\n";

std::string human(double v) {
  char buf[32];
  if (v >= 1e9) std::snprintf(buf, sizeof buf, "%.2fB", v / 1e9);
  else if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1fK", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::string duration(double seconds) {
  char buf[32];
  const auto s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s / 60 % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}

// The console side of a run: plain lines when stdout is not a terminal, a progress bar
// redrawn in place when it is.
class ConsoleDisplay : public train::RunObserver {
 public:
  ConsoleDisplay() : tty_(isatty(fileno(stdout)) != 0) {}

  void on_start(const train::RunStart& s) override {
    const ModelConfig& c = s.config;
    const train::RunOptions& o = *s.options;
    std::printf("model     %s: dim %d, hidden %d, %d layers, %d heads (%d kv), head_dim %d, vocab %d, seq %d%s%s; %s params\n",
                c.name.c_str(), c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.head_dim, c.vocab_size,
                c.seq_len, c.qk_norm ? ", qk-norm" : "", c.shared_classifier ? "" : ", unshared classifier",
                human(static_cast<double>(s.params)).c_str());
    std::printf("engine    %s pipeline, %d threads; %d kernels compiled in %.1f ms\n",
                std::string(train::pipeline_name(o.trainer.pipeline)).c_str(), o.trainer.threads, s.kernels_compiled,
                s.compile_ms);
    std::printf("step      %s tokens (%d x %d), %.1f GFLOP; peak %.0f GFLOP/s (%s)\n",
                human(static_cast<double>(s.tokens_per_step)).c_str(), o.accum, c.seq_len, s.flops_per_step / 1e9,
                s.peak_gflops, o.peak_gflops > 0 ? "given" : "measured sgemm");
    std::printf("data      %s train tokens, %s validation tokens\n", human(static_cast<double>(s.train_tokens)).c_str(),
                human(static_cast<double>(s.val_tokens)).c_str());
    if (s.trained_ids < c.vocab_size) {
      std::printf("vocabulary %d, training on the %lld ids the data uses (--compact-vocab)\n", c.vocab_size,
                  static_cast<long long>(s.trained_ids));
    } else {
      std::printf("vocabulary %d, all trained (the data uses %lld ids)\n", c.vocab_size,
                  static_cast<long long>(s.data_ids));
    }
    if (s.first_step > 0) std::printf("resumed   at step %lld\n", static_cast<long long>(s.first_step));
    const train::VocabChange& v = s.vocab_change;
    if (v.added > 0 || v.dropped > 0) {
      std::printf("vocabulary differs from the checkpoint's: %lld ids new (moments from zero), %lld no longer trained "
                  "(weights kept)\n",
                  static_cast<long long>(v.added), static_cast<long long>(v.dropped));
    }
    std::fflush(stdout);
  }

  void on_step(const train::RunStep& r, int64_t total) override {
    const train::StepReport& p = r.report;
    recent_ms_ = recent_ms_ == 0 ? r.ms : 0.9 * recent_ms_ + 0.1 * r.ms;
    char note[64] = "";
    if (!p.applied) std::snprintf(note, sizeof note, "  skipped: overflow, scale -> %g", p.loss_scale / 2);
    if (tty_) {
      constexpr int kWidth = 24;
      const int filled = static_cast<int>(kWidth * p.step / std::max<int64_t>(total, 1));
      std::string bar(static_cast<size_t>(filled), '#');
      bar.resize(kWidth, '.');
      std::printf("\r[%s] %lld/%lld  loss %.4f  lr %.2e  %.0f ms/step  %.0f tok/s  MFU~%.0f%%  ETA %s%s\033[K", bar.c_str(),
                  static_cast<long long>(p.step), static_cast<long long>(total), r.loss, p.lr, r.ms, r.tok_s,
                  100 * r.mfu, duration(static_cast<double>(total - p.step) * recent_ms_ / 1e3).c_str(), note);
      bar_open_ = true;
    } else {
      std::printf("step %5lld/%lld  loss %.4f  lr %.2e  %7.1f ms  %7.0f tok/s  MFU~%.0f%%%s\n",
                  static_cast<long long>(p.step), static_cast<long long>(total), r.loss, p.lr, r.ms, r.tok_s, 100 * r.mfu,
                  note);
    }
    std::fflush(stdout);
  }

  void on_eval(int64_t step, double val_loss, bool best) override {
    end_bar();
    std::printf("eval  step %lld  val_loss %.4f  ppl %.2f%s\n", static_cast<long long>(step), val_loss,
                std::exp(val_loss), best ? "  (best)" : "");
    std::fflush(stdout);
  }

  // `sample step N: "text"`, each further line of the text indented to the opening quote.
  void on_sample(int64_t step, const std::string& text) override {
    end_bar();
    const std::string head = "sample step " + std::to_string(step) + ": \"";
    std::string body;
    for (char c : text) {
      body += c;
      if (c == '\n') body.append(head.size(), ' ');
    }
    std::printf("%s%s\"\n", head.c_str(), body.c_str());
    std::fflush(stdout);
  }

  void on_checkpoint(const std::string& path, int64_t step) override {
    end_bar();
    std::printf("saved %s (step %lld)\n", path.c_str(), static_cast<long long>(step));
    std::fflush(stdout);
  }

  void on_end(const train::RunEnd& e) override {
    end_bar();
    if (e.restarting) {
      std::printf("compile budget spent at step %lld: restarting from the checkpoint\n", static_cast<long long>(e.steps));
      std::fflush(stdout);
      return;
    }
    const double ms_step = e.steps_timed > 0 ? e.train_ms / static_cast<double>(e.steps_timed) : 0;
    std::printf("\n=== Efficiency Report ===\n");
    std::printf("steps          %lld\n", static_cast<long long>(e.steps));
    std::printf("compile        %.2f s\n", e.compile_ms / 1e3);
    std::printf("train          %.2f s (%.1f ms/step)\n", e.train_ms / 1e3, ms_step);
    std::printf("wall           %.2f s\n", e.wall_ms / 1e3);
    const train::TrainerTimes& t = e.this_process;
    std::printf("time split     kernels %.2f s, classifier %.2f s, CPU ops and GEMMs %.2f s, optimizer %.2f s,"
                " weight streaming %.2f s (this process)\n",
                t.kernels / 1e3, t.classifier / 1e3, t.cpu / 1e3, t.optimizer / 1e3, t.streaming / 1e3);
    if (ms_step > 0) std::printf("achieved       %.1f GFLOP/s\n", e.flops_per_step / (ms_step / 1e3) / 1e9);
    if (e.best_val_loss) std::printf("best val loss  %.4f (ppl %.2f)\n", *e.best_val_loss, std::exp(*e.best_val_loss));
    std::fflush(stdout);
  }

 private:
  void end_bar() {
    if (bar_open_) std::printf("\n");
    bar_open_ = false;
  }

  bool tty_;
  bool bar_open_ = false;
  double recent_ms_ = 0;
};

Expected<Precision> parse_precision(const std::string& s) {
  if (s == "fp32") return Precision::kFp32;
  if (s == "fp16") return Precision::kFp16;
  return invalid_argument("--precision must be fp32 or fp16, not '" + s + "'");
}

Expected<train::CompactVocab> parse_compact_vocab(const std::string& s) {
  if (s == "auto") return train::CompactVocab::kAuto;
  if (s == "on") return train::CompactVocab::kOn;
  if (s == "off") return train::CompactVocab::kOff;
  return invalid_argument("--compact-vocab must be auto, on or off, not '" + s + "'");
}

constexpr uint64_t kSampleSeed = 1234;  // every sample draws the same random numbers

// What --tokenizer and the --sample-* options ask for.
struct SampleSpec {
  std::string tokenizer;
  std::string prompt;
  int tokens = 64;
  float temperature = 0.8f;
  int threads = 1;
};

// The run's sample callback: the prompt and `tokens` generated tokens decoded, from a fresh
// KV cache and sampler each time.
std::function<Expected<std::string>(const ModelWeights&)> make_sampler(const SampleSpec& spec,
                                                                       std::shared_ptr<const Tokenizer> tok) {
  return [spec, tok](const ModelWeights& w) -> Expected<std::string> {
    ANE_RETURN_IF_ERROR(check_vocab(*tok, spec.tokenizer, w.config));
    ANE_ASSIGN_OR_RETURN(std::vector<int> prompt, encode_prompt(*tok, spec.prompt, w.config.seq_len));
    ANE_ASSIGN_OR_RETURN(InferenceModel model, InferenceModel::create(w, spec.threads));
    ANE_ASSIGN_OR_RETURN(Sampler sampler, Sampler::create(w.config.vocab_size, {spec.temperature, 0.9f, kSampleSeed}));
    std::string text;
    const int steps = static_cast<int>(prompt.size()) - 1 + spec.tokens;  // the last prompt position samples
    auto append = [&](std::string_view piece) { text += piece; };
    ANE_RETURN_IF_ERROR(generate_text(model, *tok, prompt, steps, sampler, append).status());
    return text;
  };
}

// Sets the sample options of `o` from the command line (nothing without --tokenizer).
// `config` is the model's when training from scratch: its vocabulary is checked now rather
// than at the first sample.
Status add_samples(const Args& a, const std::optional<ModelConfig>& config, train::RunOptions& o) {
  if (!a.has("tokenizer")) {
    for (const char* name : {"sample-every", "sample-prompt", "sample-tokens", "sample-temperature"}) {
      if (a.has(name)) return invalid_argument(std::string("--") + name + " needs --tokenizer tokenizer.bin");
    }
    return {};
  }
  SampleSpec spec;
  spec.tokenizer = a.get("tokenizer");
  spec.prompt = a.get("sample-prompt");
  spec.threads = o.trainer.threads;
  ANE_ASSIGN_OR_RETURN(long long tokens, a.get_int("sample-tokens", 64));
  ANE_ASSIGN_OR_RETURN(double temperature, a.get_double("sample-temperature", 0.8));
  ANE_ASSIGN_OR_RETURN(o.sample_every, a.get_int("sample-every", 0));
  if (tokens < 1 || tokens > (1 << 20)) {
    return invalid_argument("--sample-tokens must be in [1, 1048576], got " + std::to_string(tokens));
  }
  if (o.sample_every < 0) return invalid_argument("--sample-every must be >= 0, got " + std::to_string(o.sample_every));
  if (o.sample_every == 0) o.sample_every = o.steps;  // only the sample at the end
  spec.tokens = static_cast<int>(tokens);
  spec.temperature = static_cast<float>(temperature);
  ANE_ASSIGN_OR_RETURN(Tokenizer tok, load_tokenizer(spec.tokenizer));
  ANE_RETURN_IF_ERROR(Sampler::create(tok.vocab_size(), {spec.temperature, 0.9f, kSampleSeed}).status());
  if (config) {
    ANE_RETURN_IF_ERROR(check_vocab(tok, spec.tokenizer, *config));
    ANE_RETURN_IF_ERROR(encode_prompt(tok, spec.prompt, o.seq_len.value_or(config->seq_len)).status());
  }
  o.sample = make_sampler(spec, std::make_shared<const Tokenizer>(std::move(tok)));
  return {};
}

// Re-runs this program as `ane train <args> --resume` (the original's exec() restart).
int restart_with_resume(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ane", "train"};
  for (const std::string& a : args) {
    if (a != "--scratch" && a != "--resume") argv.push_back(a);
  }
  argv.push_back("--resume");
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::fflush(nullptr);
  execv("/proc/self/exe", cargv.data());
  std::perror("ane: restarting with execv");
  return 1;
}

}  // namespace

int cmd_train(const std::vector<std::string>& args) {
  auto parsed = Args::parse(args,
                            {"config", "model", "data", "val-data", "val-fraction", "seq-len", "compact-vocab", "steps",
                             "accum", "lr", "min-lr", "warmup", "clip", "weight-decay", "beta1", "beta2", "loss-scale",
                             "residual-scale", "seed", "pipeline", "precision", "threads", "compile-budget", "ckpt",
                             "save-every", "keep-last", "eval-every", "eval-windows", "metrics", "peak-gflops", "stop-at",
                             "blzt", "tokenizer", "sample-every", "sample-prompt", "sample-tokens", "sample-temperature"},
                            {"resume", "scratch", "help"});
  if (!parsed.ok()) return report(parsed.error());
  const Args& a = *parsed;
  if (a.has("help")) {
    std::printf("%s", kTrainHelp);
    return 0;
  }
  if (!a.positional().empty()) return report(invalid_argument("unexpected argument '" + a.positional()[0] + "'"));
  if (a.has("resume") && a.has("scratch")) return report(invalid_argument("--resume and --scratch contradict each other"));

  auto run = [&]() -> Expected<train::RunOutcome> {
    train::RunOptions o;
    train::ModelSource source;
    if (a.has("model") && !a.has("scratch")) {
      source.llama2_path = a.get("model");
    } else {
      ANE_ASSIGN_OR_RETURN(source.config, config_from_name_or_file(a.get("config", "stories15M")));
    }
    const std::string name = source.config ? source.config->name
                                           : std::filesystem::path(source.llama2_path).stem().string();
    o.data.train = a.get_all("data");
    o.data.val = a.get_all("val-data");
    ANE_ASSIGN_OR_RETURN(o.data.val_fraction, a.get_double("val-fraction", 0.05));
    if (a.has("seq-len")) {
      ANE_ASSIGN_OR_RETURN(long long seq, a.get_int("seq-len", 0));
      o.seq_len = static_cast<int>(seq);
    }
    ANE_ASSIGN_OR_RETURN(o.compact_vocab, parse_compact_vocab(a.get("compact-vocab", "auto")));
    ANE_ASSIGN_OR_RETURN(long long steps, a.get_int("steps", 100));
    ANE_ASSIGN_OR_RETURN(long long accum, a.get_int("accum", 1));
    ANE_ASSIGN_OR_RETURN(long long seed, a.get_int("seed", 42));
    ANE_ASSIGN_OR_RETURN(long long warmup, a.get_int("warmup", 0));
    o.steps = steps;
    o.accum = static_cast<int>(accum);
    o.seed = static_cast<uint64_t>(seed);
    train::TrainerOptions& t = o.trainer;
    ANE_ASSIGN_OR_RETURN(t.schedule.lr, a.get_double("lr", 3e-4));
    ANE_ASSIGN_OR_RETURN(t.schedule.min_lr, a.get_double("min-lr", t.schedule.lr / 10));
    t.schedule.warmup = warmup;
    ANE_ASSIGN_OR_RETURN(t.clip, a.get_double("clip", 1.0));
    ANE_ASSIGN_OR_RETURN(t.adamw.weight_decay, a.get_double("weight-decay", 0.1));
    ANE_ASSIGN_OR_RETURN(t.adamw.beta1, a.get_double("beta1", 0.9));
    ANE_ASSIGN_OR_RETURN(t.adamw.beta2, a.get_double("beta2", 0.95));
    ANE_ASSIGN_OR_RETURN(t.residual_scale, a.get_double("residual-scale", 1.0));
    const std::string scale = a.get("loss-scale", "dynamic");
    t.dynamic_loss_scale = scale == "dynamic";
    if (!t.dynamic_loss_scale) {
      ANE_ASSIGN_OR_RETURN(t.loss_scale, a.get_double("loss-scale", 1024));
    }
    const std::string pipeline = a.get("pipeline", "dynamic");
    if (pipeline != "static" && pipeline != "dynamic") {
      return invalid_argument("--pipeline must be static or dynamic, not '" + pipeline + "'");
    }
    t.pipeline = pipeline == "static" ? train::Pipeline::kStatic : train::Pipeline::kDynamic;
    ANE_ASSIGN_OR_RETURN(long long threads, a.get_int("threads", default_thread_count()));
    t.threads = static_cast<int>(threads);
    ANE_ASSIGN_OR_RETURN(long long budget, a.get_int("compile-budget", 100));
    ANE_ASSIGN_OR_RETURN(Precision precision, parse_precision(a.get("precision", "fp32")));
    o.ckpt = a.get("ckpt", "ane_" + name + ".ckpt");
    o.resume = a.has("resume");
    ANE_ASSIGN_OR_RETURN(o.save_every, a.get_int("save-every", 0));
    ANE_ASSIGN_OR_RETURN(long long keep, a.get_int("keep-last", 0));
    o.keep_last = static_cast<int>(keep);
    ANE_ASSIGN_OR_RETURN(o.eval_every, a.get_int("eval-every", 0));
    ANE_ASSIGN_OR_RETURN(o.eval_windows, a.get_int("eval-windows", 16));
    o.metrics = a.get("metrics");
    o.blzt = a.get("blzt");
    ANE_ASSIGN_OR_RETURN(o.peak_gflops, a.get_double("peak-gflops", 0));
    ANE_ASSIGN_OR_RETURN(o.stop_at, a.get_int("stop-at", 0));
    ANE_RETURN_IF_ERROR(add_samples(a, source.config, o));

    ANE_ASSIGN_OR_RETURN(auto engine, Engine::create(EngineOptions{.precision = precision,
                                                                   .threads = t.threads,
                                                                   .compile_budget = static_cast<int>(budget)}));
    ConsoleDisplay display;
    return train::run_training(*engine, source, o, display);
  };
  auto outcome = run();
  if (!outcome.ok()) return report(outcome.error());
  if (*outcome == train::RunOutcome::kRestart) return restart_with_resume(args);
  return 0;
}

int cmd_eval(const std::vector<std::string>& args) {
  auto parsed = Args::parse(args, {"model", "data", "val-data", "val-fraction", "windows", "seq-len", "threads"}, {"help"});
  if (!parsed.ok()) return report(parsed.error());
  const Args& a = *parsed;
  if (a.has("help")) {
    std::printf("%s", kEvalHelp);
    return 0;
  }
  auto run = [&]() -> Expected<train::EvalResult> {
    if (!a.has("model")) return invalid_argument("ane eval needs --model");
    ANE_ASSIGN_OR_RETURN(ModelWeights w, load_model_weights(a.get("model")));
    ANE_ASSIGN_OR_RETURN(long long seq, a.get_int("seq-len", w.config.seq_len));
    w.config.seq_len = static_cast<int>(seq);
    train::DataOptions d;
    d.train = a.get_all("data");
    d.val = a.get_all("val-data");
    ANE_ASSIGN_OR_RETURN(d.val_fraction, a.get_double("val-fraction", 0.05));
    ANE_ASSIGN_OR_RETURN(long long windows, a.get_int("windows", 16));
    ANE_ASSIGN_OR_RETURN(long long threads, a.get_int("threads", default_thread_count()));
    ANE_ASSIGN_OR_RETURN(auto engine, Engine::create(EngineOptions{.threads = static_cast<int>(threads), .compile_budget = 0}));
    return train::evaluate(*engine, w, d, windows, static_cast<int>(threads));
  };
  auto r = run();
  if (!r.ok()) return report(r.error());
  std::printf("val_loss %.4f  ppl %.2f  (%lld windows)\n", r->loss, std::exp(r->loss), static_cast<long long>(r->windows));
  return 0;
}

}  // namespace ane::cli
