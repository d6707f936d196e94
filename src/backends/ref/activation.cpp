// Activation family. Parameter names and defaults follow coremltools' MIL op definitions.
#include "backends/ref/activation.h"

#include <cmath>
#include <numbers>

#include "backends/ref/elementwise.h"

namespace ane::ref {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

constexpr UnaryParam kNone{};
constexpr UnaryParam kEpsilon(double d) { return {"epsilon", d}; }
constexpr UnaryParam kAlpha(std::optional<double> d) { return {"alpha", d}; }
constexpr UnaryParam kBeta(std::optional<double> d) { return {"beta", d}; }

constexpr UnaryDef kActivations[] = {
    {"sigmoid", [](double x, double, double) { return sigmoid(x); }, {kNone, kNone}},
    {"tanh", [](double x, double, double) { return std::tanh(x); }, {kNone, kNone}},
    {"relu", [](double x, double, double) { return x > 0.0 ? x : 0.0; }, {kNone, kNone}},
    {"relu6", [](double x, double, double) { return std::min(std::max(x, 0.0), 6.0); }, {kNone, kNone}},
    {"silu", [](double x, double, double) { return x * sigmoid(x); }, {kNone, kNone}},
    {"softplus", [](double x, double, double) { return std::log1p(std::exp(x)); }, {kNone, kNone}},
    {"softsign", [](double x, double, double) { return x / (1.0 + std::fabs(x)); }, {kNone, kNone}},
    {"exp", [](double x, double, double) { return std::exp(x); }, {kNone, kNone}},
    {"log", [](double x, double e, double) { return std::log(x + e); }, {kEpsilon(1e-45), kNone}},
    {"sqrt", [](double x, double, double) { return std::sqrt(x); }, {kNone, kNone}},
    {"rsqrt", [](double x, double e, double) { return 1.0 / std::sqrt(x + e); }, {kEpsilon(1e-12), kNone}},
    {"inverse", [](double x, double e, double) { return 1.0 / (x + e); }, {kEpsilon(1e-4), kNone}},
    {"clip", [](double x, double a, double b) { return std::min(std::max(x, a), b); }, {kAlpha({}), kBeta({})}},
    {"leaky_relu", [](double x, double a, double) { return x >= 0.0 ? x : a * x; }, {kAlpha(0.01), kNone}},
    {"elu", [](double x, double a, double) { return x > 0.0 ? x : a * std::expm1(x); }, {kAlpha(1.0), kNone}},
    {"sigmoid_hard", [](double x, double a, double b) { return std::min(std::max(a * x + b, 0.0), 1.0); },
     {kAlpha(0.2), kBeta(0.5)}},
    {"linear_activation", [](double x, double a, double b) { return a * x + b; }, {kAlpha({}), kBeta(0.0)}},
    {"scaled_tanh", [](double x, double a, double b) { return a * std::tanh(b * x); }, {kAlpha(1.0), kBeta(1.0)}},
};

Expected<Step> lower_activation(const mil::Op& op, Lowering& ctx) {
  return lower_unary(op, ctx, *find_unary_def(kActivations, op.type));
}

Expected<Step> lower_gelu(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(std::string mode, string_arg(op, "mode", "EXACT"));
  UnaryDef def{"gelu", nullptr, {kNone, kNone}};
  if (mode == "EXACT") {
    def.fn = [](double x, double, double) { return gelu(x, GeluMode::kExact); };
  } else if (mode == "TANH_APPROXIMATION") {
    def.fn = [](double x, double, double) { return gelu(x, GeluMode::kTanhApproximation); };
  } else if (mode == "SIGMOID_APPROXIMATION") {
    def.fn = [](double x, double, double) { return gelu(x, GeluMode::kSigmoidApproximation); };
  } else {
    return op_error(op, "mode", "unknown mode '" + mode + "' (EXACT, TANH_APPROXIMATION or SIGMOID_APPROXIMATION)");
  }
  return lower_unary(op, ctx, def);
}

Expected<Step> lower_softmax(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  ANE_ASSIGN_OR_RETURN(int64_t raw_axis, int_arg(op, "axis", -1));
  ANE_ASSIGN_OR_RETURN(int axis, axis_arg_value(op, "axis", raw_axis, ctx.tensor(x).rank()));
  return Step([=](Slots& s) {
    softmax(s[x], axis, s[out]);
    return Status();
  });
}

Expected<Step> lower_select(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t cond, ctx.operand(op, "cond"));
  ANE_ASSIGN_OR_RETURN(size_t a, ctx.operand(op, "a"));
  ANE_ASSIGN_OR_RETURN(size_t b, ctx.operand(op, "b"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  return Step([=](Slots& s) {
    select(s[cond], s[a], s[b], s[out]);
    return Status();
  });
}

Expected<Step> lower_layer_norm(const mil::Op& op, Lowering& ctx) {
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(std::optional<size_t> gamma, ctx.optional_operand(op, "gamma"));
  ANE_ASSIGN_OR_RETURN(std::optional<size_t> beta, ctx.optional_operand(op, "beta"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  ANE_ASSIGN_OR_RETURN(std::vector<int> axes, axes_arg(op, "axes", ctx.tensor(x).rank()));
  ANE_ASSIGN_OR_RETURN(double eps, float_arg(op, "epsilon", 1e-5));
  int64_t normalized = 1;
  for (int a : axes) normalized *= ctx.tensor(x).dim(a);
  for (auto [arg, slot] : {std::pair{"gamma", gamma}, std::pair{"beta", beta}}) {
    if (slot && ctx.tensor(*slot).type.num_elements() != normalized) {
      return op_error(op, arg, "has " + std::to_string(ctx.tensor(*slot).type.num_elements()) +
                                   " elements; the normalised axes have " + std::to_string(normalized));
    }
  }
  return Step([=](Slots& s) {
    layer_norm(s[x], axes, gamma ? &s[*gamma] : nullptr, beta ? &s[*beta] : nullptr, eps, s[out]);
    return Status();
  });
}

constexpr size_t kNumActivations = std::size(kActivations);

constexpr std::array<OpEntry, kNumActivations + 4> make_table() {
  std::array<OpEntry, kNumActivations + 4> t{};
  for (size_t i = 0; i < kNumActivations; ++i) t[i] = {kActivations[i].type, lower_activation};
  t[kNumActivations + 0] = {"gelu", lower_gelu};
  t[kNumActivations + 1] = {"softmax", lower_softmax};
  t[kNumActivations + 2] = {"select", lower_select};
  t[kNumActivations + 3] = {"layer_norm", lower_layer_norm};
  return t;
}

}  // namespace

double gelu(double x, GeluMode mode) {
  switch (mode) {
    case GeluMode::kExact: return 0.5 * x * (1.0 + std::erf(x / std::numbers::sqrt2));
    case GeluMode::kTanhApproximation: {
      const double k = std::sqrt(2.0 / std::numbers::pi);
      return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
    }
    case GeluMode::kSigmoidApproximation: return x * sigmoid(1.702 * x);
  }
  return 0.0;
}

void softmax(const DTensor& x, int axis, DTensor& y) {
  const Shape outer = axis_offsets(x.shape(), other_axes(x.rank(), {axis}));
  const Shape inner = axis_offsets(x.shape(), {axis});
  for (int64_t base : outer) {
    double max = -INFINITY;
    for (int64_t k : inner) max = std::max(max, x[base + k]);
    double sum = 0.0;
    for (int64_t k : inner) sum += (y[base + k] = std::exp(x[base + k] - max));
    for (int64_t k : inner) y[base + k] /= sum;
  }
}

void layer_norm(const DTensor& x, const std::vector<int>& axes, const DTensor* gamma, const DTensor* beta,
                double eps, DTensor& y) {
  const Shape outer = axis_offsets(x.shape(), other_axes(x.rank(), axes));
  const Shape inner = axis_offsets(x.shape(), axes);
  const auto n = static_cast<double>(inner.size());
  for (int64_t base : outer) {
    double mean = 0.0;
    for (int64_t k : inner) mean += x[base + k];
    mean /= n;
    double var = 0.0;
    for (int64_t k : inner) var += (x[base + k] - mean) * (x[base + k] - mean);
    const double scale = 1.0 / std::sqrt(var / n + eps);
    for (size_t j = 0; j < inner.size(); ++j) {
      const int64_t at = base + inner[j];
      double v = (x[at] - mean) * scale;
      if (gamma) v *= gamma->data[j];
      if (beta) v += beta->data[j];
      y[at] = v;
    }
  }
}

std::span<const OpEntry> activation_ops() {
  static constexpr auto table = make_table();
  return table;
}

}  // namespace ane::ref
