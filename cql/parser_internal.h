// Internal to the parser: the recursive-descent Parser class shared by parser.cc (tokens, names,
// terms, entry points), parser_dml.cc (SELECT, INSERT, UPDATE, DELETE, BATCH, USE, TRUNCATE) and
// parser_ddl.cc (CREATE / DROP, types, table checks). Not for use outside those files.
//
// Errors are values: each rule returns false after recording the first error in `error_`, and
// callers unwind. Thread safety: a Parser is used by one thread for one statement. Lifetime: the
// text passed to the constructor must outlive the Parser.
#ifndef RINGKV_CQL_PARSER_INTERNAL_H_
#define RINGKV_CQL_PARSER_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cql/ast.h"
#include "cql/lexer.h"
#include "cql/parser.h"
#include "cql/session.h"

namespace ringkv::cql::parser_internal {

// Cassandra's reserved keywords (select, from, token, ...): names only when double quoted.
bool IsReserved(std::string_view word);

inline constexpr size_t kNearBytesMax = 40;
inline constexpr int kReplicationFactorMax = 1000;
inline constexpr int64_t kTtlMax_s = 630720000;  // 20 years, Cassandra's limit

class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) {}

  CqlResult<ParsedStatement> Run();
  // For the error at extra input after a statement: what could have continued it.
  static std::string WhatMayFollow(const Statement& statement);

  std::optional<Type> RunType();

 private:
  // ---- tokens ----
  const Token& Peek(size_t k = 0) {
    while (ahead_.size() <= k) ahead_.push_back(lexer_.Next());
    return ahead_[k];
  }
  Token Take() {
    Peek();
    Token t = std::move(ahead_.front());
    ahead_.pop_front();
    return t;
  }

  bool Fail(const Token& t, std::string message, ErrorKind kind = ErrorKind::kSyntax);
  bool FailAt(SourcePos pos, std::string near, std::string message,
              ErrorKind kind = ErrorKind::kInvalid) {
    if (failed_) return false;
    failed_ = true;
    error_ = CqlError{kind, std::move(message), pos.line, pos.column, std::move(near)};
    return false;
  }

  bool AcceptKeyword(std::string_view kw) {
    if (!Peek().IsKeyword(kw)) return false;
    Take();
    return true;
  }
  bool AcceptSymbol(std::string_view s) {
    if (!Peek().IsSymbol(s)) return false;
    Take();
    return true;
  }
  bool ExpectKeyword(std::string_view kw, std::string_view shown) {
    if (AcceptKeyword(kw)) return true;
    return Fail(Peek(), "expecting " + std::string(shown));
  }
  bool ExpectSymbol(std::string_view s) {
    if (AcceptSymbol(s)) return true;
    return Fail(Peek(), "expecting '" + std::string(s) + "'");
  }

  // An identifier: unquoted (not reserved) or "quoted".
  bool ParseIdent(Ident* out, std::string_view what);
  bool ParseTableName(TableName* out);
  // IF NOT EXISTS / IF EXISTS, when the next token is IF.
  bool ParseIfExists(bool want_not, bool* flag);

  // ---- terms ----
  bool NewTerm(const Token& at);
  bool ParseTerm(Term* out, int depth = 0);
  bool ParseWordTerm(Term* out, int depth);
  bool ParseSymbolTerm(Term* out, int depth);

  // ---- shared clauses ----
  bool ParseUsing(UsingClause* out, bool allow_ttl);
  bool ParseRelationOp(Relation* r);
  bool ParseRelation(Relation* r);
  bool ParseWhere(std::vector<Relation>* out, bool required);
  // Lightweight transactions need a consensus round per partition: a leaderless store has none.
  bool RejectConditions();

  // ---- statements ----
  bool ParseAny(Statement* out);

  template <typename S>
  bool ParseInto(Statement* out, bool (Parser::*rule)(S*)) {
    S s;
    s.pos = Peek().pos;
    if (!(this->*rule)(&s)) return false;
    *out = std::move(s);
    return true;
  }

  bool ParseSelector(Selector* s);
  bool ParseSelect(SelectStmt* s);
  bool ParseInsert(InsertStmt* s);
  bool ParseAssignment(Assignment* a);
  bool ParseUpdate(UpdateStmt* s);
  bool ParseDelete(DeleteStmt* s);
  bool ParseBatch(BatchStmt* s);
  bool ParseUse(UseStmt* s);
  bool ParseTruncate(TruncateStmt* s);
  bool ParseDrop(Statement* out);
  bool ParseCreate(Statement* out);
  bool ParseProperty(Property* p);
  // A string or integer term as text (replication factors are written either way).
  static std::optional<std::string> ScalarText(const Term& t);
  bool ParsePositiveFactor(const Term& t, int* out);
  bool ParseCreateKeyspace(CreateKeyspaceStmt* s);
  bool ParseType(Type* out, bool inner);
  bool ParseCreateTable(CreateTableStmt* s);
  bool ParsePrimaryKey(CreateTableStmt* s);
  // Checks that need the whole definition; errors point at the offending name.
  bool CheckTable(CreateTableStmt* s);

  Lexer lexer_;
  std::deque<Token> ahead_;
  int bind_count_ = 0;
  size_t term_count_ = 0;
  bool failed_ = false;
  CqlError error_;
};

}  // namespace ringkv::cql::parser_internal

#endif  // RINGKV_CQL_PARSER_INTERNAL_H_
