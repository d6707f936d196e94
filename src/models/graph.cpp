#include "models/graph.h"

#include <cmath>
#include <string>
#include <utility>

#include "core/fp16.h"

namespace ane::models {
namespace {

using mil::DType;
using mil::TensorType;

// Baked linears with more input channels than this use matmul: the ANE rejects a conv with
// 32000 input channels (the seed's classifier backward).
constexpr int64_t kMaxConvInputChannels = 16384;

// A = W or W^T as [a_out, a_in].
WeightShape applied_shape(const ModelConfig& c, WeightUse use) {
  const WeightShape w = weight_shape(c, use.id);
  return use.transposed ? WeightShape{w.cols, w.rows} : w;
}

std::string use_name(WeightUse use) { return std::string(weight_name(use.id)) + (use.transposed ? "_t" : ""); }

}  // namespace

KernelBuilder::KernelBuilder(std::string name, const ModelConfig& config, WeightSource source,
                             const WeightViews* baked, const std::vector<WeightUse>& uses,
                             const std::vector<ActivationInput>& inputs)
    : name_(std::move(name)), config_(config), source_(source), seq_(config.seq_len) {
  for (const ActivationInput& in : inputs) {
    inputs_.push_back(b_.input(in.name, TensorType{DType::kFp16, {1, in.channels, 1, seq_}}));
  }
  if (source == WeightSource::kStreamed) {
    place_streamed(uses);
  } else if (baked == nullptr) {
    status_ = invalid_argument("kernel '" + name_ + "': baked weights requested but none given");
  } else {
    place_baked(uses, *baked);
  }
}

void KernelBuilder::place_streamed(const std::vector<WeightUse>& uses) {
  for (WeightUse use : uses) {
    if (find(use) != nullptr) continue;  // W and W^T read the same input
    const StreamedWeight s{use.id, streamed_weight_type(config_, use.id), inputs_.size() + placed_.size()};
    placed_.push_back({{use.id, false}, s, 0, b_.input(std::string(weight_name(use.id)), s.type)});
  }
}

void KernelBuilder::place_baked(const std::vector<WeightUse>& uses, const WeightViews& w) {
  blob_path_ = "@model_path/weights/" + name_ + ".bin";
  size_t bytes = 0;
  for (WeightUse use : uses) bytes += BlobWriter::fp16_bytes(w.get(use.id).size());
  blob_.reserve(bytes);  // each weight is converted straight into the file, which never moves
  for (WeightUse use : uses) {
    if (find(use) != nullptr) continue;
    if (Status s = check_weight(config_, w, use.id); !s.ok()) {
      status_ = s.error().with_context("kernel '" + name_ + "'");
      return;
    }
    const WeightShape ws = weight_shape(config_, use.id);
    const std::span<const float> src = w.get(use.id);
    const auto [offset, halves] = blob_.add_fp16_space(src.size());
    if (use.transposed) {  // the blob holds W^T [cols, rows]
      floats_to_halves_transposed(halves.data(), ws.rows, src.data(), ws.cols, ws.cols, ws.rows);
    } else {
      floats_to_halves(halves.data(), src.data(), src.size());
    }
    placed_.push_back({use, {}, offset});
  }
}

const KernelBuilder::Placed* KernelBuilder::find(WeightUse use) {
  for (const Placed& p : placed_) {
    if (p.use.id == use.id && (source_ == WeightSource::kStreamed || p.use.transposed == use.transposed)) return &p;
  }
  return nullptr;
}

Value* KernelBuilder::activation(int64_t channel, int64_t channels, size_t input) {
  if (input >= inputs_.size()) {
    if (status_.ok()) status_ = Error(ErrorCode::kInternal, "kernel '" + name_ + "': no activation input " + std::to_string(input));
    return inputs_.empty() ? nullptr : inputs_[0];
  }
  Value* x = inputs_[input];
  if (channel == 0 && channels == x->type.shape[1]) return x;  // the whole input
  return b_.slice_by_size(x, {0, channel, 0, 0}, {1, channels, 1, seq_});
}

Value* KernelBuilder::linear(WeightUse use, Value* x) {
  const Placed* p = find(use);
  if (p == nullptr) {
    if (status_.ok()) status_ = Error(ErrorCode::kInternal, "kernel '" + name_ + "': undeclared weight " + use_name(use));
    return x;
  }
  const WeightShape a = applied_shape(config_, use);
  Value* x2 = b_.reshape(x, {a.cols, seq_});
  Value* y2 = nullptr;
  if (source_ == WeightSource::kStreamed) {
    const WeightShape w = weight_shape(config_, use.id);
    y2 = b_.matmul(b_.reshape(p->input, {w.rows, w.cols}), x2, use.transposed, false);
  } else if (a.cols > kMaxConvInputChannels) {
    Value* m = b_.const_blob(use_name(use), TensorType{DType::kFp16, {a.rows, a.cols}}, blob_path_, p->blob_offset);
    y2 = b_.matmul(m, x2);
  } else {
    Value* w = b_.const_blob(use_name(use), TensorType{DType::kFp16, {a.rows, a.cols, 1, 1}}, blob_path_,
                             p->blob_offset);
    return b_.conv(x, w);
  }
  return b_.reshape(y2, {1, a.rows, 1, seq_});
}

Value* KernelBuilder::scale(WeightId id) {
  const Placed* p = find({id, false});
  const int64_t n = weight_shape(config_, id).rows;
  if (p == nullptr) {
    if (status_.ok()) status_ = Error(ErrorCode::kInternal, "kernel '" + name_ + "': undeclared weight " + use_name({id}));
    return inputs_.front();
  }
  if (source_ == WeightSource::kStreamed) return p->input;
  return b_.const_blob(use_name({id}), TensorType{DType::kFp16, {1, n, 1, 1}}, blob_path_, p->blob_offset);
}

Value* KernelBuilder::const_file(const std::string& name, TensorType type,
                                 std::shared_ptr<const std::vector<uint8_t>> bytes) {
  const std::string path = "@model_path/weights/" + name + ".bin";
  files_[path] = std::move(bytes);
  return b_.const_blob(name, std::move(type), path, kBlobHeaderSize);
}

Expected<KernelProgram> KernelBuilder::finish(const std::vector<Value*>& taps, bool separate) {
  std::vector<Value*> outs = taps;
  if (!separate && taps.size() > 1) outs = {b_.concat(1, taps)};
  std::vector<TensorType> out_types;
  for (Value* v : outs) {
    b_.output(v);
    out_types.push_back(v->type);
  }
  if (!status_.ok()) return status_.error();
  auto program = b_.finish();
  if (!program.ok()) return program.error().with_context("generating kernel '" + name_ + "'");
  KernelProgram k;
  k.name = name_;
  k.program = std::move(program).value();
  k.weight_files = files_;
  if (blob_.count() > 0) {
    k.weight_files[blob_path_] = std::make_shared<const std::vector<uint8_t>>(std::move(blob_).finish());
  }
  for (Value* in : inputs_) k.inputs.push_back(in->type);
  k.outputs = std::move(out_types);
  k.seq = seq_;
  for (const Placed& p : placed_) {
    if (source_ != WeightSource::kStreamed) continue;
    k.streamed.push_back(p.streamed);  // inputs after the activation inputs, in placement order
    k.inputs.push_back(p.streamed.type);
  }
  return k;
}

Value* rmsnorm(mil::Builder& b, Value* x, Value* w, int64_t axis, double eps) {
  Value* ms = b.reduce_mean(b.mul(x, x), {axis}, true);
  Value* r = b.pow(b.add(ms, eps), -0.5);
  return b.mul(b.mul(x, r), w);
}

RopeTables rope_tables(mil::Builder& b, const ModelConfig& config) {
  const int64_t hd = config.head_dim, S = config.seq_len;
  std::vector<float> cos_t(static_cast<size_t>(hd * S)), sin_t(cos_t.size());
  for (int64_t i = 0; i < hd; ++i) {
    const double freq = std::pow(config.rope_theta, -static_cast<double>(i - i % 2) / static_cast<double>(hd));
    const double sign = i % 2 == 0 ? -1.0 : 1.0;  // (R x)[2i] = -x[2i+1], (R x)[2i+1] = x[2i]
    for (int64_t p = 0; p < S; ++p) {
      cos_t[static_cast<size_t>(i * S + p)] = static_cast<float>(std::cos(static_cast<double>(p) * freq));
      sin_t[static_cast<size_t>(i * S + p)] = static_cast<float>(sign * std::sin(static_cast<double>(p) * freq));
    }
  }
  RopeTables t;
  t.cos = b.const_tensor("rope_cos", mil::Constant::float_tensor(DType::kFp16, {1, 1, hd, S}, cos_t));
  t.sin = b.const_tensor("rope_sin", mil::Constant::float_tensor(DType::kFp16, {1, 1, hd, S}, sin_t));
  return t;
}

Value* swap_pairs(mil::Builder& b, Value* x4) {
  if (!b.ok()) return x4;
  const auto& s = x4->type.shape;
  const std::vector<Value*> halves = b.split(b.reshape(x4, {s[0], s[1], s[2] / 2, 2, s[3]}), 3, 2);
  return b.reshape(b.concat(3, {halves[1], halves[0]}), s);
}

Value* rope(mil::Builder& b, Value* q4, const RopeTables& t, bool inverse) {
  // R q = swap_pairs(q) * (-1, +1, -1, ...), the sign folded into the sin table; the backward
  // R^T g = -R g uses swap_pairs(g * sin) = swap_pairs(g) * sin, as each pair shares its angle.
  Value* rotated = b.mul(swap_pairs(b, q4), t.sin);
  return inverse ? b.sub(b.mul(q4, t.cos), rotated) : b.add(b.mul(q4, t.cos), rotated);
}

Value* split_heads(mil::Builder& b, Value* x, int64_t heads, int64_t head_dim) {
  if (!b.ok()) return x;
  return b.reshape(x, {1, heads, head_dim, x->type.shape.back()});
}

Value* merge_heads(mil::Builder& b, Value* x4) {
  if (!b.ok()) return x4;  // a failed builder's placeholders have no shape
  const auto& s = x4->type.shape;
  return b.reshape(x4, {1, s[1] * s[2], 1, s[3]});
}

Value* expand_kv(mil::Builder& b, Value* kv4, int64_t group) {
  if (group == 1 || !b.ok()) return kv4;
  const auto& s = kv4->type.shape;
  Value* t = b.tile(b.reshape(kv4, {1, s[1], 1, s[2], s[3]}), {1, 1, group, 1, 1});
  return b.reshape(t, {1, s[1] * group, s[2], s[3]});
}

Value* reduce_kv(mil::Builder& b, Value* g4, int64_t group) {
  if (group == 1 || !b.ok()) return g4;
  const auto& s = g4->type.shape;
  return b.reduce_sum(b.reshape(g4, {1, s[1] / group, group, s[2], s[3]}), {2}, false);
}

Value* attention_probs(mil::Builder& b, Value* q4, Value* k4, Value* mask) {
  if (!b.ok()) return q4;
  const auto hd = static_cast<double>(q4->type.shape[2]);
  Value* scores = b.mul(b.matmul(q4, k4, true, false), 1.0 / std::sqrt(hd));
  return b.softmax(b.add(scores, mask), -1);
}

Value* swiglu(mil::Builder& b, Value* h1, Value* h3) { return b.mul(b.silu(h1), h3); }

std::vector<uint8_t> build_causal_mask_blob(int64_t seq) {
  std::vector<half_bits> m(static_cast<size_t>(seq * seq));
  for (int64_t t = 0; t < seq; ++t) {
    for (int64_t s = 0; s < seq; ++s) m[static_cast<size_t>(t * seq + s)] = float_to_half(s <= t ? 0.0f : -65504.0f);
  }
  return build_blob_fp16(m);
}

}  // namespace ane::models
