// Session::SplitStatements / Session::IsComplete (scripts and the shell's continuation prompt) and
// CqlError::ToString: the parts of session.h that need only the lexer.
#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cql/lexer.h"
#include "cql/session.h"

namespace ringkv::cql {
namespace {

// cqlsh's own commands: they end at the end of their line (a ';' is optional), as in cqlsh.
constexpr std::array<std::string_view, 19> kShellCommands = {
    "capture",  "clear", "cls",    "consistency", "copy",   "debug",  "desc",
    "describe", "exit",  "expand", "help",        "login",  "paging", "quit",
    "serial",   "show",  "source", "tracing",     "unicode"};

bool IsShellCommand(const Token& t) {
  return t.kind == TokenKind::kIdent &&
         std::find(kShellCommands.begin(), kShellCommands.end(), t.text) != kShellCommands.end();
}

struct ScriptScan {
  std::vector<std::pair<std::string, int>> statements;
  bool pending = false;          // tokens after the last complete statement
  bool pending_command = false;  // ... and they are a shell command (complete at end of line)
  bool unterminated = false;     // a string, quoted name or comment runs to the end
};

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n' || s[e - 1] == '\r'))
    --e;
  return std::string(s.substr(b, e - b));
}

ScriptScan Scan(std::string_view script) {
  ScriptScan out;
  Lexer lexer(script);
  bool in_statement = false, batch = false, command = false;
  size_t start = 0, last_end = 0;
  int start_line = 0;
  int tokens_in_statement = 0;
  Token prev, prev2;  // the two tokens before the current one, for APPLY BATCH
  auto finish = [&](size_t end) {
    out.statements.emplace_back(Trim(script.substr(start, end - start)), start_line);
    in_statement = false;
  };
  for (;;) {
    Token t = lexer.Next();
    if (t.unterminated) out.unterminated = true;
    if (t.kind == TokenKind::kEnd) break;
    // A shell command ends at the end of its line.
    if (in_statement && command &&
        script.substr(last_end, t.offset - last_end).find('\n') != std::string_view::npos) {
      finish(last_end);
    }
    if (!in_statement) {
      if (t.IsSymbol(";")) continue;  // an empty statement
      in_statement = true;
      start = t.offset;
      start_line = t.pos.line;
      batch = t.IsKeyword("begin");
      command = IsShellCommand(t);
      prev = Token();
      prev2 = Token();
      tokens_in_statement = 0;
    }
    last_end = t.offset + t.raw.size();
    // Only BEGIN [UNLOGGED | LOGGED | COUNTER] BATCH holds ';' inside: a stray "BEGIN;" must not
    // swallow the rest of the script.
    ++tokens_in_statement;
    if (batch && tokens_in_statement == 2 && !t.IsKeyword("batch") && !t.IsKeyword("unlogged") &&
        !t.IsKeyword("logged") && !t.IsKeyword("counter")) {
      batch = false;
    }
    if (batch && tokens_in_statement == 3 && !prev.IsKeyword("batch") && !t.IsKeyword("batch")) {
      batch = false;
    }
    if (t.IsSymbol(";")) {
      bool batch_done = prev2.IsKeyword("apply") && prev.IsKeyword("batch");
      if (!batch || batch_done) {
        finish(t.offset);
        continue;
      }
    }
    prev2 = std::move(prev);
    prev = std::move(t);
  }
  if (in_statement) {
    out.pending = true;
    out.pending_command = command;
    out.statements.emplace_back(Trim(script.substr(start, last_end - start)), start_line);
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, int>> Session::SplitStatements(std::string_view script) {
  return Scan(script).statements;
}

bool Session::IsComplete(std::string_view text) {
  ScriptScan s = Scan(text);
  if (s.unterminated) return false;
  if (s.pending) return s.pending_command;
  return !s.statements.empty();
}

std::string CqlError::ToString() const {
  if (line <= 0) return message;
  // cqlsh (ANTLR) prints the column 0-based: "SELECT * FORM t" -> "line 1:9". The field stays
  // 1-based, as session.h says, for callers that draw a caret. Syntax messages already name the
  // token ("mismatched input 'FORM' expecting FROM").
  return "line " + std::to_string(line) + ":" + std::to_string(column > 0 ? column - 1 : 0) + " " +
         message;
}

}  // namespace ringkv::cql
