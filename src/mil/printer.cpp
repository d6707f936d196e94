#include "mil/printer.h"

#include <charconv>
#include <cmath>
#include <string_view>

namespace ane::mil {
namespace {

constexpr std::string_view kIndent = "    ";

void append_quoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += "\\x";
          out += kHex[u >> 4];
          out += kHex[u & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

// Shortest decimal that reads back as the same float; a half or bf16 prints as the float it
// holds, which is exact. Integral values keep a ".0" so they read as floats.
void append_float(std::string& out, float f) {
  if (std::isnan(f)) {
    out += "nan";
    return;
  }
  if (std::isinf(f)) {
    out += f < 0 ? "-inf" : "inf";
    return;
  }
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, f);
  const std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  out += s;
  if (s.find_first_of(".e") == std::string_view::npos) out += ".0";
}

template <typename T>
void append_number(std::string& out, T v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_element(std::string& out, const Constant& c, int64_t i) {
  const DType d = c.type.dtype;
  if (d == DType::kString) {
    append_quoted(out, c.strings[static_cast<size_t>(i)]);
  } else if (d == DType::kBool) {
    out += c.element_as_int(i) ? "true" : "false";
  } else if (is_float(d)) {
    append_float(out, static_cast<float>(c.element_as_double(i)));
  } else if (d == DType::kUint64) {
    append_number(out, static_cast<uint64_t>(c.element_as_int(i)));
  } else {
    append_number(out, c.element_as_int(i));
  }
}

// Elements actually present (a constant missing data prints what it has, which the parser
// then rejects with an element-count error instead of this code reading past the end).
int64_t available_elements(const Constant& c) {
  if (c.type.dtype == DType::kString) return static_cast<int64_t>(c.strings.size());
  const size_t size = dtype_size(c.type.dtype);
  return size ? static_cast<int64_t>(c.data.size() / size) : 0;
}

// `[[a, b], [c, d]]` for dims[axis...], consuming elements from `next`.
void append_nested(std::string& out, const Constant& c, size_t axis, int64_t& next) {
  out += '[';
  const int64_t n = c.type.shape[axis];
  for (int64_t k = 0; k < n; ++k) {
    if (k) out += ", ";
    if (axis + 1 < c.type.shape.size()) {
      append_nested(out, c, axis + 1, next);
    } else {
      append_element(out, c, next++);
    }
  }
  out += ']';
}

void append_flat(std::string& out, const Constant& c, int64_t count) {
  out += '[';
  for (int64_t i = 0; i < count; ++i) {
    if (i) out += ", ";
    append_element(out, c, i);
  }
  out += ']';
}

// `tensor<fp16, [2, 3]>`, also for rank 0 (`tensor<fp16, []>`) where BLOBFILE needs it.
void append_tensor_type(std::string& out, const TensorType& t) {
  out += "tensor<";
  out += dtype_name(t.dtype);
  out += ", [";
  for (size_t i = 0; i < t.shape.size(); ++i) {
    if (i) out += ", ";
    append_number(out, t.shape[i]);
  }
  out += "]>";
}

void append_blob(std::string& out, const Constant& c) {
  append_tensor_type(out, c.type);
  out += "(BLOBFILE(path = string(";
  append_quoted(out, c.blob->path);
  out += "), offset = uint64(";
  append_number(out, c.blob->offset);
  out += ")))";
}

void append_constant(std::string& out, const Constant& c) {
  if (c.blob) {
    append_blob(out, c);
    return;
  }
  const int64_t have = available_elements(c);
  if (c.type.is_scalar() && have >= 1) {
    out += dtype_name(c.type.dtype);
    out += '(';
    append_element(out, c, 0);
    out += ')';
    return;
  }
  append_tensor_type(out, c.type);
  out += '(';
  if (have < c.type.num_elements() || c.type.is_scalar()) {
    append_flat(out, c, have);
  } else {
    int64_t next = 0;
    append_nested(out, c, 0, next);
  }
  out += ')';
}

class Printer {
 public:
  std::string print(const Program& p) {
    out_ += "program(";
    out_ += p.version;
    out_ += ")\n";
    if (!p.build_info.empty()) print_build_info(p);
    out_ += "{\n";
    for (size_t i = 0; i < p.functions.size(); ++i) {
      if (i) out_ += '\n';
      print_function(*p.functions[i]);
    }
    out_ += "}\n";
    return std::move(out_);
  }

 private:
  void print_build_info(const Program& p) {
    out_ += "[buildInfo = dict<string, string>({";
    for (size_t i = 0; i < p.build_info.size(); ++i) {
      out_ += i ? ", {" : "{";
      append_quoted(out_, p.build_info[i].first);
      out_ += ", ";
      append_quoted(out_, p.build_info[i].second);
      out_ += '}';
    }
    out_ += "})]\n";
  }

  void print_function(const Function& f) {
    out_ += kIndent;
    out_ += "func " + f.name + "<" + f.opset + ">(";
    for (size_t i = 0; i < f.inputs.size(); ++i) {
      if (i) out_ += ", ";
      out_ += f.inputs[i]->type.to_string() + " " + f.inputs[i]->name;
    }
    out_ += ") {\n";
    for (const auto& op : f.ops) print_op(*op);
    out_ += kIndent;
    out_ += "} -> (";
    for (size_t i = 0; i < f.outputs.size(); ++i) {
      if (i) out_ += ", ";
      out_ += f.outputs[i]->name;
    }
    out_ += ");\n";
  }

  void print_op(const Op& op) {
    out_ += kIndent;
    out_ += kIndent;
    for (size_t i = 0; i < op.outputs.size(); ++i) {
      if (i) out_ += ", ";
      out_ += op.outputs[i]->type.to_string() + " " + op.outputs[i]->name;
    }
    out_ += " = " + op.type + "(";
    for (size_t i = 0; i < op.args.size(); ++i) {
      if (i) out_ += ", ";
      out_ += op.args[i].first + " = ";
      print_argument(op.args[i].second);
    }
    out_ += ')';
    print_attributes(op);
    out_ += ";\n";
  }

  void print_argument(const Argument& a) {
    if (!a.is_tuple && a.values.size() == 1) {
      print_value_ref(*a.values.front());
      return;
    }
    out_ += '(';
    for (size_t i = 0; i < a.values.size(); ++i) {
      if (i) out_ += ", ";
      print_value_ref(*a.values[i]);
    }
    out_ += ')';
  }

  void print_value_ref(const Value& v) {
    if (v.kind == ValueKind::kLiteral && v.constant) {
      append_constant(out_, *v.constant);
    } else {
      out_ += v.name;
    }
  }

  // The op's attributes in order; a const op's value (its result's constant) comes last as `val`.
  void print_attributes(const Op& op) {
    const Constant* const_val = nullptr;
    if (op.type == "const" && op.outputs.size() == 1 && op.outputs[0]->constant) {
      const_val = &*op.outputs[0]->constant;
    }
    if (op.attributes.empty() && !const_val) return;
    out_ += '[';
    for (size_t i = 0; i < op.attributes.size(); ++i) {
      if (i) out_ += ", ";
      out_ += op.attributes[i].first + " = ";
      append_constant(out_, op.attributes[i].second);
    }
    if (const_val) {
      out_ += op.attributes.empty() ? "val = " : ", val = ";
      append_constant(out_, *const_val);
    }
    out_ += ']';
  }

  std::string out_;
};

}  // namespace

std::string print_program(const Program& program) { return Printer().print(program); }

std::string print_constant(const Constant& constant) {
  std::string out;
  append_constant(out, constant);
  return out;
}

}  // namespace ane::mil
