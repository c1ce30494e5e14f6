#include "tools/kvload/loader.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cql/session.h"
#include "tools/kvload/error_log.h"
#include "tools/kvload/rate_limiter.h"
#include "tools/kvload/row_convert.h"

namespace ringkv::kvload {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kConcurrencyMax = 64;
constexpr int kBatchSizeMax = 1000;
constexpr int kRetriesMax = 20;
constexpr size_t kRawBytesMax = 4096;  // of a record quoted in the error file when it is not JSON

struct PendingRow {
  size_t file = 0;
  uint64_t line = 0;
  nlohmann::json raw;  // the parsed JSON object, or the record's text
  Row row;
};

using Batch = std::vector<PendingRow>;

// A bounded queue of batches between the reader and the workers.
class BatchQueue {
 public:
  explicit BatchQueue(size_t capacity) : capacity_(capacity) {}
  void Push(Batch batch) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [this] { return queue_.size() < capacity_; });
    queue_.push_back(std::move(batch));
    not_empty_.notify_one();
  }
  // False once the queue is closed and empty.
  bool Pop(Batch* batch) {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [this] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return false;
    *batch = std::move(queue_.front());
    queue_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Batch> queue_;  // guarded by mu_
  bool closed_ = false;      // guarded by mu_
};

std::string QuoteIdent(const std::string& name) {
  bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9') &&
               std::all_of(name.begin(), name.end(), [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
               });
  if (plain) return name;
  std::string out = "\"";
  for (char c : name) {
    out.push_back(c);
    if (c == '"') out.push_back('"');
  }
  return out + "\"";
}

bool IsClusterError(cql::ErrorKind kind) {
  return kind == cql::ErrorKind::kUnavailable || kind == cql::ErrorKind::kTimeout ||
         kind == cql::ErrorKind::kServer;
}

class Load {
 public:
  Load(Client& client, const LoadOptions& options, const std::vector<TableColumn>& columns,
       const std::vector<std::string>& files, ErrorLog& errors, Counters& counters)
      : client_(client), options_(options), columns_(columns), files_(files), errors_(errors),
        counters_(counters), limiter_(options.rate_rows_per_s),
        queue_(static_cast<size_t>(options.concurrency) * 2),
        table_(QuoteIdent(options.keyspace) + "." + QuoteIdent(options.table)) {}

  void Worker() {
    cql::Session session(client_);
    session.set_consistency(options_.consistency);
    Batch batch;
    while (queue_.Pop(&batch)) {
      if (aborted_.load()) {
        NotLoaded(batch, "not loaded: the load stopped after a cluster failure");
        continue;
      }
      limiter_.Acquire(batch.size());
      RunBatch(session, batch);
    }
  }

  BatchQueue& queue() { return queue_; }
  bool aborted() const { return aborted_.load(); }
  std::string abort_message() {
    std::lock_guard lock(mu_);
    return abort_message_;
  }
  uint64_t not_loaded() const { return not_loaded_.load(); }
  uint64_t retries() const { return retries_.load(); }

 private:
  // One INSERT with a '?' for each non-null cell (null cannot be bound: it is written as null).
  void AppendInsert(const Row& row, std::string* statement, std::vector<cql::Value>* binds) {
    std::string names, values;
    for (const auto& [index, value] : row.cells) {
      if (!names.empty()) {
        names += ", ";
        values += ", ";
      }
      names += QuoteIdent(columns_[index].name);
      if (value) {
        values += "?";
        binds->push_back(*value);
      } else {
        values += "null";
      }
    }
    *statement += fmt::format("INSERT INTO {} ({}) VALUES ({})", table_, names, values);
  }

  void RunBatch(cql::Session& session, const Batch& batch) {
    std::string statement;
    std::vector<cql::Value> binds;
    if (batch.size() == 1) {
      AppendInsert(batch[0].row, &statement, &binds);
    } else {
      statement = "BEGIN UNLOGGED BATCH\n";
      for (const auto& pending : batch) {
        AppendInsert(pending.row, &statement, &binds);
        statement += ";\n";
      }
      statement += "APPLY BATCH";
    }
    auto result = ExecuteWithRetry(session, statement, binds);
    if (result.ok()) {
      counters_.rows_loaded += batch.size();
      return;
    }
    const cql::CqlError& error = result.error();
    if (IsClusterError(error.kind)) {
      Abort(error);
      NotLoaded(batch, fmt::format("not loaded: {}", error.message));
      return;
    }
    if (batch.size() == 1) {
      Bad(batch[0], error.message);
      return;
    }
    // The cluster refused the batch as a whole: find the rows it refuses, one at a time.
    for (const auto& pending : batch) RunBatch(session, Batch{pending});
  }

