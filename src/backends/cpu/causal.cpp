// Finds causal attention: softmax over the last axis of add(scale * matmul(..), mask), with a
// constant mask whose one triangle of each [S, S] block lies far below the other.
//
// Why skipping is exact. Let the mask be at most U in the masked triangle, at least D on the
// diagonal and within +-16384 elsewhere, and let the product's entries be bounded by B
// (|scale| * max |a row| * max |b column|, Cauchy-Schwarz, with slack for rounding). A row's
// max is at least its diagonal entry, >= D - B; a masked entry is at most U + B. When
// 2B + 152 <= D - U (87 for exp's underflow to 0, the rest rounding, fp16's included), every
// masked entry's exponential is exactly 0 in the full computation, and the row's max and sum
// are unchanged without them: the skipped work only ever produced zeros.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/cpu/plan.h"
#include "backends/ref/lowering.h"

namespace ane::cpu {
namespace {

constexpr double kMaskRange = 16384;  // the unmasked mask values and the scores' bound stay inside

// The op that alone reads v (and v is no function output), or nullptr.
const mil::Op* sole_reader(const mil::Value* v, const ValueReaders& readers,
                           const std::unordered_map<const mil::Value*, int>& uses) {
  auto r = readers.find(v);
  auto u = uses.find(v);
  if (r == readers.end() || u == uses.end() || u->second != 1 || r->second.size() != 1) return nullptr;
  return r->second.front().first;
}

// The limit on |a row| * |b column| below which `mask` (S x S values, as double) makes its
// masked triangle exactly 0, for P kept below the diagonal (keep_lower) or above it; 0 when
// the mask does not qualify.
double product_limit(const mil::Constant& mask, int64_t S, bool keep_lower, double scale) {
  double masked_max = -std::numeric_limits<double>::infinity();
  double diagonal_min = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < S; ++i) {
    for (int64_t j = 0; j < S; ++j) {
      const double m = mask.element_as_double(i * S + j);
      if (std::isnan(m)) return 0;
      const bool masked = keep_lower ? j > i : j < i;
      if (masked) {
        masked_max = std::max(masked_max, m);
      } else if (std::fabs(m) > kMaskRange) {
        return 0;
      }
      if (i == j) diagonal_min = std::min(diagonal_min, m);
    }
  }
  const double gap = diagonal_min - masked_max;  // inf for a -inf mask
  if (!(gap >= 1024) || !std::isfinite(scale)) return 0;
  const double bound = std::min((gap - 152) / 2, kMaskRange);
  return scale == 0 ? std::numeric_limits<double>::infinity() : bound / ((1 + 1.0 / 1024) * std::fabs(scale));
}

bool scalar_float_constant(const mil::Value* v) {
  return v->is_constant() && v->constant->has_data() && mil::is_float(v->type.dtype) && v->type.num_elements() == 1;
}

}  // namespace

std::unordered_map<const mil::Op*, CausalRole> plan_causal_attention(
    const compiler::GraphAnalysis& graph, const ValueReaders& readers,
    const std::unordered_map<const mil::Value*, int>& uses) {
  std::unordered_map<const mil::Op*, CausalRole> roles;
  auto canonical = [&](const mil::Value* v) { return v ? graph.canonical(v) : nullptr; };
  for (const mil::Op* softmax : graph.ops) {
    if (softmax->type != "softmax") continue;
    const mil::Value* x = canonical(softmax->arg_value("x"));
    if (x == nullptr || x->type.rank() < 2) continue;
    const std::vector<int64_t>& shape = x->type.shape;
    const int64_t S = shape.back();
    auto axis = ref::int_arg(*softmax, "axis", -1);
    if (!axis.ok() || (*axis != -1 && *axis != x->type.rank() - 1) || shape[shape.size() - 2] != S || S < 2) continue;
    // x = add(scores, mask), read by the softmax alone
    const mil::Op* add = x->producer;
    if (add == nullptr || add->type != "add" || sole_reader(x, readers, uses) != softmax) continue;
    const mil::Value* a = canonical(add->arg_value("x"));
    const mil::Value* mask = canonical(add->arg_value("y"));
    if (a != nullptr && a->is_constant()) std::swap(a, mask);
    if (a == nullptr || mask == nullptr || !mask->is_constant() || !mask->constant->has_data() ||
        mask->type.num_elements() != S * S || mask->type.rank() < 2 || mask->type.shape.back() != S ||
        a->type.shape != shape || sole_reader(a, readers, uses) != add) {
      continue;
    }
    // scores = scale * matmul(..) or the matmul itself
    double scale = 1;
    const mil::Value* scores = a;
    const bool scaled = a->producer != nullptr && a->producer->type == "mul";
    if (scaled) {
      const mil::Value* l = canonical(a->producer->arg_value("x"));
      const mil::Value* r = canonical(a->producer->arg_value("y"));
      if (l != nullptr && scalar_float_constant(l)) std::swap(l, r);
      if (l == nullptr || r == nullptr || !scalar_float_constant(r) || l->type.shape != shape ||
          sole_reader(l, readers, uses) != a->producer) {
        continue;
      }
      scale = r->constant->element_as_double(0);
      scores = l;
    }
    const mil::Op* matmul = scores->producer;
    if (matmul == nullptr || matmul->type != "matmul" || roles.count(matmul)) continue;
    bool keep_lower = true;
    double limit = product_limit(*mask->constant, S, true, scale);
    if (limit <= 0) {
      keep_lower = false;
      limit = product_limit(*mask->constant, S, false, scale);
    }
    if (limit <= 0) continue;

    auto state = std::make_shared<CausalState>();
    state->skipped.assign(static_cast<size_t>(x->type.num_elements() / (S * S)), 0);
    CausalRole base;
    base.kind = CausalRole::Kind::kScores;
    base.state = state;
    base.seq = S;
    base.keep_lower = keep_lower;
    base.product_limit = limit;
    roles[matmul] = base;
    CausalRole sm = base;
    sm.kind = CausalRole::Kind::kSoftmax;
    sm.scores = scores;
    if (scaled) sm.scale = static_cast<float>(scale);
    sm.mask = std::make_shared<const std::vector<float>>(mask->constant->to_floats());
    sm.absorbed = {add};
    if (scaled) sm.absorbed.push_back(a->producer);
    roles[softmax] = sm;
    const mil::Value* probs = canonical(softmax->outputs[0]);
    auto r = readers.find(probs);
    if (r == readers.end()) continue;
    for (const auto& [reader, name] : r->second) {
      const bool both = canonical(reader->arg_value("x")) == probs && canonical(reader->arg_value("y")) == probs;
      if (reader->type != "matmul" || both || roles.count(reader)) continue;
      CausalRole p = base;
      p.kind = CausalRole::Kind::kProbs;
      p.operand = name == "x" ? "x" : "y";
      roles[reader] = p;
    }
  }
  return roles;
}

}  // namespace ane::cpu
