#include "cql/parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace ringkv::cql {
namespace {

template <typename S>
S Parse(std::string_view text) {
  auto r = ParseStatement(text);
  EXPECT_TRUE(r.ok()) << text << "\n  " << (r.ok() ? "" : r.error().ToString());
  if (!r.ok()) return S{};
  const S* s = std::get_if<S>(&r->statement);
  EXPECT_NE(s, nullptr) << text << ": another statement kind";
  return s == nullptr ? S{} : *s;
}

// The statement fails with `kind` at line:column on the token `near`, the message containing
// `says`.
void ExpectError(std::string_view text, int line, int column, std::string_view near,
                 std::string_view says = "", ErrorKind kind = ErrorKind::kSyntax) {
  auto r = ParseStatement(text);
  ASSERT_FALSE(r.ok()) << text;
  const CqlError& e = r.error();
  EXPECT_EQ(e.kind, kind) << text << ": " << e.ToString();
  EXPECT_EQ(e.line, line) << text << ": " << e.ToString();
  EXPECT_EQ(e.column, column) << text << ": " << e.ToString();
  EXPECT_EQ(e.near, near) << text << ": " << e.ToString();
  EXPECT_NE(e.message.find(says), std::string::npos) << text << ": " << e.ToString();
}

std::optional<Value> Convert(const Term& t, const Type& type,
                             const std::vector<Value>& binds = {}) {
  auto r = ConvertTerm(t, type, binds, "c");
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  return r.ok() ? r.value() : std::nullopt;
}

TEST(ParserTest, Select) {
  auto s = Parse<SelectStmt>(
      "select lang, TTL(score), writetime(score) AS w, \"Quoted\" FROM ks.docs "
      "WHERE doc_id IN ('a', 'b') AND ts >= 10 AND ts < ? ORDER BY ts DESC LIMIT 5 ALLOW "
      "FILTERING;");
  EXPECT_EQ(s.table.keyspace, "ks");
  EXPECT_EQ(s.table.name, "docs");
  EXPECT_EQ(s.table.pos, (SourcePos{1, 63}));
  ASSERT_EQ(s.selectors.size(), 4u);
  EXPECT_EQ(s.selectors[0].kind, Selector::Kind::kColumn);
  EXPECT_EQ(s.selectors[0].column.name, "lang");
  EXPECT_EQ(s.selectors[1].kind, Selector::Kind::kTtl);
  EXPECT_EQ(s.selectors[1].column.name, "score");
  EXPECT_EQ(s.selectors[2].kind, Selector::Kind::kWritetime);
  EXPECT_EQ(s.selectors[2].alias->name, "w");
  EXPECT_EQ(s.selectors[3].column.name, "Quoted");
  ASSERT_EQ(s.where.size(), 3u);
  EXPECT_EQ(s.where[0].op, Relation::Op::kIn);
  EXPECT_EQ(s.where[0].terms.size(), 2u);
  EXPECT_EQ(s.where[0].terms[1].text, "b");
  EXPECT_EQ(s.where[1].op, Relation::Op::kGe);
  EXPECT_EQ(s.where[2].op, Relation::Op::kLt);
  EXPECT_EQ(s.where[2].terms[0].kind, Term::Kind::kBind);
  EXPECT_EQ(s.where[2].terms[0].bind_index, 0);
  ASSERT_EQ(s.order_by.size(), 1u);
  EXPECT_TRUE(s.order_by[0].descending);
  EXPECT_EQ(s.limit->text, "5");
  EXPECT_TRUE(s.allow_filtering);

  auto star = Parse<SelectStmt>("SELECT * FROM t");
  EXPECT_TRUE(star.star);
  EXPECT_TRUE(star.where.empty());
  auto count = Parse<SelectStmt>("SELECT COUNT(*) FROM t WHERE token(a, b) > -9223372036854775808");
  EXPECT_EQ(count.selectors[0].kind, Selector::Kind::kCountStar);
  EXPECT_TRUE(count.where[0].is_token);
  EXPECT_EQ(count.where[0].columns.size(), 2u);
  EXPECT_EQ(count.where[0].terms[0].text, "-9223372036854775808");
  auto distinct = Parse<SelectStmt>("SELECT DISTINCT pk, token(pk) FROM t");
  EXPECT_TRUE(distinct.distinct);
  EXPECT_EQ(distinct.selectors[1].kind, Selector::Kind::kToken);
  // A column may be called `distinct`, `key`, `ttl`, `count`.
  auto names = Parse<SelectStmt>("SELECT distinct, key, ttl, count FROM t");
  EXPECT_FALSE(names.distinct);
  EXPECT_EQ(names.selectors.size(), 4u);
}

TEST(ParserTest, Insert) {
  auto s = Parse<InsertStmt>(
      "INSERT INTO docs (id, tags, m, l, b, u, f, n, ok, ts) VALUES ('d1', {'x', 'y'}, "
      "{'k': 1.5, 'j': -2}, [1, 2], 0xff, 01234567-89ab-cdef-0123-456789abcdef, -NaN, null, true, "
      "now()) USING TTL 60 AND TIMESTAMP 123");
  ASSERT_EQ(s.columns.size(), 10u);
  EXPECT_EQ(s.values[1].kind, Term::Kind::kSet);
  EXPECT_EQ(s.values[2].kind, Term::Kind::kMap);
  EXPECT_EQ(s.values[2].values[1].text, "-2");
  EXPECT_EQ(s.values[3].kind, Term::Kind::kList);
  EXPECT_EQ(s.values[4].kind, Term::Kind::kBlob);
  EXPECT_EQ(s.values[5].kind, Term::Kind::kUuid);
  EXPECT_EQ(s.values[6].kind, Term::Kind::kFloat);
  EXPECT_EQ(s.values[7].kind, Term::Kind::kNull);
  EXPECT_EQ(s.values[8].kind, Term::Kind::kBoolean);
  EXPECT_EQ(s.values[9].kind, Term::Kind::kFunction);
  EXPECT_EQ(s.values[9].text, "now");
  EXPECT_EQ(s.using_clause.ttl->text, "60");
  EXPECT_EQ(s.using_clause.timestamp->text, "123");
  EXPECT_EQ(s.values[1].pos, (SourcePos{1, 69}));
}

TEST(ParserTest, UpdateForms) {
  auto s = Parse<UpdateStmt>(
      "UPDATE t USING TTL 5 SET a = 1, l = l + [2], l = [0] + l, s = s - {'x'}, m['k'] = 'v', "
      "m = m + {'a': 'b'}, c += 3 WHERE pk = 'p' AND ck = 2");
  ASSERT_EQ(s.assignments.size(), 7u);
  EXPECT_EQ(s.assignments[0].op, Assignment::Op::kSet);
  EXPECT_EQ(s.assignments[1].op, Assignment::Op::kAppend);
  EXPECT_EQ(s.assignments[2].op, Assignment::Op::kPrepend);
  EXPECT_EQ(s.assignments[3].op, Assignment::Op::kRemove);
  EXPECT_EQ(s.assignments[4].op, Assignment::Op::kSetElement);
  EXPECT_EQ(s.assignments[4].key->text, "k");
  EXPECT_EQ(s.assignments[5].op, Assignment::Op::kAppend);
  EXPECT_EQ(s.assignments[6].op, Assignment::Op::kAppend);
  EXPECT_EQ(s.where.size(), 2u);
  EXPECT_TRUE(s.using_clause.ttl.has_value());
}

TEST(ParserTest, DeleteForms) {
  auto row = Parse<DeleteStmt>("DELETE FROM ks.t USING TIMESTAMP 9 WHERE pk = 1 AND ck = 2");
  EXPECT_TRUE(row.targets.empty());
  EXPECT_EQ(row.where.size(), 2u);
  auto cols = Parse<DeleteStmt>("DELETE a, m['k'], l[0] FROM t WHERE pk IN (1, 2)");
  ASSERT_EQ(cols.targets.size(), 3u);
  EXPECT_EQ(cols.targets[1].key->text, "k");
  EXPECT_EQ(cols.targets[2].key->kind, Term::Kind::kInteger);
}

TEST(ParserTest, Batch) {
  auto b = Parse<BatchStmt>(
      "BEGIN UNLOGGED BATCH USING TIMESTAMP 5\n"
      "  INSERT INTO t (a, b) VALUES (?, ?);\n"
      "  UPDATE t SET b = ? WHERE a = ?\n"
      "  DELETE FROM t WHERE a = 3;\n"
      "APPLY BATCH");
  EXPECT_TRUE(b.unlogged);
  ASSERT_EQ(b.entries.size(), 3u);
  const auto& update = std::get<UpdateStmt>(b.entries[1]);
  EXPECT_EQ(update.pos, (SourcePos{3, 3}));
  EXPECT_EQ(update.assignments[0].value.bind_index, 2);
  auto r = ParseStatement("BEGIN BATCH INSERT INTO t (a) VALUES (?); APPLY BATCH;");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bind_count, 1);
  EXPECT_FALSE(std::get<BatchStmt>(r->statement).unlogged);
}

