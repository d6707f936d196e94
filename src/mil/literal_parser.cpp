#include "mil/literal_parser.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fp16.h"

namespace ane::mil::text {
namespace {

using K = TokenKind;

// ---- types ----

DType parse_dtype(Cursor& c) {
  const Token& t = c.expect_ident("a dtype");
  const std::optional<DType> d = dtype_from_name(t.text);
  if (!d) c.fail(t, "unknown dtype " + describe(t));
  return *d;
}

int64_t parse_dimension(Cursor& c) {
  if (c.at(K::kMinus)) c.fail(c.peek(), "tensor dimensions must not be negative");
  const Token& t = c.expect(K::kNumber, "a dimension");
  int64_t d = 0;
  const auto [ptr, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), d);
  if (ec != std::errc() || ptr != t.text.data() + t.text.size()) c.fail(t, "invalid dimension " + describe(t));
  return d;
}

std::vector<int64_t> parse_shape(Cursor& c) {
  c.expect(K::kLBracket, "'[' to start the tensor shape");
  std::vector<int64_t> shape;
  if (c.accept(K::kRBracket)) return shape;
  int64_t elements = 1;
  for (;;) {
    const Token& at = c.peek();
    const int64_t d = parse_dimension(c);
    if (static_cast<int>(shape.size()) >= kMaxRank) c.fail(at, "tensor rank exceeds the maximum of " + std::to_string(kMaxRank));
    if (d > 0 && elements > kMaxElements / d) c.fail(at, "tensor has more than 2^48 elements");
    elements *= d;
    shape.push_back(d);
    if (c.accept(K::kComma)) continue;
    c.expect(K::kRBracket, "',' or ']' in the tensor shape");
    return shape;
  }
}

// ---- scalar elements ----

// Elements of a literal as they are parsed, in row-major order.
struct Elements {
  DType dtype;
  std::vector<float> floats;
  std::vector<int64_t> ints;  // integers (uint64 as its bit pattern) and bools (0/1)
  std::vector<std::string> strings;

  int64_t count() const {
    if (is_float(dtype)) return static_cast<int64_t>(floats.size());
    if (dtype == DType::kString) return static_cast<int64_t>(strings.size());
    return static_cast<int64_t>(ints.size());
  }
};

std::string type_word(DType d) { return std::string(dtype_name(d)); }

bool is_hex(std::string_view s) { return s.size() > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'); }

bool fits_dtype(float v, DType d) {
  if (!std::isfinite(v)) return true;
  if (d == DType::kFp16) return std::isfinite(round_to_half(v));
  if (d == DType::kBf16) return std::isfinite(Constant::scalar_float(d, v).element_as_double(0));
  return true;
}

float parse_float_number(Cursor& c, const Token& t, DType d) {
  std::string_view s = t.text;
  const bool hex = is_hex(s);
  if (hex) s.remove_prefix(2);
  float v = 0;
  const auto fmt = hex ? std::chars_format::hex : std::chars_format::general;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, fmt);
  if (ec == std::errc::result_out_of_range) c.fail(t, "number " + describe(t) + " is out of range for " + type_word(d));
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
    c.fail(t, std::string(hex ? "invalid hex float " : "invalid number ") + describe(t));
  }
  if (!fits_dtype(v, d)) c.fail(t, "number " + describe(t) + " is out of range for " + type_word(d));
  return v;
}

float parse_float_element(Cursor& c, DType d) {
  const bool negative = c.accept(K::kMinus);
  const Token& t = c.peek();
  float v = 0;
  if (t.kind == K::kNumber) {
    v = parse_float_number(c, t, d);
  } else if (c.at_ident("inf")) {
    v = std::numeric_limits<float>::infinity();
  } else if (c.at_ident("nan")) {
    v = std::numeric_limits<float>::quiet_NaN();
  } else {
    c.fail_expected("a number for " + type_word(d));
  }
  c.next();
  return negative ? -v : v;
}

struct IntRange {
  int64_t min;
  uint64_t max;
};

IntRange int_range(DType d) {
  switch (d) {
    case DType::kInt8: return {INT8_MIN, INT8_MAX};
    case DType::kUint8: return {0, UINT8_MAX};
    case DType::kInt16: return {INT16_MIN, INT16_MAX};
    case DType::kUint16: return {0, UINT16_MAX};
    case DType::kInt32: return {INT32_MIN, INT32_MAX};
    case DType::kUint32: return {0, UINT32_MAX};
    case DType::kUint64: return {0, UINT64_MAX};
    default: return {INT64_MIN, INT64_MAX};
  }
}

