// COPY TO / COPY FROM: CSV export and import through the Backend, as cqlsh's COPY.
//
// Export cuts the ring at every member's token and reads each range with
// `SELECT cols FROM ks.t WHERE token(pk) > a AND token(pk) <= b`, paged, from CONCURRENCY
// sessions in parallel (each range is one unit of work, so a partition is read once). Import
// reads the CSV, converts each field with its column's type and writes rows with
// `INSERT ... VALUES (?, ...)` in UNLOGGED BATCHes of MAXBATCHSIZE from CONCURRENCY sessions; a
// batch that fails is retried row by row, so one bad row costs one row (counted as skipped,
// written to ERRFILE), not a batch.
//
// Options (WITH name = value AND ...): HEADER (false), DELIMITER (','), QUOTE ('"'), NULL (''),
// MAXBATCHSIZE (20, 1..1000), INGESTRATE (100000 rows/s), MAXROWS (-1: all), CONCURRENCY or
// NUMPROCESSES (4, 1..16), PAGESIZE (1000, 1..100000), MAXERRORS (-1: no limit), ERRFILE (none),
// SKIPROWS (0).
//
// Thread safety: RunCopy uses the given Backend on the calling thread and makes others with
// Backend::NewSession for its worker threads, which it joins before returning.
#ifndef RINGKV_TOOLS_KVSH_COPY_H_
#define RINGKV_TOOLS_KVSH_COPY_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "cql/session.h"
#include "tools/kvsh/backend.h"
#include "tools/kvsh/command.h"
#include "tools/kvsh/csv.h"

namespace ringkv::kvsh {

struct CopyOptions {
  bool header = false;
  CsvDialect dialect;
  std::string null_string;
  uint32_t max_batch_size = 20;
  uint64_t ingest_rate = 100000;
  int64_t max_rows = -1;
  uint32_t concurrency = 4;
  uint32_t page_size = 1000;
  int64_t max_errors = -1;
  std::string err_file;
  uint64_t skip_rows = 0;
};

// Reads spec.options; an unknown option or a bad value is an error message.
std::optional<std::string> ParseCopyOptions(const CopySpec& spec, CopyOptions* out);

struct CopyOutcome {
  bool ok = true;            // false: nothing or only part was done; `error` says why
  std::string error;
  uint64_t rows = 0;         // exported / imported
  uint64_t skipped = 0;      // import: rows not imported (bad fields, failed writes)
  double seconds = 0;
  // "N rows exported to 1 files in X seconds." / "N rows imported from 1 files in X seconds
  // (E skipped)."
  std::string Summary(bool to) const;
};

// Runs the COPY. `out` receives STDOUT exports; `err` per-row import errors (the first few) and
// progress. The file names in `spec` are paths on this machine.
CopyOutcome RunCopy(Backend& backend, const CopySpec& spec, std::ostream& out, std::ostream& err);

// One CSV field as a value of `column`'s type: NULL handling as above; text as is; numbers,
// booleans (true/false, any case) directly; timestamps, uuids, blobs and collections as the CQL
// literals COPY TO writes.
cql::CqlResult<std::optional<cql::Value>> FieldToValue(const CsvField& field,
                                                       const cql::ColumnSpec& column,
                                                       const std::string& null_string);
// A value as COPY TO writes it (before CSV quoting): text as is, floating point with all its
// digits, everything else as the table shows it.
std::string ValueToField(const cql::Value& value);

// `name` as CQL accepts it: as is when a lower-case identifier, else "double quoted".
std::string QuoteName(const std::string& name);

}  // namespace ringkv::kvsh

#endif  // RINGKV_TOOLS_KVSH_COPY_H_