TEST(ParserTest, Keyspaces) {
  auto k = Parse<CreateKeyspaceStmt>(
      "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', "
      "'replication_factor': 3} AND durable_writes = true");
  EXPECT_TRUE(k.if_not_exists);
  EXPECT_EQ(k.keyspace.name, "ks");
  EXPECT_EQ(k.replication_class, "SimpleStrategy");
  EXPECT_EQ(k.replication_factor, 3);
  auto trailing = Parse<CreateKeyspaceStmt>(
      "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': "
      "'2'} "
      "IF NOT EXISTS");
  EXPECT_TRUE(trailing.if_not_exists);
  EXPECT_EQ(trailing.replication_factor, 2);
  auto nts = Parse<CreateKeyspaceStmt>(
      "CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': "
      "1}");
  EXPECT_EQ(nts.replication_factor, 3);
  EXPECT_EQ(nts.replication_options.size(), 2u);
  auto sloppy = Parse<CreateKeyspaceStmt>(
      "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3} "
      "AND sloppy_quorum = true");
  ASSERT_EQ(sloppy.properties.size(), 2u);
  EXPECT_EQ(sloppy.properties[1].name.name, "sloppy_quorum");
  auto bad = ParseStatement(
      "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3} "
      "AND sloppy_quorum = 'yes'");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("sloppy_quorum must be true or false"), std::string::npos)
      << bad.error().ToString();
  auto drop = Parse<DropKeyspaceStmt>("DROP KEYSPACE IF EXISTS \"Ks\"");
  EXPECT_TRUE(drop.if_exists);
  EXPECT_EQ(drop.keyspace.name, "Ks");
  EXPECT_EQ(Parse<UseStmt>("USE Ks").keyspace.name, "ks");
}

