#include "core/status.h"

namespace ane {

std::string Location::to_string() const {
  std::string s = file;
  if (line > 0) {
    // Appended piecewise: `":" + std::to_string(..)` trips a GCC 12 -Wrestrict false positive.
    s += ':';
    s += std::to_string(line);
    if (col > 0) {
      s += ':';
      s += std::to_string(col);
    }
  } else if (byte_offset >= 0) {
    s += (s.empty() ? "" : ": ") + std::string("byte ") + std::to_string(byte_offset);
  }
  return s;
}

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kParse: return "parse error";
    case ErrorCode::kVerify: return "verify error";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kIo: return "I/O error";
    case ErrorCode::kOutOfRange: return "out of range";
    case ErrorCode::kBudgetExceeded: return "compile budget exceeded";
    case ErrorCode::kInternal: return "internal error";
  }
  return "error";
}

std::string Error::to_string() const {
  std::string where = where_.to_string();
  return where.empty() ? message_ : where + ": " + message_;
}

Error Error::with_context(const std::string& context) const {
  return Error(code_, context + ": " + message_, where_);
}

}  // namespace ane
