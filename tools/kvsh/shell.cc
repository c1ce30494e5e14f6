#include "tools/kvsh/shell.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "tools/kvsh/copy.h"
#include "tools/kvsh/format.h"

namespace ringkv::kvsh {
namespace {

// Rows fetched per request when the whole result is printed at once (scripts, paging off):
// bounds one answer, not the result.
constexpr uint32_t kScriptPageSize = 5000;
// SOURCE may nest (a file that sources another), but not without bound.
constexpr int kSourceDepthMax = 8;
// A result larger than this is cut when printed whole, with a note: the table needs every row
// to size its columns.
constexpr size_t kPrintedRowsMax = 1'000'000;

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

// A line that is a whole shell command (cqlsh runs those at the end of the line, ';' or not).
// COPY is not among them: its options may run over several lines until ';'.
bool IsShellCommandLine(std::string_view line) {
  const ParsedCommand p = ParseCommand(line);
  if (!p.is_command) return false;
  return !(p.command && p.command->kind == CommandKind::kCopy) || line.find(';') != line.npos;
}

std::string TrimStatement(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n' || s[e - 1] == '\r')) {
    --e;
  }
  return std::string(s.substr(b, e - b));
}

const std::map<std::string, std::string>& HelpTopics() {
  static const std::map<std::string, std::string> kTopics = {
      {"CONSISTENCY",
       "CONSISTENCY [ONE | TWO | THREE | QUORUM | ALL | ANY]\n"
       "  Shows or sets the consistency level of the statements that follow.\n"},
      {"TRACING",
       "TRACING [ON | OFF]\n"
       "  After each statement, shows what the coordinators did: replicas asked and answered,\n"
       "  versions and siblings seen, read repair, latency.\n"},
      {"SLOPPY",
       "SLOPPY [ON | OFF | DEFAULT]\n"
       "  Shows or sets the quorum mode of the writes that follow: ON, sloppy quorum (when replicas\n"
       "  are down, the next healthy nodes stand in for them, holding the write as a hint, and\n"
       "  count toward W); OFF, strict (only a key's replicas count); DEFAULT, each keyspace's\n"
       "  own (CREATE KEYSPACE ... AND sloppy_quorum = true). Reads always count replicas only.\n"},
      {"EXPAND", "EXPAND [ON | OFF]\n  Shows each row vertically (@ Row 1 ...).\n"},
      {"PAGING",
       "PAGING [ON | OFF | N]\n"
       "  Interactive results come N rows (default 100) at a time; Enter shows more.\n"},
      {"DESCRIBE",
       "DESCRIBE KEYSPACES | KEYSPACE [k] | TABLES | TABLE [k.]t\n"
       "  Lists keyspaces or tables, or prints the CREATE statements that recreate them.\n"},
      {"SOURCE", "SOURCE 'file'\n  Runs the statements in a file.\n"},
      {"COPY",
       "COPY [k.]t [(col, ...)] TO 'file.csv' | STDOUT [WITH option = value [AND ...]]\n"
       "COPY [k.]t [(col, ...)] FROM 'file.csv' | STDIN [WITH option = value [AND ...]]\n"
       "  Options: HEADER, DELIMITER, QUOTE, NULL, MAXBATCHSIZE, INGESTRATE, MAXROWS,\n"
       "  CONCURRENCY (NUMPROCESSES), PAGESIZE; FROM also MAXERRORS, ERRFILE, SKIPROWS.\n"
       "  TO reads the table one ring token range at a time, in parallel.\n"},
      {"EXIT", "EXIT | QUIT\n  Leaves kvsh (so does Ctrl-D).\n"},
      {"QUIT", "EXIT | QUIT\n  Leaves kvsh (so does Ctrl-D).\n"},
      {"SELECT",
       "SELECT [DISTINCT] * | col, ttl(col), writetime(col), count(*), token(pk) ...\n"
       "  FROM [k.]t [WHERE pk = ? AND ck > ? | token(pk) > n] [ORDER BY ck DESC]\n"
       "  [LIMIT n] [ALLOW FILTERING];\n"},
      {"INSERT",
       "INSERT INTO [k.]t (col, ...) VALUES (value, ...) [USING TTL s AND TIMESTAMP us];\n"},
      {"UPDATE",
       "UPDATE [k.]t [USING TTL s] SET col = v, list = list + [..], map[k] = v WHERE ...;\n"},
      {"DELETE", "DELETE [col, map[k]] FROM [k.]t [USING TIMESTAMP us] WHERE ...;\n"},
      {"BATCH", "BEGIN [UNLOGGED] BATCH INSERT ...; UPDATE ...; DELETE ...; APPLY BATCH;\n"},
      {"CREATE_KEYSPACE",
       "CREATE KEYSPACE [IF NOT EXISTS] k WITH replication =\n"
       "  {'class': 'SimpleStrategy', 'replication_factor': 3};\n"},
      {"CREATE_TABLE",
       "CREATE TABLE [IF NOT EXISTS] [k.]t (col type, ..., PRIMARY KEY ((pk, ...), ck, ...))\n"
       "  [WITH conflict_mode = 'merge' | 'lww' | 'siblings' AND default_time_to_live = s\n"
       "   AND CLUSTERING ORDER BY (ck DESC)];\n"},
      {"DROP", "DROP KEYSPACE [IF EXISTS] k; DROP TABLE [IF EXISTS] [k.]t;\n"},
      {"USE", "USE k;\n  Makes k the keyspace of unqualified table names.\n"},
      {"TRUNCATE", "TRUNCATE [k.]t;\n"},
      {"TYPES",
       "text varchar blob int bigint float double boolean timestamp uuid\n"
       "list<T> set<T> map<K, V>\n"},
  };
  return kTopics;
}

}  // namespace

