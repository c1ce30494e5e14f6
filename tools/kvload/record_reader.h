// RecordReader: the records of one input file of kvload, one at a time, with the line each starts
// on and how many bytes of the file have been read (for the progress bar's ETA).
//
//   JSONL: one record per line; blank lines are skipped. The record is the line's text; parsing
//          it is the converter's job, so a malformed line is a bad row, not a read error.
//   CSV:   RFC 4180: fields separated by ',', a field in double quotes may hold ',', newlines and
//          "" for a quote; CRLF or LF line ends. The first record is the header. A record that
//          spans several lines reports the line it starts on.
//
// Limits: a record longer than kRecordBytesMax is reported as an error record (kTooLong) and
// skipped to its end, so a file without newlines cannot exhaust memory.
//
// Thread safety: none; one reader per thread. Owns its file.
#ifndef RINGKV_TOOLS_KVLOAD_RECORD_READER_H_
#define RINGKV_TOOLS_KVLOAD_RECORD_READER_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace ringkv::kvload {

enum class Format : uint8_t { kJsonl, kCsv };

inline constexpr size_t kRecordBytesMax = 16 << 20;

struct Record {
  enum class Status : uint8_t { kOk, kTooLong, kUnterminatedQuote };
  Status status = Status::kOk;
  uint64_t line = 0;                // 1-based line the record starts on
  std::string text;                 // the record as it stands in the file (without its line end)
  std::vector<std::string> fields;  // CSV: the fields, unquoted; JSONL: empty
  std::vector<bool> quoted;         // CSV: whether each field was quoted
};

class RecordReader {
 public:
  // Opens `path`; ok() says whether that worked (error() says why if not).
  RecordReader(const std::string& path, Format format);
  ~RecordReader();
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  bool ok() const { return file_ != nullptr; }
  const std::string& error() const { return error_; }
  // The next record; false at the end of the file (or after a read error: see error()).
  bool Next(Record* record);
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  // Reads one physical line into *line without its end; false at end of file. Lines longer than
  // kRecordBytesMax are cut there (*too_long), the rest of the line consumed.
  bool ReadLine(std::string* line, bool* too_long);
  bool NextCsv(Record* record);

  std::FILE* file_ = nullptr;
  Format format_;
  std::string error_;
  uint64_t line_no_ = 0;
  uint64_t bytes_read_ = 0;
};

// Splits one CSV physical line, continuing into `more` lines while a quote is open. Exposed for
// tests: `next_line` supplies the following lines (false: none left). Returns false if the file
// ends inside a quote.
bool SplitCsv(std::string first_line, bool (*next_line)(void*, std::string*), void* arg,
              Record* record);

// "jsonl"/"json"/"ndjson" -> kJsonl, "csv" -> kCsv, from a file name's extension.
bool FormatFromPath(const std::string& path, Format* format);

}  // namespace ringkv::kvload

#endif  // RINGKV_TOOLS_KVLOAD_RECORD_READER_H_
