// Elementwise family: binary ops (NumPy broadcasting) and unary activations, always run as
// chains. A chain applies its ops one after the other to a tile of kTile values held in a
// per-thread buffer, reading each op's other operand (a full tensor, a per-channel vector
// or a scalar, broadcast by strides) as it goes; only the last op's result is written. A
// lone op is a chain of one. In fp16 mode each op's result is rounded in the tile, as the
// unfused ops would round theirs.
#include <array>
#include <optional>
#include <string>

#include "backends/cpu/plan.h"
#include "backends/ref/lowering.h"

namespace ane::cpu {
namespace {

constexpr int64_t kTile = 512;
constexpr int kMaxOperands = 8;

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
  std::array<int64_t, kMaxRank> strides{};  // per outer axis, in elements
  int64_t inner_stride = 0;                 // 0 or 1
};

struct ChainOp {
  EwKind kind;
  float p0, p1;
  int operand;  // index of the other operand (-1: unary)
  bool acc_is_rhs;
};

struct ChainPlan {
  std::array<int64_t, kMaxRank> outer{};  // collapsed outer axes
  int outer_rank = 0;
  int64_t rows = 1, inner = 1, tiles_per_row = 1;
  std::array<Operand, kMaxOperands> operands{};
  int n_operands = 0;
  std::vector<ChainOp> ops;
  float* out = nullptr;
  bool round_fp16 = false;
  const Kernels* k = nullptr;
  Runtime* rt = nullptr;
};

// Strides of `in` broadcast to `out` (row-major, 0 on broadcast axes), aligned to out's axes.
Shape broadcast_strides(const Shape& in, const Shape& out) {
  Shape s(out.size(), 0);
  int64_t stride = 1;
  for (size_t i = 0; i < in.size(); ++i) {
    const size_t d_in = in.size() - 1 - i, d_out = out.size() - 1 - i;
    s[d_out] = in[d_in] == 1 ? 0 : stride;
    stride *= in[d_in];
  }
  return s;
}

// Drops size-1 axes and merges neighbours that every operand walks contiguously.
bool collapse(const Shape& out, const std::vector<Shape>& strides, ChainPlan& p) {
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

void run_unit(const ChainPlan& p, size_t unit, float* tile) {
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
    at[static_cast<size_t>(k)] = o.data + off + t0 * o.inner_stride;
  }
  const Operand& x = p.operands[0];
  if (x.inner_stride == 1) {
    std::copy(at[0], at[0] + n, tile);
  } else {
    std::fill(tile, tile + n, *at[0]);
  }
  for (const ChainOp& op : p.ops) {
    const float* other = op.operand < 0 ? nullptr : at[static_cast<size_t>(op.operand)];
    const int64_t stride = op.operand < 0 ? 0 : p.operands[static_cast<size_t>(op.operand)].inner_stride;
    p.k->ew(op.kind, tile, other, stride, n, op.p0, op.p1, op.acc_is_rhs);
    if (p.round_fp16) p.k->round_fp16(tile, n);
  }
  std::copy(tile, tile + n, p.out + row * p.inner + t0);
}

// The tile lives on each thread's stack (2 KiB), so running allocates nothing.
void run_units(const ChainPlan& p, size_t begin, size_t end) {
  alignas(64) float tile[kTile];
  for (size_t u = begin; u < end; ++u) run_unit(p, u, tile);
}

Status run_chain(const ChainPlan& p) {
  const size_t units = static_cast<size_t>(p.rows * p.tiles_per_row);
  if (units < 4 || p.rt->threads() == 1) {
    run_units(p, 0, units);
    return {};
  }
  const ChainPlan* plan = &p;
  p.rt->pool.parallel_for(units, 2, [plan](size_t begin, size_t end) { run_units(*plan, begin, end); });
  return {};
}

// The operand index of value v in the plan, adding it if new.
int operand_index(ChainPlan& p, std::vector<const mil::Value*>& values, const mil::Value* v, LowerCtx& ctx) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] == v) return static_cast<int>(i);
  }
  if (values.size() == static_cast<size_t>(kMaxOperands)) return -1;
  values.push_back(v);
  p.operands[values.size() - 1].data = ctx.data(v);
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

Expected<StepFn> lower_chain(const std::vector<const mil::Op*>& ops, LowerCtx& ctx) {
  auto plan = std::make_shared<ChainPlan>();
  ChainPlan& p = *plan;
  std::vector<const mil::Value*> values;
  const mil::Value* acc = nullptr;  // the chain's running value
  for (const mil::Op* op : ops) {
    ANE_ASSIGN_OR_RETURN(std::optional<EwOpInfo> info, elementwise_info(*op));
    if (!info) return ref::op_error(*op, "", "is not an elementwise op", ErrorCode::kInternal);
    const mil::Value* x = ctx.arg(*op, "x");
    const mil::Value* y = is_binary(info->kind) ? ctx.arg(*op, "y") : nullptr;
    if (acc == nullptr) {
      operand_index(p, values, x, ctx);
      acc = x;
    }
    const bool rhs = acc != x;
    const mil::Value* other = is_binary(info->kind) ? (rhs ? x : y) : nullptr;
    const int idx = other ? operand_index(p, values, other, ctx) : -1;
    if (other && idx < 0) return ref::op_error(*op, "", "too many operands in one chain", ErrorCode::kInternal);
    p.ops.push_back({info->kind, info->p0, info->p1, idx, rhs});
    acc = ctx.canonical(op->outputs[0]);
  }
  const Shape& out_shape = acc->type.shape;
  std::vector<Shape> strides;
  for (const mil::Value* v : values) strides.push_back(broadcast_strides(v->type.shape, out_shape));
  if (!collapse(out_shape, strides, p)) return ref::op_error(*ops.back(), "", "rank too large for the CPU backend", ErrorCode::kUnsupported);
  p.n_operands = static_cast<int>(values.size());
  p.out = ctx.mutable_data(acc);
  p.round_fp16 = ctx.precision() == Precision::kFp16;
  p.k = &ctx.k();
  p.rt = &ctx.runtime();
  return StepFn([plan] { return run_chain(*plan); });
}

}  // namespace ane::cpu
