#include "train/trainer.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "backends/cpu/blas.h"
#include "core/huge_pages.h"
#include "core/timer.h"
#include "models/layer_kernels.h"
#include "train/cpu_ops.h"

namespace ane::train {
namespace {

size_t z(int64_t v) { return static_cast<size_t>(v); }

// Adds the elapsed time of its scope to `total` (milliseconds).
class ScopedTime {
 public:
  explicit ScopedTime(double& total) : total_(total) {}
  ~ScopedTime() { total_ += timer_.ms(); }
  ScopedTime(const ScopedTime&) = delete;
  ScopedTime& operator=(const ScopedTime&) = delete;

 private:
  double& total_;
  Timer timer_;
};

// `threads` is resolved (Trainer::create): never 0.
std::shared_ptr<ThreadPool> own_or_engine_pool(const Engine& engine, int threads) {
  if (threads == engine.thread_pool()->size()) return engine.thread_pool();
  return std::make_shared<ThreadPool>(threads);
}

// dw[out, in] = beta * dw + dy[out, S] x[in, S]^T.
void weight_grad(std::vector<float>& dw, cpu::MatrixRef dy, cpu::MatrixRef x, int64_t out, int64_t in, int64_t S,
                 float beta, ThreadPool& pool, double* squares) {
  linear_weight_grad(dw, dy, x, static_cast<int>(out), static_cast<int>(in), static_cast<int>(S), &pool, beta,
                     squares);
}

// Channels [channel, channel + channels) of a kernel's fp16 surface, read in place by a GEMM.
Expected<cpu::MatrixRef> surface_rows(std::span<const half_bits> surface, const mil::TensorType& type, int64_t channel,
                              int64_t channels, int64_t S) {
  ANE_ASSIGN_OR_RETURN(const models::ChannelRows r, models::channel_rows(surface, type, channel, channels, S));
  return cpu::MatrixRef{nullptr, r.row_stride, 1, r.data};
}

void add_scaled(std::vector<float>& y, const std::vector<float>& x, float a) {
  for (size_t i = 0; i < y.size(); ++i) y[i] += a * x[i];
}

}  // namespace

// Activations and scratch for one window, allocated once.
struct Trainer::Buffers {
  std::vector<std::vector<float>> x;          // [L + 1][D * S]: residual stream entering layer l (x[L]: final)
  std::vector<std::vector<float>> x2;         // [L][D * S]: after the attention branch
  // [L]: the forward kernels' output surfaces (taps), bound per layer so that nothing is
  // copied aside for the backward pass.
  std::vector<std::shared_ptr<Surface>> att, ffn;
  std::vector<float> branch;                  // [D * S]: a kernel's branch output
  std::vector<float> xf, logits, dlogits;     // final norm output [D, S]; [V, S] twice
  std::vector<float> dy, dx2, dxn, dscaled;   // [D, S]
  std::vector<float> dq, dk;                  // [Q|KV, S]
  std::vector<float> q_raw, k_raw, dnorm;     // qk-norm backward
};

Trainer::Trainer(Engine& engine, ModelWeights weights, TrainerOptions options, AdamW adam, ModelWeights grads)
    : engine_(engine),
      weights_(std::move(weights)),
      options_(options),
      adam_(std::move(adam)),
      grads_(std::move(grads)),
      scaler_(options.loss_scale, options.dynamic_loss_scale),
      pool_owner_(own_or_engine_pool(engine, options.threads)),
      pool_(*pool_owner_) {
  const auto g = grads_.tensors();
  grad_squares_.resize(g.size());
  for (size_t i = 0; i < g.size(); ++i) grad_index_[g[i].data.data()] = i;
}

Trainer::~Trainer() = default;

Expected<std::unique_ptr<Trainer>> Trainer::create(Engine& engine, ModelWeights weights, TrainerOptions options) {
  ANE_RETURN_IF_ERROR(weights.validate());
  if (options.threads <= 0) options.threads = default_thread_count();
  if (!(options.loss_scale >= 1.0)) return invalid_argument("loss scale must be at least 1");
  const ModelConfig c = weights.config;
  AdamW adam;
  ModelWeights grads;
  if (!options.evaluate_only) {
    ThreadPool* pool = engine.thread_pool().get();  // faults the state in on every thread
    ANE_ASSIGN_OR_RETURN(adam, AdamW::create(c, options.adamw, pool));
    ANE_ASSIGN_OR_RETURN(grads, ModelWeights::zeros(c, pool));
  }
  std::unique_ptr<Trainer> t(new Trainer(engine, std::move(weights), options, std::move(adam), std::move(grads)));
  ANE_ASSIGN_OR_RETURN(t->kernels_, KernelSet::create(engine, c, options.pipeline, &t->pool_));
  if (options.pipeline == Pipeline::kStatic && engine.options().compile_budget > 0 &&
      t->kernels_->compiles_per_load() + 1 > engine.options().compile_budget) {
    return invalid_argument("the static pipeline compiles " + std::to_string(t->kernels_->compiles_per_load() + 1) +
                            " kernels for this model, more than the compile budget (" +
                            std::to_string(engine.options().compile_budget) +
                            "); raise the budget or use the dynamic pipeline");
  }
  ANE_RETURN_IF_ERROR(t->kernels_->load_weights(t->weights_));

  const size_t D = z(c.dim), S = z(c.seq_len), V = z(c.vocab_size), L = z(c.n_layers);
  const size_t Q = c.q_dim(), KV = c.kv_dim();
  auto b = std::make_unique<Buffers>();
  b->x.assign(L + 1, std::vector<float>(D * S));
  b->x2.assign(L, std::vector<float>(D * S));
  for (size_t l = 0; l < L; ++l) {
    b->att.push_back(Surface::create(t->kernels_->layout(LayerKernel::kAttentionForward).output));
    b->ffn.push_back(Surface::create(t->kernels_->layout(LayerKernel::kFfnForward).output));
  }
  for (auto* v : {&b->branch, &b->xf, &b->dy, &b->dx2, &b->dxn, &b->dscaled}) v->resize(D * S);
  b->logits = vector_on_huge_pages<float>(V * S);
  b->dlogits = vector_on_huge_pages<float>(V * S);
  b->dq.resize(Q * S);
  b->q_raw.resize(c.qk_norm ? Q * S : 0);
  b->dk.resize(KV * S);
  b->k_raw.resize(c.qk_norm ? KV * S : 0);
  b->dnorm.resize(std::max(Q, KV) * S);
  t->buf_ = std::move(b);
  return t;
}

TrainerTimes Trainer::times() const {
  TrainerTimes t = times_;
  t.compile = kernels_->compile_ms();
  t.streaming = kernels_->streaming_ms();
  return t;
}

double Trainer::flops_per_window() const {
  const ModelConfig& c = weights_.config;
  const double S = c.seq_len;
  const double matrix_params = static_cast<double>(c.layer_params()) - 2.0 * c.dim - 2.0 * static_cast<double>(c.qk_norm_size());
  const double forward = 2 * S * (c.n_layers * matrix_params + static_cast<double>(c.embedding_size())) +
                         c.n_layers * 4.0 * S * S * static_cast<double>(c.q_dim());  // scores and P V
  return 3 * forward;  // backward: twice the forward
}

float Trainer::gemm_gradient_beta() const { return micro_steps_ == 0 ? 0.0f : 1.0f; }

double* Trainer::squares_of(const std::vector<float>& g) {
  std::optional<double>& s = grad_squares_[grad_index_.at(g.data())];
  s = 0.0;
  return &*s;
}

void Trainer::zero_summed_gradients() {
  auto zero = [](std::vector<float>& v) { std::fill(v.begin(), v.end(), 0.0f); };
  for (LayerWeights& l : grads_.layers) {
    for (std::vector<float>* v : {&l.rms_att, &l.rms_ffn, &l.q_norm, &l.k_norm}) zero(*v);
  }
  zero(grads_.rms_final);
  if (!weights_.config.shared_classifier) zero(grads_.embedding);  // else the classifier GEMM writes it first
}

Status Trainer::check_window(std::span<const uint16_t> window) const {
  const ModelConfig& c = weights_.config;
  if (window.size() != z(c.seq_len) + 1) {
    return invalid_argument("a training window holds seq_len + 1 = " + std::to_string(c.seq_len + 1) + " tokens, got " +
                            std::to_string(window.size()));
  }
  for (size_t i = 0; i < window.size(); ++i) {
    if (window[i] >= c.vocab_size) {
      return invalid_argument("token " + std::to_string(window[i]) + " at window position " + std::to_string(i) +
                              " is outside the vocabulary (" + std::to_string(c.vocab_size) + ")");
    }
  }
  return {};
}

Expected<Kernel*> Trainer::run_kernel(LayerKernel kind, int layer) {
  ANE_ASSIGN_OR_RETURN(Kernel * k, kernels_->get(kind, layer));
  const ScopedTime t(times_.kernels);
  ANE_RETURN_IF_ERROR(k->run());
  return k;
}

Status Trainer::residual_branch(LayerKernel kind, int layer, const std::vector<float>& x,
                                std::shared_ptr<Surface> taps, std::vector<float>& out) {
  ANE_ASSIGN_OR_RETURN(Kernel * k, kernels_->get(kind, layer));
  const KernelLayout& kl = kernels_->layout(kind);
  ANE_RETURN_IF_ERROR(k->bind_output(0, std::move(taps)));
  ANE_RETURN_IF_ERROR(models::write_channels(input_halves(*k), kl.input, 0, x, weights_.config.seq_len, &pool_));
  ANE_RETURN_IF_ERROR(run_kernel(kind, layer).status());
  const std::span<const half_bits> y = output_halves(*k);
  std::vector<float>& branch = buf_->branch;
  ANE_RETURN_IF_ERROR(models::read_channels(y, kl.output, 0, branch, weights_.config.seq_len, &pool_));
  out = x;
  add_scaled(out, branch, static_cast<float>(options_.residual_scale));
  return {};
}

Status Trainer::forward(std::span<const uint16_t> tokens) {
  const ModelConfig& c = weights_.config;
  Buffers& b = *buf_;
  ANE_RETURN_IF_ERROR(embed_lookup(b.x[0], weights_.embedding, tokens, c.vocab_size, c.dim, c.seq_len));
  for (int l = 0; l < c.n_layers; ++l) {
    const size_t lz = z(l);
    // x2 = x + a * attention(x), then x_next = x2 + a * ffn(x2)
    ANE_RETURN_IF_ERROR(residual_branch(LayerKernel::kAttentionForward, l, b.x[lz], b.att[lz], b.x2[lz]));
    ANE_RETURN_IF_ERROR(residual_branch(LayerKernel::kFfnForward, l, b.x2[lz], b.ffn[lz], b.x[lz + 1]));
  }
  return {};
}

Expected<double> Trainer::classifier_loss(std::span<const uint16_t> targets, bool backward) {
  const ScopedTime t(times_.classifier);
  const ModelConfig& c = weights_.config;
  const int64_t D = c.dim, S = c.seq_len, V = c.vocab_size;
  Buffers& b = *buf_;
  const std::vector<float>& x = b.x[z(c.n_layers)];
  const float eps = static_cast<float>(c.norm_eps);
  rmsnorm(b.xf, x, weights_.rms_final, c.dim, c.seq_len, eps);
  const std::span<const float> wc = weights_.output_weights();
  cpu::sgemm({wc.data(), D, 1}, {b.xf.data(), S, 1}, b.logits.data(), S, V, S, D, 0.0f, &pool_);
  // dlogits carry the loss scale from here on (the kernels see fp16 gradients)
  ANE_ASSIGN_OR_RETURN(float loss, cross_entropy(b.dlogits, b.logits, targets, c.vocab_size, c.seq_len,
                                                 static_cast<float>(scaler_.scale()), &pool_));
  if (!backward) return static_cast<double>(loss);
  // The shared classifier's gradient is the embedding's, which embed_backward adds to later.
  std::vector<float>& dwc = c.shared_classifier ? grads_.embedding : grads_.classifier;
  cpu::sgemm({b.dlogits.data(), S, 1}, {b.xf.data(), 1, S}, dwc.data(), D, V, D, S, gemm_gradient_beta(), &pool_,
             {{}, c.shared_classifier ? nullptr : squares_of(dwc)});
  cpu::sgemm({wc.data(), 1, D}, {b.dlogits.data(), S, 1}, b.dxn.data(), S, D, S, V, 0.0f, &pool_);
  rmsnorm_backward(b.dy, grads_.rms_final, b.dxn, x, weights_.rms_final, c.dim, c.seq_len, eps);
  return static_cast<double>(loss);
}

Status Trainer::layer_backward(int layer, std::vector<float>& dy) {
  const ModelConfig& c = weights_.config;
  const int64_t D = c.dim, H = c.hidden_dim, S = c.seq_len, Q = static_cast<int64_t>(c.q_dim()),
                KV = static_cast<int64_t>(c.kv_dim());
  const size_t lz = z(layer);
  const float alpha = static_cast<float>(options_.residual_scale), eps = static_cast<float>(c.norm_eps);
  const float beta = gemm_gradient_beta();
  Buffers& b = *buf_;
  const LayerWeights& w = weights_.layers[lz];
  LayerWeights& g = grads_.layers[lz];
  const KernelLayout& al = kernels_->layout(LayerKernel::kAttentionForward);
  const KernelLayout& fl = kernels_->layout(LayerKernel::kFfnForward);
  const std::span<const half_bits> att = halves_of(std::as_const(*b.att[lz])), ffn = halves_of(std::as_const(*b.ffn[lz]));
  const models::AttentionTaps at = models::attention_taps(c);
  const models::FfnTaps ft = models::ffn_taps(c);
  const models::Sdpa1Outputs s1o = models::sdpa_backward1_outputs(c);

  // FFN backward: dffn = a * dy at the branch output.
  std::vector<float>& dffn = b.dscaled;
  for (size_t i = 0; i < dffn.size(); ++i) dffn[i] = alpha * dy[i];
  {
    ANE_ASSIGN_OR_RETURN(Kernel * k, kernels_->get(LayerKernel::kFfnBackward, layer));
    const KernelLayout& kl = kernels_->layout(LayerKernel::kFfnBackward);
    ANE_RETURN_IF_ERROR(models::write_channels(input_halves(*k), kl.input, 0, dffn, S, &pool_));
    ANE_RETURN_IF_ERROR(k->bind_input(1, b.ffn[lz]));
    ANE_RETURN_IF_ERROR(run_kernel(LayerKernel::kFfnBackward, layer).status());
    const ScopedTime t(times_.cpu);
    const std::span<const half_bits> out = output_halves(*k);
    ANE_RETURN_IF_ERROR(models::read_channels(out, kl.output, 0, b.dxn, S, &pool_));
    ANE_ASSIGN_OR_RETURN(const cpu::MatrixRef dh1, surface_rows(out, kl.output, D, H, S));
    ANE_ASSIGN_OR_RETURN(const cpu::MatrixRef dh3, surface_rows(out, kl.output, D + H, H, S));
    ANE_ASSIGN_OR_RETURN(const cpu::MatrixRef gated, surface_rows(ffn, fl.output, ft.gated, H, S));
    ANE_ASSIGN_OR_RETURN(const cpu::MatrixRef xn2, surface_rows(ffn, fl.output, ft.xnorm, D, S));
    weight_grad(g.w2, rows_of(dffn, S), gated, D, H, S, beta, pool_, squares_of(g.w2));
    weight_grad(g.w1, dh1, xn2, H, D, S, beta, pool_, squares_of(g.w1));
    weight_grad(g.w3, dh3, xn2, H, D, S, beta, pool_, squares_of(g.w3));
    rmsnorm_backward(b.dx2, g.rms_ffn, b.dxn, b.x2[lz], w.rms_ffn, c.dim, c.seq_len, eps);
    for (size_t i = 0; i < dy.size(); ++i) b.dx2[i] += dy[i];
  }

  // Attention backward: do = a * dx2 at the branch output.
  std::vector<float>& d_o = b.dscaled;
  for (size_t i = 0; i < d_o.size(); ++i) d_o[i] = alpha * b.dx2[i];
  ANE_ASSIGN_OR_RETURN(Kernel * s1, kernels_->get(LayerKernel::kSdpaBackward1, layer));
  const KernelLayout& s1l = kernels_->layout(LayerKernel::kSdpaBackward1);
  ANE_RETURN_IF_ERROR(models::write_channels(input_halves(*s1), s1l.input, 0, d_o, S, &pool_));
  ANE_RETURN_IF_ERROR(s1->bind_input(1, b.att[lz]));
  ANE_RETURN_IF_ERROR(run_kernel(LayerKernel::kSdpaBackward1, layer).status());
  {
    const ScopedTime t(times_.cpu);
    ANE_ASSIGN_OR_RETURN(const cpu::MatrixRef attn, surface_rows(att, al.output, at.attn, Q, S));
    weight_grad(g.wo, rows_of(d_o, S), attn, D, Q, S, beta, pool_, squares_of(g.wo));
  }
  ANE_ASSIGN_OR_RETURN(Kernel * s2, kernels_->get(LayerKernel::kSdpaBackward2, layer));
  const KernelLayout& s2l = kernels_->layout(LayerKernel::kSdpaBackward2);
  const std::span<const half_bits> s1_out = output_halves(*s1);
  ANE_RETURN_IF_ERROR(s2->bind_input(0, s1->output(0)));
  ANE_RETURN_IF_ERROR(s2->bind_input(1, b.att[lz]));
  ANE_RETURN_IF_ERROR(run_kernel(LayerKernel::kSdpaBackward2, layer).status());
  {
    const ScopedTime t(times_.cpu);
    const std::span<const half_bits> s2_out = output_halves(*s2);
    ANE_RETURN_IF_ERROR(models::read_channels(s2_out, s2l.output, 0, b.dq, S, &pool_));
    ANE_RETURN_IF_ERROR(models::read_channels(s2_out, s2l.output, Q, b.dk, S, &pool_));
    if (c.qk_norm) {  // back through the per-head norms, to the raw projections
      ANE_RETURN_IF_ERROR(models::read_channels(att, al.output, at.q_raw, b.q_raw, S, &pool_));
      ANE_RETURN_IF_ERROR(models::read_channels(att, al.output, at.k_raw, b.k_raw, S, &pool_));
      const size_t block = z(c.head_dim) * z(S);
      auto heads = [&](std::vector<float>& d, const std::vector<float>& raw, const std::vector<float>& nw,
                       std::vector<float>& dnw, int n_heads) {
        for (int h = 0; h < n_heads; ++h) {
          const size_t o = z(h) * block;
          rmsnorm_backward(std::span(b.dnorm).subspan(o, block), dnw, std::span<const float>(d).subspan(o, block),
                           std::span<const float>(raw).subspan(o, block), nw, c.head_dim, c.seq_len, eps);
        }
        std::copy_n(b.dnorm.begin(), d.size(), d.begin());
      };
      heads(b.dq, b.q_raw, w.q_norm, g.q_norm, c.n_heads);
      heads(b.dk, b.k_raw, w.k_norm, g.k_norm, c.n_kv_heads);
    }
    ANE_ASSIGN_OR_RETURN(const cpu::MatrixRef xn, surface_rows(att, al.output, at.xnorm, D, S));
    ANE_ASSIGN_OR_RETURN(const cpu::MatrixRef dv, surface_rows(s1_out, s1l.output, s1o.dv, KV, S));
    weight_grad(g.wq, rows_of(b.dq, S), xn, Q, D, S, beta, pool_, squares_of(g.wq));
    weight_grad(g.wk, rows_of(b.dk, S), xn, KV, D, S, beta, pool_, squares_of(g.wk));
    weight_grad(g.wv, dv, xn, KV, D, S, beta, pool_, squares_of(g.wv));
  }
  ANE_ASSIGN_OR_RETURN(Kernel * qb, kernels_->get(LayerKernel::kQkvBackward, layer));
  const KernelLayout& ql = kernels_->layout(LayerKernel::kQkvBackward);
  ANE_RETURN_IF_ERROR(models::write_channels(input_halves(*qb), ql.input, 0, b.dq, S, &pool_));
  ANE_RETURN_IF_ERROR(models::write_channels(input_halves(*qb), ql.input, Q, b.dk, S, &pool_));
  ANE_RETURN_IF_ERROR(qb->bind_input(1, s1->output(0)));
  ANE_RETURN_IF_ERROR(run_kernel(LayerKernel::kQkvBackward, layer).status());
  const ScopedTime t(times_.cpu);
  ANE_RETURN_IF_ERROR(models::read_channels(output_halves(*qb), ql.output, 0, b.dxn, S, &pool_));
  rmsnorm_backward(dy, g.rms_att, b.dxn, b.x[lz], w.rms_att, c.dim, c.seq_len, eps);
  for (size_t i = 0; i < dy.size(); ++i) dy[i] += b.dx2[i];
  return {};
}

Status Trainer::backward(std::span<const uint16_t> tokens) {
  const ModelConfig& c = weights_.config;
  for (int l = c.n_layers - 1; l >= 0; --l) ANE_RETURN_IF_ERROR(layer_backward(l, buf_->dy));
  const ScopedTime t(times_.cpu);
  embed_backward(grads_.embedding, buf_->dy, tokens, c.dim, c.seq_len);
  return {};
}

Expected<double> Trainer::accumulate(std::span<const uint16_t> window) {
  if (options_.evaluate_only) return invalid_argument("this trainer only evaluates: it keeps no gradients");
  ANE_RETURN_IF_ERROR(check_window(window));
  std::fill(grad_squares_.begin(), grad_squares_.end(), std::nullopt);  // this window's GEMMs report afresh
  const size_t S = z(weights_.config.seq_len);
  ANE_RETURN_IF_ERROR(forward(window.first(S)));
  ANE_ASSIGN_OR_RETURN(double loss, classifier_loss(window.subspan(1, S), /*backward=*/true));
  ANE_RETURN_IF_ERROR(backward(window.first(S)));
  ++micro_steps_;
  return loss;
}

Expected<double> Trainer::loss(std::span<const uint16_t> window) {
  ANE_RETURN_IF_ERROR(check_window(window));
  const size_t S = z(weights_.config.seq_len);
  ANE_RETURN_IF_ERROR(forward(window.first(S)));
  return classifier_loss(window.subspan(1, S), /*backward=*/false);
}

Expected<StepReport> Trainer::step() {
  if (options_.evaluate_only) return invalid_argument("this trainer only evaluates: it keeps no optimizer state");
  if (micro_steps_ == 0) return invalid_argument("optimizer step without accumulated gradients");
  StepReport r;
  r.loss_scale = scaler_.scale();
  {
    const ScopedTime t(times_.optimizer);
    // The accumulators hold loss_scale * (sum over windows): unscale, average and clip in
    // AdamW's single pass over the gradients.
    const double unscale = 1.0 / (scaler_.scale() * micro_steps_);
    r.grad_norm = global_norm(grads_, pool_, grad_squares_) * unscale;
    r.applied = scaler_.update(std::isfinite(r.grad_norm));
    r.lr = options_.schedule.at(steps_done_);
    if (r.applied) {
      const double clip = options_.clip > 0 && r.grad_norm > options_.clip ? options_.clip / r.grad_norm : 1.0;
      ANE_RETURN_IF_ERROR(
          adam_.step(weights_, grads_, r.lr, static_cast<float>(unscale * clip), pool_, kernels_->half_copies(weights_)));
      zero_summed_gradients();
    } else {
      zero_all(grads_, pool_);
    }
    micro_steps_ = 0;
  }
  ++steps_done_;
  r.step = steps_done_;
  if (r.applied) {
    Status s = kernels_->load_weights(weights_, /*halves_current=*/true);
    if (!s.ok()) {
      if (s.error().code() != ErrorCode::kBudgetExceeded) return s.error();
      r.kernels_stale = true;
    }
  }
  return r;
}

std::vector<TensorView> Trainer::state_tensors() const {
  std::vector<TensorView> out;
  for (const auto& [prefix, w] : {std::pair<std::string, const ModelWeights*>{"model.", &weights_},
                                  {"adam.m.", &adam_.m()}, {"adam.v.", &adam_.v()}}) {
    if (options_.evaluate_only && w != &weights_) continue;  // it has no moments
    for (const auto& t : w->tensors()) out.push_back(TensorView::of<float>(prefix + t.name, t.shape, t.data));
  }
  return out;
}

nlohmann::json Trainer::state_meta() const {
  return {{"model", weights_.config.to_json()}, {"step", steps_done_}, {"adam_t", adam_.t()},
          {"loss_scale", scaler_.scale()}, {"loss_scale_clean_steps", scaler_.clean_steps()}};
}

Status Trainer::restore_state(const Checkpoint& ckpt) {
  if (options_.evaluate_only) return invalid_argument("this trainer only evaluates: it keeps no optimizer state");
  ANE_ASSIGN_OR_RETURN(ModelConfig saved, ckpt.model_config());
  if (!(saved == weights_.config)) return invalid_argument("checkpoint holds another model shape ('" + saved.name + "')");
  ANE_RETURN_IF_ERROR(read_tensors_from_checkpoint(ckpt, weights_, "model."));
  ANE_RETURN_IF_ERROR(read_tensors_from_checkpoint(ckpt, adam_.m(), "adam.m."));
  ANE_RETURN_IF_ERROR(read_tensors_from_checkpoint(ckpt, adam_.v(), "adam.v."));
  ANE_ASSIGN_OR_RETURN(steps_done_, ckpt.step());
  const nlohmann::json& m = ckpt.meta;
  if (!m.contains("adam_t") || !m["adam_t"].is_number_integer()) return invalid_argument("checkpoint meta lacks adam_t");
  adam_.set_t(m["adam_t"].get<int64_t>());
  // Checkpoints converted from BLZT have no loss-scale state: the scaler keeps its start.
  if (m.contains("loss_scale") && m["loss_scale"].is_number()) {
    scaler_.restore(m["loss_scale"].get<double>(), m.value("loss_scale_clean_steps", int64_t{0}));
  }
  zero_all(grads_, pool_);
  micro_steps_ = 0;
  return kernels_->load_weights(weights_);
}

}  // namespace ane::train
