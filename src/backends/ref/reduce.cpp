// Reduce family. coremltools arguments: reduce_*(x, axes = all, keep_dims = false);
// reduce_argmax/argmin(x, axis = -1, keep_dims = false), giving the first extreme index.
#include "backends/ref/reduce.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "backends/ref/lowering.h"

namespace ane::ref {
namespace {

double sum(std::span<const double> g) { return std::accumulate(g.begin(), g.end(), 0.0); }
double sum_abs(std::span<const double> g) {
  double s = 0.0;
  for (double v : g) s += std::fabs(v);
  return s;
}
double sum_square(std::span<const double> g) {
  double s = 0.0;
  for (double v : g) s += v * v;
  return s;
}
double log_sum_exp(std::span<const double> g) {
  const double m = *std::max_element(g.begin(), g.end());
  if (std::isinf(m)) return m;
  double s = 0.0;
  for (double v : g) s += std::exp(v - m);
  return m + std::log(s);
}
double index_of(std::span<const double> g, std::span<const double>::iterator it) {
  return static_cast<double>(it - g.begin());
}

struct ReduceDef {
  std::string_view type;
  ReduceFn fn;
};

constexpr ReduceDef kReductions[] = {
    {"reduce_sum", sum},
    {"reduce_mean", [](std::span<const double> g) { return sum(g) / static_cast<double>(g.size()); }},
    {"reduce_prod", [](std::span<const double> g) { return std::accumulate(g.begin(), g.end(), 1.0, std::multiplies<>()); }},
    {"reduce_max", [](std::span<const double> g) { return *std::max_element(g.begin(), g.end()); }},
    {"reduce_min", [](std::span<const double> g) { return *std::min_element(g.begin(), g.end()); }},
    {"reduce_sum_square", sum_square},
    {"reduce_l1_norm", sum_abs},
    {"reduce_l2_norm", [](std::span<const double> g) { return std::sqrt(sum_square(g)); }},
    {"reduce_log_sum", [](std::span<const double> g) { return std::log(sum(g)); }},
    {"reduce_log_sum_exp", log_sum_exp},
    {"reduce_argmax", [](std::span<const double> g) { return index_of(g, std::max_element(g.begin(), g.end())); }},
    {"reduce_argmin", [](std::span<const double> g) { return index_of(g, std::min_element(g.begin(), g.end())); }},
};

bool is_arg_reduction(std::string_view type) { return type == "reduce_argmax" || type == "reduce_argmin"; }

Expected<std::vector<int>> reduced_axes(const mil::Op& op, int rank) {
  if (!is_arg_reduction(op.type)) return axes_arg(op, "axes", rank);
  ANE_ASSIGN_OR_RETURN(int64_t axis, int_arg(op, "axis", -1));
  ANE_ASSIGN_OR_RETURN(int a, axis_arg_value(op, "axis", axis, rank));
  return std::vector<int>{a};
}

Expected<Step> lower_reduce(const mil::Op& op, Lowering& ctx) {
  const ReduceFn f = find_reduce_fn(op.type);
  ANE_ASSIGN_OR_RETURN(size_t x, ctx.operand(op, "x"));
  ANE_ASSIGN_OR_RETURN(size_t out, ctx.result(op, 0));
  ANE_ASSIGN_OR_RETURN(std::vector<int> axes, reduced_axes(op, ctx.tensor(x).rank()));
  int64_t kept = 1, group = 1;
  for (int d = 0; d < ctx.tensor(x).rank(); ++d) {
    (std::find(axes.begin(), axes.end(), d) != axes.end() ? group : kept) *= ctx.tensor(x).dim(d);
  }
  if (group == 0 || kept != ctx.tensor(out).type.num_elements()) {
    return op_error(op, "x", "reducing " + ctx.tensor(x).type.to_string() + " does not give the output type " +
                                 ctx.tensor(out).type.to_string());
  }
  return Step([=](Slots& s) {
    reduce(s[x], axes, f, s[out]);
    return Status();
  });
}

constexpr size_t kNumReductions = std::size(kReductions);

constexpr std::array<OpEntry, kNumReductions> make_table() {
  std::array<OpEntry, kNumReductions> t{};
  for (size_t i = 0; i < kNumReductions; ++i) t[i] = {kReductions[i].type, lower_reduce};
  return t;
}

}  // namespace

ReduceFn find_reduce_fn(std::string_view op_type) {
  for (const auto& d : kReductions) {
    if (d.type == op_type) return d.fn;
  }
  return nullptr;
}

void reduce(const DTensor& x, const std::vector<int>& axes, ReduceFn f, DTensor& y) {
  const Shape outer = axis_offsets(x.shape(), other_axes(x.rank(), axes));
  const Shape inner = axis_offsets(x.shape(), axes);
  std::vector<double> group(inner.size());
  for (size_t o = 0; o < outer.size(); ++o) {
    for (size_t k = 0; k < inner.size(); ++k) group[k] = x[outer[o] + inner[k]];
    y.data[o] = f(group);
  }
}

std::span<const OpEntry> reduce_ops() {
  static constexpr auto table = make_table();
  return table;
}

}  // namespace ane::ref
