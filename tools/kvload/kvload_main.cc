// kvload: bulk loader of pipeline records (JSONL / CSV) into a CQL-lite table. See kvload --help
// and loader.h.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ringkv/client.h"
#include "tools/kvload/loader.h"

namespace {

using ringkv::kvload::LoadOptions;
using ringkv::kvload::LoadReport;

constexpr char kFooter[] = R"(Input:
  JSONL: one JSON object per line; keys name columns. Numbers, strings, booleans, arrays
  (list/set columns), objects (map columns) and null. CSV: a header line naming columns, then
  one row per record (RFC 4180 quoting); text fields as they stand, other fields as CQL
  literals (42, 1.5, true, ['a', 'b'], {'k': 1.0}); an empty unquoted field is null.
  The format comes from the extension (.jsonl/.json/.ndjson, .csv) unless --format.

Rows are upserts by key: loading the same file again gives the same table. A bad row (malformed,
wrong type, unknown column, missing key) goes to the error file -- one JSON object per line with
file, line, row and reason -- and the load goes on.

Exit codes:
  0  every row loaded
  1  some rows were bad (see the error file); the others loaded
  2  usage: bad flags, unknown table, unreadable file, CSV header that does not fit the table
  3  the cluster failed (unavailable / timeouts after retries): the load stopped; rows not
     loaded are in the error file)";

std::vector<std::string> SplitHosts(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = std::min(list.find(',', start), list.size());
    if (comma > start) out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

bool ParseConsistency(std::string name, ringkv::Consistency* out) {
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name == "one") *out = ringkv::Consistency::kOne;
  else if (name == "two") *out = ringkv::Consistency::kTwo;
  else if (name == "three") *out = ringkv::Consistency::kThree;
  else if (name == "quorum") *out = ringkv::Consistency::kQuorum;
  else if (name == "all") *out = ringkv::Consistency::kAll;
  else if (name == "any") *out = ringkv::Consistency::kAny;
  else return false;
  return true;
}

int UsageError(const std::string& message) {
  fmt::print(stderr, "kvload: error: {}\nRun 'kvload --help' for usage.\n", message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("kvload: bulk load JSONL / CSV records into a ringkv CQL-lite table", "kvload");
  app.footer(kFooter);
  LoadOptions options;
  std::string hosts = "127.0.0.1:7000";
  std::string format, consistency, progress = "auto", output = "text";
  int timeout_ms = 5000;
  app.add_option("--host", hosts, "Nodes to start from: HOST:PORT[,HOST:PORT...]")
      ->capture_default_str();
  app.add_option("-k,--keyspace", options.keyspace, "Keyspace of the table")->required();
  app.add_option("-t,--table", options.table, "Table to load into")->required();
  app.add_option("--format", format, "Input format: jsonl|csv (default: from the extension)");
  app.add_option("-c,--concurrency", options.concurrency, "Worker threads, each with a session")
      ->capture_default_str();
  app.add_option("-b,--batch-size", options.batch_size, "Rows per UNLOGGED BATCH")
      ->capture_default_str();
  app.add_option("--rate", options.rate_rows_per_s, "At most this many rows a second (0: no limit)")
      ->capture_default_str();
  app.add_option("--errors", options.errors_path,
                 "Error file for bad rows (default: <table>.errors.jsonl; replaced each run)");
  app.add_flag("--ignore-unknown", options.ignore_unknown,
               "Skip fields that name no column instead of rejecting the row");
  app.add_option("--retries", options.retries, "Attempts after the first for a failed batch")
      ->capture_default_str();
  app.add_option("--cl", consistency, "Write consistency: one|two|three|quorum|all|any");
  app.add_option("--timeout-ms", timeout_ms, "Deadline of one request")->capture_default_str();
  app.add_option("--progress", progress, "auto (a bar on a terminal, lines otherwise)|bar|plain|none")
      ->capture_default_str();
  app.add_option("--format-summary,--output", output, "Summary as text|json")->capture_default_str();
  app.add_option("files", options.files, "Input files")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  if (!format.empty()) {
    if (format == "jsonl" || format == "json") options.format = ringkv::kvload::Format::kJsonl;
    else if (format == "csv") options.format = ringkv::kvload::Format::kCsv;
    else return UsageError(fmt::format("--format must be jsonl or csv, not '{}'", format));
  }
  if (!consistency.empty() && !ParseConsistency(consistency, &options.consistency)) {
    return UsageError(fmt::format("--cl: unknown consistency level '{}'", consistency));
  }
  if (progress == "auto") options.progress = ringkv::kvload::ProgressMode::kAuto;
  else if (progress == "bar") options.progress = ringkv::kvload::ProgressMode::kTty;
  else if (progress == "plain") options.progress = ringkv::kvload::ProgressMode::kPlain;
  else if (progress == "none") options.progress = ringkv::kvload::ProgressMode::kNone;
  else return UsageError("--progress must be auto|bar|plain|none");
  if (output != "text" && output != "json") return UsageError("--output must be text or json");
  if (timeout_ms < 1 || timeout_ms > 3'600'000) return UsageError("--timeout-ms must be 1..3600000");
  ringkv::ClientOptions client_options;
  client_options.contact_points = SplitHosts(hosts);
  if (client_options.contact_points.empty()) return UsageError("--host names no node");
  client_options.request_timeout = std::chrono::milliseconds(timeout_ms);
  client_options.connect_timeout = std::chrono::milliseconds(std::min(timeout_ms, 2000));
  client_options.client_name = "kvload";
  ringkv::Client client(client_options);

  LoadReport report = ringkv::kvload::RunLoad(client, options);
  if (report.outcome == LoadReport::Outcome::kUsage) return UsageError(report.message);
  if (output == "json") {
    nlohmann::json j = {{"rows_loaded", report.rows_loaded},
                        {"rows_bad", report.rows_bad},
                        {"rows_not_loaded", report.rows_not_loaded},
                        {"retries", report.retries},
                        {"seconds", report.seconds},
                        {"rows_per_s", report.seconds > 0 ? report.rows_loaded / report.seconds : 0},
                        {"errors_file", report.errors_path},
                        {"exit_code", report.exit_code()}};
    if (!report.message.empty()) j["error"] = report.message;
    if (!report.stopped_at.empty()) j["stopped_at"] = report.stopped_at;
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("{}\n", report.Summary());
  }
  if (!report.message.empty()) fmt::print(stderr, "kvload: error: {}\n", report.message);
  if (!report.stopped_at.empty()) {
    fmt::print(stderr,
               "kvload: the load stopped before {}; rows from there on were not read (loading "
               "the files again is safe: rows are upserts)\n",
               report.stopped_at);
  }
  return report.exit_code();
}
