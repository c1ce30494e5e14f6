// Loader: kvload's engine. Reads JSONL / CSV files, converts each record to a row of the target
// table (row_convert.h), and upserts the rows through CQL-lite Sessions (cql/session.h) from
// `concurrency` worker threads, `batch_size` rows to an UNLOGGED BATCH of INSERTs with bind
// markers.
//
// Rows: a bad row (malformed, wrong type, unknown column, missing key) goes to the error file
// with its line and reason, is counted, and the load goes on. A batch the cluster refuses as
// invalid is replayed a row at a time, so only its bad rows are rejected. A batch that fails for
// the cluster's sake (unavailable, timeout, other server errors) is retried with exponential
// backoff; INSERT is an upsert, so a retry -- even of a write in doubt -- is harmless and reloading
// a file gives the same table. When a batch still fails after `retries`, the load stops: that
// batch and every batch still queued go to the error file as not loaded, no more input is read,
// and the report says where the load stopped.
//
// Limits: concurrency 1..64, batch size 1..1000, at most 2 batches queued per worker (the reader
// waits), retries 0..20 with backoff capped at backoff_max.
//
// Thread safety: RunLoad is reentrant; it starts and joins its own threads. The Client must be
// usable from several threads (ringkv::Client is).
#ifndef RINGKV_TOOLS_KVLOAD_LOADER_H_
#define RINGKV_TOOLS_KVLOAD_LOADER_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ringkv/client.h"
#include "tools/kvload/progress.h"
#include "tools/kvload/record_reader.h"

namespace ringkv::kvload {

struct LoadOptions {
  std::string keyspace;
  std::string table;
  std::vector<std::string> files;
  std::optional<Format> format;  // unset: from each file's extension
  int concurrency = 8;
  int batch_size = 50;
  double rate_rows_per_s = 0;    // 0: unlimited
  std::string errors_path;       // empty: "<table>.errors.jsonl"
  bool ignore_unknown = false;
  int retries = 5;
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{2000};
  Consistency consistency = Consistency::kDefault;
  ProgressMode progress = ProgressMode::kAuto;
  std::chrono::milliseconds progress_interval{5000};  // plain mode
};

struct LoadReport {
  enum class Outcome : uint8_t {
    kOk,            // every row loaded                                  (exit 0)
    kBadRows,       // some rows were bad, the rest loaded               (exit 1)
    kUsage,         // bad options, unknown table, unreadable file       (exit 2)
    kClusterFailed, // the cluster failed after retries; the load stopped (exit 3)
  };
  Outcome outcome = Outcome::kOk;
  uint64_t rows_loaded = 0;
  uint64_t rows_bad = 0;        // rejected rows (bad input), in the error file
  uint64_t rows_not_loaded = 0; // good rows the cluster did not take, in the error file
  uint64_t retries = 0;         // batch attempts repeated after a cluster error
  double seconds = 0;
  std::string errors_path;
  std::string message;          // kUsage / kClusterFailed: what happened, for a person
  std::string stopped_at;       // kClusterFailed: "docs.jsonl line 1201" (the first unread row)

  int exit_code() const { return static_cast<int>(outcome); }
  // "loaded N rows, E bad rows (see FILE), in S s, R rows/s"
  std::string Summary() const;
};

// Runs a whole load. Progress goes to stderr (per options.progress); nothing else is printed.
LoadReport RunLoad(Client& client, const LoadOptions& options);

}  // namespace ringkv::kvload

#endif  // RINGKV_TOOLS_KVLOAD_LOADER_H_
