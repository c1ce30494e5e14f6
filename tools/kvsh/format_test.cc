#include "tools/kvsh/format.h"

#include "tools/kvsh/backend.h"

#include <gtest/gtest.h>

namespace ringkv::kvsh {
namespace {

TEST(FormatTest, TableLayoutAlignsNumbersRightTextLeft) {
  DisplayTable t;
  t.headers = {"id", "name"};
  t.right_align = {true, false};
  t.rows = {{"1", "alice"}, {"22", "null"}};
  EXPECT_EQ(FormatTable(t),
            "\n"
            " id | name  \n"
            "----+-------\n"
            "  1 | alice \n"
            " 22 | null  \n");
  EXPECT_EQ(RowCountLine(2), "\n(2 rows)\n");
}

TEST(FormatTest, EmptyResultStillHasHeader) {
  DisplayTable t;
  t.headers = {"k"};
  t.right_align = {false};
  EXPECT_EQ(FormatTable(t), "\n k \n---\n");
}

TEST(FormatTest, Expanded) {
  DisplayTable t;
  t.headers = {"k", "value"};
  t.right_align = {true, false};
  t.rows = {{"1", "a"}, {"2", "bbb"}};
  EXPECT_EQ(FormatExpanded(t),
            "\n@ Row 1\n-------+---\n k     | 1\n value | a\n"
            "\n@ Row 2\n-------+-----\n k     | 2\n value | bbb\n");
}

TEST(FormatTest, UnicodeWidths) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("h\xC3\xA9llo"), 5u);         // é
  EXPECT_EQ(DisplayWidth("\xE6\x97\xA5\xE6\x9C\xAC"), 4u);  // 日本
  EXPECT_EQ(DisplayWidth("e\xCC\x81"), 1u);              // e + combining acute
  DisplayTable t;
  t.headers = {"w"};
  t.right_align = {false};
  t.rows = {{"\xE6\x97\xA5"}, {"ab"}};
  EXPECT_EQ(FormatTable(t), "\n w  \n----\n \xE6\x97\xA5 \n ab \n");
}

TEST(FormatTest, ControlCharactersAreEscaped) {
  DisplayTable t;
  t.headers = {"v"};
  t.right_align = {false};
  t.rows = {{"a\nb"}};
  EXPECT_EQ(FormatTable(t), "\n v    \n------\n a\\nb \n");
}

TEST(FormatTest, ErrorLinesNameTheKind) {
  cql::CqlError syntax{cql::ErrorKind::kSyntax, "no viable alternative at input 'FORM'", 1, 10,
                       "FORM"};
  EXPECT_EQ(ErrorLine(syntax),
            "SyntaxException: line 1:9 no viable alternative at input 'FORM'");
  cql::CqlError invalid = MakeError(cql::ErrorKind::kInvalid, "Undefined column name lnag");
  EXPECT_EQ(ErrorLine(invalid),
            "InvalidRequest: Error from server: code=2200 [Invalid query] message=\"Undefined "
            "column name lnag\"");
  cql::CqlError unavailable = MakeError(cql::ErrorKind::kUnavailable, "needed 2, alive 1");
  EXPECT_EQ(ErrorLine(unavailable).rfind("Unavailable: Error from server: code=1000", 0), 0u);
}

TEST(FormatTest, CaretPointsAtTheToken) {
  cql::CqlError e{cql::ErrorKind::kSyntax, "x", 2, 3, "FORM"};
  EXPECT_EQ(Caret("SELECT *\n  FORM t", e), "  FORM t\n  ^~~~\n");
  cql::CqlError nowhere = MakeError(cql::ErrorKind::kInvalid, "x");
  EXPECT_EQ(Caret("SELECT 1", nowhere), "");
}

TEST(FormatTest, Traces) {
  TraceInfo t;
  t.coordinator = "n1";
  t.events = {{0, "", "received"}, {120, "n2", "n2 answered: 2 siblings"}};
  t.replicas_asked = {"n1", "n2"};
  t.replicas_answered = {"n2"};
  t.read_repaired = {"n1"};
  t.siblings = 2;
  t.duration_us = 250;
  const std::string s = FormatTraces({t}, {"merged 2 siblings cell by cell"}, 1'000);
  EXPECT_NE(s.find("Tracing session: request 1 of 1, coordinator n1"), std::string::npos) << s;
  EXPECT_NE(s.find(" activity "), std::string::npos) << s;
  EXPECT_NE(s.find("source_elapsed"), std::string::npos) << s;
  EXPECT_NE(s.find("n2 answered: 2 siblings | 1970-01-01 00:00:01.000120+0000 | n2"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("read repaired: n1"), std::string::npos) << s;
  EXPECT_NE(s.find("merged 2 siblings cell by cell"), std::string::npos) << s;
}

TEST(FormatTest, ConsistencyNames) {
  EXPECT_EQ(ConsistencyName(Consistency::kDefault), "QUORUM");
  EXPECT_EQ(ConsistencyName(Consistency::kOne), "ONE");
}

}  // namespace
}  // namespace ringkv::kvsh
