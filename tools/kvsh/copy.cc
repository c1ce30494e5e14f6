#include "tools/kvsh/copy.h"

#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iostream>
#include <limits>
#include <mutex>
#include <thread>
#include <variant>

#include <fmt/format.h>

#include "cql/ast.h"
#include "cql/parser.h"

namespace ringkv::kvsh {
namespace {

using Clock = std::chrono::steady_clock;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ParseInt(const std::string& text, int64_t lo, int64_t hi, int64_t* out) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

cql::CqlError Invalid(std::string message) {
  return MakeError(cql::ErrorKind::kInvalid, std::move(message));
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string ErrorText(const cql::CqlError& e) {
  static const char* kNames[] = {"SyntaxException", "InvalidRequest", "AlreadyExists",
                                 "Unavailable",     "OperationTimedOut", "ServerError"};
  return fmt::format("{} - {}", kNames[static_cast<int>(e.kind)], e.message);
}

// The columns the COPY works on, with their types: those named, in that order, else all.
cql::CqlResult<std::vector<cql::ColumnSpec>> CopyColumns(Backend& backend, const std::string& ks,
                                                         const std::string& table,
                                                         const std::vector<std::string>& names) {
  auto all = backend.Columns(ks, table);
  if (!all.ok()) return all.error();
  if (names.empty()) return all.value();
  std::vector<cql::ColumnSpec> out;
  for (const auto& n : names) {
    bool found = false;
    for (const auto& c : *all) {
      if (c.name == n) {
        out.push_back(c);
        found = true;
        break;
      }
    }
    if (!found) return Invalid(fmt::format("Invalid column name {}", n));
  }
  return out;
}

std::string ColumnList(const std::vector<cql::ColumnSpec>& columns) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? ", " : "") + QuoteName(columns[i].name);
  return out;
}

// ---- COPY TO ----

struct ExportState {
  std::mutex mu;
  std::ostream* file = nullptr;
  std::atomic<uint64_t> rows{0};
  std::atomic<size_t> next_range{0};
  std::atomic<bool> stop{false};
  std::optional<cql::CqlError> error;
};

// Reads every page of `select` and writes its rows; false on an error (recorded in `state`).
bool ExportQuery(Backend& backend, const std::string& select, const CopyOptions& options,
                 ExportState* state) {
  cql::ExecuteOptions exec;
  exec.page_size = options.page_size;
  for (;;) {
    auto page = backend.Execute(select, {}, exec);
    if (!page.ok()) {
      std::lock_guard<std::mutex> lock(state->mu);
      if (!state->error) state->error = page.error();
      state->stop = true;
      return false;
    }
    std::string chunk;
    for (const auto& row : page->rows) {
      if (options.max_rows >= 0) {
        // Reserve the row first so that concurrent workers never write more than MAXROWS.
        const uint64_t n = state->rows.fetch_add(1);
        if (n >= static_cast<uint64_t>(options.max_rows)) {
          state->rows.fetch_sub(1);
          state->stop = true;
          break;
        }
      } else {
        state->rows.fetch_add(1);
      }
      std::vector<std::string> fields;
      for (const auto& cell : row) {
        if (!cell.has_value()) {
          fields.push_back(options.null_string);
        } else {
          const std::string text = ValueToField(*cell);
          fields.push_back(CsvQuote(text, options.dialect, text == options.null_string));
        }
      }
      chunk += CsvRecord(fields, options.dialect) + "\n";
    }
    {
      std::lock_guard<std::mutex> lock(state->mu);
      *state->file << chunk;
    }
    if (state->stop || page->paging_state.empty()) return true;
    exec.paging_state = page->paging_state;
  }
}

CopyOutcome CopyTo(Backend& backend, const CopySpec& spec, const CopyOptions& options,
                   std::ostream& out) {
  const auto start = Clock::now();
  CopyOutcome outcome;
  const std::string ks = spec.keyspace.empty() ? backend.keyspace() : spec.keyspace;
  auto fail = [&](std::string message) {
    outcome.ok = false;
    outcome.error = std::move(message);
    outcome.seconds = Seconds(start);
    return outcome;
  };
  if (ks.empty()) return fail("No keyspace has been specified. USE a keyspace, or name it: ks.t");
  auto columns = CopyColumns(backend, ks, spec.table, spec.columns);
  if (!columns.ok()) return fail(ErrorText(columns.error()));
  auto pk = backend.PartitionKey(ks, spec.table);
  if (!pk.ok()) return fail(ErrorText(pk.error()));
  auto ranges = backend.TokenRanges(ks);
  if (!ranges.ok()) return fail(ErrorText(ranges.error()));

  std::ofstream file;
  ExportState state;
  if (spec.file == "STDOUT") {
    state.file = &out;
  } else {
    file.open(spec.file, std::ios::binary | std::ios::trunc);
    if (!file) return fail(fmt::format("Can't open '{}' for writing", spec.file));
    state.file = &file;
  }
  if (options.header) {
    std::vector<std::string> names;
    for (const auto& c : *columns) names.push_back(CsvQuote(c.name, options.dialect));
    *state.file << CsvRecord(names, options.dialect) << "\n";
  }
  std::string token_args;
  for (size_t i = 0; i < pk->size(); ++i) token_args += (i ? ", " : "") + QuoteName((*pk)[i]);
  const std::string base = fmt::format("SELECT {} FROM {}.{}", ColumnList(*columns), QuoteName(ks),
                                       QuoteName(spec.table));
  auto range_query = [&](const TokenRange& r) {
    return fmt::format("{} WHERE token({}) > {} AND token({}) <= {}", base, token_args, r.start,
                       token_args, r.end);
  };

  auto worker = [&](Backend* b) {
    while (!state.stop) {
      const size_t i = state.next_range.fetch_add(1);
      if (i >= ranges->size()) return;
      if (!ExportQuery(*b, range_query((*ranges)[i]), options, &state)) return;
    }
  };
  std::vector<std::unique_ptr<Backend>> sessions;
  for (uint32_t i = 1; i < options.concurrency; ++i) {
    auto s = backend.NewSession();
    if (!s) break;
    sessions.push_back(std::move(s));
  }
  std::vector<std::thread> threads;
  for (auto& s : sessions) threads.emplace_back(worker, s.get());
  worker(&backend);
  for (auto& t : threads) t.join();
  state.file->flush();
  outcome.rows = state.rows;
  outcome.seconds = Seconds(start);
  if (state.error) {
    outcome.ok = false;
    outcome.error = ErrorText(*state.error);
  } else if (file.is_open() && !file) {
    outcome.ok = false;
    outcome.error = fmt::format("Error writing '{}'", spec.file);
  }
  return outcome;
}

// ---- COPY FROM ----

struct Row {
  std::vector<cql::Value> binds;  // nulls are left out: see InsertFor
  std::vector<bool> present;      // per column: false for null
  std::string line;               // the CSV record as read, for ERRFILE
};

struct ImportState {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::vector<Row>> queue;
  bool done = false;                   // no more batches will be queued
  std::atomic<bool> stop{false};       // MAXERRORS exceeded
  std::atomic<uint64_t> rows{0}, skipped{0}, errors{0};
  std::ofstream errfile;
  std::ostream* err = nullptr;
  uint64_t errors_printed = 0;
};

constexpr uint64_t kErrorsPrintedMax = 10;
constexpr size_t kQueuedBatchesPerWorker = 2;

// One INSERT for `row`: its non-null columns only, so a null field writes no cell (as cqlsh's
// COPY, which does not write tombstones for empty fields).
std::string InsertFor(const std::string& table, const std::vector<cql::ColumnSpec>& columns,
                      const Row& row) {
  std::string names, marks;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (!row.present[i]) continue;
    names += (names.empty() ? "" : ", ") + QuoteName(columns[i].name);
    marks += marks.empty() ? "?" : ", ?";
  }
  return fmt::format("INSERT INTO {} ({}) VALUES ({})", table, names, marks);
}

