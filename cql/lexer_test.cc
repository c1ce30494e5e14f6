#include "cql/lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cql/parser.h"
#include "cql/session.h"

namespace ringkv::cql {
namespace {

std::vector<Token> Lex(std::string_view text) {
  Lexer lexer(text);
  std::vector<Token> out;
  for (int i = 0; i < 1000; ++i) {
    Token t = lexer.Next();
    if (t.kind == TokenKind::kEnd) break;
    out.push_back(std::move(t));
  }
  return out;
}

TEST(LexerTest, TokenKindsAndPositions) {
  auto t =
      Lex("SELECT \"Name\", x_1 FROM ks.t -- comment\n WHERE a >= 1.5e3 /* c */ AND b != 'it''s'");
  ASSERT_EQ(t.size(), 16u);
  EXPECT_TRUE(t[0].IsKeyword("select"));
  EXPECT_EQ(t[0].raw, "SELECT");
  EXPECT_EQ(t[1].kind, TokenKind::kQuotedIdent);
  EXPECT_EQ(t[1].text, "Name");
  EXPECT_EQ(t[3].text, "x_1");
  EXPECT_TRUE(t[6].IsSymbol("."));
  EXPECT_TRUE(t[8].IsKeyword("where"));
  EXPECT_EQ(t[8].pos, (SourcePos{2, 2}));
  EXPECT_TRUE(t[10].IsSymbol(">="));
  EXPECT_EQ(t[11].kind, TokenKind::kFloat);
  EXPECT_TRUE(t[14].IsSymbol("!="));
  EXPECT_EQ(t[15].kind, TokenKind::kString);
  EXPECT_EQ(t[15].text, "it's");
}

TEST(LexerTest, Literals) {
  auto t = Lex("0xCAfe 42 .5 1e3 $$a'b$$ 01234567-89ab-cdef-0123-456789ABCDEF deadbeef 7 ?");
  ASSERT_EQ(t.size(), 9u);
  EXPECT_EQ(t[0].kind, TokenKind::kBlob);
  EXPECT_EQ(t[0].text, "\xca\xfe");
  EXPECT_EQ(t[1].kind, TokenKind::kInteger);
  EXPECT_EQ(t[2].kind, TokenKind::kFloat);
  EXPECT_EQ(t[3].kind, TokenKind::kFloat);
  EXPECT_EQ(t[4].kind, TokenKind::kString);
  EXPECT_EQ(t[4].text, "a'b");
  EXPECT_EQ(t[5].kind, TokenKind::kUuid);
  EXPECT_EQ(t[6].kind, TokenKind::kIdent);
  EXPECT_TRUE(t[8].IsSymbol("?"));
}

TEST(LexerTest, ErrorsAreTokensAndLexingGoesOn) {
  auto t = Lex("a # b 0x1 'open");
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t[1].kind, TokenKind::kError);
  EXPECT_EQ(t[2].text, "b");
  EXPECT_EQ(t[3].kind, TokenKind::kError);  // odd hex digits
  EXPECT_EQ(t[4].kind, TokenKind::kError);
  EXPECT_TRUE(t[4].unterminated);
  auto c = Lex("a /* never closed");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_TRUE(c[1].unterminated);
}

TEST(SplitTest, StatementsCommentsQuotesBatches) {
  auto s = Session::SplitStatements(
      "USE ks; -- a comment; not a split\n"
      "INSERT INTO t (a) VALUES ('x;y');\n"
      "BEGIN BATCH\n  INSERT INTO t (a) VALUES ('1');\n  DELETE FROM t WHERE a = '2';\nAPPLY "
      "BATCH;\n"
      ";;\nCONSISTENCY QUORUM\nSELECT * FROM t /* ; */ WHERE a = 'z'");
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].first, "USE ks");
  EXPECT_EQ(s[0].second, 1);
  EXPECT_EQ(s[1].first, "INSERT INTO t (a) VALUES ('x;y')");
  EXPECT_EQ(s[1].second, 2);
  EXPECT_EQ(s[2].second, 3);
  EXPECT_NE(s[2].first.find("APPLY BATCH"), std::string::npos);
  EXPECT_EQ(s[3].first, "CONSISTENCY QUORUM");
  EXPECT_EQ(s[3].second, 8);
  EXPECT_EQ(s[4].first, "SELECT * FROM t /* ; */ WHERE a = 'z'");
  EXPECT_EQ(s[4].second, 9);
}

TEST(SplitTest, OnlyARealBatchHoldsSemicolons) {
  auto s = Session::SplitStatements(
      "BEGIN;\nSELECT 1;\nBEGIN UNLOGGED BATCH INSERT INTO t (a) VALUES (1); "
      "APPLY BATCH;\nUSE ks;");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].first, "BEGIN");
  EXPECT_EQ(s[2].first, "BEGIN UNLOGGED BATCH INSERT INTO t (a) VALUES (1); APPLY BATCH");
  EXPECT_EQ(s[3].first, "USE ks");
}

TEST(SplitTest, IsComplete) {
  EXPECT_TRUE(Session::IsComplete("SELECT * FROM t;"));
  EXPECT_TRUE(Session::IsComplete("SELECT * FROM t; -- done"));
  EXPECT_FALSE(Session::IsComplete("SELECT * FROM t"));
  EXPECT_FALSE(Session::IsComplete("INSERT INTO t (a) VALUES ('x;"));
  EXPECT_FALSE(Session::IsComplete("SELECT 1; /* open"));
  EXPECT_FALSE(Session::IsComplete("BEGIN BATCH INSERT INTO t (a) VALUES (1);"));
  EXPECT_TRUE(Session::IsComplete("BEGIN BATCH INSERT INTO t (a) VALUES (1); APPLY BATCH;"));
  EXPECT_TRUE(Session::IsComplete("consistency one"));
  EXPECT_FALSE(Session::IsComplete(""));
  EXPECT_FALSE(Session::IsComplete("  -- only a comment"));
}

TEST(CqlErrorTest, ParserErrorAsCqlshPrintsIt) {
  auto r = ParseStatement("SELECT * FORM t");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().column, 10);
  EXPECT_EQ(r.error().message, "mismatched input 'FORM' expecting FROM");
  EXPECT_EQ(r.error().ToString(), "line 1:9 mismatched input 'FORM' expecting FROM");
}

TEST(CqlErrorTest, ToStringAsCqlsh) {
  CqlError i{ErrorKind::kInvalid, "Undefined column name lnag", 1, 8, "lnag"};
  EXPECT_EQ(i.ToString(), "line 1:7 Undefined column name lnag");
  CqlError n{ErrorKind::kServer, "boom", 0, 0, ""};
  EXPECT_EQ(n.ToString(), "boom");
  auto lexical = ParseStatement("SELECT * FROM t WHERE a = 'open");
  ASSERT_FALSE(lexical.ok());
  EXPECT_EQ(lexical.error().ToString(), "line 1:26 unterminated string at input ''open'");
  auto eof = ParseStatement("SELECT * FROM");
  ASSERT_FALSE(eof.ok());
  EXPECT_EQ(eof.error().ToString(), "line 1:13 mismatched input '<EOF>' expecting a table name");
}

}  // namespace
}  // namespace ringkv::cql
