// The MIL IR: a Program of Functions, each a list of Ops in SSA form over typed Values.
// Parsed from text (parser.h), built by the typed Builder (builder.h), printed as canonical
// text (printer.h) and checked by the verifier (verifier.h). Functions own their Values and
// Ops; raw pointers between them are non-owning and stay valid while the Function lives.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "mil/types.h"

namespace ane::mil {

struct Op;

// A weight stored in a MILBlob file: `BLOBFILE(path = string(PATH), offset = uint64(OFFSET))`.
// `offset` names the blob's 64-byte metadata record, not its data.
struct BlobRef {
  std::string path;  // e.g. "@model_path/weights/wq.bin"
  uint64_t offset = 0;
  bool operator==(const BlobRef&) const = default;
};

// A constant tensor: literal data in its dtype, or a blob reference whose bytes are filled
// in when weights are resolved. Numeric data is little-endian in the element type (fp16 as
// half bit patterns, bool as one byte 0/1); strings are kept apart.
struct Constant {
  TensorType type;
  std::vector<uint8_t> data;         // type.num_bytes() bytes once known
  std::vector<std::string> strings;  // dtype string only, num_elements() entries
  std::optional<BlobRef> blob;       // set for BLOBFILE constants

  // Builders for the common literal kinds.
  static Constant scalar_float(DType dtype, double v);  // fp16/fp32/bf16
  static Constant scalar_int(DType dtype, int64_t v);   // any integer dtype
  static Constant scalar_bool(bool v);
  static Constant scalar_string(std::string v);
  static Constant int_tensor(DType dtype, const std::vector<int64_t>& values);  // rank 1
  static Constant bool_tensor(const std::vector<bool>& values);                 // rank 1
  // A float tensor of any shape, rounded to `dtype` (fp16/fp32/bf16).
  static Constant float_tensor(DType dtype, std::vector<int64_t> shape, const std::vector<float>& values);

  bool has_data() const { return !data.empty() || !strings.empty() || type.num_elements() == 0; }
  // Element i converted to double / int64 (numeric and bool dtypes; data must be present).
  double element_as_double(int64_t i) const;
  int64_t element_as_int(int64_t i) const;
  std::vector<int64_t> to_ints() const;   // every element as int64
  std::vector<float> to_floats() const;   // every element as float
  // Literal equality (type and content); blob constants compare by reference.
  bool operator==(const Constant&) const = default;
};

enum class ValueKind : uint8_t {
  kParam,     // a function parameter
  kOpResult,  // an output of an Op (including const ops)
  kLiteral,   // an inline literal written as an op argument, e.g. `axis = int32(1)`
};

struct Value {
  std::string name;  // unique in its function; literals get a generated name
  TensorType type;
  ValueKind kind = ValueKind::kOpResult;
  Op* producer = nullptr;              // set for kOpResult
  // The data of literals, const-op results (the `val` of `const()[val = ...]` lives here and
  // nowhere else; BLOBFILE bytes are filled in by resolve_weights) and folded values.
  std::optional<Constant> constant;
  Location loc;                        // where it was defined

  bool is_constant() const { return constant.has_value(); }
};

// An argument: one value, or a tuple `(a, b, c)` (e.g. concat's `values`).
struct Argument {
  std::vector<Value*> values;
  bool is_tuple = false;
  Value* single() const { return values.empty() ? nullptr : values.front(); }
};

struct Op {
  std::string type;                                         // "conv", "const", ...
  std::vector<std::pair<std::string, Argument>> args;       // in source order
  std::vector<Value*> outputs;
  std::vector<std::pair<std::string, Constant>> attributes; // `[name = string("x"), val = ...]`
  Location loc;                                             // of the statement

  const Argument* arg(std::string_view key) const;
  Value* arg_value(std::string_view key) const;  // single value of `key`, or nullptr
  const Constant* attribute(std::string_view key) const;
  // The op's `name` attribute (or its first output's name): how errors refer to it.
  std::string display_name() const;
};

struct Function {
  std::string name;                  // "main"
  std::string opset;                 // "ios18"
  std::vector<Value*> inputs;        // parameters, in order: input surface i = inputs[i]
  std::vector<Value*> outputs;       // the `-> (a, b)` list: output surface j = outputs[j]
  std::vector<std::unique_ptr<Op>> ops;        // topological (source) order
  std::vector<std::unique_ptr<Value>> values;  // every value this function owns
  Location loc;

  Value* add_value(std::string value_name, TensorType type, ValueKind kind, Location where = {});
  Op* add_op(std::string op_type, Location where = {});
  Value* find_value(std::string_view value_name) const;
};

struct Program {
  std::string version = "1.3";                                   // `program(1.3)`
  std::vector<std::pair<std::string, std::string>> build_info;   // `[buildInfo = dict<...>(...)]`
  std::vector<std::unique_ptr<Function>> functions;
  std::string source_name;                                       // file name used in errors

  Function* find_function(std::string_view fn_name) const;
  Function* add_function(std::string fn_name, std::string opset);
};

}  // namespace ane::mil
