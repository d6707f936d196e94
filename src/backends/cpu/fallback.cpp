// Ops without a fast kernel run through the reference backend's kernel for that op: at
// compile time the op is lowered by ref's own table into float64 slots allocated once;
// at run time its operands are widened into those slots, the reference step runs, and the
// results are narrowed back. Correct for every op the reference supports; slow, and the
// reference kernels may allocate while they run (only these ops; see docs/numerics.md).
#include <memory>
#include <string>

#include "backends/cpu/plan.h"
#include "backends/ref/convert.h"
#include "backends/ref/lowering.h"

namespace ane::cpu {
namespace {

const ref::OpEntry* find_ref_entry(std::string_view type) {
  for (auto family : {ref::elementwise_ops(), ref::activation_ops(), ref::linear_ops(), ref::reduce_ops(),
                      ref::shape_ops(), ref::cast_const_ops(), ref::quantize_ops()}) {
    for (const ref::OpEntry& e : family) {
      if (e.type == type) return &e;
    }
  }
  return nullptr;
}

struct Binding {
  size_t slot;
  float* data;  // const for inputs, written for outputs
  int64_t n;
  mil::DType dtype;
};

struct FallbackStep {
  ref::Slots slots;
  ref::Step step;
  std::vector<Binding> inputs, outputs;

  Status run() {
    for (const Binding& b : inputs) {
      std::vector<double>& d = slots[b.slot].data;
      for (int64_t i = 0; i < b.n; ++i) d[static_cast<size_t>(i)] = b.data[i];
    }
    ANE_RETURN_IF_ERROR(step(slots));
    for (const Binding& b : outputs) {
      const std::vector<double>& d = slots[b.slot].data;
      const bool integral = mil::is_integer(b.dtype) || b.dtype == mil::DType::kBool;
      for (int64_t i = 0; i < b.n; ++i) {
        const double v = d[static_cast<size_t>(i)];
        b.data[i] = static_cast<float>(integral ? ref::round_to_dtype(v, b.dtype) : v);
      }
    }
    return {};
  }
};

}  // namespace

bool fallback_supports(std::string_view type) { return find_ref_entry(type) != nullptr; }

Expected<StepFn> lower_fallback(const mil::Op& op, LowerCtx& ctx) {
  const ref::OpEntry* entry = find_ref_entry(op.type);
  if (entry == nullptr) {
    return ref::op_error(op, "", "the cpu backend does not support op '" + op.type + "'", ErrorCode::kUnsupported);
  }
  auto fb = std::make_shared<FallbackStep>();
  ref::Lowering lowering(fb->slots);
  // Operands computed by this executable (not IR constants) become defined slots.
  for (const auto& [name, arg] : op.args) {
    for (const mil::Value* v : arg.values) {
      if (v->is_constant() || lowering.find(*v)) continue;
      const mil::Value* c = ctx.canonical(v);
      const size_t slot = lowering.define(*v);
      fb->inputs.push_back({slot, const_cast<float*>(ctx.data(c)), v->type.num_elements(), v->type.dtype});
    }
  }
  ANE_ASSIGN_OR_RETURN(fb->step, entry->lower(op, lowering));
  for (const mil::Value* out : op.outputs) {
    const auto slot = lowering.find(*out);
    if (!slot) return ref::op_error(op, "", "output '" + out->name + "' not produced", ErrorCode::kInternal);
    fb->outputs.push_back({*slot, ctx.mutable_data(out), out->type.num_elements(), out->type.dtype});
  }
  if (!fb->step) {  // done at compile time (constexpr ops): copy the result now
    for (const Binding& b : fb->outputs) {
      for (int64_t i = 0; i < b.n; ++i) b.data[i] = static_cast<float>(fb->slots[b.slot].data[static_cast<size_t>(i)]);
    }
    return StepFn();
  }
  return StepFn([fb] { return fb->run(); });
}

}  // namespace ane::cpu
