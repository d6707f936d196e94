#include "mil/parser.h"

#include <new>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "mil/lexer.h"
#include "mil/literal_parser.h"

namespace ane::mil {
namespace {

using text::Cursor;
using text::describe;
using text::Token;
using K = text::TokenKind;

std::string quoted(std::string_view s) {
  std::string q(1, '\'');
  q += s;
  q += '\'';
  return q;
}

std::string where(const Location& loc) { return std::to_string(loc.line) + ":" + std::to_string(loc.col); }

// Keys of one argument list or attribute block: a linear scan for the usual handful, a hash
// set beyond, so that a hostile op with many keys stays linear.
class KeySet {
 public:
  // False when `key` was inserted before.
  bool insert(std::string_view key) {
    if (large_.empty() && small_.size() < kSmall) {
      for (std::string_view k : small_) {
        if (k == key) return false;
      }
      small_.push_back(key);
      return true;
    }
    if (large_.empty()) large_.insert(small_.begin(), small_.end());
    return large_.insert(key).second;
  }

 private:
  static constexpr size_t kSmall = 16;
  std::vector<std::string_view> small_;
  std::unordered_set<std::string_view> large_;
};

// Names visible in the function being parsed (views into the source text).
struct Scope {
  Function* fn = nullptr;
  std::unordered_map<std::string_view, Value*> names;
};

class ProgramParser {
 public:
  ProgramParser(const std::vector<Token>& tokens, std::string source_name) : c_(tokens, std::move(source_name)) {}

  std::unique_ptr<Program> run() {
    auto program = std::make_unique<Program>();
    program->source_name = c_.source_name();
    parse_header(*program);
    if (c_.at(K::kLBracket)) parse_program_attributes(*program);
    c_.expect(K::kLBrace, "'{' to start the program body");
    do {
      parse_function(*program);
    } while (!c_.accept(K::kRBrace));
    c_.expect(K::kEnd, "end of input after the program");
    return program;
  }

 private:
  // ---- program header ----

  void parse_header(Program& p) {
    c_.expect_word("program", "'program'");
    c_.expect(K::kLParen, "'(' after 'program'");
    const Token& v = c_.expect(K::kNumber, "a program version such as 1.3");
    if (v.text.find_first_not_of("0123456789.") != std::string_view::npos) c_.fail(v, "invalid program version " + describe(v));
    p.version = std::string(v.text);
    c_.expect(K::kRParen, "')' after the program version");
  }

  void parse_program_attributes(Program& p) {
    c_.expect(K::kLBracket, "'['");
    bool seen_build_info = false;
    do {
      const Token& key = c_.expect_ident("a program attribute name");
      if (key.text != "buildInfo") c_.fail(key, "unknown program attribute " + describe(key) + " (only 'buildInfo' is supported)");
      if (seen_build_info) c_.fail(key, "duplicate program attribute 'buildInfo'");
      seen_build_info = true;
      c_.expect(K::kEquals, "'=' after 'buildInfo'");
      parse_build_info(p);
    } while (c_.accept(K::kComma));
    c_.expect(K::kRBracket, "',' or ']' after the program attributes");
  }

  // `dict<string, string>({{"k", "v"}, ...})`; older files spell the key and value types
  // `tensor<string, []>`.
  void parse_build_info(Program& p) {
    const Token& dict = c_.peek();
    c_.expect_word("dict", "a dict<string, string> for buildInfo");
    c_.expect(K::kLAngle, "'<' after 'dict'");
    const TensorType key_type = text::parse_type(c_);
    c_.expect(K::kComma, "',' between the dict's key and value types");
    const TensorType value_type = text::parse_type(c_);
    c_.expect(K::kRAngle, "'>' to close the dict type");
    const TensorType string_type{DType::kString, {}};
    if (key_type != string_type || value_type != string_type) c_.fail(dict, "buildInfo must be a dict<string, string>");
    c_.expect(K::kLParen, "'(' after the dict type");
    c_.expect(K::kLBrace, "'{' to start the dict entries");
    if (!c_.accept(K::kRBrace)) {
      do {
        parse_build_info_entry(p);
      } while (c_.accept(K::kComma));
      c_.expect(K::kRBrace, "',' or '}' in the dict entries");
    }
    c_.expect(K::kRParen, "')' to close the dict");
  }

