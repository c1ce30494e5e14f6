// Session::Impl: the Session's state and the executors of each statement kind. Internal to
// ringkv_cql; split over session.cc (dispatch, schema cache, client plumbing), exec_ddl.cc,
// exec_write.cc and exec_select.cc.
//
// Thread safety: none (one Session per thread, as session.h says).
#ifndef RINGKV_CQL_SESSION_IMPL_H_
#define RINGKV_CQL_SESSION_IMPL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cql/ast.h"
#include "cql/parser.h"
#include "cql/partition.h"
#include "cql/schema.h"
#include "cql/session.h"
#include "ringkv/client.h"

namespace ringkv::cql {

// Bounds on what one statement may fan out to.
inline constexpr size_t kKeysPerStatementMax = 100;  // cartesian product of IN lists (Cassandra's)
inline constexpr size_t kBatchPartitionsMax = 1000;
inline constexpr size_t kReadsInFlightMax = 32;       // parallel partition reads of a SELECT
inline constexpr uint32_t kScanPageKeys = 256;        // keys per Client::Scan page
inline constexpr uint64_t kScanPagesMax = 1'000'000;  // a full scan stops after this many pages
inline constexpr int64_t kTtlMaxS = 20 * 365 * 24 * 3600;  // Cassandra's MAX_TTL (20 years)

// One change to one partition, applied on the partition as read (and resolved) plus the changes
// before it. Returns an error to abort the whole statement before anything is written.
using PartitionOp = std::function<std::optional<CqlError>(Partition* partition, int64_t now_s)>;

struct PartitionWrite {
  std::string key;      // storage key
  std::string display;  // the partition key for messages: 'd1' or ('d1', 3)
  std::vector<PartitionOp> ops;
};

// The timestamp, TTL and wall time a write's cells get.
struct WriteStamp {
  int64_t timestamp_us = 0;
  uint32_t ttl_s = 0;
  int64_t now_s = 0;
};

// A restriction on one column, typed.
struct TypedRelation {
  size_t column = 0;  // index in TableSchema::columns
  Relation::Op op = Relation::Op::kEq;
  std::vector<Value> values;  // one, or the IN list
  SourcePos pos;
};

class Session::Impl {
 public:
  explicit Impl(Client& client) : client_(client) {}

  CqlResult<ResultSet> Execute(std::string_view text, const std::vector<Value>& binds,
                               const ExecuteOptions& options);
  CqlResult<bool> Use(std::string_view keyspace);

  CqlResult<std::vector<std::string>> Keyspaces();
  CqlResult<std::vector<std::string>> Tables(std::string_view keyspace);
  CqlResult<const TableSchema*> Table(std::string_view keyspace, std::string_view table,
                                      SourcePos pos = {});
  CqlResult<std::optional<KeyspaceSchema>> LoadKeyspace(std::string_view keyspace);

  std::string keyspace_;
  Consistency consistency_ = Consistency::kDefault;
  bool tracing_ = false;
  Quorum quorum_ = Quorum::kDefault;
  int64_t tombstone_grace_s = kTombstoneGraceS;

 private:
  // Statement executors.
  CqlResult<ResultSet> CreateKeyspace(const CreateKeyspaceStmt& s);
  CqlResult<ResultSet> DropKeyspace(const DropKeyspaceStmt& s);
  CqlResult<ResultSet> UseKeyspace(const UseStmt& s);
  CqlResult<ResultSet> CreateTable(const CreateTableStmt& s);
  CqlResult<ResultSet> DropTable(const DropTableStmt& s);
  CqlResult<ResultSet> Truncate(const TruncateStmt& s);
  CqlResult<ResultSet> Select(const SelectStmt& s, const std::vector<Value>& binds,
                              const ExecuteOptions& options);
  CqlResult<ResultSet> Insert(const InsertStmt& s, const std::vector<Value>& binds);
  CqlResult<ResultSet> Update(const UpdateStmt& s, const std::vector<Value>& binds);
  CqlResult<ResultSet> Delete(const DeleteStmt& s, const std::vector<Value>& binds);
  CqlResult<ResultSet> Batch(const BatchStmt& s, const std::vector<Value>& binds);