Shell::Shell(Backend& backend, ShellOptions options, std::ostream& out, std::ostream& err)
    : backend_(backend), options_(std::move(options)), out_(out), err_(err) {
  page_size_ = options_.page_size;
  paging_ = options_.interactive;
}

int64_t Shell::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Shell::Prompt() const {
  const std::string& ks = backend_.keyspace();
  return ks.empty() ? "kvsh> " : "kvsh:" + ks + "> ";
}

int Shell::RunInteractive(LineReader& reader) {
  reader_ = &reader;
  std::string buffer;
  while (!exit_requested_) {
    reader.set_pending(buffer.empty() ? std::string() : buffer + "\n");
    ReadResult r = reader.Read(buffer.empty() ? Prompt() : kContinuationPrompt);
    if (r.kind == ReadResult::kEof) break;
    if (r.kind == ReadResult::kInterrupted) {
      buffer.clear();
      continue;
    }
    if (buffer.empty()) {
      if (IsBlank(r.line)) continue;
      if (IsShellCommandLine(r.line)) {
        reader.AddHistory(r.line);
        RunOne(TrimStatement(r.line), "", 1);
        continue;
      }
    }
    buffer += buffer.empty() ? r.line : "\n" + r.line;
    if (!cql::Session::IsComplete(buffer)) continue;
    reader.AddHistory(buffer);
    for (const auto& [statement, line] : cql::Session::SplitStatements(buffer)) {
      if (IsBlank(statement)) continue;
      RunOne(statement, "", line);
      if (exit_requested_) break;
    }
    buffer.clear();
  }
  reader_ = nullptr;
  out_.flush();
  return 0;
}

int Shell::RunScript(std::string_view script, const std::string& source) {
  // Line by line, as the interactive loop reads: a shell command ends with its line, a CQL
  // statement with ';'.
  bool failed = false;
  std::string buffer;
  int buffer_line = 0;
  int line_no = 0;
  auto run_buffer = [&]() {
    for (const auto& [statement, line] : cql::Session::SplitStatements(buffer)) {
      if (IsBlank(statement)) continue;
      if (!RunOne(statement, source, buffer_line + line - 1)) {
        failed = true;
        if (source.empty()) return false;  // -e stops at the first error
      }
      if (exit_requested_) return false;
    }
    buffer.clear();
    return true;
  };
  size_t pos = 0;
  while (pos <= script.size() && !exit_requested_) {
    size_t nl = script.find('\n', pos);
    if (nl == std::string_view::npos) nl = script.size();
    const std::string_view line = script.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (buffer.empty()) {
      if (IsBlank(line)) continue;
      if (IsShellCommandLine(line)) {
        // A shell command followed by more statements on the same line (-e "TRACING ON; ...")
        // is split like any other line.
        const auto parts = cql::Session::SplitStatements(line);
        if (parts.size() <= 1) {
          if (!RunOne(TrimStatement(line), source, line_no)) {
            failed = true;
            if (source.empty()) return 2;
          }
          continue;
        }
      }
      buffer_line = line_no;
    }
    buffer += buffer.empty() ? std::string(line) : "\n" + std::string(line);
    if (cql::Session::IsComplete(buffer) && !run_buffer()) break;
  }
  // Whatever is left lacks its ';': run it anyway, so that its error (or its effect) shows.
  if (!buffer.empty() && !exit_requested_ && !(failed && source.empty())) run_buffer();
  out_.flush();
  return failed ? 2 : 0;
}