  cql::CqlResult<cql::ResultSet> ExecuteWithRetry(cql::Session& session,
                                                  const std::string& statement,
                                                  const std::vector<cql::Value>& binds) {
    auto backoff = options_.backoff_initial;
    for (int attempt = 0;; ++attempt) {
      auto result = session.Execute(statement, binds);
      if (result.ok() || !IsClusterError(result.error().kind) || attempt >= options_.retries ||
          aborted_.load()) {
        if (!result.ok() && IsClusterError(result.error().kind) && attempt > 0) {
          cql::CqlError e = result.error();
          e.message = fmt::format("{} (after {} attempts)", e.message, attempt + 1);
          return e;
        }
        return result;
      }
      ++retries_;
      // Writes are upserts: replaying one, even one in doubt, converges to the same row.
      std::unique_lock lock(mu_);
      abort_cv_.wait_for(lock, backoff, [this] { return aborted_.load(); });
      backoff = std::min(backoff * 2, options_.backoff_max);
    }
  }

  void Abort(const cql::CqlError& error) {
    std::lock_guard lock(mu_);
    if (!aborted_.exchange(true)) abort_message_ = error.message;
    abort_cv_.notify_all();
  }

  void Bad(const PendingRow& row, const std::string& reason) {
    errors_.Add(files_[row.file], row.line, row.raw, reason);
    ++counters_.rows_bad;
  }

  void NotLoaded(const Batch& batch, const std::string& reason) {
    for (const auto& row : batch) errors_.Add(files_[row.file], row.line, row.raw, reason);
    not_loaded_ += batch.size();
  }

  Client& client_;
  const LoadOptions& options_;
  const std::vector<TableColumn>& columns_;
  const std::vector<std::string>& files_;
  ErrorLog& errors_;
  Counters& counters_;
  RateLimiter limiter_;
  BatchQueue queue_;
  const std::string table_;

  std::atomic<bool> aborted_{false};
  std::atomic<uint64_t> not_loaded_{0}, retries_{0};
  std::mutex mu_;
  std::condition_variable abort_cv_;
  std::string abort_message_;  // guarded by mu_
};

LoadReport Usage(std::string message) {
  LoadReport report;
  report.outcome = LoadReport::Outcome::kUsage;
  report.message = std::move(message);
  return report;
}

std::string Shorten(const std::string& text) {
  if (text.size() <= kRawBytesMax) return text;
  return text.substr(0, kRawBytesMax) + "...";
}

// What the input files are, checked before anything is loaded.
struct InputFile {
  std::string path;
  Format format;
  uint64_t bytes = 0;
};

}  // namespace

std::string LoadReport::Summary() const {
  double rate = seconds > 0 ? static_cast<double>(rows_loaded) / seconds : 0;
  std::string bad = rows_bad > 0 ? fmt::format("{} bad rows (see {})", rows_bad, errors_path)
                                 : "0 bad rows";
  std::string not_loaded;
  if (rows_not_loaded > 0) {
    not_loaded = fmt::format(", {} rows not loaded (see {})", rows_not_loaded, errors_path);
  }
  return fmt::format("loaded {} rows, {}{}, in {:.1f} s, {:.0f} rows/s", rows_loaded, bad,
                     not_loaded, seconds, rate);
}

