// Parser rules (cql/parser_internal.h): SELECT, INSERT, UPDATE, DELETE, BATCH, USE and TRUNCATE,
// with their WHERE, USING and SET clauses.
#include <string>
#include <utility>

#include "cql/parser_internal.h"

namespace ringkv::cql::parser_internal {

// ---- shared clauses ----
bool Parser::ParseUsing(UsingClause* out, bool allow_ttl) {
  if (!AcceptKeyword("using")) return true;
  do {
    const Token& t = Peek();
    if (t.IsKeyword("ttl")) {
      if (!allow_ttl)
        return Fail(t, "TTL is not allowed here (only USING TIMESTAMP)", ErrorKind::kInvalid);
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

bool Parser::ParseRelationOp(Relation* r) {
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

bool Parser::ParseRelation(Relation* r) {
  const Token& t = Peek();
  r->pos = t.pos;
  if (t.IsSymbol("(")) {
    return Fail(t, "multi-column relations ((a, b) > (1, 2)) are not supported",
                ErrorKind::kInvalid);
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

bool Parser::ParseWhere(std::vector<Relation>* out, bool required) {
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
bool Parser::RejectConditions() {
  if (Peek().IsKeyword("if")) {
    return Fail(Peek(), "conditional updates (IF ...; lightweight transactions) are not supported",
                ErrorKind::kInvalid);
  }
  return true;
}

bool Parser::ParseSelector(Selector* s) {
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
    if (!ParseIdent(&s->column,
                    "a column name, *, count(*), ttl(col), writetime(col) or token(...)")) {
      return false;
    }
  }
  if (AcceptKeyword("as")) {
    s->alias.emplace();
    if (!ParseIdent(&*s->alias, "an alias after AS")) return false;
  }
  return true;
}

bool Parser::ParseSelect(SelectStmt* s) {
  Take();  // SELECT
  if (Peek().IsKeyword("json"))
    return Fail(Peek(), "SELECT JSON is not supported", ErrorKind::kInvalid);
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

bool Parser::ParseInsert(InsertStmt* s) {
  Take();  // INSERT
  if (!ExpectKeyword("into", "INTO")) return false;
  if (!ParseTableName(&s->table)) return false;
  if (Peek().IsKeyword("json"))
    return Fail(Peek(), "INSERT JSON is not supported", ErrorKind::kInvalid);
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
    return FailAt(open.pos, "(",
                  "Unmatched column names/values: " + std::to_string(s->columns.size()) +
                      " columns, " + std::to_string(s->values.size()) + " values");
  }
  if (!RejectConditions()) return false;
  if (!ParseUsing(&s->using_clause, true)) return false;
  return RejectConditions();
}

bool Parser::ParseAssignment(Assignment* a) {
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
  bool names_column =
      (t.kind == TokenKind::kQuotedIdent || (t.kind == TokenKind::kIdent && !IsReserved(t.text) &&
                                             t.text != "true" && t.text != "false")) &&
      !Peek(1).IsSymbol("(");
  if (names_column) {
    // col = col + v / col = col - v
    Token other = Take();
    if (other.text != a->column.name) {
      return Fail(other,
                  "only col = col + value, col = col - value and col = value + col "
                  "refer to a column on the right",
                  ErrorKind::kInvalid);
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

bool Parser::ParseUpdate(UpdateStmt* s) {
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

bool Parser::ParseDelete(DeleteStmt* s) {
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

bool Parser::ParseBatch(BatchStmt* s) {
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

bool Parser::ParseUse(UseStmt* s) {
  Take();
  return ParseIdent(&s->keyspace, "a keyspace name");
}

bool Parser::ParseTruncate(TruncateStmt* s) {
  Take();
  if (!AcceptKeyword("table")) AcceptKeyword("columnfamily");
  return ParseTableName(&s->table);
}

}  // namespace ringkv::cql::parser_internal