  void parse_build_info_entry(Program& p) {
    c_.expect(K::kLBrace, "'{' to start a dict entry");
    const Token& key_at = c_.peek();
    std::string key = text::parse_string_token(c_, "a string key");
    c_.expect(K::kComma, "',' between a dict entry's key and value");
    std::string value = text::parse_string_token(c_, "a string value");
    c_.expect(K::kRBrace, "'}' to close the dict entry");
    if (!build_info_keys_.insert(key).second) c_.fail(key_at, "duplicate buildInfo key " + describe(key_at));
    p.build_info.emplace_back(std::move(key), std::move(value));
  }

  // ---- functions ----

  void parse_function(Program& p) {
    c_.expect_word("func", "'func'");
    const Token& name = c_.expect_ident("a function name");
    if (auto it = functions_.find(name.text); it != functions_.end()) {
      c_.fail(name, "duplicate function " + describe(name) + " (first defined at " + where(it->second->loc) + ")");
    }
    c_.expect(K::kLAngle, "'<' and an opset after the function name");
    const Token& opset = c_.expect_ident("an opset name such as ios18");
    c_.expect(K::kRAngle, "'>' after the opset");
    Scope scope;
    scope.fn = p.add_function(std::string(name.text), std::string(opset.text));
    scope.fn->loc = c_.location(name);
    functions_.emplace(name.text, scope.fn);
    parse_params(scope);
    c_.expect(K::kLBrace, "'{' to start the function body");
    while (!c_.accept(K::kRBrace)) {
      if (c_.at(K::kEnd)) c_.fail_expected("'}' to close function " + describe(name));
      parse_statement(scope);
    }
    parse_function_outputs(scope);
  }

  void parse_params(Scope& s) {
    c_.expect(K::kLParen, "'(' to start the function's inputs");
    if (c_.accept(K::kRParen)) return;
    do {
      TensorType type = text::parse_type(c_);
      const Token& name = c_.expect_ident("an input name");
      for (int64_t d : type.shape) {
        if (d == 0) c_.fail(name, "function input " + describe(name) + " has a zero dimension");
      }
      s.fn->inputs.push_back(define(s, name, std::move(type), ValueKind::kParam));
    } while (c_.accept(K::kComma));
    c_.expect(K::kRParen, "',' or ')' after a function input");
  }

  void parse_function_outputs(Scope& s) {
    c_.expect(K::kArrow, "'->' and the function's outputs");
    c_.expect(K::kLParen, "'(' to start the function's outputs");
    if (!c_.accept(K::kRParen)) {
      do {
        const Token& name = c_.expect_ident("an output name");
        auto it = s.names.find(name.text);
        if (it == s.names.end()) c_.fail(name, "function output " + describe(name) + " is not defined in function '" + s.fn->name + "'");
        s.fn->outputs.push_back(it->second);
      } while (c_.accept(K::kComma));
      c_.expect(K::kRParen, "',' or ')' after a function output");
    }
    c_.expect(K::kSemicolon, "';' after the function's outputs");
  }

  Value* define(Scope& s, const Token& name, TensorType type, ValueKind kind) {
    if (auto it = s.names.find(name.text); it != s.names.end()) {
      c_.fail(name, "redefinition of " + describe(name) + " (first defined at " + where(it->second->loc) + ")");
    }
    Value* v = s.fn->add_value(std::string(name.text), std::move(type), kind, c_.location(name));
    s.names.emplace(name.text, v);
    return v;
  }

  // ---- statements ----

  struct Result {
    TensorType type;
    const Token* name;
  };

  // `TYPE a, TYPE b = op(key = value, ...)[attr = literal, ...];`
  void parse_statement(Scope& s) {
    const Token& start = c_.peek();
    std::vector<Result> results;
    do {
      TensorType type = text::parse_type(c_);
      results.push_back({std::move(type), &c_.expect_ident("a result name")});
    } while (c_.accept(K::kComma));
    c_.expect(K::kEquals, "'=' after the op's results");
    const Token& op_name = c_.expect_ident("an op name");
    Op* op = s.fn->add_op(std::string(op_name.text), c_.location(start));
    c_.expect(K::kLParen, "'(' after the op name");
    parse_arguments(s, *op);
    std::vector<const Token*> attribute_starts;
    if (c_.at(K::kLBracket)) parse_attributes(*op, attribute_starts);
    c_.expect(K::kSemicolon, "';' after the statement");
    for (Result& r : results) {
      Value* v = define(s, *r.name, std::move(r.type), ValueKind::kOpResult);
      v->producer = op;
      op->outputs.push_back(v);
    }
    if (op->type == "const") finish_const(*op, start, attribute_starts);
  }

