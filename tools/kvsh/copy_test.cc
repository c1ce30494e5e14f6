#include "tools/kvsh/copy.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tools/kvsh/fake_backend.h"

namespace ringkv::kvsh {
namespace {

using cql::Kind;
using cql::Type;
using cql::Value;

cql::ColumnSpec Col(std::string name, Kind kind) { return {std::move(name), Type::Scalar(kind)}; }

std::optional<Value> Convert(const std::string& text, const cql::ColumnSpec& col,
                             bool quoted = false) {
  auto v = FieldToValue(CsvField{text, quoted}, col, "");
  EXPECT_TRUE(v.ok()) << text << ": " << v.error().message;
  return v.ok() ? v.value() : std::nullopt;
}

TEST(CopyFieldTest, Scalars) {
  EXPECT_EQ(*Convert("hello", Col("t", Kind::kText)), Value::Text("hello"));
  EXPECT_EQ(*Convert("", Col("t", Kind::kText), /*quoted=*/true), Value::Text(""));
  EXPECT_FALSE(Convert("", Col("t", Kind::kText)).has_value());  // unquoted empty: null
  EXPECT_EQ(std::get<int64_t>(Convert("-42", Col("i", Kind::kInt))->data), -42);
  EXPECT_EQ(std::get<double>(Convert("0.25", Col("d", Kind::kDouble))->data), 0.25);
  EXPECT_EQ(std::get<bool>(Convert("True", Col("b", Kind::kBoolean))->data), true);
  EXPECT_FALSE(FieldToValue(CsvField{"3000000000", false}, Col("i", Kind::kInt), "").ok());
  EXPECT_FALSE(FieldToValue(CsvField{"x1", false}, Col("d", Kind::kDouble), "").ok());
}

TEST(CopyFieldTest, NullString) {
  auto v = FieldToValue(CsvField{"NULL", false}, Col("t", Kind::kText), "NULL");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());
  auto quoted = FieldToValue(CsvField{"NULL", true}, Col("t", Kind::kText), "NULL");
  ASSERT_TRUE(quoted.ok());
  EXPECT_EQ(**quoted, Value::Text("NULL"));
}

TEST(CopyFieldTest, LiteralsRoundTripThroughTheParser) {
  // What ValueToField writes, FieldToValue reads back.
  const std::vector<Value> values = {
      Value::Blob(std::string("\x01\xff", 2)),
      Value::Timestamp(1'764'000'000'123),
      Value{Type{Kind::kList, {Type::Scalar(Kind::kText)}},
            cql::ValueList{Value::Text("a"), Value::Text("it's")}},
      Value{Type{Kind::kMap, {Type::Scalar(Kind::kText), Type::Scalar(Kind::kInt)}},
            cql::ValueMap{{Value::Text("k"), Value::Int(1)}}},
      Value::Double(0.1),
      Value{Type::Scalar(Kind::kFloat), static_cast<double>(1.1f)},
  };
  for (const Value& v : values) {
    const std::string field = ValueToField(v);
    auto back = FieldToValue(CsvField{field, false}, {"c", v.type}, "");
    ASSERT_TRUE(back.ok()) << field << ": " << back.error().message;
    ASSERT_TRUE(back->has_value()) << field;
    EXPECT_EQ(**back, v) << field;
  }
}

TEST(CopyOptionsTest, ParsesAndRejects) {
  CopySpec spec;
  spec.to = false;
  spec.options = {{"HEADER", "true"}, {"DELIMITER", "|"}, {"MAXBATCHSIZE", "5"},
                  {"MAXERRORS", "3"}, {"NUMPROCESSES", "4"}};
  CopyOptions o;
  EXPECT_FALSE(ParseCopyOptions(spec, &o));
  EXPECT_TRUE(o.header);
  EXPECT_EQ(o.dialect.delimiter, '|');
  EXPECT_EQ(o.max_batch_size, 5u);
  EXPECT_EQ(o.max_errors, 3);
  EXPECT_EQ(o.concurrency, 4u);
  spec.options = {{"BOGUS", "1"}};
  EXPECT_EQ(*ParseCopyOptions(spec, &o), "Unrecognized COPY FROM option: bogus");
  spec.options = {{"MAXBATCHSIZE", "0"}};
  EXPECT_TRUE(ParseCopyOptions(spec, &o));
}

class CopyRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.keyspace_ = "ks";
    backend_.columns["ks.t"] = {Col("k", Kind::kText), Col("n", Kind::kInt)};
    backend_.partition_keys["ks.t"] = {"k"};
    path_ = ::testing::TempDir() + "/kvsh_copy_test.csv";
  }
  FakeBackend backend_;
  std::string path_;
  std::ostringstream out_, err_;
};