  // Write planning: what a statement changes, per partition (exec_write.cc).
  CqlResult<std::vector<PartitionWrite>> PlanInsert(const InsertStmt& s,
                                                    const std::vector<Value>& binds,
                                                    std::optional<int64_t> batch_ts);
  CqlResult<std::vector<PartitionWrite>> PlanUpdate(const UpdateStmt& s,
                                                    const std::vector<Value>& binds,
                                                    std::optional<int64_t> batch_ts);
  CqlResult<std::vector<PartitionWrite>> PlanDelete(const DeleteStmt& s,
                                                    const std::vector<Value>& binds,
                                                    std::optional<int64_t> batch_ts);
  CqlResult<WriteStamp> Stamp(const UsingClause& u, const TableSchema& t,
                              const std::vector<Value>& binds, std::optional<int64_t> batch_ts,
                              bool allow_ttl);
  // Read-modify-write of each partition; fills traces / notes / warnings of `rs`.
  std::optional<CqlError> ApplyWrites(const TableSchema& t, std::vector<PartitionWrite> writes,
                                      ResultSet* rs);

  // The versions a read found, decoded and compacted. Error: a sibling that does not decode.
  CqlResult<std::vector<Partition>> DecodeVersions(const std::vector<Sibling>& siblings,
                                                   std::string_view key, int64_t now_s);
  // Resolves versions per the table's mode for a write (merge, or lww's pick); notes the merge.
  Partition ResolveForWrite(const TableSchema& t, std::vector<Partition> versions,
                            std::string_view display, ResultSet* rs);
  // Whether every replica of `key` holds the object `read` saw: the read says so, or a read at
  // ALL finds them agreeing on the same clock. Then the write may drop tombstones past the grace
  // period (cql/partition.h, kTombstoneGraceS).
  bool ReplicasAgree(const std::string& keyspace, const std::string& key, const GetResult& read);

  // Schema records.
  std::optional<CqlError> EnsureSchemaKeyspace();
  // The newest sibling's value of a record, or nullopt if absent; `context` for a later write.
  CqlResult<std::optional<std::string>> ReadRecord(const std::string& key, std::string* context);
  std::optional<CqlError> WriteRecord(const std::string& key, const std::string& value,
                                      const std::string& context);
  std::optional<CqlError> DeleteRecord(const std::string& key);
  CqlResult<std::vector<std::string>> ScanRecordKeys(const std::string& prefix);
  CqlResult<std::string> ResolveKeyspace(const TableName& name);
  CqlResult<const TableSchema*> TableOf(const TableName& name);
  // Deletes every partition of a table (TRUNCATE, DROP TABLE).
  std::optional<CqlError> DeleteAllPartitions(const TableSchema& t, ResultSet* rs);

 public:
  // Client plumbing (used by the executors).
  ReadOptions ReadOpts(const std::string& keyspace) const;
  WriteOptions WriteOpts(const std::string& keyspace, std::string context) const;
  CqlError FromClient(const Error& e, bool write) const;
  std::string ConsistencyName() const;
  // Microseconds since the epoch, strictly increasing within the session (so that two writes
  // in a row never share a timestamp) and seconds, from the same reading.
  int64_t NowUs();
  static int64_t NowS();
  CqlResult<std::optional<Value>> Convert(const Term& term, const Type& type,
                                          const std::vector<Value>& binds,
                                          std::string_view column);
  // The typed restrictions of a WHERE clause on `t` (token relations excluded).
  CqlResult<std::vector<TypedRelation>> TypeRelations(const TableSchema& t,
                                                      const std::vector<Relation>& where,
                                                      const std::vector<Value>& binds);

 private:
  Client& client_;
  bool schema_keyspace_ready_ = false;
  int64_t last_us_ = 0;
  std::map<std::string, KeyspaceSchema> keyspaces_;
  std::map<std::pair<std::string, std::string>, TableSchema> tables_;
};

// Helpers shared by the executors.
CqlError Invalid(std::string message, SourcePos pos = {}, std::string near = {});
CqlError ServerError(std::string message);
// The partition key for messages: 'd1', or ('d1', 3) for a composite key.
std::string DisplayKey(const std::vector<Value>& values);
// Cartesian product of value lists (each non-empty); fails past `max`.
bool Cartesian(const std::vector<std::vector<Value>>& lists, size_t max,
               std::vector<std::vector<Value>>* out);
// Whether `v` (null: nullopt) satisfies `r`.
bool Satisfies(const std::optional<Value>& v, const TypedRelation& r);

}  // namespace ringkv::cql

#endif  // RINGKV_CQL_SESSION_IMPL_H_
