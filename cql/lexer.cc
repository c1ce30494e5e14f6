#include "cql/lexer.h"

#include <cctype>

namespace ringkv::cql {
namespace {

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}
std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

void Lexer::CountLinesTo(size_t offset) {
  for (; counted_to_ < offset; ++counted_to_) {
    if (text_[counted_to_] == '\n') {
      ++line_;
      line_start_ = counted_to_ + 1;
    }
  }
}

SourcePos Lexer::PosAt(size_t offset) const {
  int line = 1;
  size_t start = 0;
  for (size_t i = 0; i < offset && i < text_.size(); ++i) {
    if (text_[i] == '\n') {
      ++line;
      start = i + 1;
    }
  }
  return SourcePos{line, static_cast<int>(offset - start) + 1};
}

Token Lexer::Make(TokenKind kind, size_t start, std::string text) {
  CountLinesTo(start);
  Token t;
  t.kind = kind;
  t.text = std::move(text);
  t.raw = text_.substr(start, at_ - start);
  t.offset = start;
  t.pos = SourcePos{line_, static_cast<int>(start - line_start_) + 1};
  return t;
}

void Lexer::SkipSpaceAndComments(Token* unterminated_comment) {
  while (at_ < text_.size()) {
    char c = text_[at_];
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++at_;
    } else if ((c == '-' || c == '/') && at_ + 1 < text_.size() && text_[at_ + 1] == c) {
      while (at_ < text_.size() && text_[at_] != '\n') ++at_;
    } else if (c == '/' && at_ + 1 < text_.size() && text_[at_ + 1] == '*') {
      size_t start = at_;
      size_t end = text_.find("*/", at_ + 2);
      if (end == std::string_view::npos) {
        at_ = text_.size();
        *unterminated_comment = Make(TokenKind::kError, start, "unterminated /* comment");
        unterminated_comment->unterminated = true;
        return;
      }
      at_ = end + 2;
    } else {
      return;
    }
  }
}

bool Lexer::LooksLikeUuid(size_t at) const {
  static constexpr int kGroups[] = {8, 4, 4, 4, 12};
  size_t i = at;
  for (int g = 0; g < 5; ++g) {
    if (g > 0) {
      if (i >= text_.size() || text_[i] != '-') return false;
      ++i;
    }
    for (int k = 0; k < kGroups[g]; ++k, ++i) {
      if (i >= text_.size() || !IsHex(text_[i])) return false;
    }
  }
  return i >= text_.size() || !IsIdentChar(text_[i]);
}

