#include "tools/kvsh/csv.h"

#include <sstream>

#include <gtest/gtest.h>

namespace ringkv::kvsh {
namespace {

std::vector<std::vector<CsvField>> ReadAll(const std::string& text, CsvDialect d = {}) {
  std::istringstream in(text);
  CsvReader reader(in, d);
  std::vector<std::vector<CsvField>> out;
  std::vector<CsvField> fields;
  while (reader.Next(&fields) == CsvReader::Status::kRecord) out.push_back(fields);
  return out;
}

TEST(CsvTest, PlainAndQuotedFields) {
  auto rows = ReadAll("a,b,c\n1,\"x, y\",\"say \"\"hi\"\"\"\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][2].text, "c");
  EXPECT_EQ(rows[1][1].text, "x, y");
  EXPECT_TRUE(rows[1][1].quoted);
  EXPECT_EQ(rows[1][2].text, "say \"hi\"");
}

TEST(CsvTest, EmbeddedNewlineAndCrlf) {
  auto rows = ReadAll("1,\"two\nlines\"\r\n2,z\r\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][1].text, "two\nlines");
  EXPECT_EQ(rows[1][1].text, "z");
}

TEST(CsvTest, EmptyUnquotedVersusQuoted) {
  auto rows = ReadAll("1,,\"\"\n");
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].size(), 3u);
  EXPECT_FALSE(rows[0][1].quoted);
  EXPECT_TRUE(rows[0][2].quoted);
  EXPECT_EQ(rows[0][2].text, "");
}

TEST(CsvTest, OtherDelimiterAndMissingFinalNewline) {
  CsvDialect d;
  d.delimiter = '|';
  auto rows = ReadAll("a|b,c\nd|e", d);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][1].text, "b,c");
  EXPECT_EQ(rows[1][1].text, "e");
}

TEST(CsvTest, UnterminatedQuoteIsAnError) {
  std::istringstream in("1,\"open\n");
  CsvReader reader(in, {});
  std::vector<CsvField> fields;
  EXPECT_EQ(reader.Next(&fields), CsvReader::Status::kError);
  EXPECT_NE(reader.error().find("unterminated"), std::string::npos);
}

TEST(CsvTest, ErrorSkipsTheBadLineAndGoesOn) {
  std::istringstream in("1,\"a\"x,3\n4,5\n");
  CsvReader reader(in, {});
  std::vector<CsvField> fields;
  EXPECT_EQ(reader.Next(&fields), CsvReader::Status::kError);
  ASSERT_EQ(reader.Next(&fields), CsvReader::Status::kRecord);
  EXPECT_EQ(fields[0].text, "4");
  EXPECT_EQ(reader.record_line(), 2u);
}

TEST(CsvTest, QuoteRoundTrips) {
  CsvDialect d;
  const std::vector<std::string> texts = {"plain", "a,b", "q\"uote", "new\nline", " pad", ""};
  std::vector<std::string> quoted;
  for (const auto& t : texts) quoted.push_back(CsvQuote(t, d));
  EXPECT_EQ(quoted[0], "plain");
  EXPECT_EQ(quoted[2], "\"q\"\"uote\"");
  EXPECT_EQ(quoted[5], "\"\"");
  auto rows = ReadAll(CsvRecord(quoted, d) + "\n");
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(rows[0][i].text, texts[i]) << i;
}

}  // namespace
}  // namespace ringkv::kvsh
