#include "mil/lexer.h"


namespace ane::mil::text {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }

class Lexer {
 public:
  Lexer(std::string_view src, std::string& error_storage) : src_(src), error_(error_storage) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    out.reserve(src_.size() / 2 + 16);  // MIL text averages about 3 bytes per token
    for (;;) {
      skip_space_and_comments();
      Token t = lex_one();
      out.push_back(t);
      if (t.kind == TokenKind::kEnd || t.kind == TokenKind::kError) return out;
    }
  }

 private:
  char at(size_t i) const { return i < src_.size() ? src_[i] : '\0'; }

  void advance(size_t n) {
    for (size_t k = 0; k < n && pos_ < src_.size(); ++k, ++pos_) {
      if (src_[pos_] == '\n') {
        ++line_;
        col_ = 1;
      } else {
        ++col_;
      }
    }
  }

  void skip_space_and_comments() {
    while (pos_ < src_.size()) {
      const char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        advance(1);
      } else if (c == '/' && at(pos_ + 1) == '/') {
        while (pos_ < src_.size() && src_[pos_] != '\n') advance(1);
      } else {
        return;
      }
    }
  }

  Token make(TokenKind kind, size_t len) {
    Token t{kind, src_.substr(pos_, len), line_, col_};
    advance(len);
    return t;
  }

  Token error(const std::string& message) {
    error_ = message;
    return Token{TokenKind::kError, error_, line_, col_};
  }

  Token lex_one() {
    if (pos_ >= src_.size()) return Token{TokenKind::kEnd, {}, line_, col_};
    const char c = src_[pos_];
    if (is_ident_start(c)) return lex_while(TokenKind::kIdent, is_ident_char);
    if (is_digit(c) || (c == '.' && is_digit(at(pos_ + 1)))) return lex_number();
    if (c == '"') return lex_string();
    if (c == '-') return make(at(pos_ + 1) == '>' ? TokenKind::kArrow : TokenKind::kMinus, at(pos_ + 1) == '>' ? 2 : 1);
    return lex_punct(c);
  }

  Token lex_while(TokenKind kind, bool (*pred)(char)) {
    size_t end = pos_;
    while (end < src_.size() && pred(src_[end])) ++end;
    return make(kind, end - pos_);
  }

  // Digits, letters, '.' and '_', plus a sign right after an exponent marker (e/E in decimal,
  // p/P in hex). Whether the text is a valid number is decided where the number is used.
  Token lex_number() {
    const bool hex = src_[pos_] == '0' && (at(pos_ + 1) == 'x' || at(pos_ + 1) == 'X');
    size_t end = pos_;
    while (end < src_.size()) {
      const char c = src_[end];
      if (is_ident_char(c) || c == '.') {
        ++end;
      } else if ((c == '+' || c == '-') && end > pos_ && is_exponent_marker(src_[end - 1], hex)) {
        ++end;
      } else {
        break;
      }
    }
    return make(TokenKind::kNumber, end - pos_);
  }

  static bool is_exponent_marker(char c, bool hex) {
    return hex ? (c == 'p' || c == 'P') : (c == 'e' || c == 'E');
  }

  Token lex_string() {
    size_t end = pos_ + 1;
    while (end < src_.size() && src_[end] != '"' && src_[end] != '\n') {
      end += (src_[end] == '\\' && end + 1 < src_.size() && src_[end + 1] != '\n') ? 2 : 1;
    }
    if (end >= src_.size() || src_[end] != '"') return error("unterminated string literal");
    return make(TokenKind::kString, end + 1 - pos_);
  }

  Token lex_punct(char c) {
    switch (c) {
      case '(': return make(TokenKind::kLParen, 1);
      case ')': return make(TokenKind::kRParen, 1);
      case '[': return make(TokenKind::kLBracket, 1);
      case ']': return make(TokenKind::kRBracket, 1);
      case '{': return make(TokenKind::kLBrace, 1);
      case '}': return make(TokenKind::kRBrace, 1);
      case '<': return make(TokenKind::kLAngle, 1);
      case '>': return make(TokenKind::kRAngle, 1);
      case ',': return make(TokenKind::kComma, 1);
      case '=': return make(TokenKind::kEquals, 1);
      case ';': return make(TokenKind::kSemicolon, 1);
      default: break;
    }
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u < 0x7f) return error(std::string("unexpected character '") + c + "'");
    char hex[8];
    static constexpr char kDigits[] = "0123456789abcdef";
    hex[0] = kDigits[u >> 4];
    hex[1] = kDigits[u & 15];
    return error(std::string("unexpected byte 0x") + std::string(hex, 2));
  }

  std::string_view src_;
  std::string& error_;
  size_t pos_ = 0;
  int line_ = 1;
  int col_ = 1;
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends the escape starting at quoted[i] (the backslash) and returns its length, or 0.
size_t decode_escape(std::string_view quoted, size_t i, std::string& out) {
  const char e = i + 1 < quoted.size() ? quoted[i + 1] : '\0';
  switch (e) {
    case '"': out += '"'; return 2;
    case '\'': out += '\''; return 2;
    case '\\': out += '\\'; return 2;
    case 'n': out += '\n'; return 2;
    case 't': out += '\t'; return 2;
    case 'r': out += '\r'; return 2;
    case '0': out += '\0'; return 2;
    case 'x': {
      const int hi = i + 2 < quoted.size() ? hex_value(quoted[i + 2]) : -1;
      const int lo = i + 3 < quoted.size() ? hex_value(quoted[i + 3]) : -1;
      if (hi < 0 || lo < 0) return 0;
      out += static_cast<char>(hi * 16 + lo);
      return 4;
    }
    default: return 0;
  }
}

}  // namespace

