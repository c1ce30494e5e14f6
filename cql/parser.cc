// The parser's core: tokens, names, terms, the statement dispatch and the public entry points.
// Statement rules are in parser_dml.cc and parser_ddl.cc; the class in parser_internal.h.
#include "cql/parser.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "cql/parser_internal.h"

namespace ringkv::cql {

const char* ConflictModeName(ConflictMode mode) {
  switch (mode) {
    case ConflictMode::kMerge:
      return "merge";
    case ConflictMode::kLww:
      return "lww";
    case ConflictMode::kSiblings:
      return "siblings";
  }
  return "merge";
}

namespace parser_internal {

// Cassandra's reserved keywords: never identifiers unless double quoted. Others (key, ttl, count,
// text, ...) are usable as names.
constexpr std::array<std::string_view, 60> kReserved = {
    "add",      "allow",    "alter",        "and",          "apply",  "asc",         "authorize",
    "batch",    "begin",    "by",           "columnfamily", "create", "delete",      "desc",
    "describe", "drop",     "entries",      "execute",      "from",   "full",        "grant",
    "if",       "in",       "index",        "infinity",     "insert", "into",        "is",
    "keyspace", "limit",    "materialized", "modify",       "nan",    "norecursive", "not",
    "null",     "of",       "on",           "or",           "order",  "primary",     "rename",
    "replace",  "revoke",   "schema",       "select",       "set",    "table",       "to",
    "token",    "truncate", "unlogged",     "unset",        "update", "use",         "using",
    "view",     "where",    "with",         "mbean"};

bool IsReserved(std::string_view word) {
  return std::find(kReserved.begin(), kReserved.end(), word) != kReserved.end();
}

CqlResult<ParsedStatement> Parser::Run() {
  ParsedStatement out;
  if (!ParseAny(&out.statement)) return error_;
  if (Peek().IsSymbol(";")) Take();
  if (Peek().kind != TokenKind::kEnd) {
    Fail(Peek(), "expecting " + WhatMayFollow(out.statement) + " (end of statement)");
    return error_;
  }
  out.bind_count = bind_count_;
  return out;
}

// For the error at extra input after a statement: what could have continued it.
std::string Parser::WhatMayFollow(const Statement& statement) {
  if (const auto* insert = std::get_if<InsertStmt>(&statement)) {
    return insert->using_clause.ttl || insert->using_clause.timestamp ? "AND or ';'"
                                                                      : "USING or ';'";
  }
  if (std::holds_alternative<UpdateStmt>(statement) ||
      std::holds_alternative<DeleteStmt>(statement)) {
    return "AND or ';'";
  }
  if (std::holds_alternative<CreateTableStmt>(statement)) return "WITH, AND or ';'";
  if (std::holds_alternative<CreateKeyspaceStmt>(statement)) return "AND or ';'";
  return "';'";
}

std::optional<Type> Parser::RunType() {
  Type type;
  if (!ParseType(&type, false) || Peek().kind != TokenKind::kEnd) return std::nullopt;
  return type;
}

bool Parser::Fail(const Token& t, std::string message, ErrorKind kind) {
  if (failed_) return false;
  failed_ = true;
  error_.kind = kind;
  error_.line = t.pos.line;
  error_.column = t.pos.column;
  if (t.kind == TokenKind::kEnd) {
    error_.near = "<EOF>";
  } else {
    error_.near = std::string(t.raw.substr(0, kNearBytesMax));
  }
  // A lexical error is reported as itself, whatever the rule expected. Syntax messages name the
  // token themselves, as cqlsh's do, so that they read whole wherever they are shown.
  if (t.kind == TokenKind::kError) message = t.text;
  if (kind == ErrorKind::kSyntax) {
    if (message.rfind("expecting ", 0) == 0) {
      message = "mismatched input '" + error_.near + "' " + message;
    } else {
      message += " at input '" + error_.near + "'";
    }
  }
  error_.message = std::move(message);
  return false;
}

// An identifier: unquoted (not reserved) or "quoted".
bool Parser::ParseIdent(Ident* out, std::string_view what) {
  const Token& t = Peek();
  if (t.kind == TokenKind::kQuotedIdent || (t.kind == TokenKind::kIdent && !IsReserved(t.text))) {
    out->name = t.text;
    out->pos = t.pos;
    Take();
    return true;
  }
  return Fail(t, "expecting " + std::string(what));
}

bool Parser::ParseTableName(TableName* out) {
  Ident first;
  if (!ParseIdent(&first, "a table name")) return false;
  out->pos = first.pos;
  if (AcceptSymbol(".")) {
    Ident second;
    if (!ParseIdent(&second, "a table name after '.'")) return false;
    out->keyspace = std::move(first.name);
    out->name = std::move(second.name);
  } else {
    out->name = std::move(first.name);
  }
  return true;
}

// IF NOT EXISTS / IF EXISTS, when the next token is IF.
bool Parser::ParseIfExists(bool want_not, bool* flag) {
  if (!AcceptKeyword("if")) return true;
  if (want_not && !ExpectKeyword("not", "NOT EXISTS after IF")) return false;
  if (!ExpectKeyword("exists", want_not ? "EXISTS after IF NOT" : "EXISTS after IF")) return false;
  *flag = true;
  return true;
}

// ---- terms ----
bool Parser::NewTerm(const Token& at) {
  if (++term_count_ > kTermsMax)
    return Fail(at, "too many terms in one statement", ErrorKind::kInvalid);
  return true;
}

bool Parser::ParseTerm(Term* out, int depth) {
  const Token& t = Peek();
  if (!NewTerm(t)) return false;
  if (depth >= kNestingMax) return Fail(t, "terms nested too deeply", ErrorKind::kInvalid);
  out->pos = t.pos;
  switch (t.kind) {
    case TokenKind::kString:
      out->kind = Term::Kind::kString;
      break;
    case TokenKind::kInteger:
      out->kind = Term::Kind::kInteger;
      break;
    case TokenKind::kFloat:
      out->kind = Term::Kind::kFloat;
      break;
    case TokenKind::kBlob:
      out->kind = Term::Kind::kBlob;
      break;
    case TokenKind::kUuid:
      out->kind = Term::Kind::kUuid;
      break;
    case TokenKind::kIdent:
      return ParseWordTerm(out, depth);
    case TokenKind::kSymbol:
      return ParseSymbolTerm(out, depth);
    default:
      return Fail(t, "expecting a value (literal, collection, function call or ?)");
  }
  out->text = Take().text;
  return true;
}

bool Parser::ParseWordTerm(Term* out, int depth) {
  const Token& t = Peek();
  if (t.text == "true" || t.text == "false") {
    out->kind = Term::Kind::kBoolean;
    out->boolean = t.text == "true";
  } else if (t.text == "null") {
    out->kind = Term::Kind::kNull;
  } else if (t.text == "nan" || t.text == "infinity") {
    out->kind = Term::Kind::kFloat;
    out->text = t.text;
  } else if (Peek(1).IsSymbol("(")) {
    out->kind = Term::Kind::kFunction;
    out->text = Take().text;
    Take();  // (
    if (!AcceptSymbol(")")) {
      do {
        Term arg;
        if (!ParseTerm(&arg, depth + 1)) return false;
        out->elements.push_back(std::move(arg));
      } while (AcceptSymbol(","));
      if (!ExpectSymbol(")")) return false;
    }
    return true;
  } else {
    return Fail(t, "expecting a value (literal, collection, function call or ?)");
  }
  Take();
  return true;
}

bool Parser::ParseSymbolTerm(Term* out, int depth) {
  const Token& t = Peek();
  if (t.IsSymbol("?")) {
    Take();
    out->kind = Term::Kind::kBind;
    out->bind_index = bind_count_++;
    return true;
  }
  if (t.IsSymbol("-")) {
    const Token& n = Peek(1);
    bool number = n.kind == TokenKind::kInteger || n.kind == TokenKind::kFloat;
    bool special = n.IsKeyword("nan") || n.IsKeyword("infinity");
    if (!number && !special) return Fail(n, "expecting a number after '-'");
    Take();
    out->kind = n.kind == TokenKind::kInteger ? Term::Kind::kInteger : Term::Kind::kFloat;
    out->text = "-" + Take().text;
    return true;
  }
  if (t.IsSymbol("[")) {
    Take();
    out->kind = Term::Kind::kList;
    if (AcceptSymbol("]")) return true;
    do {
      Term e;
      if (!ParseTerm(&e, depth + 1)) return false;
      out->elements.push_back(std::move(e));
    } while (AcceptSymbol(","));
    return ExpectSymbol("]");
  }
  if (t.IsSymbol("{")) {
    Take();
    out->kind = Term::Kind::kSet;
    if (AcceptSymbol("}")) return true;
    Term first;
    if (!ParseTerm(&first, depth + 1)) return false;
    if (AcceptSymbol(":")) {
      out->kind = Term::Kind::kMap;
      Term v;
      if (!ParseTerm(&v, depth + 1)) return false;
      out->elements.push_back(std::move(first));
      out->values.push_back(std::move(v));
      while (AcceptSymbol(",")) {
        Term k, val;
        if (!ParseTerm(&k, depth + 1) || !ExpectSymbol(":") || !ParseTerm(&val, depth + 1)) {
          return false;
        }
        out->elements.push_back(std::move(k));
        out->values.push_back(std::move(val));
      }
    } else {
      out->elements.push_back(std::move(first));
      while (AcceptSymbol(",")) {
        Term e;
        if (!ParseTerm(&e, depth + 1)) return false;
        out->elements.push_back(std::move(e));
      }
    }
    return ExpectSymbol("}");
  }
  return Fail(t, "expecting a value (literal, collection, function call or ?)");
}

// ---- statements ----
bool Parser::ParseAny(Statement* out) {
  const Token& t = Peek();
  if (t.IsKeyword("select")) return ParseInto<SelectStmt>(out, &Parser::ParseSelect);
  if (t.IsKeyword("insert")) return ParseInto<InsertStmt>(out, &Parser::ParseInsert);
  if (t.IsKeyword("update")) return ParseInto<UpdateStmt>(out, &Parser::ParseUpdate);
  if (t.IsKeyword("delete")) return ParseInto<DeleteStmt>(out, &Parser::ParseDelete);
  if (t.IsKeyword("begin")) return ParseInto<BatchStmt>(out, &Parser::ParseBatch);
  if (t.IsKeyword("use")) return ParseInto<UseStmt>(out, &Parser::ParseUse);
  if (t.IsKeyword("truncate")) return ParseInto<TruncateStmt>(out, &Parser::ParseTruncate);
  if (t.IsKeyword("create")) return ParseCreate(out);
  if (t.IsKeyword("drop")) return ParseDrop(out);
  if (t.IsKeyword("alter")) {
    return Fail(t, "ALTER is not supported: drop and recreate", ErrorKind::kInvalid);
  }
  return Fail(t,
              "expecting SELECT, INSERT, UPDATE, DELETE, BEGIN BATCH, "
              "CREATE, DROP, USE or TRUNCATE");
}

}  // namespace parser_internal

using parser_internal::IsReserved;
using parser_internal::kNearBytesMax;
using parser_internal::Parser;

CqlResult<ParsedStatement> ParseStatement(std::string_view text) {
  if (text.size() > kStatementBytesMax) {
    return CqlError{ErrorKind::kInvalid,
                    "statement is too long (" + std::to_string(text.size()) + " bytes; at most " +
                        std::to_string(kStatementBytesMax) + ")",
                    0, 0, ""};
  }
  Parser parser(text);
  return parser.Run();
}

std::string CqlIdent(std::string_view name) {
  bool plain = !name.empty() && name[0] >= 'a' && name[0] <= 'z' && !IsReserved(name) &&
               std::all_of(name.begin(), name.end(), [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
               });
  if (plain) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

std::optional<Type> ParseTypeName(std::string_view text) {
  if (text.size() > kNearBytesMax * 4) return std::nullopt;
  Parser parser(text);
  return parser.RunType();
}

}  // namespace ringkv::cql
