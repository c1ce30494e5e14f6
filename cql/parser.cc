// Recursive descent over the lexer's tokens, one function per grammar rule. Errors are values: each
// rule returns false after recording the first error in `error_`, and callers unwind.
#include "cql/parser.h"

#include <algorithm>
#include <array>
#include <deque>
#include <set>
#include <string>
#include <utility>

#include "cql/lexer.h"

namespace ringkv::cql {

const char* ConflictModeName(ConflictMode mode) {
  switch (mode) {
    case ConflictMode::kMerge: return "merge";
    case ConflictMode::kLww: return "lww";
    case ConflictMode::kSiblings: return "siblings";
  }
  return "merge";
}

namespace {

// Cassandra's reserved keywords: never identifiers unless double quoted. Others (key, ttl, count,
// text, ...) are usable as names.
constexpr std::array<std::string_view, 60> kReserved = {
    "add",     "allow",    "alter",      "and",          "apply",    "asc",      "authorize",
    "batch",   "begin",    "by",         "columnfamily", "create",   "delete",   "desc",
    "describe", "drop",    "entries",    "execute",      "from",     "full",     "grant",
    "if",      "in",       "index",      "infinity",     "insert",   "into",     "is",
    "keyspace", "limit",   "materialized", "modify",     "nan",      "norecursive", "not",
    "null",    "of",       "on",         "or",           "order",    "primary",  "rename",
    "replace", "revoke",   "schema",     "select",       "set",      "table",    "to",
    "token",   "truncate", "unlogged",   "unset",        "update",   "use",      "using",
    "view",    "where",    "with",       "mbean"};

bool IsReserved(std::string_view word) {
  return std::find(kReserved.begin(), kReserved.end(), word) != kReserved.end();
}

constexpr size_t kNearBytesMax = 40;
constexpr int kReplicationFactorMax = 1000;
constexpr int64_t kTtlMax_s = 630720000;  // 20 years, Cassandra's limit

class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) {}

