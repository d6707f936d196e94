// The reference interpreter: compile() lowers each op, in order, to a Step over value
// slots allocated once; run() decodes the inputs into their slots, runs the Steps, and
// encodes the outputs.
#include "backends/ref/ref_backend.h"

#include <string>
#include <vector>

#include "backends/ref/convert.h"
#include "backends/ref/lowering.h"

namespace ane {
namespace ref {
namespace {

struct CompiledStep {
  Step run;
  std::vector<size_t> integral_outputs;  // slots whose dtype is integer or bool
  std::string what;                      // "conv 'q_proj'" for run-time errors
  Location loc;
};

bool is_integral(mil::DType t) { return mil::is_integer(t) || t == mil::DType::kBool; }

// Rounds the slot's values to its integer/bool dtype (see ref_backend.h).
void keep_integral(DTensor& t) {
  for (double& v : t.data) v = round_to_dtype(v, t.type.dtype);
}

class RefExecutable final : public Executable {
 public:
  RefExecutable(Slots slots, std::vector<CompiledStep> steps, std::vector<size_t> inputs, std::vector<size_t> outputs)
      : slots_(std::move(slots)), steps_(std::move(steps)), inputs_(std::move(inputs)), outputs_(std::move(outputs)) {}

  Status run(const IoBuffers& io) override {
    ANE_RETURN_IF_ERROR(check_counts(io));
    for (size_t i = 0; i < inputs_.size(); ++i) {
      DTensor& t = slots_[inputs_[i]];
      ANE_RETURN_IF_ERROR(decode(io.inputs[i], t.type.dtype, t.data));
    }
    for (const CompiledStep& step : steps_) ANE_RETURN_IF_ERROR(run_step(step));
    for (size_t j = 0; j < outputs_.size(); ++j) {
      const DTensor& t = slots_[outputs_[j]];
      ANE_RETURN_IF_ERROR(encode(t.data, t.type.dtype, io.outputs[j]));
    }
    return {};
  }

 private:
  Status check_counts(const IoBuffers& io) const {
    if (io.inputs.size() != inputs_.size() || io.outputs.size() != outputs_.size()) {
      return invalid_argument("reference executable: expected " + std::to_string(inputs_.size()) + " inputs and " +
                              std::to_string(outputs_.size()) + " outputs, got " + std::to_string(io.inputs.size()) +
                              " and " + std::to_string(io.outputs.size()));
    }
    return {};
  }

  Status run_step(const CompiledStep& step) {
    if (!step.run) return {};
    Status st = step.run(slots_);
    if (!st.ok()) return Error(st.error().code(), step.what + ": " + st.error().message(), step.loc);
    for (size_t slot : step.integral_outputs) keep_integral(slots_[slot]);
    return {};
  }

  Slots slots_;
  std::vector<CompiledStep> steps_;
  std::vector<size_t> inputs_;   // slot of function parameter i
  std::vector<size_t> outputs_;  // slot of function output j
};

class RefBackend final : public Backend {
 public:
  RefBackend() {
    for (auto family : {elementwise_ops(), activation_ops(), linear_ops(), reduce_ops(), shape_ops(),
                        cast_const_ops(), quantize_ops()}) {
      table_.insert(table_.end(), family.begin(), family.end());
    }
  }

  std::string_view name() const override { return "ref"; }
  bool supports_op(const mil::Op& op) const override { return find(op.type) != nullptr; }

  Expected<std::unique_ptr<Executable>> compile(const mil::Function& fn, const CompileOptions&) override {
    Slots slots;
    Lowering ctx(slots);
    std::vector<size_t> inputs, outputs;
    for (const mil::Value* v : fn.inputs) {
      if (v->type.dtype == mil::DType::kString) {
        return Error(ErrorCode::kUnsupported, "input '" + v->name + "' is a string tensor", v->loc);
      }
      inputs.push_back(ctx.define(*v));
    }
    std::vector<CompiledStep> steps;
    for (const auto& op : fn.ops) {
      ANE_ASSIGN_OR_RETURN(CompiledStep step, lower_op(*op, ctx));
      steps.push_back(std::move(step));
    }
    for (const mil::Value* v : fn.outputs) {
      const auto slot = ctx.find(*v);
      if (!slot) return Error(ErrorCode::kInternal, "output '" + v->name + "' is never defined", v->loc);
      outputs.push_back(*slot);
    }
    return std::unique_ptr<Executable>(
        std::make_unique<RefExecutable>(std::move(slots), std::move(steps), std::move(inputs), std::move(outputs)));
  }

 private:
  const OpEntry* find(std::string_view type) const {
    for (const OpEntry& e : table_) {
      if (e.type == type) return &e;
    }
    return nullptr;
  }

  Expected<CompiledStep> lower_op(const mil::Op& op, Lowering& ctx) const {
    const OpEntry* entry = find(op.type);
    if (entry == nullptr) {
      return Error(ErrorCode::kUnsupported,
                   "the reference backend does not support op '" + op.type + "' ('" + op.display_name() + "')", op.loc);
    }
    CompiledStep step;
    ANE_ASSIGN_OR_RETURN(step.run, entry->lower(op, ctx));
    for (const mil::Value* out : op.outputs) {
      const auto slot = ctx.find(*out);
      if (slot && is_integral(out->type.dtype)) step.integral_outputs.push_back(*slot);
    }
    step.what = op.type + " '" + op.display_name() + "'";
    step.loc = op.loc;
    return step;
  }

  std::vector<OpEntry> table_;  // every family's entries
};

}  // namespace
}  // namespace ref

std::unique_ptr<Backend> make_reference_backend() { return std::make_unique<ref::RefBackend>(); }

}  // namespace ane