bool Shell::RunOne(const std::string& statement, const std::string& source, int first_line) {
  const ParsedCommand parsed = ParseCommand(statement);
  if (!parsed.is_command) return RunCql(statement, source, first_line);
  if (!parsed.command) {
    err_ << (source.empty() ? "" : fmt::format("{}:{}:", source, first_line))
         << parsed.error.message << "\n";
    return false;
  }
  return RunCommand(*parsed.command, source);
}

bool Shell::RunCommand(const Command& c, const std::string& source) {
  switch (c.kind) {
    case CommandKind::kExit:
      exit_requested_ = true;
      return true;
    case CommandKind::kConsistency:
      if (c.level) {
        backend_.set_consistency(*c.level);
        out_ << "Consistency level set to " << ConsistencyName(*c.level) << ".\n";
      } else {
        out_ << "Current consistency level is " << ConsistencyName(backend_.consistency())
             << ".\n";
      }
      return true;
    case CommandKind::kSloppy: {
      if (c.quorum) backend_.set_quorum(*c.quorum);
      const Quorum q = backend_.quorum();
      out_ << (c.quorum ? "Writes now use " : "Writes use ")
           << (q == Quorum::kSloppy   ? "sloppy quorum (stand-ins may count toward W)"
               : q == Quorum::kStrict ? "strict quorum (only a key's replicas count)"
                                      : "each keyspace's own quorum mode")
           << ".\n";
      return true;
    }
    case CommandKind::kTracing:
      if (c.toggle == Toggle::kShow) {
        out_ << (backend_.tracing()
                     ? "Tracing is currently enabled. Use TRACING OFF to disable\n"
                     : "Tracing is currently disabled. Use TRACING ON to enable.\n");
      } else if (c.toggle == Toggle::kOn) {
        backend_.set_tracing(true);
        out_ << "Now Tracing is enabled\n";
      } else {
        backend_.set_tracing(false);
        out_ << "Disabled Tracing.\n";
      }
      return true;
    case CommandKind::kExpand:
      if (c.toggle == Toggle::kShow) {
        out_ << (expand_ ? "Expanded output is currently enabled. Use EXPAND OFF to disable\n"
                         : "Expanded output is currently disabled. Use EXPAND ON to enable.\n");
      } else {
        expand_ = c.toggle == Toggle::kOn;
        out_ << (expand_ ? "Now Expanded output is enabled\n" : "Disabled Expanded output.\n");
      }
      return true;
    case CommandKind::kPaging:
      if (c.toggle == Toggle::kShow) {
        out_ << (paging_ ? "Query paging is currently enabled. Use PAGING OFF to disable\n"
                         : "Query paging is currently disabled. Use PAGING ON to enable.\n")
             << "Page size: " << page_size_ << "\n";
      } else if (c.toggle == Toggle::kOn) {
        paging_ = true;
        if (c.page_size > 0) page_size_ = c.page_size;
        out_ << "Now Query paging is enabled\nPage size: " << page_size_ << "\n";
      } else {
        paging_ = false;
        out_ << "Disabled Query paging.\n";
      }
      return true;
    case CommandKind::kDescribe: {
      bool ok = true;
      Describe(c, &ok);
      return ok;
    }
    case CommandKind::kHelp:
      Help(c.topic);
      return true;
    case CommandKind::kSource: {
      if (source_depth_ >= kSourceDepthMax) {
        err_ << "SOURCE nested more than " << kSourceDepthMax << " deep\n";
        return false;
      }
      std::ifstream in(c.file, std::ios::binary);
      if (!in) {
        err_ << "Could not open '" << c.file << "'\n";
        return false;
      }
      std::stringstream content;
      content << in.rdbuf();
      ++source_depth_;
      const int code = RunScript(content.str(), c.file);
      --source_depth_;
      return code == 0;
    }
    case CommandKind::kCopy: {
      const CopyOutcome outcome = RunCopy(backend_, c.copy, out_, err_);
      if (!outcome.ok) {
        err_ << (source.empty() ? "" : source + ":") << "Error: " << outcome.error << "\n";
        if (outcome.rows > 0 || outcome.skipped > 0) err_ << outcome.Summary(c.copy.to) << "\n";
        return false;
      }
      // With STDOUT the summary goes to stderr, so that the CSV on stdout stays clean.
      (c.copy.file == "STDOUT" ? err_ : out_) << outcome.Summary(c.copy.to) << "\n";
      return true;
    }
  }
  return false;
}

