#include "tools/kvload/record_reader.h"

#include <cctype>
#include <cerrno>
#include <cstring>

namespace ringkv::kvload {

RecordReader::RecordReader(const std::string& path, Format format) : format_(format) {
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) error_ = std::strerror(errno);
}

RecordReader::~RecordReader() {
  if (file_ != nullptr) std::fclose(file_);
}

bool RecordReader::ReadLine(std::string* line, bool* too_long) {
  line->clear();
  *too_long = false;
  bool any = false;
  int c;
  while ((c = std::getc(file_)) != EOF) {
    any = true;
    ++bytes_read_;
    if (c == '\n') break;
    if (line->size() < kRecordBytesMax) {
      line->push_back(static_cast<char>(c));
    } else {
      *too_long = true;
    }
  }
  if (std::ferror(file_)) {
    error_ = std::strerror(errno);
    return false;
  }
  if (!any) return false;
  ++line_no_;
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

bool RecordReader::Next(Record* record) {
  if (file_ == nullptr) return false;
  if (format_ == Format::kCsv) return NextCsv(record);
  std::string line;
  bool too_long = false;
  while (ReadLine(&line, &too_long)) {
    if (!too_long && line.find_first_not_of(" \t") == std::string::npos) continue;
    record->status = too_long ? Record::Status::kTooLong : Record::Status::kOk;
    record->line = line_no_;
    record->text = std::move(line);
    record->fields.clear();
    record->quoted.clear();
    return true;
  }
  return false;
}

bool RecordReader::NextCsv(Record* record) {
  std::string line;
  bool too_long = false;
  while (ReadLine(&line, &too_long)) {
    if (!too_long && line.empty()) continue;  // blank lines between records
    record->line = line_no_;
    if (too_long) {
      record->status = Record::Status::kTooLong;
      record->text = std::move(line);
      record->fields.clear();
      return true;
    }
    struct Ctx {
      RecordReader* self;
      bool too_long = false;
    } ctx{this};
    auto next = [](void* arg, std::string* out) {
      auto* c = static_cast<Ctx*>(arg);
      bool tl = false;
      if (!c->self->ReadLine(out, &tl)) return false;
      c->too_long = c->too_long || tl;
      return true;
    };
    bool closed = SplitCsv(std::move(line), next, &ctx, record);
    if (ctx.too_long || record->text.size() > kRecordBytesMax) {
      record->status = Record::Status::kTooLong;
    } else {
      record->status = closed ? Record::Status::kOk : Record::Status::kUnterminatedQuote;
    }
    return true;
  }
  return false;
}

bool SplitCsv(std::string first_line, bool (*next_line)(void*, std::string*), void* arg,
              Record* record) {
  record->text = std::move(first_line);
  record->fields.assign(1, std::string());
  record->quoted.assign(1, false);
  bool in_quotes = false;
  bool after_quote = false;  // a quoted field has ended; only ',' may follow (anything else is
                             // kept, as most CSV writers' readers do)
  size_t i = 0;
  while (true) {
    if (i == record->text.size()) {
      if (!in_quotes) return true;
      std::string more;
      if (record->text.size() > kRecordBytesMax || !next_line(arg, &more)) return false;
      record->text.push_back('\n');
      record->text += more;
      record->fields.back().push_back('\n');
      ++i;
      continue;
    }
    char c = record->text[i++];
    std::string& field = record->fields.back();
    if (in_quotes) {
      if (c != '"') {
        field.push_back(c);
      } else if (i < record->text.size() && record->text[i] == '"') {
        field.push_back('"');
        ++i;
      } else {
        in_quotes = false;
        after_quote = true;
      }
    } else if (c == ',') {
      record->fields.emplace_back();
      record->quoted.push_back(false);
      after_quote = false;
    } else if (c == '"' && field.empty() && !after_quote) {
      in_quotes = true;
      record->quoted.back() = true;
    } else {
      field.push_back(c);
    }
  }
}

bool FormatFromPath(const std::string& path, Format* format) {
  auto dot = path.find_last_of('.');
  auto slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return false;
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == "jsonl" || ext == "json" || ext == "ndjson") {
    *format = Format::kJsonl;
    return true;
  }
  if (ext == "csv") {
    *format = Format::kCsv;
    return true;
  }
  return false;
}

}  // namespace ringkv::kvload
