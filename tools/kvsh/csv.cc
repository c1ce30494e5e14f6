#include "tools/kvsh/csv.h"

namespace ringkv::kvsh {

CsvReader::Status CsvReader::Next(std::vector<CsvField>* fields) {
  fields->clear();
  error_.clear();
  int c = in_.get();
  // Skip blank lines between records, as cqlsh does.
  while (c == '\n' || c == '\r') {
    if (c == '\n') ++line_;
    c = in_.get();
  }
  if (c == EOF) return Status::kEnd;
  record_line_ = line_;
  size_t bytes = 0;
  CsvField field;
  auto fail = [&](std::string message) {
    error_ = std::move(message);
    // Skip the rest of the physical line so that the caller can go on with the next record.
    while (c != EOF && c != '\n') c = in_.get();
    if (c == '\n') ++line_;
    fields->clear();
    return Status::kError;
  };
  for (;;) {
    // Start of a field.
    if (c == dialect_.quote) {
      field.quoted = true;
      for (;;) {
        c = in_.get();
        if (c == EOF) return fail("unterminated quoted field");
        if (c == dialect_.quote) {
          int next = in_.peek();
          if (next == dialect_.quote) {
            in_.get();
            field.text.push_back(dialect_.quote);
            continue;
          }
          c = in_.get();
          break;
        }
        if (c == '\n') ++line_;
        field.text.push_back(static_cast<char>(c));
        if (++bytes > kCsvRecordBytesMax) return fail("record larger than 16 MiB");
      }
      if (c == '\r' && in_.peek() == '\n') c = in_.get();
      if (c != dialect_.delimiter && c != '\n' && c != EOF) {
        return fail("unexpected character after a closing quote");
      }
    } else {
      while (c != dialect_.delimiter && c != '\n' && c != EOF) {
        if (c == '\r' && (in_.peek() == '\n' || in_.peek() == EOF)) {
          c = in_.get();
          continue;
        }
        field.text.push_back(static_cast<char>(c));
        if (++bytes > kCsvRecordBytesMax) return fail("record larger than 16 MiB");
        c = in_.get();
      }
    }
    fields->push_back(std::move(field));
    field = CsvField{};
    if (fields->size() > kCsvFieldsMax) return fail("more than 4096 fields");
    if (c == dialect_.delimiter) {
      c = in_.get();
      continue;
    }
    if (c == '\n') ++line_;
    return Status::kRecord;
  }
}

std::string CsvQuote(std::string_view text, const CsvDialect& dialect, bool force_quote) {
  bool quote = force_quote || text.empty();
  if (!quote) {
    for (char c : text) {
      if (c == dialect.delimiter || c == dialect.quote || c == '\n' || c == '\r') {
        quote = true;
        break;
      }
    }
    if (text.front() == ' ' || text.back() == ' ') quote = true;
  }
  if (!quote) return std::string(text);
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back(dialect.quote);
  for (char c : text) {
    if (c == dialect.quote) out.push_back(c);
    out.push_back(c);
  }
  out.push_back(dialect.quote);
  return out;
}

std::string CsvRecord(const std::vector<std::string>& fields, const CsvDialect& dialect) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(dialect.delimiter);
    out += fields[i];
  }
  return out;
}

}  // namespace ringkv::kvsh