  // Moves a const op's `val` attribute into its result's constant.
  void finish_const(Op& op, const Token& start, const std::vector<const Token*>& attribute_starts) {
    if (op.outputs.size() != 1) c_.fail(start, "const must have exactly one result");
    size_t i = 0;
    while (i < op.attributes.size() && op.attributes[i].first != "val") ++i;
    if (i == op.attributes.size()) c_.fail(start, "const " + quoted(op.outputs[0]->name) + " has no 'val' attribute");
    Value* out = op.outputs[0];
    const Constant& val = op.attributes[i].second;
    if (val.type != out->type) {
      c_.fail(*attribute_starts[i], "const " + quoted(out->name) + ": value of type " + val.type.to_string() +
                                        " does not match the declared type " + out->type.to_string());
    }
    out->constant = std::move(op.attributes[i].second);
    op.attributes.erase(op.attributes.begin() + static_cast<std::ptrdiff_t>(i));
  }

  void parse_arguments(Scope& s, Op& op) {
    if (c_.accept(K::kRParen)) return;
    KeySet keys;
    do {
      const Token& key = c_.expect_ident("an argument name");
      if (!keys.insert(key.text)) c_.fail(key, "duplicate argument " + describe(key) + " to op '" + op.type + "'");
      if (!c_.accept(K::kEquals)) c_.fail_expected("'=' after argument " + describe(key));
      op.args.emplace_back(std::string(key.text), parse_argument(s));
    } while (c_.accept(K::kComma));
    c_.expect(K::kRParen, "')' after the argument list");
  }

  Argument parse_argument(Scope& s) {
    Argument a;
    if (!c_.accept(K::kLParen)) {
      a.values.push_back(parse_value(s));
      return a;
    }
    a.is_tuple = true;
    if (c_.accept(K::kRParen)) return a;
    do {
      if (c_.at(K::kLParen)) c_.fail(c_.peek(), "nested tuples are not supported");
      a.values.push_back(parse_value(s));
    } while (c_.accept(K::kComma));
    c_.expect(K::kRParen, "',' or ')' in the tuple");
    return a;
  }

  // A name defined earlier in the function, or an inline literal.
  Value* parse_value(Scope& s) {
    const Token& t = c_.peek();
    if (text::at_literal(c_)) {
      Constant k = text::parse_literal(c_);
      std::string name = "literal_" + std::to_string(t.line) + "_" + std::to_string(t.col);
      Value* v = s.fn->add_value(std::move(name), k.type, ValueKind::kLiteral, c_.location(t));
      v->constant = std::move(k);
      return v;
    }
    if (t.kind != K::kIdent) c_.fail_expected("a value name, literal or tuple");
    auto it = s.names.find(t.text);
    if (it == s.names.end()) c_.fail(t, "undefined value " + describe(t));
    c_.next();
    return it->second;
  }

  void parse_attributes(Op& op, std::vector<const Token*>& starts) {
    c_.expect(K::kLBracket, "'['");
    if (c_.accept(K::kRBracket)) return;
    KeySet keys;
    do {
      const Token& key = c_.expect_ident("an attribute name");
      if (!keys.insert(key.text)) c_.fail(key, "duplicate attribute " + describe(key));
      if (!c_.accept(K::kEquals)) c_.fail_expected("'=' after attribute " + describe(key));
      if (!text::at_literal(c_)) c_.fail_expected("a literal value for attribute " + describe(key));
      starts.push_back(&c_.peek());
      op.attributes.emplace_back(std::string(key.text), text::parse_literal(c_));
    } while (c_.accept(K::kComma));
    c_.expect(K::kRBracket, "',' or ']' after the attributes");
  }

  Cursor c_;
  std::unordered_map<std::string_view, Function*> functions_;
  std::unordered_set<std::string> build_info_keys_;
};

}  // namespace

Expected<std::unique_ptr<Program>> parse_program(std::string_view text, std::string source_name) {
  std::string lex_error;
  const std::vector<Token> tokens = text::tokenize(text, lex_error);
  try {
    return ProgramParser(tokens, std::move(source_name)).run();
  } catch (const text::ParseFailure& f) {
    return f.error;
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::kInternal, "out of memory while parsing MIL text");
  }
}

}  // namespace ane::mil
