// The op families (private to mil): each file under mil/ops/ defines one family's schemas
// in a function-local constant table whose length is fixed here, so adding an op without
// updating its count (or the reverse) fails to compile. ops.cpp joins them into one table.
#pragma once

#include <cstddef>
#include <span>

#include "mil/ops.h"

namespace ane::mil::ops_internal {

inline constexpr size_t kElementwiseOpCount = 8;     // add sub mul real_div pow maximum minimum select
inline constexpr size_t kActivationOpCount = 12;     // sigmoid tanh relu gelu silu softmax exp log sqrt rsqrt inverse clip
inline constexpr size_t kLinearOpCount = 3;          // conv matmul linear
inline constexpr size_t kReduceOpCount = 4;          // reduce_sum reduce_mean reduce_max reduce_min
inline constexpr size_t kShapeOpCount = 10;          // reshape transpose concat split slice_by_size slice_by_index
                                                     // tile expand_dims squeeze gather
inline constexpr size_t kNormalizationOpCount = 1;   // layer_norm
inline constexpr size_t kCastConstOpCount = 2;       // const cast
inline constexpr size_t kQuantizeOpCount = 3;        // quantize dequantize constexpr_affine_dequantize

std::span<const OpSchema, kElementwiseOpCount> elementwise_op_schemas();
std::span<const OpSchema, kActivationOpCount> activation_op_schemas();
std::span<const OpSchema, kLinearOpCount> linear_op_schemas();
std::span<const OpSchema, kReduceOpCount> reduce_op_schemas();
std::span<const OpSchema, kShapeOpCount> shape_op_schemas();
std::span<const OpSchema, kNormalizationOpCount> normalization_op_schemas();
std::span<const OpSchema, kCastConstOpCount> cast_const_op_schemas();
std::span<const OpSchema, kQuantizeOpCount> quantize_op_schemas();

}  // namespace ane::mil::ops_internal
