// Reductions over axes: reduce_sum, reduce_mean, reduce_max, reduce_min. `axes` absent
// means every axis; negative axes count from the end; keep_dims keeps reduced axes as 1.
#include <algorithm>
#include <array>

#include "mil/ops/families.h"
#include "mil/ops/infer_util.h"

namespace ane::mil::ops_internal {
namespace {

Expected<std::vector<int>> reduced_axes(const Op& op, int rank) {
  if (!op.arg("axes")) {
    std::vector<int> all(static_cast<size_t>(rank));
    for (int i = 0; i < rank; ++i) all[static_cast<size_t>(i)] = i;
    return all;
  }
  ANE_ASSIGN_OR_RETURN(Shape axes, const_ints(op, "axes"));
  return normalize_axes(op, "axes", axes, rank);
}

InferResult infer_reduce(const Op& op) {
  const TensorType& x = arg_type(op, "x");
  ANE_RETURN_IF_ERROR(require_dtype(op, "x", x, {DType::kFp16, DType::kFp32, DType::kBf16, DType::kInt32}));
  ANE_ASSIGN_OR_RETURN(std::vector<int> axes, reduced_axes(op, x.rank()));
  ANE_ASSIGN_OR_RETURN(bool keep_dims, const_bool(op, "keep_dims", false));
  Shape out;
  for (int i = 0; i < x.rank(); ++i) {
    const bool reduced = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!reduced) out.push_back(x.shape[static_cast<size_t>(i)]);
    else if (keep_dims) out.push_back(1);
  }
  return one({x.dtype, std::move(out)});
}

OpSchema reduction(std::string_view name) {
  return {name, {arg_required("x"), arg_optional_const("axes"), arg_optional_const("keep_dims")}, infer_reduce};
}

}  // namespace

std::span<const OpSchema, kReduceOpCount> reduce_op_schemas() {
  static const std::array<OpSchema, kReduceOpCount> kSchemas = std::to_array<OpSchema>({
      reduction("reduce_sum"),
      reduction("reduce_mean"),
      reduction("reduce_max"),
      reduction("reduce_min"),
  });
  return kSchemas;
}

}  // namespace ane::mil::ops_internal