void Shell::Describe(const Command& c, bool* ok) {
  auto fail = [&](const cql::CqlError& e) {
    err_ << ErrorLine(e) << "\n";
    *ok = false;
  };
  auto names_line = [](const std::vector<std::string>& names) {
    std::string line;
    for (const auto& n : names) line += (line.empty() ? "" : "  ") + n;
    return line;
  };
  switch (c.describe) {
    case DescribeWhat::kKeyspaces: {
      auto ks = backend_.Keyspaces();
      if (!ks.ok()) return fail(ks.error());
      out_ << "\n" << names_line(*ks) << "\n\n";
      return;
    }
    case DescribeWhat::kTables: {
      std::vector<std::string> keyspaces;
      if (!backend_.keyspace().empty()) {
        keyspaces.push_back(backend_.keyspace());
      } else {
        auto ks = backend_.Keyspaces();
        if (!ks.ok()) return fail(ks.error());
        keyspaces = *ks;
      }
      for (const auto& k : keyspaces) {
        auto tables = backend_.Tables(k);
        if (!tables.ok()) return fail(tables.error());
        if (backend_.keyspace().empty()) {
          out_ << "\nKeyspace " << k << "\n" << std::string(9 + k.size(), '-') << "\n";
        } else {
          out_ << "\n";
        }
        out_ << names_line(*tables) << "\n";
      }
      out_ << "\n";
      return;
    }
    case DescribeWhat::kKeyspace: {
      const std::string ks = c.keyspace.empty() ? backend_.keyspace() : c.keyspace;
      if (ks.empty()) {
        err_ << "Not in any keyspace.\n";
        *ok = false;
        return;
      }
      auto text = backend_.DescribeKeyspace(ks);
      if (!text.ok()) return fail(text.error());
      out_ << "\n" << *text << (text->empty() || text->back() != '\n' ? "\n" : "") << "\n";
      return;
    }
    case DescribeWhat::kTable: {
      const std::string ks = c.keyspace.empty() ? backend_.keyspace() : c.keyspace;
      if (ks.empty()) {
        err_ << "No keyspace specified and no current keyspace\n";
        *ok = false;
        return;
      }
      auto text = backend_.DescribeTable(ks, c.name);
      if (!text.ok()) return fail(text.error());
      out_ << "\n" << *text << (text->empty() || text->back() != '\n' ? "\n" : "") << "\n";
      return;
    }
  }
}

void Shell::Help(const std::string& topic) {
  if (topic.empty()) {
    out_ << "\nDocumented shell commands:\n===========================\n";
    out_ << "CONSISTENCY  COPY  DESCRIBE  EXIT  EXPAND  HELP  PAGING  QUIT  SLOPPY  SOURCE  "
            "TRACING\n";
    out_ << "\nCQL help topics:\n================\n";
    out_ << "BATCH  CREATE_KEYSPACE  CREATE_TABLE  DELETE  DROP  INSERT  SELECT  TRUNCATE  TYPES"
            "  UPDATE  USE\n\n";
    return;
  }
  std::string key = topic;
  for (char& ch : key) ch = ch == ' ' ? '_' : ch;
  if (key == "DESC") key = "DESCRIBE";
  auto it = HelpTopics().find(key);
  if (it == HelpTopics().end()) {
    err_ << "No help topic for '" << topic << "'. HELP lists the topics.\n";
    return;
  }
  out_ << "\n" << it->second << "\n";
}

void Shell::PrintError(const cql::CqlError& error, const std::string& statement,
                       const std::string& source, int first_line) {
  if (!source.empty()) {
    err_ << source << ":" << (first_line + std::max(0, error.line - 1)) << ":";
  }
  err_ << ErrorLine(error) << "\n" << Caret(statement, error);
}

bool Shell::RunCql(const std::string& statement, const std::string& source, int first_line) {
  const int64_t start_ms = NowMs();
  cql::ExecuteOptions exec;
  const bool page = options_.interactive && paging_ && reader_ != nullptr;
  exec.page_size = page ? page_size_ : kScriptPageSize;
  auto result = backend_.Execute(statement, {}, exec);
  if (!result.ok()) {
    PrintError(result.error(), statement, source, first_line);
    return false;
  }
  return PrintResult(result.value(), statement, start_ms, source, first_line);
}