Token Lexer::Next() {
  Token comment_error;
  SkipSpaceAndComments(&comment_error);
  if (comment_error.kind == TokenKind::kError) return comment_error;
  if (at_ >= text_.size()) return Make(TokenKind::kEnd, text_.size(), "");

  const size_t start = at_;
  const char c = text_[at_];

  // A uuid may begin with a digit or a letter, so it is tried before numbers and identifiers.
  if (IsHex(c) && LooksLikeUuid(at_)) {
    at_ += 36;
    return Make(TokenKind::kUuid, start, std::string(text_.substr(start, 36)));
  }

  if (c == '0' && at_ + 1 < text_.size() && (text_[at_ + 1] == 'x' || text_[at_ + 1] == 'X')) {
    at_ += 2;
    size_t digits = at_;
    while (at_ < text_.size() && IsHex(text_[at_])) ++at_;
    size_t n = at_ - digits;
    if (at_ < text_.size() && IsIdentChar(text_[at_])) {
      while (at_ < text_.size() && IsIdentChar(text_[at_])) ++at_;
      return Make(TokenKind::kError, start, "invalid blob literal");
    }
    if (n % 2 != 0)
      return Make(TokenKind::kError, start, "blob literal has an odd number of hex digits");
    std::string bytes;
    bytes.reserve(n / 2);
    for (size_t i = digits; i < at_; i += 2) {
      bytes.push_back(static_cast<char>(HexValue(text_[i]) * 16 + HexValue(text_[i + 1])));
    }
    return Make(TokenKind::kBlob, start, std::move(bytes));
  }

  if (IsDigit(c) || (c == '.' && at_ + 1 < text_.size() && IsDigit(text_[at_ + 1]))) {
    bool is_float = false;
    while (at_ < text_.size() && IsDigit(text_[at_])) ++at_;
    if (at_ < text_.size() && text_[at_] == '.' &&
        !(at_ + 1 < text_.size() && text_[at_ + 1] == '.')) {
      is_float = true;
      ++at_;
      while (at_ < text_.size() && IsDigit(text_[at_])) ++at_;
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      size_t e = at_ + 1;
      if (e < text_.size() && (text_[e] == '+' || text_[e] == '-')) ++e;
      if (e < text_.size() && IsDigit(text_[e])) {
        is_float = true;
        at_ = e;
        while (at_ < text_.size() && IsDigit(text_[at_])) ++at_;
      }
    }
    if (at_ < text_.size() && IsIdentChar(text_[at_])) {
      while (at_ < text_.size() && IsIdentChar(text_[at_])) ++at_;
      return Make(TokenKind::kError, start, "invalid number");
    }
    return Make(is_float ? TokenKind::kFloat : TokenKind::kInteger, start,
                std::string(text_.substr(start, at_ - start)));
  }

  if (IsIdentStart(c)) {
    while (at_ < text_.size() && IsIdentChar(text_[at_])) ++at_;
    return Make(TokenKind::kIdent, start, Lower(text_.substr(start, at_ - start)));
  }

  if (c == '\'' || c == '"') {
    // 'string' / "identifier", the quote doubled inside to escape it.
    std::string out;
    ++at_;
    while (at_ < text_.size()) {
      if (text_[at_] == c) {
        if (at_ + 1 < text_.size() && text_[at_ + 1] == c) {
          out.push_back(c);
          at_ += 2;
          continue;
        }
        ++at_;
        if (c == '"' && out.empty())
          return Make(TokenKind::kError, start, "empty quoted identifier");
        return Make(c == '\'' ? TokenKind::kString : TokenKind::kQuotedIdent, start,
                    std::move(out));
      }
      out.push_back(text_[at_++]);
    }
    Token t = Make(TokenKind::kError, start,
                   c == '\'' ? "unterminated string" : "unterminated quoted identifier");
    t.unterminated = true;
    return t;
  }

  if (c == '$' && at_ + 1 < text_.size() && text_[at_ + 1] == '$') {
    size_t end = text_.find("$$", at_ + 2);
    if (end == std::string_view::npos) {
      at_ = text_.size();
      Token t = Make(TokenKind::kError, start, "unterminated $$ string");
      t.unterminated = true;
      return t;
    }
    at_ = end + 2;
    return Make(TokenKind::kString, start, std::string(text_.substr(start + 2, end - start - 2)));
  }

  // Symbols, two-character ones first.
  if (at_ + 1 < text_.size()) {
    std::string_view two = text_.substr(at_, 2);
    if (two == "<=" || two == ">=" || two == "!=") {
      at_ += 2;
      return Make(TokenKind::kSymbol, start, std::string(two));
    }
  }
  static constexpr std::string_view kSingles = "()[]{},;.:=<>+-*?";
  if (kSingles.find(c) != std::string_view::npos) {
    ++at_;
    return Make(TokenKind::kSymbol, start, std::string(1, c));
  }

  // A stray byte. A UTF-8 sequence is consumed whole so `near` shows a whole character.
  ++at_;
  while (at_ < text_.size() && (static_cast<unsigned char>(text_[at_]) & 0xC0) == 0x80) ++at_;
  return Make(TokenKind::kError, start, "unexpected character");
}

}  // namespace ringkv::cql
