#include "models/layer_kernels.h"

#include <cmath>

#include "formats/weight_blob.h"
#include "models/graph.h"

namespace ane::models {
namespace {

using mil::DType;
using mil::TensorType;

int64_t i64(size_t v) { return static_cast<int64_t>(v); }

// The per-layer sizes every generator needs.
struct Dims {
  int64_t D, H, Q, KV, S, heads, kv_heads, hd, group, SC, V;
  explicit Dims(const ModelConfig& c)
      : D(c.dim), H(c.hidden_dim), Q(i64(c.q_dim())), KV(i64(c.kv_dim())), S(c.seq_len), heads(c.n_heads),
        kv_heads(c.n_kv_heads), hd(c.head_dim), group(c.gqa_ratio()), SC(i64(c.score_channels())),
        V(c.vocab_size) {}
};

// A [n] norm scale reshaped to broadcast over head_dim in [1, heads, hd, S].
Value* head_scale(KernelBuilder& kb, WeightId id) {
  return kb.b().reshape(kb.scale(id), {1, 1, kb.config().head_dim, 1});
}

}  // namespace

std::shared_ptr<const std::vector<uint8_t>> KernelGenerator::mask_blob() {
  if (!mask_) mask_ = std::make_shared<const std::vector<uint8_t>>(build_causal_mask_blob(config_.seq_len));
  return mask_;
}

Value* KernelGenerator::mask(KernelBuilder& kb) {
  const int64_t S = config_.seq_len;
  return kb.const_file("mask", TensorType{DType::kFp16, {1, 1, S, S}}, mask_blob());
}

AttentionTaps attention_taps(const ModelConfig& c) {
  const Dims d(c);
  AttentionTaps t;
  t.o = 0;
  t.q = d.D;
  t.k = t.q + d.Q;
  t.v = t.k + d.KV;
  t.attn = t.v + d.KV;
  t.xnorm = t.attn + d.Q;
  t.q_raw = t.xnorm + d.D;
  t.k_raw = t.q_raw + d.Q;
  t.channels = c.qk_norm ? t.k_raw + d.KV : t.q_raw;
  return t;
}

FfnTaps ffn_taps(const ModelConfig& c) {
  const Dims d(c);
  return {0, d.D, d.D + d.H, d.D + 2 * d.H, d.D + 3 * d.H, 2 * d.D + 3 * d.H};
}

Sdpa1Outputs sdpa_backward1_outputs(const ModelConfig& c) {
  const Dims d(c);
  return {0, d.KV, d.KV + d.SC, d.KV + 2 * d.SC};
}

Expected<KernelProgram> KernelGenerator::attention_forward(WeightSource source, const WeightViews* baked) {
  const Dims d(config_);
  std::vector<WeightUse> uses = {{WeightId::kRmsAtt}, {WeightId::kWq}, {WeightId::kWk}, {WeightId::kWv},
                                 {WeightId::kWo}};
  if (config_.qk_norm) uses.insert(uses.end(), {{WeightId::kQNorm}, {WeightId::kKNorm}});
  KernelBuilder kb("attention_forward", config_, source, baked, uses, {{"x", d.D}});
  mil::Builder& b = kb.b();
  Value* xn = rmsnorm(b, kb.activation(0, d.D), kb.scale(WeightId::kRmsAtt), 1, config_.norm_eps);
  Value* q = kb.linear({WeightId::kWq}, xn);
  Value* k = kb.linear({WeightId::kWk}, xn);
  Value* v = kb.linear({WeightId::kWv}, xn);
  Value* q4 = split_heads(b, q, d.heads, d.hd);
  Value* k4 = split_heads(b, k, d.kv_heads, d.hd);
  if (config_.qk_norm) {
    q4 = rmsnorm(b, q4, head_scale(kb, WeightId::kQNorm), 2, config_.norm_eps);
    k4 = rmsnorm(b, k4, head_scale(kb, WeightId::kKNorm), 2, config_.norm_eps);
  }
  const RopeTables rt = rope_tables(b, config_);
  q4 = rope(b, q4, rt, false);
  k4 = rope(b, k4, rt, false);
  Value* probs = attention_probs(b, q4, expand_kv(b, k4, d.group), mask(kb));
  Value* attn = merge_heads(b, b.matmul(expand_kv(b, split_heads(b, v, d.kv_heads, d.hd), d.group), probs, false, true));
  Value* o = kb.linear({WeightId::kWo}, attn);
  std::vector<Value*> taps = {o, merge_heads(b, q4), merge_heads(b, k4), v, attn, xn};
  if (config_.qk_norm) taps.insert(taps.end(), {q, k});
  return kb.finish(taps);
}

Expected<KernelProgram> KernelGenerator::ffn_forward(WeightSource source, const WeightViews* baked) {
  const Dims d(config_);
  KernelBuilder kb("ffn_forward", config_, source, baked,
                   {{WeightId::kRmsFfn}, {WeightId::kW1}, {WeightId::kW3}, {WeightId::kW2}}, {{"x", d.D}});
  mil::Builder& b = kb.b();
  Value* xn = rmsnorm(b, kb.activation(0, d.D), kb.scale(WeightId::kRmsFfn), 1, config_.norm_eps);
  Value* h1 = kb.linear({WeightId::kW1}, xn);
  Value* h3 = kb.linear({WeightId::kW3}, xn);
  Value* gated = swiglu(b, h1, h3);
  return kb.finish({kb.linear({WeightId::kW2}, gated), h1, h3, gated, xn});
}

Expected<KernelProgram> KernelGenerator::ffn_backward(WeightSource source, const WeightViews* baked) {
  const Dims d(config_);
  const FfnTaps taps = ffn_taps(config_);
  KernelBuilder kb("ffn_backward", config_, source, baked,
                   {{WeightId::kW2, true}, {WeightId::kW1, true}, {WeightId::kW3, true}},
                   {{"dffn", d.D}, {"ffn_taps", taps.channels}});
  mil::Builder& b = kb.b();
  Value* h1 = kb.activation(taps.h1, d.H, 1);
  Value* h3 = kb.activation(taps.h3, d.H, 1);
  Value* dgated = kb.linear({WeightId::kW2, true}, kb.activation(0, d.D));
  Value* sig = b.sigmoid(h1);
  Value* silu = b.mul(h1, sig);
  Value* dh3 = b.mul(dgated, silu);
  // d silu(h) / dh = sig * (1 + h * (1 - sig)) = sig * (1 + h - silu)
  Value* dsilu = b.mul(sig, b.add(b.sub(h1, silu), 1.0));
  Value* dh1 = b.mul(b.mul(dgated, h3), dsilu);
  Value* dx = b.add(kb.linear({WeightId::kW1, true}, dh1), kb.linear({WeightId::kW3, true}, dh3));
  return kb.finish({dx, dh1, dh3});
}

Expected<KernelProgram> KernelGenerator::qkv_backward(WeightSource source, const WeightViews* baked) {
  const Dims d(config_);
  const Sdpa1Outputs s1 = sdpa_backward1_outputs(config_);
  KernelBuilder kb("qkv_backward", config_, source, baked,
                   {{WeightId::kWq, true}, {WeightId::kWk, true}, {WeightId::kWv, true}},
                   {{"dqk", d.Q + d.KV}, {"sdpa1_out", s1.channels}});
  mil::Builder& b = kb.b();
  Value* dx = b.add(kb.linear({WeightId::kWq, true}, kb.activation(0, d.Q)),
                    kb.linear({WeightId::kWk, true}, kb.activation(d.Q, d.KV)));
  return kb.finish({b.add(dx, kb.linear({WeightId::kWv, true}, kb.activation(s1.dv, d.KV, 1)))});
}

Expected<KernelProgram> KernelGenerator::sdpa_backward1(WeightSource source, const WeightViews* baked) {
  const Dims d(config_);
  const AttentionTaps taps = attention_taps(config_);
  KernelBuilder kb("sdpa_backward1", config_, source, baked, {{WeightId::kWo, true}},
                   {{"dx2", d.D}, {"attention_taps", taps.channels}});
  mil::Builder& b = kb.b();
  Value* q4 = split_heads(b, kb.activation(taps.q, d.Q, 1), d.heads, d.hd);
  Value* k4 = expand_kv(b, split_heads(b, kb.activation(taps.k, d.KV, 1), d.kv_heads, d.hd), d.group);
  Value* v4 = expand_kv(b, split_heads(b, kb.activation(taps.v, d.KV, 1), d.kv_heads, d.hd), d.group);
  Value* da = split_heads(b, kb.linear({WeightId::kWo, true}, kb.activation(0, d.D)), d.heads, d.hd);
  Value* probs = attention_probs(b, q4, k4, mask(kb));             // [1, heads, S(t), S(s)]
  Value* dv = reduce_kv(b, b.matmul(da, probs), d.group);           // [1, kv_heads, hd, S(s)]
  Value* dp = b.matmul(da, v4, true, false);                        // [1, heads, S(t), S(s)]
  return kb.finish({merge_heads(b, dv), b.reshape(probs, {1, d.SC, 1, d.S}), b.reshape(dp, {1, d.SC, 1, d.S})});
}

Expected<KernelProgram> KernelGenerator::sdpa_backward2() {
  const Dims d(config_);
  const Sdpa1Outputs s1 = sdpa_backward1_outputs(config_);
  const AttentionTaps taps = attention_taps(config_);
  KernelBuilder kb("sdpa_backward2", config_, WeightSource::kStreamed, nullptr, {},
                   {{"sdpa1_out", s1.channels}, {"attention_taps", taps.channels}});
  mil::Builder& b = kb.b();
  Value* p = b.reshape(kb.activation(s1.probs, d.SC), {1, d.heads, d.S, d.S});
  Value* dp = b.reshape(kb.activation(s1.dp, d.SC), {1, d.heads, d.S, d.S});
  Value* q4 = split_heads(b, kb.activation(taps.q, d.Q, 1), d.heads, d.hd);
  Value* k4 = split_heads(b, kb.activation(taps.k, d.KV, 1), d.kv_heads, d.hd);
  // Softmax backward, then the 1/sqrt(hd) scale: dS = P * (dP - sum_s P * dP) / sqrt(hd).
  Value* row = b.reduce_sum(b.mul(p, dp), {3}, true);
  Value* ds = b.mul(b.mul(p, b.sub(dp, row)), 1.0 / std::sqrt(static_cast<double>(d.hd)));
  Value* dq4 = b.matmul(expand_kv(b, k4, d.group), ds, false, true);  // [1, heads, hd, S(t)]
  Value* dk4 = reduce_kv(b, b.matmul(q4, ds), d.group);               // [1, kv_heads, hd, S(s)]
  const RopeTables rt = rope_tables(b, config_);
  return kb.finish({merge_heads(b, rope(b, dq4, rt, true)), merge_heads(b, rope(b, dk4, rt, true))});
}

Expected<KernelProgram> KernelGenerator::rmsnorm_backward(WeightId norm, WeightSource source,
                                                          const WeightViews* baked) {
  const int64_t D = weight_shape(config_, norm).rows;
  KernelBuilder kb("rmsnorm_backward", config_, source, baked, {{norm}}, {{"x", 2 * D}});
  mil::Builder& b = kb.b();
  Value* x = kb.activation(D, D);
  Value* g = b.mul(kb.activation(0, D), kb.scale(norm));
  Value* ms = b.add(b.reduce_mean(b.mul(x, x), {1}, true), config_.norm_eps);
  // dx = r * g - x * r^3 * mean(g * x), r = (mean(x^2) + eps)^(-1/2)
  Value* proj = b.mul(b.pow(ms, -1.5), b.reduce_mean(b.mul(g, x), {1}, true));
  return kb.finish({b.sub(b.mul(b.pow(ms, -0.5), g), b.mul(x, proj))});
}

Expected<KernelProgram> KernelGenerator::final_rmsnorm(WeightSource source, const WeightViews* baked) {
  KernelBuilder kb("final_rmsnorm", config_, source, baked, {{WeightId::kRmsFinal}}, {{"x", config_.dim}});
  return kb.finish({rmsnorm(kb.b(), kb.activation(0, config_.dim), kb.scale(WeightId::kRmsFinal), 1,
                            config_.norm_eps)});
}

Expected<KernelProgram> KernelGenerator::classifier_forward(WeightSource source, const WeightViews* baked) {
  KernelBuilder kb("classifier_forward", config_, source, baked, {{WeightId::kEmbedding}}, {{"x", config_.dim}});
  return kb.finish({kb.linear({WeightId::kEmbedding}, kb.activation(0, config_.dim))});
}

Expected<KernelProgram> KernelGenerator::classifier_backward(WeightSource source, const WeightViews* baked) {
  KernelBuilder kb("classifier_backward", config_, source, baked, {{WeightId::kEmbedding, true}},
                   {{"x", config_.vocab_size}});
  return kb.finish({kb.linear({WeightId::kEmbedding, true}, kb.activation(0, config_.vocab_size))});
}

Expected<KernelProgram> KernelGenerator::softmax_vocab() {
  KernelBuilder kb("softmax_vocab", config_, WeightSource::kStreamed, nullptr, {}, {{"x", config_.vocab_size}});
  return kb.finish({kb.b().softmax(kb.activation(0, config_.vocab_size), 1)});
}

Expected<KernelProgram> KernelGenerator::qkv_projection(WeightSource source, const WeightViews* baked) {
  KernelBuilder kb("qkv_projection", config_, source, baked, {{WeightId::kWq}, {WeightId::kWk}, {WeightId::kWv}},
                   {{"x", config_.dim}});
  Value* x = kb.activation(0, config_.dim);
  return kb.finish({kb.linear({WeightId::kWq}, x), kb.linear({WeightId::kWk}, x), kb.linear({WeightId::kWv}, x)},
                   true);
}

Expected<KernelProgram> KernelGenerator::ffn_up(WeightSource source, const WeightViews* baked) {
  KernelBuilder kb("ffn_up", config_, source, baked, {{WeightId::kW1}, {WeightId::kW3}}, {{"x", config_.dim}});
  Value* x = kb.activation(0, config_.dim);
  return kb.finish({kb.linear({WeightId::kW1}, x), kb.linear({WeightId::kW3}, x)}, true);
}

Expected<KernelProgram> matmul_kernel(int64_t in_channels, int64_t out_channels, int64_t seq) {
  mil::Builder b;
  Value* w = b.input("w", TensorType{DType::kFp32, {1, 1, out_channels, in_channels}});
  Value* x = b.input("x", TensorType{DType::kFp32, {1, in_channels, 1, seq}});
  Value* x16 = b.reshape(b.cast(x, DType::kFp16), {1, 1, in_channels, seq});
  Value* y16 = b.matmul(b.cast(w, DType::kFp16), x16);
  Value* y = b.cast(b.reshape(y16, {1, out_channels, 1, seq}), DType::kFp32);
  b.output(y);
  auto p = b.finish();
  if (!p.ok()) return p.error().with_context("generating matmul kernel");
  KernelProgram k;
  k.name = "matmul";
  k.program = std::move(p).value();
  k.inputs = {w->type, x->type};
  k.outputs = {y->type};
  k.seq = seq;
  return k;
}

Expected<KernelProgram> conv_kernel(std::span<const float> w, int64_t in_channels, int64_t out_channels,
                                    int64_t seq) {
  ANE_ASSIGN_OR_RETURN(std::vector<uint8_t> blob, build_blob(w, out_channels, in_channels));
  const std::string path = "@model_path/weights/conv.bin";
  mil::Builder b;
  Value* x = b.input("x", TensorType{DType::kFp16, {1, in_channels, 1, seq}});
  Value* wv = b.const_blob("w", TensorType{DType::kFp16, {out_channels, in_channels, 1, 1}}, path, kBlobHeaderSize);
  Value* y = b.conv(x, wv);
  b.output(y);
  auto p = b.finish();
  if (!p.ok()) return p.error().with_context("generating conv kernel");
  KernelProgram k;
  k.name = "conv";
  k.program = std::move(p).value();
  k.weight_files[path] = std::make_shared<const std::vector<uint8_t>>(std::move(blob));
  k.inputs = {x->type};
  k.outputs = {y->type};
  k.seq = seq;
  return k;
}

}  // namespace ane::models