LoadReport RunLoad(Client& client, const LoadOptions& options) {
  if (options.keyspace.empty() || options.table.empty()) return Usage("--keyspace and --table are required");
  if (options.files.empty()) return Usage("no input FILE given");
  if (options.concurrency < 1 || options.concurrency > kConcurrencyMax) {
    return Usage(fmt::format("--concurrency must be 1..{}", kConcurrencyMax));
  }
  if (options.batch_size < 1 || options.batch_size > kBatchSizeMax) {
    return Usage(fmt::format("--batch-size must be 1..{}", kBatchSizeMax));
  }
  if (options.retries < 0 || options.retries > kRetriesMax) {
    return Usage(fmt::format("--retries must be 0..{}", kRetriesMax));
  }
  if (options.rate_rows_per_s < 0) return Usage("--rate must not be negative");

  std::vector<InputFile> inputs;
  for (const auto& path : options.files) {
    InputFile input{path, Format::kJsonl, 0};
    if (options.format) {
      input.format = *options.format;
    } else if (!FormatFromPath(path, &input.format)) {
      return Usage(fmt::format("cannot tell the format of '{}' from its name: use --format", path));
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return Usage(fmt::format("cannot read '{}'", path));
    }
    RecordReader probe(path, input.format);
    if (!probe.ok()) return Usage(fmt::format("cannot open '{}': {}", path, probe.error()));
    input.bytes = static_cast<uint64_t>(st.st_size);
    inputs.push_back(input);
  }

  const auto start = Clock::now();
  LoadReport report;
  report.errors_path =
      options.errors_path.empty() ? options.table + ".errors.jsonl" : options.errors_path;

  // The table's columns and key, from the cluster: the first request, so a dead cluster shows
  // here.
  std::vector<TableColumn> columns;
  {
    cql::Session meta(client);
    // The schema is small and changes rarely: one replica's copy is enough to know the columns,
    // and a cluster short of a quorum then fails on the writes, with the rows in the error file.
    meta.set_consistency(Consistency::kOne);
    auto cols = meta.Columns(options.keyspace, options.table);
    if (!cols.ok()) {
      if (IsClusterError(cols.error().kind)) {
        report.outcome = LoadReport::Outcome::kClusterFailed;
        report.message = fmt::format("cannot read the schema of {}.{} from the cluster: {}",
                                     options.keyspace, options.table, cols.error().message);
        return report;
      }
      return Usage(fmt::format("table {}.{}: {}", options.keyspace, options.table,
                               cols.error().message));
    }
    std::vector<std::pair<std::string, cql::Type>> plain;
    for (const auto& c : cols.value()) plain.emplace_back(c.name, c.type);
    auto create = meta.DescribeTable(options.keyspace, options.table);
    columns = ColumnsWithKeys(plain, create.ok() ? create.value() : std::string());
  }
  RowConverter converter(columns, options.ignore_unknown);

  // CSV headers are checked before any row is written: a header that does not fit the table is
  // a mistake in the command, not a bad row.
  std::vector<std::vector<std::optional<size_t>>> headers(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].format != Format::kCsv) continue;
    RecordReader reader(inputs[i].path, Format::kCsv);
    Record header;
    std::string reason;
    if (!reader.Next(&header) || header.status != Record::Status::kOk) {
      return Usage(fmt::format("'{}' has no CSV header line", inputs[i].path));
    }
    if (!converter.BindCsvHeader(header.fields, &headers[i], &reason)) {
      return Usage(fmt::format("{}: {}", inputs[i].path, reason));
    }
  }

  ErrorLog errors(report.errors_path);
  Counters counters;
  for (const auto& input : inputs) counters.bytes_total += input.bytes;
  Progress progress(counters, options.progress, stderr, options.progress_interval);
  std::vector<std::string> paths;
  for (const auto& input : inputs) paths.push_back(input.path);
  Load load(client, options, columns, paths, errors, counters);

  std::vector<std::thread> workers;
  for (int i = 0; i < options.concurrency; ++i) workers.emplace_back([&load] { load.Worker(); });
  progress.Start();

  uint64_t bytes_done = 0;
  Batch batch;
  for (size_t f = 0; f < inputs.size() && report.stopped_at.empty(); ++f) {
    RecordReader reader(inputs[f].path, inputs[f].format);
    Record record;
    bool csv = inputs[f].format == Format::kCsv;
    bool header_seen = false;
    while (reader.Next(&record)) {
      counters.bytes_read = bytes_done + reader.bytes_read();
      if (csv && !header_seen) {
        header_seen = true;
        continue;
      }
      if (load.aborted()) {
        report.stopped_at = fmt::format("{} line {}", inputs[f].path, record.line);
        break;
      }
      PendingRow pending{f, record.line, nlohmann::json(), Row()};
      std::string reason;
      bool good = false;
      if (record.status == Record::Status::kTooLong) {
        reason = fmt::format("record longer than {} bytes", kRecordBytesMax);
      } else if (record.status == Record::Status::kUnterminatedQuote) {
        reason = "the file ends inside a quoted field";
      } else if (csv) {
        good = converter.FromCsv(headers[f], record.fields, record.quoted, &pending.row, &reason);
      } else {
        good = converter.FromJsonLine(record.text, &pending.row, &reason, &pending.raw);
      }
      if (pending.raw.is_null()) pending.raw = Shorten(record.text);
      if (!good) {
        errors.Add(inputs[f].path, record.line, pending.raw, reason);
        ++counters.rows_bad;
        continue;
      }
      batch.push_back(std::move(pending));
      if (batch.size() >= static_cast<size_t>(options.batch_size)) {
        load.queue().Push(std::move(batch));
        batch.clear();
      }
    }
    if (!reader.error().empty() && report.stopped_at.empty()) {
      // A read error mid-file: the rows after it were not seen; say so rather than pretend.
      errors.Add(inputs[f].path, record.line, nullptr,
                 fmt::format("read error after this line: {}; the rest of the file was not loaded",
                             reader.error()));
      ++counters.rows_bad;
    }
    bytes_done += inputs[f].bytes;
    counters.bytes_read = bytes_done;
  }
  if (!batch.empty()) load.queue().Push(std::move(batch));
  load.queue().Close();
  for (auto& worker : workers) worker.join();
  progress.Stop();

  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report.rows_loaded = counters.rows_loaded.load();
  report.rows_bad = counters.rows_bad.load();
  report.rows_not_loaded = load.not_loaded();
  report.retries = load.retries();
  if (load.aborted()) {
    report.outcome = LoadReport::Outcome::kClusterFailed;
    report.message = fmt::format("the cluster failed: {}", load.abort_message());
  } else if (report.rows_bad > 0) {
    report.outcome = LoadReport::Outcome::kBadRows;
  }
  if (!errors.ok()) {
    report.message += fmt::format("{}could not write the error file {}: {}",
                                  report.message.empty() ? "" : "; ", report.errors_path,
                                  errors.write_error());
  }
  return report;
}

}  // namespace ringkv::kvload