std::vector<Token> tokenize(std::string_view source, std::string& error_storage) {
  return Lexer(source, error_storage).run();
}

std::string describe(const Token& t) {
  if (t.kind == TokenKind::kEnd) return "end of input";
  constexpr size_t kMax = 40;
  std::string s(1, '\'');
  s += t.text.substr(0, kMax);
  s += t.text.size() > kMax ? "...'" : "'";
  return s;
}

bool decode_string(std::string_view quoted, std::string& out, int& bad_offset) {
  out.clear();
  const size_t end = quoted.size() - 1;  // the closing quote
  for (size_t i = 1; i < end;) {
    if (quoted[i] != '\\') {
      out += quoted[i++];
      continue;
    }
    const size_t n = decode_escape(quoted.substr(0, end), i, out);
    if (n == 0) {
      bad_offset = static_cast<int>(i);
      return false;
    }
    i += n;
  }
  return true;
}

void Cursor::fail_lexical(const Token& t) const { fail(t, std::string(t.text)); }

const Token& Cursor::next() {
  const Token& t = peek();
  if (pos_ + 1 < tokens_.size()) ++pos_;
  return t;
}

bool Cursor::at_ident(std::string_view word, size_t ahead) const {
  const Token& t = peek(ahead);
  return t.kind == TokenKind::kIdent && t.text == word;
}

bool Cursor::accept(TokenKind kind) {
  if (!at(kind)) return false;
  next();
  return true;
}

const Token& Cursor::expect(TokenKind kind, std::string_view what) {
  if (!at(kind)) fail_expected(what);
  return next();
}

const Token& Cursor::expect_ident(std::string_view what) { return expect(TokenKind::kIdent, what); }

void Cursor::expect_word(std::string_view word, std::string_view what) {
  if (!at_ident(word)) fail_expected(what);
  next();
}

void Cursor::fail(const Token& at_token, const std::string& message) const {
  throw ParseFailure{parse_error(message, location(at_token))};
}

void Cursor::fail_expected(std::string_view what) const {
  const Token& t = peek();
  fail(t, "expected " + std::string(what) + ", found " + describe(t));
}

}  // namespace ane::mil::text