void Shell::PrintRows(const cql::ResultSet& result, size_t first_row) {
  DisplayTable table;
  const bool siblings = !result.sibling_of_row.empty();
  if (siblings) {
    table.headers.push_back("[sibling]");
    table.right_align.push_back(false);
  }
  for (const auto& c : result.columns) {
    table.headers.push_back(c.name);
    table.right_align.push_back(IsNumeric(c.type));
  }
  for (size_t r = 0; r < result.rows.size(); ++r) {
    std::vector<std::string> row;
    if (siblings) {
      const uint32_t of = r < result.sibling_of_row.size() ? result.sibling_of_row[r] : 0;
      const uint32_t n = r < result.siblings_of_row.size() ? result.siblings_of_row[r] : 0;
      row.push_back(n > 0 ? fmt::format("{}/{}", of, n) : "");
    }
    for (const auto& cell : result.rows[r]) row.push_back(DisplayCell(cell));
    table.rows.push_back(std::move(row));
  }
  out_ << (expand_ ? FormatExpanded(table, first_row) : FormatTable(table));
}

bool Shell::PrintResult(cql::ResultSet& result, const std::string& statement, int64_t start_ms,
                        const std::string& source, int first_line) {
  auto print_warnings = [&](const cql::ResultSet& r) {
    std::vector<std::string> warnings = r.warnings;
    if (warnings.empty() && !r.sibling_of_row.empty()) {
      size_t rows = 0;
      for (uint32_t n : r.siblings_of_row) rows += n > 0 ? 1 : 0;
      warnings.push_back(fmt::format("{} rows come from partitions with siblings", rows));
    }
    if (warnings.empty()) return;
    out_ << "\nWarnings :\n";
    for (const auto& w : warnings) out_ << w << "\n";
  };
  const bool interactive_paging = options_.interactive && paging_ && reader_ != nullptr;
  std::vector<TraceInfo> traces = std::move(result.traces);
  std::vector<std::string> notes = std::move(result.notes);
  bool ok = true;
  if (!interactive_paging) {
    // Fetch every page, then print once: the columns are as wide as the widest cell.
    while (!result.paging_state.empty() && result.rows.size() < kPrintedRowsMax) {
      cql::ExecuteOptions exec;
      exec.page_size = kScriptPageSize;
      exec.paging_state = result.paging_state;
      auto next = backend_.Execute(statement, {}, exec);
      if (!next.ok()) {
        PrintError(next.error(), statement, source, first_line);
        ok = false;
        break;
      }
      auto& n = next.value();
      const bool had_siblings = !result.sibling_of_row.empty() || !n.sibling_of_row.empty();
      if (had_siblings) {
        result.sibling_of_row.resize(result.rows.size());
        result.siblings_of_row.resize(result.rows.size());
        n.sibling_of_row.resize(n.rows.size());
        n.siblings_of_row.resize(n.rows.size());
        result.sibling_of_row.insert(result.sibling_of_row.end(), n.sibling_of_row.begin(),
                                     n.sibling_of_row.end());
        result.siblings_of_row.insert(result.siblings_of_row.end(), n.siblings_of_row.begin(),
                                      n.siblings_of_row.end());
      }
      for (auto& row : n.rows) result.rows.push_back(std::move(row));
      for (auto& w : n.warnings) result.warnings.push_back(std::move(w));
      for (auto& t : n.traces) traces.push_back(std::move(t));
      for (auto& note : n.notes) notes.push_back(std::move(note));
      result.paging_state = n.paging_state;
    }
    print_warnings(result);
    if (!result.columns.empty()) {
      PrintRows(result, 1);
      out_ << RowCountLine(result.rows.size());
      if (!result.paging_state.empty()) {
        out_ << "(output cut at " << kPrintedRowsMax << " rows)\n";
      }
    }
  } else {
    size_t shown = 0;
    cql::ResultSet page = std::move(result);
    for (;;) {
      print_warnings(page);
      if (!page.columns.empty()) PrintRows(page, shown + 1);
      shown += page.rows.size();
      if (page.paging_state.empty()) break;
      out_.flush();
      const ReadResult more = reader_->Read("---MORE---");
      if (more.kind != ReadResult::kLine) break;
      cql::ExecuteOptions exec;
      exec.page_size = page_size_;
      exec.paging_state = page.paging_state;
      const std::vector<cql::ColumnSpec> columns = page.columns;
      auto next = backend_.Execute(statement, {}, exec);
      if (!next.ok()) {
        PrintError(next.error(), statement, source, first_line);
        ok = false;
        break;
      }
      page = std::move(next.value());
      if (page.columns.empty()) page.columns = columns;
      for (auto& t : page.traces) traces.push_back(std::move(t));
      for (auto& note : page.notes) notes.push_back(std::move(note));
    }
    if (!page.columns.empty()) out_ << RowCountLine(shown);
  }
  if (backend_.tracing()) out_ << FormatTraces(traces, notes, start_ms) << "\n";
  return ok;
}

}  // namespace ringkv::kvsh
