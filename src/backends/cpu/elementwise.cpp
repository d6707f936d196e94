// Elementwise family: binary ops (NumPy broadcasting) and unary activations, always run as
// fused groups. A group is a small DAG of elementwise ops of one output shape; it runs over
// tiles of kTile values, each op computing its result into a per-thread tile slot from
// tiles of earlier ops and from outside operands (full tensors, per-channel vectors or
// scalars, broadcast by strides; an operand in an fp16 input is converted tile by tile from
// the input's bytes). Only results read outside the group are written to memory. A lone op
// is a group of one. In fp16 mode each op's result is rounded in its tile, as the unfused
// ops would round theirs.
#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "backends/cpu/plan.h"
#include "backends/ref/lowering.h"
#include "core/fp16.h"

namespace ane::cpu {
namespace {

constexpr int64_t kTile = 512;

struct BinaryName {
  std::string_view type;
  EwKind kind;
};
constexpr BinaryName kBinary[] = {{"add", EwKind::kAdd},     {"sub", EwKind::kSub},     {"mul", EwKind::kMul},
                                  {"real_div", EwKind::kDiv}, {"pow", EwKind::kPow},     {"maximum", EwKind::kMax},
                                  {"minimum", EwKind::kMin}};

struct UnaryName {
  std::string_view type;
  EwKind kind;
  std::string_view p0_name, p1_name;
  std::optional<double> p0_default, p1_default;
};
const UnaryName kUnary[] = {
    {"sigmoid", EwKind::kSigmoid, "", "", {}, {}}, {"tanh", EwKind::kTanh, "", "", {}, {}},
    {"relu", EwKind::kRelu, "", "", {}, {}},       {"silu", EwKind::kSilu, "", "", {}, {}},
    {"exp", EwKind::kExp, "", "", {}, {}},         {"sqrt", EwKind::kSqrt, "", "", {}, {}},
    {"log", EwKind::kLog, "epsilon", "", 1e-45, {}}, {"rsqrt", EwKind::kRsqrt, "epsilon", "", 1e-12, {}},
    {"inverse", EwKind::kInverse, "epsilon", "", 1e-4, {}}, {"clip", EwKind::kClip, "alpha", "beta", {}, {}},
};

Expected<std::optional<EwKind>> gelu_kind(const mil::Op& op) {
  ANE_ASSIGN_OR_RETURN(std::string mode, ref::string_arg(op, "mode", "EXACT"));
  if (mode == "EXACT") return std::optional(EwKind::kGeluExact);
  if (mode == "TANH_APPROXIMATION") return std::optional(EwKind::kGeluTanh);
  if (mode == "SIGMOID_APPROXIMATION") return std::optional(EwKind::kGeluSigmoid);
  return std::optional<EwKind>();
}

struct Operand {
  const float* data = nullptr;
  HalfOperand half;  // when set, read from an fp16 input instead of data
  std::array<int64_t, kMaxRank> strides{};  // per outer axis, in elements
  int64_t inner_stride = 0;                 // 0 or 1
};

// Where an operand or a result is: an outside operand, a tile slot, or the tensor an earlier
// op's stored result is written to (its rows, `inner` apart).
struct Source {
  int external = -1;
  int slot = -1;
  float* stored = nullptr;
};

// An op computes straight from its operands into its destination: a tile slot (reused from
// an operand whose last reader it is) or, for a result read outside the group, its tensor.
struct GroupOp {
  EwKind kind;
  float p0, p1;
  Source x, y;  // y unused by unary ops
  Source dst;   // a slot or a stored tensor
};

struct GroupPlan {
  std::array<int64_t, kMaxRank> outer{};  // collapsed outer axes
  int outer_rank = 0;
  int64_t rows = 1, inner = 1, tiles_per_row = 1;
  std::array<Operand, kMaxOperands> operands{};
  int n_operands = 0;
  std::vector<GroupOp> ops;
  bool round_fp16 = false;
  const Kernels* k = nullptr;
  Runtime* rt = nullptr;
};

// Strides of `in` broadcast to `out` (0 on broadcast axes), aligned to out's axes. `in` is
// row-major except that its rows (runs along the last axis) are `row_stride` apart.
Shape broadcast_strides(const Shape& in, int64_t row_stride, const Shape& out) {
  Shape s(out.size(), 0);
  int64_t stride = 1;
  for (size_t i = 0; i < in.size(); ++i) {
    const size_t d_in = in.size() - 1 - i, d_out = out.size() - 1 - i;
    s[d_out] = in[d_in] == 1 ? 0 : stride;
    stride = i == 0 ? row_stride : stride * in[d_in];
  }
  return s;
}

// Drops size-1 axes and merges neighbours that every operand walks contiguously.
bool collapse(const Shape& out, const std::vector<Shape>& strides, GroupPlan& p) {
  std::vector<int64_t> dims;
  std::vector<Shape> st(strides.size());
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;
    bool merge = !dims.empty();
    for (size_t k = 0; k < strides.size() && merge; ++k) merge = st[k].back() == strides[k][d] * out[d];
    if (merge) {
      dims.back() *= out[d];
      for (size_t k = 0; k < strides.size(); ++k) st[k].back() = strides[k][d];
    } else {
      dims.push_back(out[d]);
      for (size_t k = 0; k < strides.size(); ++k) st[k].push_back(strides[k][d]);
    }
  }
  if (dims.empty()) {
    dims.push_back(1);
    for (auto& s : st) s.push_back(0);
  }
  if (dims.size() > static_cast<size_t>(kMaxRank) + 1) return false;
  p.inner = dims.back();
  p.outer_rank = static_cast<int>(dims.size()) - 1;
  for (int d = 0; d < p.outer_rank; ++d) {
    p.outer[static_cast<size_t>(d)] = dims[static_cast<size_t>(d)];
    p.rows *= dims[static_cast<size_t>(d)];
  }
  for (size_t k = 0; k < strides.size(); ++k) {
    p.operands[k].inner_stride = st[k].back() == 0 ? 0 : 1;
    for (int d = 0; d < p.outer_rank; ++d) p.operands[k].strides[static_cast<size_t>(d)] = st[k][static_cast<size_t>(d)];
  }
  p.tiles_per_row = (p.inner + kTile - 1) / kTile;
  return true;
}

// `tiles` holds kMaxGroupOps op slots, then kMaxOperands slots for fp16 operands.
void run_unit(const GroupPlan& p, size_t unit, float* tiles) {
  const int64_t row = static_cast<int64_t>(unit) / p.tiles_per_row;
  const int64_t t0 = (static_cast<int64_t>(unit) % p.tiles_per_row) * kTile;
  const int64_t n = std::min(kTile, p.inner - t0);
  std::array<const float*, kMaxOperands> at{};
  for (int k = 0; k < p.n_operands; ++k) {
    int64_t off = 0, rest = row;
    for (int d = p.outer_rank; d-- > 0;) {
      off += (rest % p.outer[static_cast<size_t>(d)]) * p.operands[static_cast<size_t>(k)].strides[static_cast<size_t>(d)];
      rest /= p.outer[static_cast<size_t>(d)];
    }
    const Operand& o = p.operands[static_cast<size_t>(k)];
    if (o.half.base != nullptr) {
      float* staged = tiles + (kMaxGroupOps + k) * kTile;
      halves_to_floats(staged, *o.half.base + o.half.offset + off + t0 * o.inner_stride,
                       static_cast<size_t>(o.inner_stride == 0 ? 1 : n));
      at[static_cast<size_t>(k)] = staged;
    } else {
      at[static_cast<size_t>(k)] = o.data + off + t0 * o.inner_stride;
    }
  }
  // An operand's values for this tile and their stride (0: one broadcast value).
  auto source = [&](Source s, int64_t& stride) -> const float* {
    stride = 1;
    if (s.slot >= 0) return tiles + s.slot * kTile;
    if (s.stored != nullptr) return s.stored + row * p.inner + t0;
    stride = p.operands[static_cast<size_t>(s.external)].inner_stride;
    return at[static_cast<size_t>(s.external)];
  };
  for (const GroupOp& op : p.ops) {
    int64_t xs = 0, ys = 0;
    const float* x = source(op.x, xs);
    const float* y = is_binary(op.kind) ? source(op.y, ys) : nullptr;
    float* dst = op.dst.slot >= 0 ? tiles + op.dst.slot * kTile : op.dst.stored + row * p.inner + t0;
    p.k->ew(op.kind, dst, x, xs, y, ys, n, op.p0, op.p1);
    if (p.round_fp16) p.k->round_fp16(dst, n);
  }
}

// The tile slots live on each thread's stack (48 KiB), so running allocates nothing.
void run_units(const GroupPlan& p, size_t begin, size_t end) {
  alignas(64) float tiles[(kMaxGroupOps + kMaxOperands) * kTile];
  for (size_t u = begin; u < end; ++u) run_unit(p, u, tiles);
}

Status run_group(const GroupPlan& p) {
  const size_t units = static_cast<size_t>(p.rows * p.tiles_per_row);
  if (units < 4 || p.rt->threads() == 1) {
    run_units(p, 0, units);
    return {};
  }
  const GroupPlan* plan = &p;
  p.rt->pool->parallel_for(units, 2, [plan](size_t begin, size_t end) { run_units(*plan, begin, end); });
  return {};
}

// The operand index of value v in the plan, adding it if new.
int operand_index(GroupPlan& p, std::vector<const mil::Value*>& values, const mil::Value* v, LowerCtx& ctx) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] == v) return static_cast<int>(i);
  }
  if (values.size() == static_cast<size_t>(kMaxOperands)) return -1;
  values.push_back(v);
  p.operands[values.size() - 1].data = ctx.data(v);
  p.operands[values.size() - 1].half = ctx.half_operand(v);
  return static_cast<int>(values.size()) - 1;
}

}  // namespace

