// CQL-lite lexer: statement text -> tokens, skipping whitespace and comments (-- and // to the end
// of the line, /* ... */). Used by the parser and by statement splitting (cql/split.cc).
//
// Every call to Next() consumes at least one byte until kEnd, so a loop over tokens always ends.
// Malformed input (an unterminated string, a stray character) comes back as a kError token that
// covers the bad bytes, with `text` saying what is wrong; lexing may continue after it.
//
// Thread safety: a Lexer is used by one thread. Lifetime: the text must outlive the Lexer and the
// `raw` views of its tokens.
#ifndef RINGKV_CQL_LEXER_H_
#define RINGKV_CQL_LEXER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "cql/ast.h"

namespace ringkv::cql {

enum class TokenKind : unsigned char {
  kEnd,          // end of input; raw is empty
  kIdent,        // unquoted identifier or keyword: text is lower-cased
  kQuotedIdent,  // "Name": text is the name with "" unescaped
  kString,       // 'it''s' or $$it's$$: text is the contents
  kInteger,      // 42 (no sign: '-' is a symbol): text as written
  kFloat,        // 1.5, 1e3, .5: text as written
  kBlob,         // 0xCAFE: text is the decoded bytes
  kUuid,         // 8-4-4-4-12 hex digits: text as written
  kSymbol,       // ( ) [ ] { } , ; . : = < <= > >= != + - * ? : text is the symbol
  kError,        // text is the problem, e.g. "unterminated string"
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  std::string_view raw;  // the token's bytes in the input
  size_t offset = 0;     // of raw in the input
  SourcePos pos;
  // For kString: true when the string was never closed. For kError from an unterminated
  // /* comment: also true. Lets IsComplete tell "needs more input" from "wrong".
  bool unterminated = false;

  bool Is(TokenKind k, std::string_view t) const { return kind == k && text == t; }
  bool IsSymbol(std::string_view s) const { return Is(TokenKind::kSymbol, s); }
  // An unquoted identifier equal to the lower-case keyword `kw`.
  bool IsKeyword(std::string_view kw) const { return Is(TokenKind::kIdent, kw); }
};

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token Next();

  // Line and column of a byte offset (1-based).
  SourcePos PosAt(size_t offset) const;

 private:
  void SkipSpaceAndComments(Token* unterminated_comment);
  Token Make(TokenKind kind, size_t start, std::string text);
  bool LooksLikeUuid(size_t at) const;

  std::string_view text_;
  size_t at_ = 0;
  // Line bookkeeping: the line number and start offset of the line containing at_.
  int line_ = 1;
  size_t line_start_ = 0;
  size_t counted_to_ = 0;
  void CountLinesTo(size_t offset);
};

}  // namespace ringkv::cql

#endif  // RINGKV_CQL_LEXER_H_
