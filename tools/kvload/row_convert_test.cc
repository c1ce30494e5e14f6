#include "tools/kvload/row_convert.h"

#include <gtest/gtest.h>

#include "cql/parser.h"

namespace ringkv::kvload {
namespace {

using cql::Kind;
using cql::Type;
using cql::Value;

std::vector<TableColumn> DocsColumns() {
  return ColumnsWithKeys(
      {{"doc_id", Type::Scalar(Kind::kText)},
       {"lang", Type::Scalar(Kind::kText)},
       {"score", Type::Scalar(Kind::kDouble)},
       {"shard", Type::Scalar(Kind::kInt)},
       {"bands", Type{Kind::kList, {Type::Scalar(Kind::kText)}}},
       {"tags", Type{Kind::kSet, {Type::Scalar(Kind::kText)}}},
       {"quality", Type{Kind::kMap, {Type::Scalar(Kind::kText), Type::Scalar(Kind::kDouble)}}},
       {"counts", Type{Kind::kMap, {Type::Scalar(Kind::kInt), Type::Scalar(Kind::kInt)}}},
       {"updated", Type::Scalar(Kind::kTimestamp)}},
      "CREATE TABLE docs (doc_id text PRIMARY KEY, lang text, score double, shard int, "
      "bands list<text>, tags set<text>, quality map<text, double>, counts map<int, int>, "
      "updated timestamp)");
}

const std::optional<Value>* Cell(const RowConverter& c, const Row& row, const std::string& name) {
  for (const auto& [i, v] : row.cells) {
    if (c.columns()[i].name == name) return &v;
  }
  return nullptr;
}

TEST(RowConvertTest, KeysComeFromTheCreateStatement) {
  auto cols = DocsColumns();
  EXPECT_TRUE(cols[0].is_key);
  for (size_t i = 1; i < cols.size(); ++i) EXPECT_FALSE(cols[i].is_key) << cols[i].name;
  auto fallback = ColumnsWithKeys({{"a", Type::Scalar(Kind::kText)}, {"b", Type{}}}, "garbage");
  EXPECT_TRUE(fallback[0].is_key);
  EXPECT_FALSE(fallback[1].is_key);
}

TEST(RowConvertTest, JsonValuesOfEveryShape) {
  RowConverter c(DocsColumns(), false);
  Row row;
  std::string reason;
  nlohmann::json parsed;
  ASSERT_TRUE(c.FromJsonLine(
      R"({"doc_id":"d1","score":0.5,"shard":3,"bands":["b1","b0"],"tags":["x","a","x"],)"
      R"("quality":{"len":812,"sym":0.02},"counts":{"2":5},"updated":"2026-11-24 10:00:00","lang":null})",
      &row, &reason, &parsed))
      << reason;
  EXPECT_EQ((*Cell(c, row, "doc_id"))->ToLiteral(), "'d1'");
  EXPECT_EQ((*Cell(c, row, "shard"))->ToLiteral(), "3");
  EXPECT_EQ((*Cell(c, row, "bands"))->ToLiteral(), "['b1', 'b0']");
  EXPECT_EQ((*Cell(c, row, "tags"))->ToLiteral(), "{'a', 'x'}");  // a set: sorted, unique
  EXPECT_EQ((*Cell(c, row, "counts"))->ToLiteral(), "{2: 5}");
  EXPECT_FALSE(Cell(c, row, "lang")->has_value());  // null
  EXPECT_EQ(std::get<int64_t>((*Cell(c, row, "updated"))->data), 1795514400000);
}

TEST(RowConvertTest, JsonBadRowsSayWhy) {
  RowConverter c(DocsColumns(), false);
  Row row;
  std::string reason;
  nlohmann::json parsed;
  EXPECT_FALSE(c.FromJsonLine(R"({"doc_id":"d1","shard":"seven"})", &row, &reason, &parsed));
  EXPECT_NE(reason.find("shard"), std::string::npos) << reason;
  EXPECT_FALSE(c.FromJsonLine(R"({"lang":"en"})", &row, &reason, &parsed));
  EXPECT_EQ(reason, "missing key column 'doc_id'");
  EXPECT_FALSE(c.FromJsonLine(R"({"doc_id":"d1","colour":"red"})", &row, &reason, &parsed));
  EXPECT_EQ(reason, "unknown column 'colour'");
  EXPECT_FALSE(c.FromJsonLine(R"({"doc_id":"d1",)", &row, &reason, &parsed));
  EXPECT_EQ(reason, "malformed JSON");
  EXPECT_TRUE(parsed.is_null());
  EXPECT_FALSE(c.FromJsonLine(R"({"doc_id":"d1","shard":3000000000})", &row, &reason, &parsed));
  EXPECT_FALSE(c.FromJsonLine(R"({"doc_id":null})", &row, &reason, &parsed));
  EXPECT_EQ(reason, "key column 'doc_id' is null");
  EXPECT_FALSE(c.FromJsonLine(R"([1,2])", &row, &reason, &parsed));

  RowConverter lenient(DocsColumns(), true);
  EXPECT_TRUE(lenient.FromJsonLine(R"({"doc_id":"d1","colour":"red"})", &row, &reason, &parsed));
  EXPECT_EQ(row.cells.size(), 1u);
}

TEST(RowConvertTest, CsvFieldsAreLiteralsOfTheColumnType) {
  RowConverter c(DocsColumns(), false);
  std::vector<std::optional<size_t>> mapping;
  std::string reason;
  ASSERT_TRUE(c.BindCsvHeader({"doc_id", "lang", "shard", "quality", "updated", "tags"}, &mapping,
                              &reason))
      << reason;
  Row row;
  ASSERT_TRUE(c.FromCsv(mapping,
                        {"d1", "it's en", "7", "{'len': 812.0}", "2026-11-24 10:00:00", ""},
                        {false, false, false, true, false, false}, &row, &reason))
      << reason;
  EXPECT_EQ((*Cell(c, row, "lang"))->ToLiteral(), "'it''s en'");
  EXPECT_EQ((*Cell(c, row, "shard"))->ToLiteral(), "7");
  EXPECT_EQ((*Cell(c, row, "quality"))->ToLiteral(), "{'len': 812.0}");
  EXPECT_FALSE(Cell(c, row, "tags")->has_value());

  EXPECT_FALSE(c.FromCsv(mapping, {"d1", "en", "x", "", "", ""}, {}, &row, &reason));
  EXPECT_NE(reason.find("shard"), std::string::npos) << reason;
  EXPECT_FALSE(c.FromCsv(mapping, {"d1", "en"}, {}, &row, &reason));
  EXPECT_EQ(reason, "2 fields where the header has 6");
  EXPECT_FALSE(c.FromCsv(mapping, {"", "en", "1", "", "", ""}, {}, &row, &reason));
  EXPECT_EQ(reason, "key column 'doc_id' is null");
  // A field may not smuggle in more than one literal.
  EXPECT_FALSE(c.FromCsv(mapping, {"d1", "en", "1) USING TTL 5 --", "", "", ""}, {}, &row, &reason));

  EXPECT_FALSE(c.BindCsvHeader({"lang"}, &mapping, &reason));
  EXPECT_EQ(reason, "the CSV header lacks key column 'doc_id'");
  EXPECT_FALSE(c.BindCsvHeader({"doc_id", "nope"}, &mapping, &reason));
  EXPECT_FALSE(c.BindCsvHeader({"doc_id", "DOC_ID"}, &mapping, &reason));
}

}  // namespace
}  // namespace ringkv::kvload
