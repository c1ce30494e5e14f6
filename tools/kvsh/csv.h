// CSV as COPY reads and writes it (RFC 4180 with cqlsh's options): a configurable delimiter and
// quote character; a quoted field may hold the delimiter, newlines and doubled quotes. A field
// remembers whether it was quoted, so that an unquoted empty field can mean null while "" is the
// empty string (COPY's NULL option).
//
// Thread safety: a CsvReader is used by one thread at a time; the functions are pure.
// Lifetime: the stream passed to CsvReader must outlive it.
#ifndef RINGKV_TOOLS_KVSH_CSV_H_
#define RINGKV_TOOLS_KVSH_CSV_H_

#include <cstddef>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace ringkv::kvsh {

struct CsvField {
  std::string text;
  bool quoted = false;
};

struct CsvDialect {
  char delimiter = ',';
  char quote = '"';
};

// A record larger than this is an error rather than an unbounded allocation (a missing closing
// quote would otherwise swallow the rest of the file).
inline constexpr size_t kCsvRecordBytesMax = 16 << 20;
inline constexpr size_t kCsvFieldsMax = 4096;

class CsvReader {
 public:
  CsvReader(std::istream& in, CsvDialect dialect) : in_(in), dialect_(dialect) {}

  enum class Status { kRecord, kEnd, kError };
  // Reads the next record into `*fields`. kEnd at end of input; kError with error() set on a
  // malformed record (unterminated quote, text after a closing quote, over a limit). After an
  // error the reader has skipped to the end of the bad line and may go on.
  Status Next(std::vector<CsvField>* fields);
  const std::string& error() const { return error_; }
  // 1-based line on which the last record started.
  size_t record_line() const { return record_line_; }

 private:
  std::istream& in_;
  CsvDialect dialect_;
  std::string error_;
  size_t line_ = 1;
  size_t record_line_ = 0;
};

// One field as written to a CSV file: quoted when it holds the delimiter, the quote, a newline,
// leading or trailing spaces, or when it is not null but reads like the null string.
std::string CsvQuote(std::string_view text, const CsvDialect& dialect, bool force_quote = false);
// A whole record (without the trailing newline).
std::string CsvRecord(const std::vector<std::string>& fields, const CsvDialect& dialect);

}  // namespace ringkv::kvsh

#endif  // RINGKV_TOOLS_KVSH_CSV_H_