// Returns the value's bit pattern as int64 (uint64 values above INT64_MAX wrap, as stored).
int64_t parse_int_element(Cursor& c, DType d) {
  const Token* sign = c.at(K::kMinus) ? &c.next() : nullptr;
  if (!c.at(K::kNumber)) c.fail_expected("an integer for " + type_word(d));
  const Token& t = c.next();
  const Token& at = sign ? *sign : t;
  std::string shown = sign ? "-" : "";
  shown += t.text;
  uint64_t magnitude = 0;
  const auto [ptr, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), magnitude);
  if (ec == std::errc() && ptr != t.text.data() + t.text.size()) c.fail(t, "expected an integer for " + type_word(d) + ", found " + describe(t));
  if (ec == std::errc::result_out_of_range) c.fail(at, "integer " + shown + " is out of range for " + type_word(d));
  if (ec != std::errc()) c.fail(t, "invalid integer " + describe(t));
  const IntRange r = int_range(d);
  const uint64_t min_magnitude = r.min < 0 ? uint64_t{1} + static_cast<uint64_t>(-(r.min + 1)) : 0;
  if (sign ? magnitude > min_magnitude : magnitude > r.max) c.fail(at, "integer " + shown + " is out of range for " + type_word(d));
  return sign ? static_cast<int64_t>(uint64_t{0} - magnitude) : static_cast<int64_t>(magnitude);
}

bool parse_bool_element(Cursor& c) {
  if (c.at_ident("true") || c.at_ident("false")) return c.next().text == "true";
  c.fail_expected("'true' or 'false' for bool");
}

void parse_element(Cursor& c, Elements& e) {
  if (is_float(e.dtype)) {
    e.floats.push_back(parse_float_element(c, e.dtype));
  } else if (e.dtype == DType::kString) {
    e.strings.push_back(parse_string_token(c, "a string"));
  } else if (e.dtype == DType::kBool) {
    e.ints.push_back(parse_bool_element(c) ? 1 : 0);
  } else {
    e.ints.push_back(parse_int_element(c, e.dtype));
  }
}

// ---- element lists ----

// The shape a (possibly nested) element list turned out to have, checked to be rectangular.
struct ListShape {
  std::vector<int64_t> counts;  // elements per list at each nesting level; -1 unseen
  std::vector<bool> has_lists;  // some list at this level holds lists
  int leaf_level = -1;          // the level whose lists hold the scalars

  void grow(int level) {
    if (static_cast<int>(counts.size()) <= level) {
      counts.resize(static_cast<size_t>(level) + 1, -1);
      has_lists.resize(static_cast<size_t>(level) + 1, false);
    }
  }
};

void parse_list(Cursor& c, Elements& e, ListShape& ls, int level);

void parse_list_item(Cursor& c, Elements& e, ListShape& ls, int level) {
  const Token& t = c.peek();
  const size_t l = static_cast<size_t>(level);
  if (t.kind == K::kLBracket) {
    if (ls.leaf_level >= 0 && ls.leaf_level <= level) c.fail(t, "list mixes numbers and nested lists");
    ls.has_lists[l] = true;
    parse_list(c, e, ls, level + 1);
    return;
  }
  if (ls.has_lists[l] || (ls.leaf_level >= 0 && ls.leaf_level != level)) c.fail(t, "list mixes numbers and nested lists");
  ls.leaf_level = level;
  parse_element(c, e);
}

