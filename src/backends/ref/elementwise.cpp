// Elementwise family: binary ops (numpy broadcasting), math unary ops, and the shared
// unary machinery used by the activation family too.
#include "backends/ref/elementwise.h"

#include <cmath>
#include <limits>

namespace ane::ref {
namespace {

double nan_aware_max(double x, double y) { return (std::isnan(x) || std::isnan(y)) ? std::nan("") : std::max(x, y); }
double nan_aware_min(double x, double y) { return (std::isnan(x) || std::isnan(y)) ? std::nan("") : std::min(x, y); }
double truth(bool b) { return b ? 1.0 : 0.0; }

struct BinaryDef {
  std::string_view type;
  BinaryFn fn;
};

// numpy semantics: floor_div floors, mod takes the divisor's sign, comparisons give 0/1.
constexpr BinaryDef kBinaryOps[] = {
    {"add", [](double x, double y) { return x + y; }},
    {"sub", [](double x, double y) { return x - y; }},
    {"mul", [](double x, double y) { return x * y; }},
    {"real_div", [](double x, double y) { return x / y; }},
    {"floor_div", [](double x, double y) { return std::floor(x / y); }},
    {"mod", [](double x, double y) { return x - y * std::floor(x / y); }},
    {"pow", [](double x, double y) { return std::pow(x, y); }},
    {"maximum", nan_aware_max},
    {"minimum", nan_aware_min},
    {"equal", [](double x, double y) { return truth(x == y); }},
    {"not_equal", [](double x, double y) { return truth(x != y); }},
    {"less", [](double x, double y) { return truth(x < y); }},
    {"less_equal", [](double x, double y) { return truth(x <= y); }},
    {"greater", [](double x, double y) { return truth(x > y); }},
    {"greater_equal", [](double x, double y) { return truth(x >= y); }},
    {"logical_and", [](double x, double y) { return truth(x != 0.0 && y != 0.0); }},
    {"logical_or", [](double x, double y) { return truth(x != 0.0 || y != 0.0); }},
    {"logical_xor", [](double x, double y) { return truth((x != 0.0) != (y != 0.0)); }},
};

double sign_of(double x) { return std::isnan(x) ? x : static_cast<double>((x > 0) - (x < 0)); }

constexpr UnaryParam kNone{};
constexpr UnaryDef kMathUnaryOps[] = {
    {"abs", [](double x, double, double) { return std::fabs(x); }, {kNone, kNone}},
    {"ceil", [](double x, double, double) { return std::ceil(x); }, {kNone, kNone}},
    {"floor", [](double x, double, double) { return std::floor(x); }, {kNone, kNone}},
    {"round", [](double x, double, double) { return std::nearbyint(x); }, {kNone, kNone}},  // half to even
    {"sign", [](double x, double, double) { return sign_of(x); }, {kNone, kNone}},
    {"square", [](double x, double, double) { return x * x; }, {kNone, kNone}},
    {"erf", [](double x, double, double) { return std::erf(x); }, {kNone, kNone}},
    {"sin", [](double x, double, double) { return std::sin(x); }, {kNone, kNone}},
    {"cos", [](double x, double, double) { return std::cos(x); }, {kNone, kNone}},
    {"tan", [](double x, double, double) { return std::tan(x); }, {kNone, kNone}},
    {"exp2", [](double x, double, double) { return std::exp2(x); }, {kNone, kNone}},
    {"logical_not", [](double x, double, double) { return truth(x == 0.0); }, {kNone, kNone}},
    {"threshold", [](double x, double a, double) { return std::max(x, a); }, {UnaryParam{"alpha", {}}, kNone}},
};

Expected<Step> lower_binary(const mil::Op& op, Lowering& ctx) {
  const BinaryFn f = find_binary_fn(op.type);
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(size_t y, ctx.operand(op, "y"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  const auto shape = broadcast_shapes(ctx.tensor(x).shape(), ctx.tensor(y).shape());
  if (!shape || *shape != ctx.tensor(out).shape()) {
    return op_error(op, "y", "shapes " + ctx.tensor(x).type.to_string() + " and " + ctx.tensor(y).type.to_string() +
                                 " do not broadcast to the output type " + ctx.tensor(out).type.to_string());
  }
  return Step([=](Slots& s) {
    binary(s[x], s[y], f, s[out]);
    return Status();
  });
}

Expected<Step> lower_math_unary(const mil::Op& op, Lowering& ctx) {
  return lower_unary(op, ctx, *find_unary_def(kMathUnaryOps, op.type));
}

constexpr size_t kNumBinary = std::size(kBinaryOps);
constexpr size_t kNumUnary = std::size(kMathUnaryOps);

constexpr std::array<OpEntry, kNumBinary + kNumUnary> make_table() {
  std::array<OpEntry, kNumBinary + kNumUnary> t{};
  for (size_t i = 0; i < kNumBinary; ++i) t[i] = {kBinaryOps[i].type, lower_binary};
  for (size_t i = 0; i < kNumUnary; ++i) t[kNumBinary + i] = {kMathUnaryOps[i].type, lower_math_unary};
  return t;
}

}  // namespace

BinaryFn find_binary_fn(std::string_view op_type) {
  for (const auto& d : kBinaryOps) {
    if (d.type == op_type) return d.fn;
  }
  return nullptr;
}

std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {  // i counts from the trailing axis
    const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[rank - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

void binary(const DTensor& a, const DTensor& b, BinaryFn f, DTensor& y) {
  for_each_broadcast<2>(y.shape(), {&a.shape(), &b.shape()}, [&](int64_t i, const std::array<int64_t, 2>& o) {
    y[i] = f(a[o[0]], b[o[1]]);
  });
}

void select(const DTensor& cond, const DTensor& a, const DTensor& b, DTensor& y) {
  for_each_broadcast<3>(y.shape(), {&cond.shape(), &a.shape(), &b.shape()},
                        [&](int64_t i, const std::array<int64_t, 3>& o) {
                          y[i] = cond[o[0]] != 0.0 ? a[o[1]] : b[o[2]];
                        });
}

void unary(const DTensor& x, UnaryFn f, double p0, double p1, DTensor& y) {
  for (size_t i = 0; i < x.size(); ++i) y.data[i] = f(x.data[i], p0, p1);
}

const UnaryDef* find_unary_def(std::span<const UnaryDef> table, std::string_view op_type) {
  for (const auto& d : table) {
    if (d.type == op_type) return &d;
  }
  return nullptr;
}

Expected<Step> lower_unary(const mil::Op& op, Lowering& ctx, const UnaryDef& def) {
  std::array<double, 2> p{0.0, 0.0};
  for (size_t k = 0; k < def.params.size(); ++k) {
    if (def.params[k].name.empty()) continue;
    ANE_ASSIGN_OR_RETURN(p[k], float_arg(op, def.params[k].name, def.params[k].dflt));
  }
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  if (ctx.tensor(x).shape() != ctx.tensor(out).shape()) {
    return op_error(op, "x", "type " + ctx.tensor(x).type.to_string() + " differs in shape from the output " +
                                 ctx.tensor(out).type.to_string());
  }
  const UnaryFn f = def.fn;
  return Step([=](Slots& s) {
    unary(s[x], f, p[0], p[1], s[out]);
    return Status();
  });
}

std::span<const OpEntry> elementwise_ops() {
  static constexpr auto table = make_table();
  return table;
}

}  // namespace ane::ref
