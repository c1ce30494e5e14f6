// The shell: runs statements and kvsh's own commands against a Backend and prints what cqlsh
// would. Three ways in: RunInteractive (prompts, continuation lines, history, paging with
// ---MORE---), RunScript for -e / -f / piped stdin (no prompts; -e stops at the first error, the
// others go on), and SOURCE from either.
//
// Exit codes as cqlsh: 0, or 2 if a statement failed (1, connection errors, is main's).
//
// Thread safety: one thread. Lifetime: the Backend and the streams must outlive the Shell.
#ifndef RINGKV_TOOLS_KVSH_SHELL_H_
#define RINGKV_TOOLS_KVSH_SHELL_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "tools/kvsh/backend.h"
#include "tools/kvsh/command.h"
#include "tools/kvsh/line_reader.h"

namespace ringkv::kvsh {

struct ShellOptions {
  bool interactive = false;    // prompts and paging
  uint32_t page_size = 100;    // PAGING's default
  // Wall clock in milliseconds, for trace timestamps (injected for tests).
  std::function<int64_t()> now_ms;
};

class Shell {
 public:
  Shell(Backend& backend, ShellOptions options, std::ostream& out, std::ostream& err);

  // Reads statements from `reader` until EOF or EXIT. Returns the exit code (0: errors in an
  // interactive session are shown, not counted).
  int RunInteractive(LineReader& reader);
  // Runs every statement of `script`. `source` names it in error messages ("<stdin>", a file
  // name; empty for -e, which then stops at the first error). Returns 0 or 2.
  int RunScript(std::string_view script, const std::string& source);

  // "kvsh> " or "kvsh:ks> ".
  std::string Prompt() const;
  static constexpr const char* kContinuationPrompt = "   ... ";

  bool exit_requested() const { return exit_requested_; }
  bool expand() const { return expand_; }
  bool paging() const { return paging_; }
  uint32_t page_size() const { return page_size_; }

 private:
  // Runs one statement (or shell command); false if it failed. `first_line`: where it starts in
  // `source`, for error messages.
  bool RunOne(const std::string& statement, const std::string& source, int first_line);
  bool RunCommand(const Command& command, const std::string& source);
  bool RunCql(const std::string& statement, const std::string& source, int first_line);
  void PrintError(const cql::CqlError& error, const std::string& statement,
                  const std::string& source, int first_line);
  // Prints a result, fetching and showing further pages as paging says.
  bool PrintResult(cql::ResultSet& result, const std::string& statement, int64_t start_ms,
                   const std::string& source, int first_line);
  void PrintRows(const cql::ResultSet& result, size_t first_row);
  void Describe(const Command& command, bool* ok);
  void Help(const std::string& topic);
  int64_t NowMs() const;

  Backend& backend_;
  ShellOptions options_;
  std::ostream& out_;
  std::ostream& err_;
  LineReader* reader_ = nullptr;  // while RunInteractive runs: for ---MORE---
  bool expand_ = false;
  bool paging_ = false;
  uint32_t page_size_ = 100;
  bool exit_requested_ = false;
  int source_depth_ = 0;
};

}  // namespace ringkv::kvsh

#endif  // RINGKV_TOOLS_KVSH_SHELL_H_
