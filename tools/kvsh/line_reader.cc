#include "tools/kvsh/line_reader.h"

namespace ringkv::kvsh {

ReadResult StreamLineReader::Read(std::string_view) {
  ReadResult r;
  if (!std::getline(in_, r.line)) return r;  // kEof
  if (!r.line.empty() && r.line.back() == '\r') r.line.pop_back();
  r.kind = ReadResult::kLine;
  return r;
}

ReadResult ScriptedLineReader::Read(std::string_view prompt) {
  prompts_.emplace_back(prompt);
  ReadResult r;
  if (lines_.empty()) return r;
  r.line = std::move(lines_.front());
  lines_.pop_front();
  if (r.line == "\x03") {
    r.line.clear();
    r.kind = ReadResult::kInterrupted;
  } else {
    r.kind = ReadResult::kLine;
  }
  return r;
}

}  // namespace ringkv::kvsh
