// Internal to the MIL text parser: tokens, the tokenizer and a cursor over the tokens.
// Not part of the public API (see parser.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ane::mil::text {

enum class TokenKind : uint8_t {
  kIdent,      // [A-Za-z_][A-Za-z0-9_]*
  kNumber,     // unsigned decimal or hex number, validated where it is used
  kString,     // "..." with escapes; `text` includes the quotes
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kLAngle,
  kRAngle,
  kComma,
  kEquals,
  kSemicolon,
  kArrow,      // ->
  kMinus,
  kEnd,        // end of input
  kError,      // a lexical error; `text` is the message
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;  // a view into the source (or the lexer's error message)
  int line = 1;           // 1-based
  int col = 1;            // 1-based, in bytes
};

// The tokens of `source`, ending with one kEnd token, or with one kError token at the first
// lexical error (the tokens before it are still returned so that earlier syntax errors win).
// Views in the result point into `source` and into `error_storage`, which must outlive them.
std::vector<Token> tokenize(std::string_view source, std::string& error_storage);

// "'foo'" or "end of input": how error messages name a token.
std::string describe(const Token& t);

// Decodes a kString token's escapes; false (with the offending column offset) on a bad escape.
bool decode_string(std::string_view quoted, std::string& out, int& bad_offset);

// Thrown inside the parser for a syntax or semantic error; caught at the parse_program boundary.
struct ParseFailure {
  Error error;
};

// A position in the token list with one-token-at-a-time helpers that throw ParseFailure.
class Cursor {
 public:
  Cursor(const std::vector<Token>& tokens, std::string source_name)
      : tokens_(tokens), source_name_(std::move(source_name)) {}

  // The token `ahead` positions on (the last token past the end). Reaching a kError token
  // at the current position fails with the lexer's message.
  const Token& peek(size_t ahead = 0) const {
    const size_t i = pos_ + ahead < tokens_.size() ? pos_ + ahead : tokens_.size() - 1;
    const Token& t = tokens_[i];
    if (t.kind == TokenKind::kError && ahead == 0) fail_lexical(t);
    return t;
  }
  const Token& next();
  bool at(TokenKind kind, size_t ahead = 0) const { return peek(ahead).kind == kind; }
  bool at_ident(std::string_view word, size_t ahead = 0) const;
  // Consumes the next token when it has `kind`.
  bool accept(TokenKind kind);
  // Consumes a token of `kind` or fails with "expected <what>, found <token>".
  const Token& expect(TokenKind kind, std::string_view what);
  const Token& expect_ident(std::string_view what);
  void expect_word(std::string_view word, std::string_view what);

  Location location(const Token& t) const { return Location::text(source_name_, t.line, t.col); }
  [[noreturn]] void fail(const Token& at, const std::string& message) const;
  // "expected <what>, found <next token>" at the next token.
  [[noreturn]] void fail_expected(std::string_view what) const;
  const std::string& source_name() const { return source_name_; }

 private:
  [[noreturn]] void fail_lexical(const Token& t) const;

  const std::vector<Token>& tokens_;
  std::string source_name_;
  size_t pos_ = 0;
};

}  // namespace ane::mil::text
