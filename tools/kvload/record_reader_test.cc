#include "tools/kvload/record_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace ringkv::kvload {
namespace {

class TempFile {
 public:
  explicit TempFile(const std::string& contents, const std::string& ext) {
    path_ = "/tmp/kvload_reader_test_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter_++) + ext;
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

std::vector<Record> ReadAll(const std::string& contents, Format format) {
  TempFile file(contents, format == Format::kCsv ? ".csv" : ".jsonl");
  RecordReader reader(file.path(), format);
  EXPECT_TRUE(reader.ok());
  std::vector<Record> out;
  Record r;
  while (reader.Next(&r)) out.push_back(r);
  EXPECT_EQ(reader.bytes_read(), contents.size());
  return out;
}

TEST(RecordReaderTest, JsonlLinesWithNumbersSkippingBlankOnes) {
  auto records = ReadAll("{\"a\":1}\n\n  \n{\"a\":2}\r\nnot json", Format::kJsonl);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].line, 1u);
  EXPECT_EQ(records[1].line, 4u);
  EXPECT_EQ(records[1].text, "{\"a\":2}");  // CR dropped
  EXPECT_EQ(records[2].line, 5u);
  EXPECT_EQ(records[2].text, "not json");
}

TEST(RecordReaderTest, CsvQuotesCommasAndNewlinesInFields) {
  auto records =
      ReadAll("id,text,n\nd1,\"a, \"\"b\"\"\",3\nd2,\"two\nlines\",\n\nd3,,\"\"\n", Format::kCsv);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"id", "text", "n"}));
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"d1", "a, \"b\"", "3"}));
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_EQ(records[2].fields, (std::vector<std::string>{"d2", "two\nlines", ""}));
  EXPECT_EQ(records[2].line, 3u);
  EXPECT_EQ(records[3].line, 6u);  // after the two-line record and a blank line
  EXPECT_EQ(records[3].fields, (std::vector<std::string>{"d3", "", ""}));
  EXPECT_EQ(records[3].quoted, (std::vector<bool>{false, false, true}));
}

TEST(RecordReaderTest, CsvUnterminatedQuoteIsReported) {
  auto records = ReadAll("id,v\nd1,\"open\nmore\n", Format::kCsv);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].status, Record::Status::kUnterminatedQuote);
  EXPECT_EQ(records[1].line, 2u);
}

TEST(RecordReaderTest, FormatFromExtension) {
  Format f;
  ASSERT_TRUE(FormatFromPath("/x/docs.JSONL", &f));
  EXPECT_EQ(f, Format::kJsonl);
  ASSERT_TRUE(FormatFromPath("docs.csv", &f));
  EXPECT_EQ(f, Format::kCsv);
  EXPECT_FALSE(FormatFromPath("docs.txt", &f));
  EXPECT_FALSE(FormatFromPath("dir.csv/docs", &f));
}

TEST(RecordReaderTest, MissingFileIsNotOk) {
  RecordReader reader("/nonexistent/kvload/x.jsonl", Format::kJsonl);
  EXPECT_FALSE(reader.ok());
  EXPECT_FALSE(reader.error().empty());
}

}  // namespace
}  // namespace ringkv::kvload