TEST(ParserTest, Tables) {
  auto t = Parse<CreateTableStmt>(
      "CREATE TABLE IF NOT EXISTS ks.events (\n"
      "  a text, b int, c timestamp, d double, tags set<text>, m map<text, double>,\n"
      "  PRIMARY KEY ((a, b), c, d)\n"
      ") WITH conflict_mode = 'lww' AND default_time_to_live = 3600\n"
      "  AND CLUSTERING ORDER BY (c DESC) AND comment = 'x'");
  EXPECT_TRUE(t.if_not_exists);
  ASSERT_EQ(t.columns.size(), 6u);
  EXPECT_EQ(t.columns[5].type.ToCql(), "map<text, double>");
  ASSERT_EQ(t.partition_key.size(), 2u);
  EXPECT_EQ(t.partition_key[1].name, "b");
  ASSERT_EQ(t.clustering_key.size(), 2u);
  ASSERT_EQ(t.clustering_order.size(), 2u);
  EXPECT_TRUE(t.clustering_order[0].descending);
  EXPECT_FALSE(t.clustering_order[1].descending);
  EXPECT_EQ(t.conflict_mode, ConflictMode::kLww);
  EXPECT_EQ(t.default_time_to_live_s, 3600);
  EXPECT_EQ(t.properties.size(), 3u);

  auto inline_key = Parse<CreateTableStmt>("CREATE TABLE docs (id text PRIMARY KEY, body varchar)");
  EXPECT_EQ(inline_key.partition_key[0].name, "id");
  EXPECT_EQ(inline_key.columns[1].type, Type::Scalar(Kind::kText));
  EXPECT_EQ(inline_key.conflict_mode, ConflictMode::kMerge);
  auto simple = Parse<CreateTableStmt>(
      "CREATE TABLE t (a int, b int, c list<int>, PRIMARY KEY (a, b)) WITH conflict_mode = "
      "'siblings'");
  EXPECT_EQ(simple.partition_key.size(), 1u);
  EXPECT_EQ(simple.clustering_key[0].name, "b");
  EXPECT_EQ(simple.conflict_mode, ConflictMode::kSiblings);
  EXPECT_TRUE(Parse<DropTableStmt>("DROP TABLE IF EXISTS ks.t").if_exists);
  EXPECT_EQ(Parse<TruncateStmt>("TRUNCATE TABLE t").table.name, "t");
  EXPECT_EQ(Parse<TruncateStmt>("truncate ks.t").table.keyspace, "ks");
}