Expected<std::optional<EwOpInfo>> elementwise_info(const mil::Op& op) {
  if (op.outputs.size() != 1 || !mil::is_float(op.outputs[0]->type.dtype)) return std::optional<EwOpInfo>();
  for (const BinaryName& b : kBinary) {
    if (b.type == op.type) return std::optional(EwOpInfo{b.kind});
  }
  if (op.type == "gelu") {
    ANE_ASSIGN_OR_RETURN(std::optional<EwKind> k, gelu_kind(op));
    if (!k) return std::optional<EwOpInfo>();
    return std::optional(EwOpInfo{*k});
  }
  for (const UnaryName& u : kUnary) {
    if (u.type != op.type) continue;
    EwOpInfo info{u.kind};
    if (!u.p0_name.empty()) {
      ANE_ASSIGN_OR_RETURN(double p0, ref::float_arg(op, u.p0_name, u.p0_default));
      info.p0 = static_cast<float>(p0);
    }
    if (!u.p1_name.empty()) {
      ANE_ASSIGN_OR_RETURN(double p1, ref::float_arg(op, u.p1_name, u.p1_default));
      info.p1 = static_cast<float>(p1);
    }
    return std::optional(info);
  }
  return std::optional<EwOpInfo>();
}

bool elementwise_reads_halves(const mil::Op& op, std::string_view arg) {
  auto info = elementwise_info(op);
  return info.ok() && *info && (arg == "x" || (arg == "y" && is_binary((*info)->kind)));
}