  CqlResult<ParsedStatement> Run() {
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
  static std::string WhatMayFollow(const Statement& statement) {
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

  std::optional<Type> RunType() {
    Type type;
    if (!ParseType(&type, false) || Peek().kind != TokenKind::kEnd) return std::nullopt;
    return type;
  }

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

  bool Fail(const Token& t, std::string message, ErrorKind kind = ErrorKind::kSyntax) {
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
  bool ParseIdent(Ident* out, std::string_view what) {
    const Token& t = Peek();
    if (t.kind == TokenKind::kQuotedIdent || (t.kind == TokenKind::kIdent && !IsReserved(t.text))) {
      out->name = t.text;
      out->pos = t.pos;
      Take();
      return true;
    }
    return Fail(t, "expecting " + std::string(what));
  }
  bool ParseTableName(TableName* out) {
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
  bool ParseIfExists(bool want_not, bool* flag) {
    if (!AcceptKeyword("if")) return true;
    if (want_not && !ExpectKeyword("not", "NOT EXISTS after IF")) return false;
    if (!ExpectKeyword("exists", want_not ? "EXISTS after IF NOT" : "EXISTS after IF")) return false;
    *flag = true;
    return true;
  }

  // ---- terms ----
  bool NewTerm(const Token& at) {
    if (++term_count_ > kTermsMax) return Fail(at, "too many terms in one statement", ErrorKind::kInvalid);
    return true;
  }

  bool ParseTerm(Term* out, int depth = 0) {
    const Token& t = Peek();
    if (!NewTerm(t)) return false;
    if (depth >= kNestingMax) return Fail(t, "terms nested too deeply", ErrorKind::kInvalid);
    out->pos = t.pos;
    switch (t.kind) {
      case TokenKind::kString: out->kind = Term::Kind::kString; break;
      case TokenKind::kInteger: out->kind = Term::Kind::kInteger; break;
      case TokenKind::kFloat: out->kind = Term::Kind::kFloat; break;
      case TokenKind::kBlob: out->kind = Term::Kind::kBlob; break;
      case TokenKind::kUuid: out->kind = Term::Kind::kUuid; break;
      case TokenKind::kIdent: return ParseWordTerm(out, depth);
      case TokenKind::kSymbol: return ParseSymbolTerm(out, depth);
      default: return Fail(t, "expecting a value (literal, collection, function call or ?)");
    }
    out->text = Take().text;
    return true;
  }

  bool ParseWordTerm(Term* out, int depth) {
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

  bool ParseSymbolTerm(Term* out, int depth) {
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

  // ---- shared clauses ----
  bool ParseUsing(UsingClause* out, bool allow_ttl) {
    if (!AcceptKeyword("using")) return true;
    do {
      const Token& t = Peek();
      if (t.IsKeyword("ttl")) {
        if (!allow_ttl) return Fail(t, "TTL is not allowed here (only USING TIMESTAMP)", ErrorKind::kInvalid);
        if (out->ttl) return Fail(t, "TTL given twice", ErrorKind::kInvalid);
        Take();
        out->ttl.emplace();
        if (!ParseTerm(&*out->ttl)) return false;
      } else if (t.IsKeyword("timestamp")) {
        if (out->timestamp) return Fail(t, "TIMESTAMP given twice", ErrorKind::kInvalid);
        Take();
        out->timestamp.emplace();
        if (!ParseTerm(&*out->timestamp)) return false;
      } else {
        return Fail(t, allow_ttl ? "expecting TTL or TIMESTAMP" : "expecting TIMESTAMP");
      }
    } while (AcceptKeyword("and"));
    return true;
  }

  bool ParseRelationOp(Relation* r) {
    const Token& t = Peek();
    static constexpr std::pair<std::string_view, Relation::Op> kOps[] = {
        {"=", Relation::Op::kEq}, {"<", Relation::Op::kLt},  {"<=", Relation::Op::kLe},
        {">", Relation::Op::kGt}, {">=", Relation::Op::kGe}, {"!=", Relation::Op::kNe}};
    for (const auto& [sym, op] : kOps) {
      if (t.IsSymbol(sym)) {
        Take();
        r->op = op;
        return true;
      }
    }
    if (t.IsKeyword("in")) {
      Take();
      r->op = Relation::Op::kIn;
      return true;
    }
    if (t.IsKeyword("contains")) {
      return Fail(t, "CONTAINS restrictions are not supported", ErrorKind::kInvalid);
    }
    return Fail(t, "expecting an operator (=, <, <=, >, >=, IN)");
  }

  bool ParseRelation(Relation* r) {
    const Token& t = Peek();
    r->pos = t.pos;
    if (t.IsSymbol("(")) {
      return Fail(t, "multi-column relations ((a, b) > (1, 2)) are not supported", ErrorKind::kInvalid);
    }
    if (t.IsKeyword("token") && Peek(1).IsSymbol("(")) {
      Take();
      Take();
      r->is_token = true;
      do {
        Ident c;
        if (!ParseIdent(&c, "a partition key column in token(...)")) return false;
        r->columns.push_back(std::move(c));
      } while (AcceptSymbol(","));
      if (!ExpectSymbol(")")) return false;
    } else {
      Ident c;
      if (!ParseIdent(&c, "a column name")) return false;
      r->columns.push_back(std::move(c));
    }
    const Token op_token = Peek();
    if (!ParseRelationOp(r)) return false;
    if (r->op == Relation::Op::kIn) {
      if (r->is_token) return Fail(op_token, "token(...) IN is not supported", ErrorKind::kInvalid);
      if (Peek().IsSymbol("?")) {
        return Fail(Peek(), "IN ? is not supported: use IN (?, ?, ...)", ErrorKind::kInvalid);
      }
      if (!ExpectSymbol("(")) return false;
      if (AcceptSymbol(")")) return true;
      do {
        Term term;
        if (!ParseTerm(&term)) return false;
        r->terms.push_back(std::move(term));
      } while (AcceptSymbol(","));
      return ExpectSymbol(")");
    }
    if (r->is_token && r->op == Relation::Op::kNe) {
      return Fail(op_token, "token(...) != is not supported", ErrorKind::kInvalid);
    }
    Term term;
    if (r->is_token && Peek().IsKeyword("token")) {
      return Fail(Peek(), "token(...) compares with a bigint literal or ?, not with token(...)",
                  ErrorKind::kInvalid);
    }
    if (!ParseTerm(&term)) return false;
    r->terms.push_back(std::move(term));
    return true;
  }

  bool ParseWhere(std::vector<Relation>* out, bool required) {
    if (!AcceptKeyword("where")) {
      return required ? Fail(Peek(), "expecting WHERE") : true;
    }
    do {
      Relation r;
      if (!ParseRelation(&r)) return false;
      out->push_back(std::move(r));
    } while (AcceptKeyword("and"));
    return true;
  }

  // Lightweight transactions need a consensus round per partition: a leaderless store has none.
  bool RejectConditions() {
    if (Peek().IsKeyword("if")) {
      return Fail(Peek(), "conditional updates (IF ...; lightweight transactions) are not supported",
                  ErrorKind::kInvalid);
    }
    return true;
  }

  // ---- statements ----
  bool ParseAny(Statement* out) {
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
    return Fail(t, "expecting SELECT, INSERT, UPDATE, DELETE, BEGIN BATCH, "
                   "CREATE, DROP, USE or TRUNCATE");
  }

  template <typename S>
  bool ParseInto(Statement* out, bool (Parser::*rule)(S*)) {
    S s;
    s.pos = Peek().pos;
    if (!(this->*rule)(&s)) return false;
    *out = std::move(s);
    return true;
  }

  bool ParseSelector(Selector* s) {
    const Token& t = Peek();
    s->pos = t.pos;
    if (t.kind == TokenKind::kIdent && Peek(1).IsSymbol("(")) {
      std::string fn = t.text;
      if (fn == "count") {
        Take();
        Take();
        if (AcceptSymbol("*")) {
          s->kind = Selector::Kind::kCountStar;
        } else if (Peek().Is(TokenKind::kInteger, "1")) {
          Take();
          s->kind = Selector::Kind::kCountStar;
        } else {
          s->kind = Selector::Kind::kCount;
          if (!ParseIdent(&s->column, "*, 1 or a column name in count(...)")) return false;
        }
        if (!ExpectSymbol(")")) return false;
      } else if (fn == "ttl" || fn == "writetime") {
        Take();
        Take();
        s->kind = fn == "ttl" ? Selector::Kind::kTtl : Selector::Kind::kWritetime;
        if (!ParseIdent(&s->column, "a column name in " + fn + "(...)")) return false;
        if (!ExpectSymbol(")")) return false;
      } else if (fn == "token") {
        Take();
        Take();
        s->kind = Selector::Kind::kToken;
        do {
          Ident c;
          if (!ParseIdent(&c, "a partition key column in token(...)")) return false;
          s->token_columns.push_back(std::move(c));
        } while (AcceptSymbol(","));
        if (!ExpectSymbol(")")) return false;
      } else {
        return Fail(t, "unknown function '" + fn + "' (selectable: count, ttl, writetime, token)",
                    ErrorKind::kInvalid);
      }
    } else {
      s->kind = Selector::Kind::kColumn;
      if (!ParseIdent(&s->column, "a column name, *, count(*), ttl(col), writetime(col) or token(...)")) {
        return false;
      }
    }
    if (AcceptKeyword("as")) {
      s->alias.emplace();
      if (!ParseIdent(&*s->alias, "an alias after AS")) return false;
    }
    return true;
  }

  bool ParseSelect(SelectStmt* s) {
    Take();  // SELECT
    if (Peek().IsKeyword("json")) return Fail(Peek(), "SELECT JSON is not supported", ErrorKind::kInvalid);
    if (Peek().IsKeyword("distinct") && !Peek(1).IsKeyword("from") && !Peek(1).IsSymbol(",")) {
      Take();
      s->distinct = true;
    }
    if (AcceptSymbol("*")) {
      s->star = true;
    } else {
      do {
        Selector sel;
        if (!ParseSelector(&sel)) return false;
        s->selectors.push_back(std::move(sel));
      } while (AcceptSymbol(","));
    }
    if (!ExpectKeyword("from", "FROM")) return false;
    if (!ParseTableName(&s->table)) return false;
    if (!ParseWhere(&s->where, false)) return false;
    if (AcceptKeyword("order")) {
      if (!ExpectKeyword("by", "BY after ORDER")) return false;
      do {
        Ordering o;
        if (!ParseIdent(&o.column, "a clustering column after ORDER BY")) return false;
        if (AcceptKeyword("desc")) {
          o.descending = true;
        } else {
          AcceptKeyword("asc");
        }
        s->order_by.push_back(std::move(o));
      } while (AcceptSymbol(","));
    }
    if (Peek().IsKeyword("per")) {
      return Fail(Peek(), "PER PARTITION LIMIT is not supported", ErrorKind::kInvalid);
    }
    if (AcceptKeyword("limit")) {
      s->limit.emplace();
      if (!ParseTerm(&*s->limit)) return false;
    }
    if (AcceptKeyword("allow")) {
      if (!ExpectKeyword("filtering", "FILTERING after ALLOW")) return false;
      s->allow_filtering = true;
    }
    const Token& t = Peek();
    if (!t.IsSymbol(";") && t.kind != TokenKind::kEnd) {
      return Fail(t, s->where.empty() && !s->limit && !s->allow_filtering && s->order_by.empty()
                         ? "expecting WHERE, ORDER BY, LIMIT, ALLOW FILTERING or ';'"
                         : "expecting AND, ORDER BY, LIMIT, ALLOW FILTERING or ';'");
    }
    return true;
  }

  bool ParseInsert(InsertStmt* s) {
    Take();  // INSERT
    if (!ExpectKeyword("into", "INTO")) return false;
    if (!ParseTableName(&s->table)) return false;
    if (Peek().IsKeyword("json")) return Fail(Peek(), "INSERT JSON is not supported", ErrorKind::kInvalid);
    if (!ExpectSymbol("(")) return false;
    do {
      Ident c;
      if (!ParseIdent(&c, "a column name")) return false;
      s->columns.push_back(std::move(c));
    } while (AcceptSymbol(","));
    if (!ExpectSymbol(")")) return false;
    if (!ExpectKeyword("values", "VALUES")) return false;
    Token open = Peek();
    if (!ExpectSymbol("(")) return false;
    do {
      Term v;
      if (!ParseTerm(&v)) return false;
      s->values.push_back(std::move(v));
    } while (AcceptSymbol(","));
    if (!ExpectSymbol(")")) return false;
    if (s->values.size() != s->columns.size()) {
      return FailAt(open.pos, "(", "Unmatched column names/values: " +
                                       std::to_string(s->columns.size()) + " columns, " +
                                       std::to_string(s->values.size()) + " values");
    }
    if (!RejectConditions()) return false;
    if (!ParseUsing(&s->using_clause, true)) return false;
    return RejectConditions();
  }

  bool ParseAssignment(Assignment* a) {
    if (!ParseIdent(&a->column, "a column name to SET")) return false;
    a->pos = a->column.pos;
    if (AcceptSymbol("[")) {
      a->op = Assignment::Op::kSetElement;
      a->key.emplace();
      if (!ParseTerm(&*a->key) || !ExpectSymbol("]") || !ExpectSymbol("=")) return false;
      return ParseTerm(&a->value);
    }
    // col += v / col -= v (Cassandra 4).
    if ((Peek().IsSymbol("+") || Peek().IsSymbol("-")) && Peek(1).IsSymbol("=")) {
      a->op = Take().text == "+" ? Assignment::Op::kAppend : Assignment::Op::kRemove;
      Take();
      return ParseTerm(&a->value);
    }
    if (!ExpectSymbol("=")) return false;
    const Token& t = Peek();
    bool names_column = (t.kind == TokenKind::kQuotedIdent ||
                         (t.kind == TokenKind::kIdent && !IsReserved(t.text) && t.text != "true" &&
                          t.text != "false")) &&
                        !Peek(1).IsSymbol("(");
    if (names_column) {
      // col = col + v / col = col - v
      Token other = Take();
      if (other.text != a->column.name) {
        return Fail(other, "only col = col + value, col = col - value and col = value + col "
                           "refer to a column on the right", ErrorKind::kInvalid);
      }
      if (AcceptSymbol("+")) {
        a->op = Assignment::Op::kAppend;
      } else if (AcceptSymbol("-")) {
        a->op = Assignment::Op::kRemove;
      } else {
        return Fail(Peek(), "expecting '+' or '-' after " + a->column.name);
      }
      return ParseTerm(&a->value);
    }
    if (!ParseTerm(&a->value)) return false;
    if (AcceptSymbol("+")) {
      // value + col: prepend.
      Ident other;
      if (!ParseIdent(&other, "the column name after '+' (col = value + col)")) return false;
      if (other.name != a->column.name) {
        return FailAt(other.pos, other.name, "only col = value + col may name a column after '+'");
      }
      a->op = Assignment::Op::kPrepend;
      return true;
    }
    if (Peek().IsSymbol("-")) {
      return Fail(Peek(), "only col = col - value subtracts", ErrorKind::kInvalid);
    }
    a->op = Assignment::Op::kSet;
    return true;
  }

  bool ParseUpdate(UpdateStmt* s) {
    Take();  // UPDATE
    if (!ParseTableName(&s->table)) return false;
    if (!ParseUsing(&s->using_clause, true)) return false;
    if (!ExpectKeyword("set", "SET")) return false;
    do {
      Assignment a;
      if (!ParseAssignment(&a)) return false;
      s->assignments.push_back(std::move(a));
    } while (AcceptSymbol(","));
    if (!ParseWhere(&s->where, true)) return false;
    return RejectConditions();
  }

  bool ParseDelete(DeleteStmt* s) {
    Take();  // DELETE
    if (!Peek().IsKeyword("from")) {
      do {
        DeleteTarget d;
        if (!ParseIdent(&d.column, "a column name or FROM")) return false;
        if (AcceptSymbol("[")) {
          d.key.emplace();
          if (!ParseTerm(&*d.key) || !ExpectSymbol("]")) return false;
        }
        s->targets.push_back(std::move(d));
      } while (AcceptSymbol(","));
    }
    if (!ExpectKeyword("from", "FROM")) return false;
    if (!ParseTableName(&s->table)) return false;
    if (!ParseUsing(&s->using_clause, false)) return false;
    if (!ParseWhere(&s->where, true)) return false;
    return RejectConditions();
  }

  bool ParseBatch(BatchStmt* s) {
    Take();  // BEGIN
    if (AcceptKeyword("unlogged")) {
      s->unlogged = true;
    } else if (Peek().IsKeyword("counter")) {
      return Fail(Peek(), "counter batches are not supported (no counters)", ErrorKind::kInvalid);
    } else {
      AcceptKeyword("logged");
    }
    if (!ExpectKeyword("batch", "BATCH")) return false;
    if (!ParseUsing(&s->using_clause, false)) return false;
    while (!AcceptKeyword("apply")) {
      const Token& t = Peek();
      SourcePos pos = t.pos;
      if (t.IsKeyword("insert")) {
        InsertStmt e;
        e.pos = pos;
        if (!ParseInsert(&e)) return false;
        s->entries.emplace_back(std::move(e));
      } else if (t.IsKeyword("update")) {
        UpdateStmt e;
        e.pos = pos;
        if (!ParseUpdate(&e)) return false;
        s->entries.emplace_back(std::move(e));
      } else if (t.IsKeyword("delete")) {
        DeleteStmt e;
        e.pos = pos;
        if (!ParseDelete(&e)) return false;
        s->entries.emplace_back(std::move(e));
      } else {
        return Fail(t, "expecting INSERT, UPDATE, DELETE or APPLY BATCH");
      }
      AcceptSymbol(";");
    }
    return ExpectKeyword("batch", "BATCH after APPLY");
  }

  bool ParseUse(UseStmt* s) {
    Take();
    return ParseIdent(&s->keyspace, "a keyspace name");
  }

  bool ParseTruncate(TruncateStmt* s) {
    Take();
    if (!AcceptKeyword("table")) AcceptKeyword("columnfamily");
    return ParseTableName(&s->table);
  }

  bool ParseDrop(Statement* out) {
    Token drop = Take();
    if (AcceptKeyword("keyspace") || AcceptKeyword("schema")) {
      DropKeyspaceStmt s;
      s.pos = drop.pos;
      if (!ParseIfExists(false, &s.if_exists)) return false;
      if (!ParseIdent(&s.keyspace, "a keyspace name")) return false;
      *out = std::move(s);
      return true;
    }
    if (AcceptKeyword("table") || AcceptKeyword("columnfamily")) {
      DropTableStmt s;
      s.pos = drop.pos;
      if (!ParseIfExists(false, &s.if_exists)) return false;
      if (!ParseTableName(&s.table)) return false;
      *out = std::move(s);
      return true;
    }
    return Fail(Peek(), "expecting KEYSPACE or TABLE after DROP");
  }

  bool ParseCreate(Statement* out) {
    Token create = Take();
    if (AcceptKeyword("keyspace") || AcceptKeyword("schema")) {
      CreateKeyspaceStmt s;
      s.pos = create.pos;
      if (!ParseCreateKeyspace(&s)) return false;
      *out = std::move(s);
      return true;
    }
    if (AcceptKeyword("table") || AcceptKeyword("columnfamily")) {
      CreateTableStmt s;
      s.pos = create.pos;
      if (!ParseCreateTable(&s)) return false;
      *out = std::move(s);
      return true;
    }
    if (Peek().IsKeyword("index") || Peek().IsKeyword("type") || Peek().IsKeyword("materialized")) {
      return Fail(Peek(), "CREATE " + Peek().text + " is not supported", ErrorKind::kInvalid);
    }
    return Fail(Peek(), "expecting KEYSPACE or TABLE after CREATE");
  }

  bool ParseProperty(Property* p) {
    if (!ParseIdent(&p->name, "a property name")) return false;
    if (!ExpectSymbol("=")) return false;
    return ParseTerm(&p->value);
  }

  // A string or integer term as text (replication factors are written either way).
  static std::optional<std::string> ScalarText(const Term& t) {
    if (t.kind == Term::Kind::kString || t.kind == Term::Kind::kInteger) return t.text;
    return std::nullopt;
  }
  bool ParsePositiveFactor(const Term& t, int* out) {
    auto text = ScalarText(t);
    int64_t v = 0;
    bool ok = text && !text->empty() && text->size() <= 9 &&
              std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '9'; });
    if (ok) v = std::stoll(*text);
    if (!ok || v < 1 || v > kReplicationFactorMax) {
      return FailAt(t.pos, text.value_or(""),
                    "replication factor must be an integer from 1 to " +
                        std::to_string(kReplicationFactorMax));
    }
    *out = static_cast<int>(v);
    return true;
  }

  bool ParseCreateKeyspace(CreateKeyspaceStmt* s) {
    if (!ParseIfExists(true, &s->if_not_exists)) return false;
    if (!ParseIdent(&s->keyspace, "a keyspace name")) return false;
    if (!ExpectKeyword("with", "WITH replication = {...}")) return false;
    do {
      Property p;
      if (!ParseProperty(&p)) return false;
      s->properties.push_back(std::move(p));
    } while (AcceptKeyword("and"));
    // Also accepted after the options, as the issue writes it.
    if (!s->if_not_exists && !ParseIfExists(true, &s->if_not_exists)) return false;

    const Property* replication = nullptr;
    for (const Property& p : s->properties) {
      if (p.name.name == "replication") {
        replication = &p;
      } else if (p.name.name != "durable_writes") {
        return FailAt(p.name.pos, p.name.name, "Unknown property '" + p.name.name + "'");
      }
    }
    if (replication == nullptr) {
      return FailAt(s->keyspace.pos, s->keyspace.name,
                    "Missing mandatory option 'replication' (WITH replication = {'class': "
                    "'SimpleStrategy', 'replication_factor': N})");
    }
    const Term& map = replication->value;
    if (map.kind != Term::Kind::kMap) {
      return FailAt(map.pos, "", "replication must be a map, e.g. {'class': 'SimpleStrategy', "
                                 "'replication_factor': 3}");
    }
    const Term* rf = nullptr;
    std::vector<const Term*> dc_factors;
    for (size_t i = 0; i < map.elements.size(); ++i) {
      const Term& k = map.elements[i];
      const Term& v = map.values[i];
      if (k.kind != Term::Kind::kString) return FailAt(k.pos, "", "replication option names are strings");
      if (k.text == "class") {
        if (v.kind != Term::Kind::kString) return FailAt(v.pos, "", "the replication class is a string");
        s->replication_class = v.text;
      } else if (k.text == "replication_factor") {
        rf = &v;
      } else {
        auto text = ScalarText(v);
        if (!text) return FailAt(v.pos, "", "replication option '" + k.text + "' must be a number");
        s->replication_options.emplace_back(k.text, *text);
        dc_factors.push_back(&v);
      }
    }
    std::string cls = s->replication_class;
    if (auto dot = cls.rfind('.'); dot != std::string::npos) cls = cls.substr(dot + 1);
    if (cls == "SimpleStrategy") {
      if (rf == nullptr) {
        return FailAt(map.pos, "", "SimpleStrategy requires a 'replication_factor' option");
      }
      if (!dc_factors.empty()) {
        return FailAt(dc_factors[0]->pos, "", "Unrecognized strategy option for SimpleStrategy");
      }
      return ParsePositiveFactor(*rf, &s->replication_factor);
    }
    if (cls == "NetworkTopologyStrategy") {
      if (rf != nullptr) return ParsePositiveFactor(*rf, &s->replication_factor);
      if (dc_factors.empty()) {
        return FailAt(map.pos, "", "NetworkTopologyStrategy needs a replication factor per data centre");
      }
      int sum = 0;
      for (const Term* f : dc_factors) {
        int n = 0;
        if (!ParsePositiveFactor(*f, &n)) return false;
        sum += n;
      }
      if (sum > kReplicationFactorMax) {
        return FailAt(map.pos, "", "replication factor is too large");
      }
      s->replication_factor = sum;
      return true;
    }
    if (s->replication_class.empty()) {
      return FailAt(map.pos, "", "Missing replication strategy class");
    }
    return FailAt(map.pos, "", "Unable to find replication strategy class '" +
                                   s->replication_class +
                                   "' (SimpleStrategy or NetworkTopologyStrategy)");
  }

  bool ParseType(Type* out, bool inner) {
    const Token& t = Peek();
    if (t.kind != TokenKind::kIdent) return Fail(t, "expecting a type name");
    static constexpr std::pair<std::string_view, Kind> kScalars[] = {
        {"text", Kind::kText},       {"varchar", Kind::kText},   {"ascii", Kind::kText},
        {"blob", Kind::kBlob},       {"int", Kind::kInt},        {"bigint", Kind::kBigint},
        {"float", Kind::kFloat},     {"double", Kind::kDouble},  {"boolean", Kind::kBoolean},
        {"timestamp", Kind::kTimestamp}, {"uuid", Kind::kUuid}};
    for (const auto& [name, kind] : kScalars) {
      if (t.text == name) {
        Take();
        *out = Type::Scalar(kind);
        return true;
      }
    }
    Kind kind;
    if (t.text == "list") {
      kind = Kind::kList;
    } else if (t.text == "set") {
      kind = Kind::kSet;
    } else if (t.text == "map") {
      kind = Kind::kMap;
    } else if (t.text == "counter") {
      return Fail(t, "counters are not supported", ErrorKind::kInvalid);
    } else if (t.text == "frozen" || t.text == "tuple") {
      return Fail(t, "type '" + t.text + "' is not supported (collections do not nest)",
                  ErrorKind::kInvalid);
    } else {
      return Fail(t, "type '" + t.text + "' is not supported (text, varchar, blob, int, bigint, float, "
                  "double, boolean, timestamp, uuid, list<T>, set<T>, map<K, V>)",
                  ErrorKind::kInvalid);
    }
    if (inner) return Fail(t, "collections do not nest", ErrorKind::kInvalid);
    Take();
    out->kind = kind;
    out->params.clear();
    if (!ExpectSymbol("<")) return false;
    Type p;
    if (!ParseType(&p, true)) return false;
    out->params.push_back(std::move(p));
    if (kind == Kind::kMap) {
      if (!ExpectSymbol(",")) return false;
      Type v;
      if (!ParseType(&v, true)) return false;
      out->params.push_back(std::move(v));
    }
    return ExpectSymbol(">");
  }

  bool ParseCreateTable(CreateTableStmt* s) {
    if (!ParseIfExists(true, &s->if_not_exists)) return false;
    if (!ParseTableName(&s->table)) return false;
    if (!ExpectSymbol("(")) return false;
    int key_declarations = 0;
    SourcePos second_key;
    do {
      if (Peek().IsSymbol(")")) break;  // a trailing comma
      const Token& t = Peek();
      if (t.IsKeyword("primary")) {
        if (++key_declarations == 2) second_key = t.pos;
        Take();
        if (!ExpectKeyword("key", "KEY after PRIMARY")) return false;
        if (!ParsePrimaryKey(s)) return false;
        continue;
      }
      ColumnDef c;
      if (!ParseIdent(&c.name, "a column name or PRIMARY KEY")) return false;
      c.type_pos = Peek().pos;
      if (!ParseType(&c.type, false)) return false;
      if (AcceptKeyword("static")) c.is_static = true;
      if (Peek().IsKeyword("primary")) {
        if (++key_declarations == 2) second_key = Peek().pos;
        Take();
        if (!ExpectKeyword("key", "KEY after PRIMARY")) return false;
        s->partition_key.clear();
        s->partition_key.push_back(c.name);
      }
      s->columns.push_back(std::move(c));
    } while (AcceptSymbol(","));
    if (!ExpectSymbol(")")) return false;
    if (key_declarations == 0) {
      return FailAt(s->table.pos, s->table.name, "No PRIMARY KEY specified (exactly one required)");
    }
    if (key_declarations > 1) {
      return FailAt(second_key, "PRIMARY", "Multiple PRIMARY KEYs specified (exactly one required)");
    }
    if (AcceptKeyword("with")) {
      do {
        if (AcceptKeyword("clustering")) {
          if (!ExpectKeyword("order", "ORDER after CLUSTERING") || !ExpectKeyword("by", "BY") ||
              !ExpectSymbol("(")) {
            return false;
          }
          do {
            Ordering o;
            if (!ParseIdent(&o.column, "a clustering column")) return false;
            if (AcceptKeyword("desc")) {
              o.descending = true;
            } else if (!AcceptKeyword("asc")) {
              return Fail(Peek(), "expecting ASC or DESC");
            }
            s->clustering_order.push_back(std::move(o));
          } while (AcceptSymbol(","));
          if (!ExpectSymbol(")")) return false;
          continue;
        }
        if (Peek().IsKeyword("compact")) {
          return Fail(Peek(), "COMPACT STORAGE is not supported", ErrorKind::kInvalid);
        }
        Property p;
        if (!ParseProperty(&p)) return false;
        s->properties.push_back(std::move(p));
      } while (AcceptKeyword("and"));
    }
    return CheckTable(s);
  }

  bool ParsePrimaryKey(CreateTableStmt* s) {
    if (!ExpectSymbol("(")) return false;
    s->partition_key.clear();
    s->clustering_key.clear();
    if (AcceptSymbol("(")) {
      do {
        Ident c;
        if (!ParseIdent(&c, "a partition key column")) return false;
        s->partition_key.push_back(std::move(c));
      } while (AcceptSymbol(","));
      if (!ExpectSymbol(")")) return false;
    } else {
      Ident c;
      if (!ParseIdent(&c, "a partition key column")) return false;
      s->partition_key.push_back(std::move(c));
    }
    while (AcceptSymbol(",")) {
      Ident c;
      if (!ParseIdent(&c, "a clustering column")) return false;
      s->clustering_key.push_back(std::move(c));
    }
    return ExpectSymbol(")");
  }

  // Checks that need the whole definition; errors point at the offending name.
  bool CheckTable(CreateTableStmt* s) {
    std::set<std::string> seen;
    for (const ColumnDef& c : s->columns) {
      if (!seen.insert(c.name.name).second) {
        return FailAt(c.name.pos, c.name.name, "Multiple definition of identifier " + c.name.name);
      }
    }
    auto find = [&](const std::string& name) -> const ColumnDef* {
      for (const ColumnDef& c : s->columns) {
        if (c.name.name == name) return &c;
      }
      return nullptr;
    };
    std::set<std::string> keys;
    for (const auto* part : {&s->partition_key, &s->clustering_key}) {
      for (const Ident& k : *part) {
        const ColumnDef* c = find(k.name);
        if (c == nullptr) {
          return FailAt(k.pos, k.name, "Unknown definition " + k.name + " referenced in PRIMARY KEY");
        }
        if (!keys.insert(k.name).second) {
          return FailAt(k.pos, k.name, "Multiple definition of identifier " + k.name + " in PRIMARY KEY");
        }
        if (c->type.is_collection()) {
          return FailAt(k.pos, k.name, "Invalid collection type for PRIMARY KEY component " + k.name);
        }
        if (c->is_static) {
          return FailAt(k.pos, k.name, "Static column " + k.name + " cannot be part of the PRIMARY KEY");
        }
      }
    }
    for (const ColumnDef& c : s->columns) {
      if (c.is_static && s->clustering_key.empty()) {
        return FailAt(c.name.pos, c.name.name,
                      "Static columns are only useful (and thus allowed) if the table has at least "
                      "one clustering column");
      }
    }
    // Clustering order: a prefix of the clustering columns, in order; the rest ascending.
    std::vector<Ordering> order;
    for (size_t i = 0; i < s->clustering_order.size(); ++i) {
      const Ordering& o = s->clustering_order[i];
      if (i >= s->clustering_key.size() || s->clustering_key[i].name != o.column.name) {
        return FailAt(o.column.pos, o.column.name,
                      "CLUSTERING ORDER BY must list the clustering columns in their order (" +
                          o.column.name + " is out of place or not a clustering column)");
      }
    }
    for (size_t i = 0; i < s->clustering_key.size(); ++i) {
      if (i < s->clustering_order.size()) {
        order.push_back(s->clustering_order[i]);
      } else {
        order.push_back(Ordering{s->clustering_key[i], false});
      }
    }
    s->clustering_order = std::move(order);
    for (const Property& p : s->properties) {
      const std::string& name = p.name.name;
      if (name == "conflict_mode") {
        if (p.value.kind != Term::Kind::kString) {
          return FailAt(p.value.pos, "", "conflict_mode is a string: 'merge', 'lww' or 'siblings'");
        }
        if (p.value.text == "merge") {
          s->conflict_mode = ConflictMode::kMerge;
        } else if (p.value.text == "lww") {
          s->conflict_mode = ConflictMode::kLww;
        } else if (p.value.text == "siblings") {
          s->conflict_mode = ConflictMode::kSiblings;
        } else {
          return FailAt(p.value.pos, p.value.text,
                        "Unknown conflict_mode '" + p.value.text + "' (merge, lww or siblings)");
        }
      } else if (name == "default_time_to_live") {
        const std::string& v = p.value.text;
        bool ok = p.value.kind == Term::Kind::kInteger && !v.empty() && v[0] != '-' && v.size() <= 10;
        int64_t n = ok ? std::stoll(v) : -1;
        if (!ok || n > kTtlMax_s) {
          return FailAt(p.value.pos, v,
                        "default_time_to_live must be an integer from 0 to " +
                            std::to_string(kTtlMax_s) + " (seconds)");
        }
        s->default_time_to_live_s = n;
      }
    }
    return true;
  }

  Lexer lexer_;
  std::deque<Token> ahead_;
  int bind_count_ = 0;
  size_t term_count_ = 0;
  bool failed_ = false;
  CqlError error_;
};

}  // namespace

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