TEST(ParserTest, Comments) {
  auto s = Parse<SelectStmt>("-- leading\nSELECT /* inline */ a // tail\nFROM t; -- after");
  EXPECT_EQ(s.selectors[0].column.pos, (SourcePos{2, 21}));
}

TEST(ParserTest, SyntaxErrorsPointAtTheToken) {
  ExpectError("SELECT * FORM t", 1, 10, "FORM", "expecting FROM");
  ExpectError("SELEC * FROM t", 1, 1, "SELEC", "expecting SELECT");
  ExpectError("SELECT * FROM t WHERE", 1, 22, "<EOF>", "column");
  ExpectError("SELECT * FROM t\nWHERE a = 1 LIMT 5", 2, 13, "LIMT", "LIMIT");
  ExpectError("INSERT INTO t (a, b) VALUES (1)", 1, 29, "(", "Unmatched", ErrorKind::kInvalid);
  ExpectError("INSERT INTO t (a) VALUES ('x", 1, 27, "'x", "unterminated string");
  ExpectError("UPDATE t SET a = b + 1 WHERE k = 1", 1, 18, "b", "", ErrorKind::kInvalid);
  ExpectError("UPDATE t SET a = 1", 1, 19, "<EOF>", "expecting WHERE");
  ExpectError("UPDATE t SET a = 1 WHERE k = 1 IF a = 2", 1, 32, "IF", "lightweight",
              ErrorKind::kInvalid);
  ExpectError("CREATE TABLE t (a int, b int)", 1, 14, "t", "No PRIMARY KEY", ErrorKind::kInvalid);
  ExpectError("CREATE TABLE t (a int PRIMARY KEY, b int PRIMARY KEY)", 1, 42, "PRIMARY",
              "Multiple PRIMARY KEYs", ErrorKind::kInvalid);
  ExpectError("CREATE TABLE t (a int, PRIMARY KEY (a, zz))", 1, 40, "zz", "Unknown definition",
              ErrorKind::kInvalid);
  ExpectError("CREATE TABLE t (a list<int> PRIMARY KEY)", 1, 17, "a", "collection",
              ErrorKind::kInvalid);
  ExpectError("CREATE TABLE t (a int PRIMARY KEY, b list<set<int>>)", 1, 43, "set", "nest",
              ErrorKind::kInvalid);
  ExpectError("CREATE TABLE t (a int PRIMARY KEY, a text)", 1, 36, "a", "Multiple definition",
              ErrorKind::kInvalid);
  ExpectError("CREATE TABLE t (a int PRIMARY KEY) WITH conflict_mode = 'newest'", 1, 57, "newest",
              "conflict_mode", ErrorKind::kInvalid);
  ExpectError("CREATE TABLE t (a int, b int, PRIMARY KEY (a, b)) WITH CLUSTERING ORDER BY (a DESC)",
              1, 77, "a", "clustering", ErrorKind::kInvalid);
  ExpectError("CREATE TABLE t (a varint PRIMARY KEY)", 1, 19, "varint", "not supported",
              ErrorKind::kInvalid);
  ExpectError("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy'}", 1, 39, "",
              "replication_factor", ErrorKind::kInvalid);
  ExpectError(
      "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
      "'replication_factor': 0}",
      1, 89, "0", "replication factor", ErrorKind::kInvalid);
  ExpectError("SELECT * FROM t; SELECT", 1, 18, "SELECT", "end of statement");
  ExpectError("INSERT INTO t (a) VALUES (1) USNG TTL 5", 1, 30, "USNG", "expecting USING or ';'");
  ExpectError("UPDATE t SET a = 1 WHERE k = 1 AN j = 2", 1, 32, "AN", "expecting AND or ';'");
  ExpectError("SELECT * FROM t WHERE a = 1 AND", 1, 32, "<EOF>", "column");
  ExpectError("SELECT * FROM select", 1, 15, "select", "table name");
  ExpectError("DROP t", 1, 6, "t", "KEYSPACE or TABLE");
  ExpectError("SELECT * FROM t WHERE a = [1, 2", 1, 32, "<EOF>", "']'");
  ExpectError("SELECT * FROM t WHERE a = \xe2\x82\xac", 1, 27, "\xe2\x82\xac",
              "unexpected character");
}

