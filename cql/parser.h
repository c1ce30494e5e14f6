// CQL-lite parser: one statement's text -> a Statement (cql/ast.h), and the typing of its literals.
//
//   auto parsed = ParseStatement("SELECT * FROM docs WHERE doc_id = ?");
//   if (!parsed.ok()) { parsed.error().line / column / near point at the offending token }
//   auto& select = std::get<SelectStmt>(parsed->statement);
//   auto v = ConvertTerm(select.where[0].terms[0], Type::Scalar(Kind::kText), binds);
//
// Errors are CqlError{kSyntax} pointing at the offending token, with a message such as
// "expecting FROM" (no viable alternative). Constructs that parse but are not supported here
// (lightweight transactions: IF EXISTS / IF conditions on writes; counters; nested collections)
// are CqlError{kInvalid} at their first token.
//
// Limits: statement text up to kStatementBytesMax, nesting (function calls) up to kNestingMax,
// at most kTermsMax terms in a statement; past them the parser returns an error, never recurses
// or allocates without bound.
//
// Thread safety: the functions are pure (ConvertTerm reads the clock and a random source for
// now() / uuid() unless a ConvertContext supplies them) and safe to call concurrently.
#ifndef RINGKV_CQL_PARSER_H_
#define RINGKV_CQL_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cql/ast.h"
#include "cql/session.h"
#include "cql/value.h"

namespace ringkv::cql {

inline constexpr size_t kStatementBytesMax = 16 << 20;
inline constexpr int kNestingMax = 16;
inline constexpr size_t kTermsMax = 1 << 20;

struct ParsedStatement {
  Statement statement;
  int bind_count = 0;  // number of '?' markers; Term::bind_index runs 0 .. bind_count-1
};

// Parses exactly one statement; a trailing ';' and surrounding comments/whitespace are allowed.
CqlResult<ParsedStatement> ParseStatement(std::string_view text);

// Where now() and uuid() get their values. Null members: the system clock / a random device.
struct ConvertContext {
  std::function<int64_t()> now_ms;
  std::function<Uuid()> random_uuid;
};

// The Value a Term denotes for a column of `type`; std::nullopt for the null literal. Errors are
// CqlError{kInvalid} at the term's position, worded as Cassandra's, e.g.
// "Invalid INTEGER constant (3000000000) for \"score\" of type int"; `column` names the column in
// them (may be empty).
//
// Accepted per type: text/varchar: strings. blob: 0x literals. int/bigint: integers (range
// checked). float/double: integers, floats, NaN, Infinity. boolean: true/false. timestamp: integer
// milliseconds or a date string ('2026-11-24', '2026-11-24 10:00', '2026-11-24 10:00:00.123',
// with 'T' or ' ', optional 'Z' or +hhmm / +hh:mm zone; no zone means UTC), now(),
// totimestamp(now()). uuid: unquoted uuids or uuid strings, uuid(). list<T>: [..]; set<T>: {..}
// (sorted, duplicates dropped); map<K, V>: {k: v} (sorted, a repeated key keeps the last value).
// A bind marker takes binds[bind_index], which must have `type` (int and bigint, text and
// varchar, float and double are interchangeable: the value is checked and converted).
CqlResult<std::optional<Value>> ConvertTerm(const Term& term, const Type& type,
                                            const std::vector<Value>& binds,
                                            std::string_view column = {},
                                            const ConvertContext* context = nullptr);

// A type name as written in CREATE TABLE ("text", "varchar", "map<text, int>") -> Type.
// Exposed for the shell's tab completion and tests.
std::optional<Type> ParseTypeName(std::string_view text);

// A name as CQL text: as is when it reads back the same unquoted (lower case, [a-z][a-z0-9_]*,
// not a reserved keyword), "double quoted" otherwise. For DESCRIBE output and shell completion.
std::string CqlIdent(std::string_view name);

}  // namespace ringkv::cql

#endif  // RINGKV_CQL_PARSER_H_