TEST_F(CopyRunTest, ToQueriesEveryTokenRange) {
  cql::ResultSet a;
  a.columns = backend_.columns["ks.t"];
  a.rows = {{Value::Text("x,y"), Value::Int(1)}};
  cql::ResultSet b = a;
  b.rows = {{Value::Text("z"), std::nullopt}};
  backend_.ranges = {{INT64_MIN, 0}, {0, INT64_MAX}};
  backend_.answers["SELECT k, n FROM ks.t WHERE token(k) > -9223372036854775808 AND token(k) <= 0"] =
      {a};
  backend_.answers["SELECT k, n FROM ks.t WHERE token(k) > 0 AND token(k) <= 9223372036854775807"] =
      {b};
  CopySpec spec;
  spec.table = "t";
  spec.file = path_;
  spec.options = {{"HEADER", "true"}};
  CopyOutcome o = RunCopy(backend_, spec, out_, err_);
  ASSERT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.rows, 2u);
  std::ifstream in(path_);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), "k,n\n\"x,y\",1\nz,\n");
  EXPECT_EQ(o.Summary(true).rfind("2 rows exported to 1 files in ", 0), 0u);
}

TEST_F(CopyRunTest, FromBindsEachRowAndSkipsBadOnes) {
  {
    std::ofstream f(path_);
    f << "k,n\n\"a,1\",1\nb,notanumber\nc,\n";
  }
  CopySpec spec;
  spec.table = "t";
  spec.to = false;
  spec.file = path_;
  spec.options = {{"HEADER", "true"}, {"MAXBATCHSIZE", "1"}};
  CopyOutcome o = RunCopy(backend_, spec, out_, err_);
  ASSERT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.rows, 2u);
  EXPECT_EQ(o.skipped, 1u);
  ASSERT_EQ(backend_.calls.size(), 2u);
  EXPECT_EQ(backend_.calls[0].statement, "INSERT INTO ks.t (k, n) VALUES (?, ?)");
  EXPECT_EQ(backend_.calls[0].binds[0], Value::Text("a,1"));
  EXPECT_EQ(backend_.calls[1].statement, "INSERT INTO ks.t (k) VALUES (?)");  // null left out
  EXPECT_NE(err_.str().find("Failed to import 1 rows"), std::string::npos);
  EXPECT_EQ(o.Summary(false).rfind("2 rows imported from 1 files in ", 0), 0u);
  EXPECT_NE(o.Summary(false).find("(1 skipped)."), std::string::npos);
}

TEST_F(CopyRunTest, FromBatchesRows) {
  {
    std::ofstream f(path_);
    f << "a,1\nb,2\nc,3\n";
  }
  CopySpec spec;
  spec.table = "t";
  spec.to = false;
  spec.file = path_;
  spec.options = {{"MAXBATCHSIZE", "2"}};
  CopyOutcome o = RunCopy(backend_, spec, out_, err_);
  ASSERT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.rows, 3u);
  ASSERT_EQ(backend_.calls.size(), 2u);
  EXPECT_EQ(backend_.calls[0].statement.rfind("BEGIN UNLOGGED BATCH", 0), 0u);
  EXPECT_EQ(backend_.calls[0].binds.size(), 4u);
}

TEST_F(CopyRunTest, MaxErrorsStops) {
  {
    std::ofstream f(path_);
    f << "a,x\nb,y\nc,z\nd,4\n";
  }
  CopySpec spec;
  spec.table = "t";
  spec.to = false;
  spec.file = path_;
  spec.options = {{"MAXERRORS", "1"}};
  CopyOutcome o = RunCopy(backend_, spec, out_, err_);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.skipped, 2u);
  EXPECT_EQ(o.rows, 0u);
}

TEST(RangesTest, CoverTheRingOnce) {
  auto r = RangesFromTokens({50, -10, 50, 7});
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].start, INT64_MIN);
  EXPECT_EQ(r[0].end, -10);
  EXPECT_EQ(r[1].start, -10);
  EXPECT_EQ(r[3].end, INT64_MAX);
  EXPECT_EQ(RangesFromTokens({}).size(), 1u);
}

}  // namespace
}  // namespace ringkv::kvsh