TEST(ParserTest, ConvertTermTypesLiterals) {
  auto values =
      Parse<InsertStmt>(
          "INSERT INTO t (a,b,c,d,e,f,g,h,i,j,k) VALUES (42, 3000000000, 1.5, 7, '2026-11-24', "
          "'2026-11-24T10:00:00.123Z', 1795514400123, {3, 1, 3}, {'b': 2, 'a': 1, 'b': 3}, "
          "'01234567-89ab-cdef-0123-456789abcdef', {})")
          .values;
  EXPECT_EQ(*Convert(values[0], Type::Scalar(Kind::kInt)), Value::Int(42));
  EXPECT_EQ(*Convert(values[1], Type::Scalar(Kind::kBigint)), Value::Bigint(3000000000));
  EXPECT_EQ(*Convert(values[2], Type::Scalar(Kind::kDouble)), Value::Double(1.5));
  EXPECT_EQ(*Convert(values[3], Type::Scalar(Kind::kDouble)), Value::Double(7));
  EXPECT_EQ(*Convert(values[4], Type::Scalar(Kind::kTimestamp)), Value::Timestamp(1795478400000));
  EXPECT_EQ(*Convert(values[5], Type::Scalar(Kind::kTimestamp)), Value::Timestamp(1795514400123));
  EXPECT_EQ(*Convert(values[6], Type::Scalar(Kind::kTimestamp)), Value::Timestamp(1795514400123));
  Type set_int{Kind::kSet, {Type::Scalar(Kind::kInt)}};
  EXPECT_EQ(Convert(values[7], set_int)->ToLiteral(), "{1, 3}");
  Type map_text_int{Kind::kMap, {Type::Scalar(Kind::kText), Type::Scalar(Kind::kInt)}};
  EXPECT_EQ(Convert(values[8], map_text_int)->ToLiteral(), "{'a': 1, 'b': 3}");
  EXPECT_EQ(Convert(values[9], Type::Scalar(Kind::kUuid))->ToDisplay(),
            "01234567-89ab-cdef-0123-456789abcdef");
  EXPECT_EQ(Convert(values[10], map_text_int)->ToLiteral(), "{}");

  // Binds: int from a bigint value in range; float rounding.
  Term bind;
  bind.kind = Term::Kind::kBind;
  bind.bind_index = 0;
  EXPECT_EQ(*Convert(bind, Type::Scalar(Kind::kInt), {Value::Bigint(5)}), Value::Int(5));
  EXPECT_FALSE(ConvertTerm(bind, Type::Scalar(Kind::kInt), {Value::Bigint(1LL << 40)}).ok());
  EXPECT_FALSE(ConvertTerm(bind, Type::Scalar(Kind::kInt), {}).ok());
  EXPECT_FALSE(ConvertTerm(bind, Type::Scalar(Kind::kInt), {Value::Text("x")}).ok());

  // now() and uuid() through an injected context.
  ConvertContext ctx{[] { return int64_t{77}; }, [] { return Uuid{std::string(16, 'u')}; }};
  auto fn = Parse<InsertStmt>("INSERT INTO t (a, b, c) VALUES (now(), toTimestamp(now()), uuid())")
                .values;
  EXPECT_EQ(*ConvertTerm(fn[0], Type::Scalar(Kind::kTimestamp), {}, "a", &ctx).value(),
            Value::Timestamp(77));
  EXPECT_EQ(*ConvertTerm(fn[1], Type::Scalar(Kind::kTimestamp), {}, "b", &ctx).value(),
            Value::Timestamp(77));
  EXPECT_EQ(
      std::get<Uuid>(ConvertTerm(fn[2], Type::Scalar(Kind::kUuid), {}, "c", &ctx).value()->data)
          .bytes,
      std::string(16, 'u'));
}

