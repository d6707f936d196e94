// Errors as values: Status (ok or an Error) and Expected<T> (a T or an Error).
// Every library boundary returns one of these; an Error says what failed and where
// (a file with line:column for text, or with a byte offset for binary files).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace ane {

// Where an error was found. Any field may be empty; to_string() prints what is known.
struct Location {
  std::string file;
  int line = 0;             // 1-based; 0 = unknown
  int col = 0;              // 1-based; 0 = unknown
  int64_t byte_offset = -1; // -1 = unknown

  static Location text(std::string file, int line, int col) { return {std::move(file), line, col, -1}; }
  static Location bytes(std::string file, int64_t offset) { return {std::move(file), 0, 0, offset}; }
  bool empty() const { return file.empty() && line == 0 && byte_offset < 0; }
  std::string to_string() const;
};

enum class ErrorCode {
  kInvalidArgument,  // caller passed something malformed
  kParse,            // text or binary input does not follow its format
  kVerify,           // a program is well-formed but breaks a typing/shape rule
  kUnsupported,      // valid but not implemented here
  kIo,               // the operating system refused a file operation
  kOutOfRange,       // index or size past a bound
  kBudgetExceeded,   // the engine's compile budget is spent (the trainer restarts)
  kInternal,         // a bug in OpenANE
};

const char* error_code_name(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message, Location where = {})
      : code_(code), message_(std::move(message)), where_(std::move(where)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const Location& where() const { return where_; }
  // "file:line:col: message" or "file: byte N: message" or just the message.
  std::string to_string() const;
  // Adds context in front: "while loading checkpoint: <message>".
  Error with_context(const std::string& context) const;

 private:
  ErrorCode code_;
  std::string message_;
  Location where_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : error_(std::move(e)) {}  // NOLINT: implicit so `return Error(...)` reads well
  static Status ok_status() { return {}; }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }
  std::string to_string() const { return ok() ? "ok" : error_->to_string(); }

 private:
  std::optional<Error> error_;
};

template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}      // NOLINT
  Expected(Error e) : v_(std::move(e)) {}          // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return std::get<1>(v_); }
  Status status() const { return ok() ? Status() : Status(error()); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

// Shorthands for building errors.
inline Error invalid_argument(std::string msg, Location where = {}) {
  return Error(ErrorCode::kInvalidArgument, std::move(msg), std::move(where));
}
inline Error parse_error(std::string msg, Location where = {}) {
  return Error(ErrorCode::kParse, std::move(msg), std::move(where));
}
inline Error io_error(std::string msg, Location where = {}) {
  return Error(ErrorCode::kIo, std::move(msg), std::move(where));
}

}  // namespace ane

#define ANE_CONCAT_INNER(a, b) a##b
#define ANE_CONCAT(a, b) ANE_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function if it failed.
#define ANE_RETURN_IF_ERROR(expr)                 \
  do {                                            \
    ::ane::Status ane_status_ = (expr);           \
    if (!ane_status_.ok()) return ane_status_.error(); \
  } while (0)

// `ANE_ASSIGN_OR_RETURN(auto x, f());` binds the value or returns f()'s error.
#define ANE_ASSIGN_OR_RETURN(lhs, expr) ANE_ASSIGN_OR_RETURN_IMPL(ANE_CONCAT(ane_expected_, __LINE__), lhs, expr)
#define ANE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.error();              \
  lhs = std::move(tmp).value()