void RecordFailure(ImportState* state, const Row& row, const std::string& why,
                   const CopyOptions& options) {
  state->skipped.fetch_add(1);
  const uint64_t errors = state->errors.fetch_add(1) + 1;
  std::lock_guard<std::mutex> lock(state->mu);
  if (state->errfile.is_open()) state->errfile << row.line << "\n";
  if (state->errors_printed < kErrorsPrintedMax) {
    ++state->errors_printed;
    *state->err << "Failed to import 1 rows: " << why << ", given up without retries\n";
  }
  if (options.max_errors >= 0 && errors > static_cast<uint64_t>(options.max_errors)) {
    if (!state->stop.exchange(true)) {
      *state->err << "Exceeded maximum number of errors " << options.max_errors
                  << ", stopping import\n";
    }
  }
}

void WriteBatch(Backend& backend, const std::string& table,
                const std::vector<cql::ColumnSpec>& columns, const std::vector<Row>& batch,
                ImportState* state, const CopyOptions& options) {
  if (batch.size() > 1) {
    std::string text = "BEGIN UNLOGGED BATCH\n";
    std::vector<cql::Value> binds;
    for (const Row& row : batch) {
      text += InsertFor(table, columns, row) + ";\n";
      binds.insert(binds.end(), row.binds.begin(), row.binds.end());
    }
    text += "APPLY BATCH";
    if (backend.Execute(text, binds, {}).ok()) {
      state->rows.fetch_add(batch.size());
      return;
    }
    // Fall through: row by row, so that only the bad rows are skipped.
  }
  for (const Row& row : batch) {
    if (state->stop) return;
    auto r = backend.Execute(InsertFor(table, columns, row), row.binds, {});
    if (r.ok()) {
      state->rows.fetch_add(1);
    } else {
      RecordFailure(state, row, ErrorText(r.error()), options);
    }
  }
}

