// Compile-time glue between MIL ops and the reference kernels. Each op family's file has
// a table of OpEntry: the op type and a `lower` function that reads the op's arguments
// (constants through the *_arg readers, tensors through Lowering's operand slots), checks
// what the kernel needs, and returns the Step that calls the kernel at run time. Steps
// capture slot indices and plain parameters only, never IR pointers: the IR may be freed
// once compile() returns.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "backends/ref/tensor.h"
#include "core/status.h"
#include "mil/ir.h"

namespace ane::ref {

// Every value of a compiled function lives in one slot, allocated at compile time.
using Slots = std::deque<DTensor>;  // a deque: slots stay put while more are added
// What an op does at run time; an empty Step means the op was done at compile time.
using Step = std::function<Status(Slots& slots)>;

// "conv 'q_proj': argument 'weight': <rule>", located at the op's statement.
Error op_error(const mil::Op& op, std::string_view arg, const std::string& rule,
               ErrorCode code = ErrorCode::kInvalidArgument);

// A constant's elements as doubles (data must be present).
DTensor tensor_of_constant(const mil::Constant& c);

// Assigns slots to values while a function is lowered. Owns nothing but the value->slot
// map; the slots vector belongs to the caller (the executable being built).
class Lowering {
 public:
  explicit Lowering(Slots& slots) : slots_(slots) {}

  // A slot for a value defined elsewhere (a function parameter).
  size_t define(const mil::Value& v);
  // The slot of required tensor argument `arg` (constants are placed in their slot once).
  Expected<size_t> operand(const mil::Op& op, std::string_view arg);
  // Same, or nullopt when the optional argument is absent.
  Expected<std::optional<size_t>> optional_operand(const mil::Op& op, std::string_view arg);
  // The slots of tuple argument `arg` (e.g. concat's `values`), in order.
  Expected<std::vector<size_t>> tuple_operands(const mil::Op& op, std::string_view arg);
  // The slot of op output i, shaped by its type (filled when the value is a constant).
  Expected<size_t> result(const mil::Op& op, size_t i);
  // The slot already holding `v`, if any.
  std::optional<size_t> find(const mil::Value& v) const;

  const DTensor& tensor(size_t slot) const { return slots_[slot]; }
  DTensor& tensor(size_t slot) { return slots_[slot]; }

 private:
  Expected<size_t> slot_of(const mil::Op& op, std::string_view arg, const mil::Value& v);
  size_t add_slot(const mil::Value& v, DTensor t);

  Slots& slots_;
  std::unordered_map<const mil::Value*, size_t> index_;
};

// Readers for compile-time constant arguments. An absent argument gives `dflt` when there
// is one, else an error; a present argument must be a constant with data.
Expected<const mil::Constant*> constant_arg(const mil::Op& op, std::string_view arg);  // nullptr if absent
Expected<int64_t> int_arg(const mil::Op& op, std::string_view arg, std::optional<int64_t> dflt = std::nullopt);
Expected<std::vector<int64_t>> ints_arg(const mil::Op& op, std::string_view arg,
                                        std::optional<std::vector<int64_t>> dflt = std::nullopt);
Expected<double> float_arg(const mil::Op& op, std::string_view arg, std::optional<double> dflt = std::nullopt);
Expected<bool> bool_arg(const mil::Op& op, std::string_view arg, std::optional<bool> dflt = std::nullopt);
Expected<std::vector<bool>> bools_arg(const mil::Op& op, std::string_view arg, size_t n_if_absent);
Expected<std::string> string_arg(const mil::Op& op, std::string_view arg,
                                 std::optional<std::string> dflt = std::nullopt);

// Axis `axis` checked against `rank` and mapped into [0, rank).
Expected<int> axis_arg_value(const mil::Op& op, std::string_view arg, int64_t axis, int rank);

// Constant axes argument `arg` checked against `rank`, normalised, sorted, duplicates
// rejected; an absent argument means every axis.
Expected<std::vector<int>> axes_arg(const mil::Op& op, std::string_view arg, int rank);

// One op family's table entry.
using LowerFn = Expected<Step> (*)(const mil::Op& op, Lowering& ctx);
struct OpEntry {
  std::string_view type;
  LowerFn lower;
};

// The op families (one file each).
std::span<const OpEntry> elementwise_ops();
std::span<const OpEntry> activation_ops();
std::span<const OpEntry> linear_ops();
std::span<const OpEntry> reduce_ops();
std::span<const OpEntry> shape_ops();
std::span<const OpEntry> cast_const_ops();
std::span<const OpEntry> quantize_ops();

}  // namespace ane::ref