void parse_list(Cursor& c, Elements& e, ListShape& ls, int level) {
  const Token& open = c.expect(K::kLBracket, "'['");
  if (level >= kMaxNesting) c.fail(open, "lists nested deeper than " + std::to_string(kMaxNesting) + " levels");
  ls.grow(level);
  int64_t n = 0;
  if (!c.at(K::kRBracket)) {
    do {
      parse_list_item(c, e, ls, level);
      ++n;
    } while (c.accept(K::kComma));
  }
  c.expect(K::kRBracket, "',' or ']' in the element list");
  int64_t& want = ls.counts[static_cast<size_t>(level)];
  if (want >= 0 && want != n) {
    c.fail(open, "ragged list: " + std::to_string(n) + " elements where its siblings have " + std::to_string(want));
  }
  want = n;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// `[...]`, flat (any rank) or nested to exactly the type's shape.
void parse_elements_list(Cursor& c, const TensorType& type, Elements& e) {
  const Token& open = c.peek();
  ListShape ls;
  parse_list(c, e, ls, 0);
  if (ls.counts.size() > 1 && ls.counts != type.shape) {
    c.fail(open, "nested list has shape " + shape_text(ls.counts) + " but the type is " + type.to_string());
  }
  if (e.count() != type.num_elements()) {
    c.fail(open, "literal of type " + type.to_string() + " has " + std::to_string(e.count()) + " elements, expected " +
                     std::to_string(type.num_elements()));
  }
}

Constant make_constant(const TensorType& type, Elements&& e) {
  Constant k;
  if (is_float(type.dtype)) {
    k = Constant::float_tensor(type.dtype, type.shape, e.floats);
  } else if (type.dtype == DType::kString) {
    k.strings = std::move(e.strings);
  } else {
    k = Constant::int_tensor(type.dtype, e.ints);
  }
  k.type = type;
  return k;
}

// ---- BLOBFILE ----

Constant parse_blob_argument(Cursor& c);

void set_blob_field(Cursor& c, const Token& key, const Token& value_at, const Constant& v, BlobRef& blob) {
  if (key.text == "path") {
    if (v.type != TensorType{DType::kString, {}}) c.fail(value_at, "BLOBFILE path must be a string");
    blob.path = v.strings.front();
  } else {
    if (v.type != TensorType{DType::kUint64, {}}) c.fail(value_at, "BLOBFILE offset must be a uint64");
    blob.offset = static_cast<uint64_t>(v.element_as_int(0));
  }
}

// `BLOBFILE(path = string("..."), offset = uint64(N))`, its two fields in either order.
BlobRef parse_blobfile(Cursor& c) {
  c.expect_word("BLOBFILE", "'BLOBFILE'");
  c.expect(K::kLParen, "'(' after BLOBFILE");
  BlobRef blob;
  bool seen_path = false, seen_offset = false;
  do {
    const Token& key = c.expect_ident("'path' or 'offset' in BLOBFILE");
    bool& seen = key.text == "path" ? seen_path : seen_offset;
    if (key.text != "path" && key.text != "offset") c.fail(key, "unknown BLOBFILE field " + describe(key) + ", expected 'path' or 'offset'");
    if (seen) c.fail(key, "duplicate BLOBFILE field " + describe(key));
    seen = true;
    if (!c.accept(K::kEquals)) c.fail_expected("'=' after BLOBFILE field " + describe(key));
    const Token& value_at = c.peek();
    set_blob_field(c, key, value_at, parse_blob_argument(c), blob);
  } while (c.accept(K::kComma));
  const Token& close = c.expect(K::kRParen, "',' or ')' in BLOBFILE");
  if (!seen_path || !seen_offset) c.fail(close, std::string("BLOBFILE is missing its '") + (seen_path ? "offset" : "path") + "' field");
  return blob;
}

// The body after `TYPE`: `(value)`, `([...])` or `(BLOBFILE(...))`.
Constant parse_literal_body(Cursor& c, const TensorType& type, bool allow_blob) {
  c.expect(K::kLParen, "'(' after the literal's type");
  Constant k;
  if (c.at_ident("BLOBFILE") && c.at(K::kLParen, 1)) {
    if (!allow_blob) c.fail(c.peek(), "BLOBFILE is not allowed here");
    k.type = type;
    k.blob = parse_blobfile(c);
  } else {
    Elements e{type.dtype, {}, {}, {}};
    if (type.is_scalar()) {
      if (c.at(K::kLBracket)) c.fail(c.peek(), "a rank-0 literal takes one value, found '['");
      parse_element(c, e);
    } else {
      if (!c.at(K::kLBracket)) c.fail_expected("'[' to start the elements of " + type.to_string());
      parse_elements_list(c, type, e);
    }
    k = make_constant(type, std::move(e));
  }
  c.expect(K::kRParen, "')' to close the literal");
  return k;
}

TensorType parse_literal_type(Cursor& c) {
  if (c.at_ident("tensor")) return parse_type(c);
  const Token& t = c.peek();
  const std::optional<DType> d = t.kind == K::kIdent ? dtype_from_name(t.text) : std::nullopt;
  if (!d) c.fail_expected("a literal");
  c.next();
  return TensorType{*d, {}};
}

Constant parse_blob_argument(Cursor& c) {
  if (!at_literal(c)) c.fail_expected("a literal");
  const TensorType type = parse_literal_type(c);
  return parse_literal_body(c, type, /*allow_blob=*/false);
}

}  // namespace

TensorType parse_type(Cursor& c) {
  if (!c.at_ident("tensor")) {
    const Token& t = c.peek();
    const std::optional<DType> d = t.kind == K::kIdent ? dtype_from_name(t.text) : std::nullopt;
    if (!d) c.fail_expected("a type (a dtype or tensor<...>)");
    c.next();
    return TensorType{*d, {}};
  }
  c.next();
  c.expect(K::kLAngle, "'<' after 'tensor'");
  TensorType type;
  type.dtype = parse_dtype(c);
  c.expect(K::kComma, "',' after the tensor dtype");
  type.shape = parse_shape(c);
  c.expect(K::kRAngle, "'>' to close the tensor type");
  return type;
}

bool at_literal(const Cursor& c) {
  if (c.at_ident("tensor")) return c.at(K::kLAngle, 1);
  const Token& t = c.peek();
  return t.kind == K::kIdent && c.at(K::kLParen, 1) && dtype_from_name(t.text).has_value();
}

Constant parse_literal(Cursor& c) {
  const TensorType type = parse_literal_type(c);
  return parse_literal_body(c, type, /*allow_blob=*/true);
}

std::string parse_string_token(Cursor& c, std::string_view what) {
  if (!c.at(K::kString)) c.fail_expected(what);
  const Token& t = c.next();
  std::string out;
  int bad = 0;
  if (!decode_string(t.text, out, bad)) {
    Token at = t;
    at.col += bad;
    c.fail(at, "invalid escape sequence in string");
  }
  return out;
}

}  // namespace ane::mil::text