TEST(ParserTest, ConvertTermErrorsPointAtTheLiteral) {
  auto values =
      Parse<InsertStmt>(
          "INSERT INTO t (a, b, c, d, e) VALUES (3000000000, 'abc', '2026-13-01', [null], "
          "99999999999999999999)")
          .values;
  auto e0 = ConvertTerm(values[0], Type::Scalar(Kind::kInt), {}, "score");
  ASSERT_FALSE(e0.ok());
  EXPECT_EQ(e0.error().message, "Invalid INTEGER constant (3000000000) for \"score\" of type int");
  EXPECT_EQ(e0.error().column, 39);
  auto e1 = ConvertTerm(values[1], Type::Scalar(Kind::kInt), {}, "score");
  ASSERT_FALSE(e1.ok());
  EXPECT_EQ(e1.error().message, "Invalid STRING constant (abc) for \"score\" of type int");
  EXPECT_EQ(e1.error().column, 51);
  EXPECT_EQ(e1.error().near, "'abc'");
  EXPECT_FALSE(ConvertTerm(values[2], Type::Scalar(Kind::kTimestamp), {}).ok());
  Type list_int{Kind::kList, {Type::Scalar(Kind::kInt)}};
  auto e3 = ConvertTerm(values[3], list_int, {});
  ASSERT_FALSE(e3.ok());
  EXPECT_NE(e3.error().message.find("null"), std::string::npos);
  EXPECT_FALSE(ConvertTerm(values[4], Type::Scalar(Kind::kBigint), {}).ok());
  EXPECT_FALSE(ConvertTerm(values[0], list_int, {}).ok());
  EXPECT_FALSE(ConvertTerm(values[1], Type::Scalar(Kind::kBlob), {}).ok());
}