CopyOutcome CopyFrom(Backend& backend, const CopySpec& spec, const CopyOptions& options,
                     std::ostream& err) {
  const auto start = Clock::now();
  CopyOutcome outcome;
  const std::string ks = spec.keyspace.empty() ? backend.keyspace() : spec.keyspace;
  auto fail = [&](std::string message) {
    outcome.ok = false;
    outcome.error = std::move(message);
    outcome.seconds = Seconds(start);
    return outcome;
  };
  if (ks.empty()) return fail("No keyspace has been specified. USE a keyspace, or name it: ks.t");
  std::ifstream file;
  std::istream* in = &std::cin;
  if (spec.file != "STDIN") {
    file.open(spec.file, std::ios::binary);
    if (!file) return fail(fmt::format("Can't open '{}' for reading", spec.file));
    in = &file;
  }
  CsvReader reader(*in, options.dialect);
  std::vector<CsvField> fields;
  std::vector<std::string> names = spec.columns;
  if (options.header) {
    const auto s = reader.Next(&fields);
    if (s == CsvReader::Status::kError) return fail("header: " + reader.error());
    if (s == CsvReader::Status::kRecord && names.empty()) {
      for (const auto& f : fields) names.push_back(Lower(f.text));
    }
  }
  auto columns = CopyColumns(backend, ks, spec.table, names);
  if (!columns.ok()) return fail(ErrorText(columns.error()));
  const std::string table = QuoteName(ks) + "." + QuoteName(spec.table);

  ImportState state;
  state.err = &err;
  if (!options.err_file.empty()) {
    state.errfile.open(options.err_file, std::ios::binary | std::ios::trunc);
    if (!state.errfile) return fail(fmt::format("Can't open '{}' for writing", options.err_file));
  }
  auto worker = [&](Backend* b) {
    for (;;) {
      std::vector<Row> batch;
      {
        std::unique_lock<std::mutex> lock(state.mu);
        state.cv.wait(lock, [&] { return !state.queue.empty() || state.done; });
        if (state.queue.empty()) return;
        batch = std::move(state.queue.front());
        state.queue.pop_front();
      }
      state.cv.notify_all();
      if (!state.stop) WriteBatch(*b, table, *columns, batch, &state, options);
    }
  };
  std::vector<std::unique_ptr<Backend>> sessions;
  for (uint32_t i = 0; i < options.concurrency; ++i) {
    auto s = backend.NewSession();
    if (!s) break;
    sessions.push_back(std::move(s));
  }
  std::vector<std::thread> threads;
  for (auto& s : sessions) threads.emplace_back(worker, s.get());
  const size_t queue_max = kQueuedBatchesPerWorker * std::max<size_t>(1, sessions.size());

  auto enqueue = [&](std::vector<Row> batch) {
    if (threads.empty()) {
      // No extra sessions: write on this thread.
      WriteBatch(backend, table, *columns, batch, &state, options);
      return;
    }
    std::unique_lock<std::mutex> lock(state.mu);
    state.cv.wait(lock, [&] { return state.queue.size() < queue_max; });
    state.queue.push_back(std::move(batch));
    lock.unlock();
    state.cv.notify_all();
  };

  std::vector<Row> batch;
  uint64_t read = 0, records = 0;
  for (;;) {
    if (state.stop) break;
    if (options.max_rows >= 0 && read >= static_cast<uint64_t>(options.max_rows)) break;
    const auto s = reader.Next(&fields);
    if (s == CsvReader::Status::kEnd) break;
    if (++records <= options.skip_rows) continue;
    ++read;
    Row row;
    if (s == CsvReader::Status::kError) {
      row.line = fmt::format("# line {}: {}", reader.record_line(), reader.error());
      RecordFailure(&state, row, "CSV line " + std::to_string(reader.record_line()) + ": " +
                                     reader.error(), options);
      continue;
    }
    std::vector<std::string> raw;
    for (const auto& f : fields) raw.push_back(CsvQuote(f.text, options.dialect, f.quoted));
    row.line = CsvRecord(raw, options.dialect);
    if (fields.size() != columns->size()) {
      RecordFailure(&state, row,
                    fmt::format("line {}: {} fields, expected {}", reader.record_line(),
                                fields.size(), columns->size()),
                    options);
      continue;
    }
    bool bad = false;
    for (size_t i = 0; i < fields.size() && !bad; ++i) {
      auto v = FieldToValue(fields[i], (*columns)[i], options.null_string);
      if (!v.ok()) {
        RecordFailure(&state, row, fmt::format("line {}: {}", reader.record_line(),
                                               ErrorText(v.error())),
                      options);
        bad = true;
      } else {
        row.present.push_back(v->has_value());
        if (v->has_value()) row.binds.push_back(std::move(**v));
      }
    }
    if (bad) continue;
    batch.push_back(std::move(row));
    if (batch.size() >= options.max_batch_size) enqueue(std::exchange(batch, {}));
    // INGESTRATE: rows read so far may not run ahead of rate x elapsed time.
    const double allowed = static_cast<double>(options.ingest_rate) * Seconds(start);
    if (static_cast<double>(read) > allowed + options.max_batch_size) {
      std::this_thread::sleep_for(std::chrono::duration<double>(
          (static_cast<double>(read) - allowed) / static_cast<double>(options.ingest_rate)));
    }
  }
  if (!batch.empty() && !state.stop) enqueue(std::move(batch));
  {
    std::lock_guard<std::mutex> lock(state.mu);
    state.done = true;
  }
  state.cv.notify_all();
  for (auto& t : threads) t.join();
  outcome.rows = state.rows;
  outcome.skipped = state.skipped;
  outcome.seconds = Seconds(start);
  if (state.stop) {
    outcome.ok = false;
    outcome.error = fmt::format("Exceeded maximum number of errors {}", options.max_errors);
  }
  return outcome;
}

}  // namespace