bool elementwise_reads_strided(const mil::Op& op, std::string_view arg, int64_t cols) {
  const mil::Value* v = op.arg_value(arg);
  return elementwise_reads_halves(op, arg) && v != nullptr && !v->type.shape.empty() && v->type.shape.back() == cols;
}

Expected<StepFn> lower_group(const std::vector<const mil::Op*>& ops, const std::vector<bool>& stored, LowerCtx& ctx) {
  if (ops.empty() || ops.size() > static_cast<size_t>(kMaxGroupOps) || stored.size() != ops.size()) {
    return Error(ErrorCode::kInternal, "elementwise group of " + std::to_string(ops.size()) + " ops");
  }
  auto plan = std::make_shared<GroupPlan>();
  GroupPlan& p = *plan;
  std::vector<const mil::Value*> values;                 // outside operands
  std::vector<const mil::Value*> results;                // each op's (canonical) result
  std::vector<size_t> last_reader(ops.size(), 0);        // the last member reading op i's result
  for (const mil::Op* op : ops) results.push_back(ctx.canonical(op->outputs[0]));
  auto member = [&](const mil::Value* v) {
    const auto it = std::find(results.begin(), results.end(), v);
    return it == results.end() ? -1 : static_cast<int>(it - results.begin());
  };
  std::vector<std::array<const mil::Value*, 2>> args(ops.size());
  std::vector<EwOpInfo> infos;
  for (size_t i = 0; i < ops.size(); ++i) {
    ANE_ASSIGN_OR_RETURN(std::optional<EwOpInfo> info, elementwise_info(*ops[i]));
    if (!info) return ref::op_error(*ops[i], "", "is not an elementwise op", ErrorCode::kInternal);
    infos.push_back(*info);
    args[i] = {ctx.arg(*ops[i], "x"), is_binary(info->kind) ? ctx.arg(*ops[i], "y") : nullptr};
    for (const mil::Value* a : args[i]) {
      const int m = a ? member(a) : -1;
      if (m >= static_cast<int>(i)) return ref::op_error(*ops[i], "", "reads a later member of its group", ErrorCode::kInternal);
      if (m >= 0) last_reader[static_cast<size_t>(m)] = i;
    }
  }
  std::vector<Source> result_of(ops.size());
  std::vector<int> free_slots;
  int slots = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    auto source_of = [&](const mil::Value* v) -> Expected<Source> {
      const int m = member(v);
      if (m >= 0) return result_of[static_cast<size_t>(m)];
      const int e = operand_index(p, values, v, ctx);
      if (e < 0) return ref::op_error(*ops[i], "", "too many operands in one group", ErrorCode::kInternal);
      return Source{e, -1, nullptr};
    };
    const auto [x, y] = args[i];
    GroupOp g{infos[i].kind, infos[i].p0, infos[i].p1, {}, {}, {}};
    ANE_ASSIGN_OR_RETURN(g.x, source_of(x));
    if (y != nullptr) {
      ANE_ASSIGN_OR_RETURN(g.y, source_of(y));
    }
    // Slots whose value this op reads last are free for its own result (in place).
    for (const mil::Value* a : {x, y}) {
      const int m = a ? member(a) : -1;
      const int slot = m >= 0 ? result_of[static_cast<size_t>(m)].slot : -1;
      if (slot >= 0 && last_reader[static_cast<size_t>(m)] == i &&
          std::find(free_slots.begin(), free_slots.end(), slot) == free_slots.end()) {
        free_slots.push_back(slot);
      }
    }
    if (stored[i]) {
      g.dst.stored = ctx.mutable_data(results[i]);
    } else if (!free_slots.empty()) {
      g.dst.slot = free_slots.back();
      free_slots.pop_back();
    } else {
      g.dst.slot = slots++;
    }
    result_of[i] = g.dst;
    p.ops.push_back(g);
  }
  const Shape& out_shape = results.back()->type.shape;
  std::vector<Shape> strides;
  for (const mil::Value* v : values) {
    const Shape& s = v->type.shape;
    const int64_t row = s.empty() ? 1 : s.back();
    strides.push_back(broadcast_strides(s, ctx.row_stride(v, row), out_shape));
  }
  if (!collapse(out_shape, strides, p)) return ref::op_error(*ops.back(), "", "rank too large for the CPU backend", ErrorCode::kUnsupported);
  p.n_operands = static_cast<int>(values.size());
  p.round_fp16 = ctx.precision() == Precision::kFp16;
  p.k = &ctx.k();
  p.rt = &ctx.runtime();
  return StepFn([plan] { return run_group(*plan); });
}

}  // namespace ane::cpu