TEST(ParserTest, CqlIdentQuotesWhenNeeded) {
  EXPECT_EQ(CqlIdent("docs"), "docs");
  EXPECT_EQ(CqlIdent("Docs"), "\"Docs\"");
  EXPECT_EQ(CqlIdent("select"), "\"select\"");
  EXPECT_EQ(CqlIdent("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(CqlIdent("1x"), "\"1x\"");
  for (std::string name : {"Docs", "select", "a\"b", "key", "x y"}) {
    auto r = ParseStatement("SELECT " + CqlIdent(name) + " FROM t");
    ASSERT_TRUE(r.ok()) << name;
    EXPECT_EQ(std::get<SelectStmt>(r->statement).selectors[0].column.name, name);
  }
}

TEST(ParserTest, UnsupportedFormsAreClearErrors) {
  ExpectError("INSERT INTO t (a) VALUES (1) IF NOT EXISTS", 1, 30, "IF", "lightweight",
              ErrorKind::kInvalid);
  ExpectError("DELETE FROM t WHERE a = 1 IF EXISTS", 1, 27, "IF", "lightweight",
              ErrorKind::kInvalid);
  ExpectError("DELETE FROM t USING TTL 5 WHERE a = 1", 1, 21, "TTL", "TIMESTAMP",
              ErrorKind::kInvalid);
  ExpectError("BEGIN COUNTER BATCH APPLY BATCH", 1, 7, "COUNTER", "counter", ErrorKind::kInvalid);
  ExpectError("BEGIN BATCH SELECT * FROM t; APPLY BATCH", 1, 13, "SELECT", "expecting INSERT");
  ExpectError("ALTER TABLE t ADD c int", 1, 1, "ALTER", "ALTER", ErrorKind::kInvalid);
  ExpectError("SELECT JSON * FROM t", 1, 8, "JSON", "JSON", ErrorKind::kInvalid);
  ExpectError("SELECT * FROM t WHERE tags CONTAINS 'x'", 1, 28, "CONTAINS", "CONTAINS",
              ErrorKind::kInvalid);
  ExpectError("SELECT * FROM t WHERE (a, b) > (1, 2)", 1, 23, "(", "multi-column",
              ErrorKind::kInvalid);
  ExpectError("SELECT * FROM t WHERE a IN ?", 1, 28, "?", "IN ?", ErrorKind::kInvalid);
  ExpectError("SELECT foo(a) FROM t", 1, 8, "foo", "unknown function", ErrorKind::kInvalid);
  ExpectError("CREATE TABLE t (a counter PRIMARY KEY)", 1, 19, "counter", "counters",
              ErrorKind::kInvalid);
  ExpectError("CREATE INDEX ON t (a)", 1, 8, "INDEX", "not supported", ErrorKind::kInvalid);
  ExpectError("UPDATE t USING TTL 1 AND TTL 2 SET a = 1 WHERE k = 1", 1, 26, "TTL", "twice",
              ErrorKind::kInvalid);
  // IN () is valid syntax (it selects nothing); count(1) is count(*).
  EXPECT_TRUE(Parse<SelectStmt>("SELECT * FROM t WHERE a IN ()").where[0].terms.empty());
  EXPECT_EQ(Parse<SelectStmt>("SELECT count(1) FROM t").selectors[0].kind,
            Selector::Kind::kCountStar);
}

TEST(ParserTest, TextMustBeUtf8) {
  auto values = Parse<InsertStmt>(
                    "INSERT INTO t (a, b, c) VALUES ('\xc3\xa9t\xc3\xa9', '\xff', "
                    "'\xed\xa0\x80')")
                    .values;
  EXPECT_TRUE(ConvertTerm(values[0], Type::Scalar(Kind::kText), {}).ok());
  EXPECT_FALSE(ConvertTerm(values[1], Type::Scalar(Kind::kText), {}).ok());
  EXPECT_FALSE(ConvertTerm(values[2], Type::Scalar(Kind::kText), {}).ok());  // a surrogate
}

TEST(ParserTest, TypeNames) {
  EXPECT_EQ(ParseTypeName("varchar"), Type::Scalar(Kind::kText));
  EXPECT_EQ(ParseTypeName("MAP<text, int>")->ToCql(), "map<text, int>");
  EXPECT_FALSE(ParseTypeName("list<list<int>>").has_value());
  EXPECT_FALSE(ParseTypeName("int, b int").has_value());
}

// Random token soup and random mutations of valid statements: never a crash or a hang, and an
// error always has a position inside the text.
TEST(ParserTest, GarbageNeverCrashes) {
  const std::vector<std::string> pieces = {
      "SELECT", "*",   "FROM", "t",     "WHERE",  "a",     "=",       "1",    "(",
      ")",      "[",   "]",    "{",     "}",      ",",     ";",       "'s'",  "?",
      "token",  "IN",  "AND",  "BEGIN", "BATCH",  "APPLY", "INSERT",  "INTO", "VALUES",
      "UPDATE", "SET", "+",    "-",     "CREATE", "TABLE", "PRIMARY", "KEY",  "map",
      "<",      ">",   "text", "'",     "\"",     "/*",    "--",      "$$",   "0x",
      "1e",     ":",   ".",    "now",   "DELETE", "USING", "TTL",     "\n"};
  std::mt19937 rng(11);
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    int n = static_cast<int>(rng() % 30);
    for (int k = 0; k < n; ++k) text += pieces[rng() % pieces.size()] + (rng() % 3 ? " " : "");
    auto r = ParseStatement(text);
    if (!r.ok() && r.error().line > 0) {
      EXPECT_GE(r.error().column, 1) << text;
    }
    (void)Session::IsComplete(text);
    (void)Session::SplitStatements(text);
  }
  // Deep nesting is refused, not recursed into.
  std::string deep = "INSERT INTO t (a) VALUES (" + std::string(100000, '[') + ")";
  auto r = ParseStatement(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested"), std::string::npos);
}

}  // namespace
}  // namespace ringkv::cql
