// CQL-lite over a ringkv cluster: a Session parses a statement, checks it against the schema and
// carries it out with the client library. kvsh, kvload and the pipeline demo all go through it.
//
//   ringkv::Client client(options);
//   ringkv::cql::Session session(client);
//   auto r = session.Execute("SELECT lang, score FROM docs WHERE doc_id = ?",
//                            {ringkv::cql::Value::Text("d42")});
//   if (!r.ok()) { r.error().message ... r.error().line / column point at the bad token }
//
// Data layout (see cql/README.md): a table's partition is one ringkv object under the key
// "<table>\0<encoded partition key>" in the table's keyspace; its value holds the partition's rows,
// each cell with its write timestamp (and expiry). Schema lives in the keyspace "system_schema".
// A write reads the partition and writes the result with the read's causal context, so a
// read-modify-write never creates a false sibling; concurrent writes do, and the table's conflict
// mode decides what a read shows: every sibling (siblings), the newest (lww) or a cell-by-cell merge
// by write timestamp (merge, the default).
//
// Thread safety: one Session per thread. The Client may be shared by several Sessions.
// Lifetime: the Client must outlive the Session.
#ifndef RINGKV_CQL_SESSION_H_
#define RINGKV_CQL_SESSION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cql/partition.h"
#include "cql/value.h"
#include "ringkv/client.h"

namespace ringkv::cql {

enum class ErrorKind : uint8_t {
  kSyntax,        // the statement does not parse; line / column point at the token
  kInvalid,       // parses, but is wrong for the schema (unknown column, wrong type, missing key)
  kAlreadyExists, // CREATE without IF NOT EXISTS
  kUnavailable,   // from the cluster: too few replicas (message says needed / alive)
  kTimeout,       // from the cluster; writes in doubt say so in the message
  kServer,        // any other error from the cluster
};

struct CqlError {
  ErrorKind kind = ErrorKind::kInvalid;
  std::string message;
  int line = 0;    // 1-based position of the offending token; 0: not about one token
  int column = 0;
  std::string near;  // the offending token's text
  uint32_t needed = 0, alive = 0;  // kUnavailable: replicas needed and alive
  // "line 1:14 no viable alternative at input 'FORM'" style, as cqlsh prints it.
  std::string ToString() const;
};

template <typename T>
class [[nodiscard]] CqlResult {
 public:
  CqlResult(T value) : ok_(true), value_(std::move(value)) {}  // NOLINT
  CqlResult(CqlError error) : ok_(false), error_(std::move(error)) {}  // NOLINT
  bool ok() const { return ok_; }
  T& value() { return value_; }
  const T& value() const { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }
  T& operator*() { return value_; }
  const T& operator*() const { return value_; }
  const CqlError& error() const { return error_; }

 private:
  bool ok_;
  T value_{};
  CqlError error_;
};

struct ColumnSpec {
  std::string name;  // as SELECT names it: "lang", "count", "ttl(score)", "writetime(score)"
  Type type;
};

struct ResultSet {
  std::vector<ColumnSpec> columns;               // empty for statements without rows
  std::vector<std::vector<std::optional<Value>>> rows;
  // Siblings mode: rows[i] came from sibling sibling_of_row[i] (1-based) of a partition that has
  // siblings_of_row[i] siblings; 0 / 0 when the partition had one version. Empty if no row is
  // from a partition with siblings.
  std::vector<uint32_t> sibling_of_row, siblings_of_row;
  std::vector<std::string> warnings;             // e.g. "partition 'd1' has 2 siblings"
  std::vector<TraceInfo> traces;                 // one per cluster request, when tracing is on
  std::vector<std::string> notes;                // what the Session did beyond the requests, for
                                                 // TRACING: "merged 2 siblings cell by cell"
  std::string paging_state;                      // non-empty: more rows; pass to the next page
  std::string keyspace_changed;                  // USE: the new keyspace
  std::string message;                           // DDL: what changed, e.g. "created table docs"
};

struct ExecuteOptions {
  uint32_t page_size = 0;      // rows per page; 0: all rows
  std::string paging_state;    // from the previous page's ResultSet
};

struct TableSchema;
struct KeyspaceSchema;

class Session {
 public:
  explicit Session(Client& client);
  ~Session();
  // How long the tables' tombstones are kept at least (cql/partition.h, kTombstoneGraceS by
  // default; a node's CQL port uses its --gc-grace-s).
  void set_tombstone_grace_s(int64_t grace_s);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // One statement (a trailing ';' is optional). `binds` fill the '?' markers in order.
  CqlResult<ResultSet> Execute(std::string_view statement, const std::vector<Value>& binds = {},
                               const ExecuteOptions& options = {});
  // Splits a script into statements (';'-terminated, comments and quoted strings respected) and
  // the line each starts on. Shell commands (CONSISTENCY, DESCRIBE, ...) come back as statements
  // too; the shell recognises them before calling Execute.
  static std::vector<std::pair<std::string, int>> SplitStatements(std::string_view script);
  // True when `text` holds at least one complete statement (ends with ';' outside quotes and
  // comments): the shell's continuation-prompt test.
  static bool IsComplete(std::string_view text);

  const std::string& keyspace() const;
  CqlResult<bool> Use(std::string_view keyspace);
  Consistency consistency() const;   // default kDefault: the node's default (QUORUM)
  void set_consistency(Consistency c);
  bool tracing() const;
  void set_tracing(bool on);
  // The quorum mode of the session's writes (kDefault: each keyspace's own; ringkv/client.h).
  Quorum quorum() const;
  void set_quorum(Quorum q);

  // Schema, for DESCRIBE and tab completion.
  CqlResult<std::vector<std::string>> Keyspaces();
  CqlResult<std::vector<std::string>> Tables(std::string_view keyspace);
  // Column names of a table, partition key first, then clustering, then the rest.
  CqlResult<std::vector<ColumnSpec>> Columns(std::string_view keyspace, std::string_view table);
  // CREATE KEYSPACE / CREATE TABLE statements that recreate them, as cqlsh's DESCRIBE prints.
  CqlResult<std::string> DescribeKeyspace(std::string_view keyspace);
  CqlResult<std::string> DescribeTable(std::string_view keyspace, std::string_view table);
  // The records themselves (cql/schema.h), for front ends that publish the schema in their own
  // form (the native protocol's system_schema tables). nullopt: no such keyspace.
  CqlResult<TableSchema> TableSchemaOf(std::string_view keyspace, std::string_view table);
  CqlResult<std::optional<KeyspaceSchema>> KeyspaceSchemaOf(std::string_view keyspace);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringkv::cql

#endif  // RINGKV_CQL_SESSION_H_
