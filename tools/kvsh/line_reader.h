// Where the interactive shell gets its lines: an abstract reader so the REPL loop runs in tests
// on scripted input, and on a terminal through libedit (EditLineReader: editing, history,
// completion, Ctrl-C).
//
// Thread safety: one thread.
#ifndef RINGKV_TOOLS_KVSH_LINE_READER_H_
#define RINGKV_TOOLS_KVSH_LINE_READER_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ringkv::kvsh {

struct ReadResult {
  enum Kind { kLine, kEof, kInterrupted } kind = kEof;
  std::string line;  // kLine: without the newline
};

class LineReader {
 public:
  virtual ~LineReader() = default;
  // Shows `prompt` (if the reader shows prompts) and reads one line.
  virtual ReadResult Read(std::string_view prompt) = 0;
  // Adds a complete statement to the history (and its file, if any).
  virtual void AddHistory(std::string_view entry) {}
  // The text typed so far in the current statement, before the line being edited: completion
  // needs the whole statement. Set by the shell before each Read.
  void set_pending(std::string pending) { pending_ = std::move(pending); }

 protected:
  std::string pending_;
};

// Lines from a stream, no prompts (kvsh < file, tests).
class StreamLineReader : public LineReader {
 public:
  explicit StreamLineReader(std::istream& in) : in_(in) {}  // `in` must outlive the reader
  ReadResult Read(std::string_view prompt) override;

 private:
  std::istream& in_;
};

// Scripted lines for tests: each Read takes the next one and records the prompt it was given.
// kInterrupted entries are written as "\x03" (Ctrl-C).
class ScriptedLineReader : public LineReader {
 public:
  explicit ScriptedLineReader(std::vector<std::string> lines) : lines_(lines.begin(), lines.end()) {}
  ReadResult Read(std::string_view prompt) override;
  void AddHistory(std::string_view entry) override { history_.emplace_back(entry); }
  const std::vector<std::string>& prompts() const { return prompts_; }
  const std::vector<std::string>& history() const { return history_; }

 private:
  std::deque<std::string> lines_;
  std::vector<std::string> prompts_, history_;
};

// libedit on the terminal (stdin / stdout): emacs key bindings, history kept in `history_file`
// (loaded at start, appended as statements complete; at most kHistoryMax entries), Tab calls
// `complete` with the statement typed so far (pending lines and the current line up to the
// cursor), Ctrl-C abandons the current line (kInterrupted), Ctrl-D on an empty line is kEof.
// At most one EditLineReader exists at a time (libedit's callbacks reach it through a static).
class EditLineReader : public LineReader {
 public:
  static constexpr int kHistoryMax = 1000;
  using Completer = std::function<std::vector<std::string>(std::string_view text)>;
  EditLineReader(const char* argv0, std::string history_file, Completer complete);
  ~EditLineReader() override;
  ReadResult Read(std::string_view prompt) override;
  void AddHistory(std::string_view entry) override;

  struct State;  // libedit's handles; public only so that its callbacks can name it

 private:
  std::unique_ptr<State> state_;
};

}  // namespace ringkv::kvsh

#endif  // RINGKV_TOOLS_KVSH_LINE_READER_H_