std::string QuoteName(const std::string& name) {
  bool plain = !name.empty() && (std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char c : name) {
    plain = plain && (std::islower(static_cast<unsigned char>(c)) ||
                      std::isdigit(static_cast<unsigned char>(c)) || c == '_');
  }
  if (plain) return name;
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

std::string CopyOutcome::Summary(bool to) const {
  if (to) return fmt::format("{} rows exported to 1 files in {:.3f} seconds.", rows, seconds);
  return fmt::format("{} rows imported from 1 files in {:.3f} seconds ({} skipped).", rows, seconds,
                     skipped);
}

std::optional<std::string> ParseCopyOptions(const CopySpec& spec, CopyOptions* out) {
  for (const auto& [name, value] : spec.options) {
    int64_t n = 0;
    auto number = [&](int64_t lo, int64_t hi) {
      return ParseInt(value, lo, hi, &n);
    };
    auto bad = [&] { return fmt::format("Invalid value '{}' for COPY option {}", value, name); };
    if (name == "HEADER") {
      const std::string v = Lower(value);
      if (v != "true" && v != "false") return bad();
      out->header = v == "true";
    } else if (name == "DELIMITER" || name == "QUOTE") {
      if (value.size() != 1 || value[0] == '\n' || value[0] == '\r') return bad();
      (name == "DELIMITER" ? out->dialect.delimiter : out->dialect.quote) = value[0];
    } else if (name == "NULL") {
      out->null_string = value;
    } else if (name == "MAXBATCHSIZE") {
      if (!number(1, 1000)) return bad();
      out->max_batch_size = static_cast<uint32_t>(n);
    } else if (name == "INGESTRATE") {
      if (!number(1, 100'000'000)) return bad();
      out->ingest_rate = static_cast<uint64_t>(n);
    } else if (name == "MAXROWS") {
      if (!number(-1, std::numeric_limits<int64_t>::max())) return bad();
      out->max_rows = n;
    } else if (name == "CONCURRENCY" || name == "NUMPROCESSES") {
      if (!number(1, 16)) return bad();
      out->concurrency = static_cast<uint32_t>(n);
    } else if (name == "PAGESIZE") {
      if (!number(1, 100'000)) return bad();
      out->page_size = static_cast<uint32_t>(n);
    } else if (name == "MAXERRORS" && !spec.to) {
      if (!number(-1, std::numeric_limits<int64_t>::max())) return bad();
      out->max_errors = n;
    } else if (name == "ERRFILE" && !spec.to) {
      out->err_file = value;
    } else if (name == "SKIPROWS" && !spec.to) {
      if (!number(0, std::numeric_limits<int64_t>::max())) return bad();
      out->skip_rows = static_cast<uint64_t>(n);
    } else {
      return fmt::format("Unrecognized COPY {} option: {}", spec.to ? "TO" : "FROM", Lower(name));
    }
  }
  if (out->dialect.delimiter == out->dialect.quote) return "DELIMITER and QUOTE must differ";
  return std::nullopt;
}

CopyOutcome RunCopy(Backend& backend, const CopySpec& spec, std::ostream& out, std::ostream& err) {
  CopyOptions options;
  if (auto e = ParseCopyOptions(spec, &options)) {
    CopyOutcome o;
    o.ok = false;
    o.error = *e;
    return o;
  }
  return spec.to ? CopyTo(backend, spec, options, out) : CopyFrom(backend, spec, options, err);
}

std::string ValueToField(const cql::Value& value) {
  switch (value.type.kind) {
    case cql::Kind::kText:
      return std::get<std::string>(value.data);
    case cql::Kind::kFloat:
      return fmt::format("{}", static_cast<float>(std::get<double>(value.data)));
    case cql::Kind::kDouble:
      return fmt::format("{}", std::get<double>(value.data));
    case cql::Kind::kInt:
    case cql::Kind::kBigint:
      return std::to_string(std::get<int64_t>(value.data));
    case cql::Kind::kBoolean:
      return std::get<bool>(value.data) ? "true" : "false";
    default:
      return value.ToDisplay();
  }
}

cql::CqlResult<std::optional<cql::Value>> FieldToValue(const CsvField& field,
                                                       const cql::ColumnSpec& column,
                                                       const std::string& null_string) {
  using cql::Kind;
  const Kind kind = column.type.kind;
  if (!field.quoted && field.text == null_string) return std::optional<cql::Value>();
  if (kind == Kind::kText) return std::optional<cql::Value>(cql::Value::Text(field.text));
  // A quoted empty field is null for every type but text (there is no empty int).
  if (field.text.empty()) return std::optional<cql::Value>();
  auto bad = [&] {
    return Invalid(fmt::format("Failed to convert '{}' for column {} of type {}", field.text,
                               column.name, column.type.ToCql()));
  };
  switch (kind) {
    case Kind::kInt:
    case Kind::kBigint: {
      int64_t v = 0;
      const bool is_int = kind == Kind::kInt;
      if (!ParseInt(field.text, is_int ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int64_t>::min(),
                    is_int ? std::numeric_limits<int32_t>::max() : std::numeric_limits<int64_t>::max(), &v)) {
        return bad();
      }
      return std::optional<cql::Value>(cql::Value{column.type, v});
    }
    case Kind::kFloat:
    case Kind::kDouble: {
      char* end = nullptr;
      const double v = std::strtod(field.text.c_str(), &end);
      if (end != field.text.c_str() + field.text.size()) return bad();
      return std::optional<cql::Value>(
          cql::Value{column.type, kind == Kind::kFloat ? static_cast<double>(static_cast<float>(v)) : v});
    }
    case Kind::kBoolean: {
      const std::string v = Lower(field.text);
      if (v != "true" && v != "false") return bad();
      return std::optional<cql::Value>(cql::Value{column.type, v == "true"});
    }
    default:
      break;
  }
  // The rest are CQL literals; the parser reads them. Timestamps and uuids are written unquoted
  // by COPY TO, so quote them here (the parser takes both as strings).
  std::string literal = field.text;
  if (kind == Kind::kTimestamp || kind == Kind::kUuid) {
    int64_t ms = 0;
    if (kind == Kind::kTimestamp && ParseInt(literal, std::numeric_limits<int64_t>::min(),
                                             std::numeric_limits<int64_t>::max(), &ms)) {
      return std::optional<cql::Value>(cql::Value::Timestamp(ms));
    }
    std::string quoted = "'";
    for (char c : literal) {
      if (c == '\'') quoted.push_back('\'');
      quoted.push_back(c);
    }
    literal = quoted + "'";
  }
  auto parsed = cql::ParseStatement("SELECT * FROM t WHERE c = " + literal);
  if (!parsed.ok()) return bad();
  const auto* select = std::get_if<cql::SelectStmt>(&parsed->statement);
  if (select == nullptr || select->where.size() != 1 || select->where[0].terms.size() != 1) {
    return bad();
  }
  auto v = cql::ConvertTerm(select->where[0].terms[0], column.type, {}, column.name);
  if (!v.ok()) return bad();
  return v;
}

}  // namespace ringkv::kvsh
