// Schema records: what CREATE KEYSPACE / CREATE TABLE define, as the Session caches them and as
// they are stored (JSON) in the ringkv keyspace "system_schema":
//   "keyspace\0<ks>"            -> KeyspaceSchema::ToJson()
//   "table\0<ks>\0<table>"      -> TableSchema::ToJson()
//
// Thread safety: plain data.
#ifndef RINGKV_CQL_SCHEMA_H_
#define RINGKV_CQL_SCHEMA_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cql/ast.h"
#include "cql/value.h"

namespace ringkv::cql {

inline constexpr char kSchemaKeyspace[] = "system_schema";
// Replication factor of system_schema (effective: min(3, nodes)).
inline constexpr uint32_t kSchemaReplicationFactor = 3;
inline constexpr size_t kColumnsMax = 1024;

enum class ColumnRole : uint8_t { kPartitionKey, kClustering, kRegular };

struct ColumnSchema {
  std::string name;
  Type type;
  ColumnRole role = ColumnRole::kRegular;
  bool descending = false;  // clustering columns: CLUSTERING ORDER BY (c DESC)
};

struct TableSchema {
  std::string keyspace, name;
  // Partition key columns in key order, then clustering columns in key order, then the other
  // columns by name (the order SELECT * shows, as Cassandra).
  std::vector<ColumnSchema> columns;
  size_t partition_key_count = 0;
  size_t clustering_count = 0;
  ConflictMode conflict_mode = ConflictMode::kMerge;
  int64_t default_time_to_live_s = 0;

  const ColumnSchema* Find(std::string_view column) const;
  size_t IndexOf(std::string_view column) const;  // columns.size() when absent
  bool is_key(size_t index) const { return index < partition_key_count + clustering_count; }
  std::string QualifiedName() const { return keyspace + "." + name; }

  std::string ToJson() const;
  static std::optional<TableSchema> FromJson(std::string_view json);
  // The CREATE TABLE statement that recreates it, formatted as cqlsh's DESCRIBE.
  std::string Describe() const;
};

struct KeyspaceSchema {
  std::string name;
  std::string replication_class = "SimpleStrategy";
  // SimpleStrategy's factor, or the sum of NetworkTopologyStrategy's per data centre factors
  // (ringkv has one ring, so every replica is in it): the ringkv keyspace's factor.
  uint32_t replication_factor = 1;
  std::vector<std::pair<std::string, std::string>> replication_options;  // NTS: dc -> factor
  bool durable_writes = true;
  bool sloppy_quorum = false;  // ringkv's own option: the ringkv keyspace's quorum mode

  std::string ToJson() const;
  static std::optional<KeyspaceSchema> FromJson(std::string_view json);
  std::string Describe() const;
};

// Record keys in system_schema.
std::string KeyspaceRecordKey(std::string_view keyspace);
std::string TableRecordKey(std::string_view keyspace, std::string_view table);
// Prefix of every table record of a keyspace.
std::string TableRecordPrefix(std::string_view keyspace);
inline constexpr char kKeyspaceRecordPrefix[] = "keyspace";  // followed by '\0'

// A name as CQL must write it: bare if lower-case identifier-like, else "double quoted".
std::string QuoteIdent(std::string_view name);

// The schema a CREATE TABLE defines (the parser has checked its shape).
TableSchema TableFromCreate(const CreateTableStmt& stmt, std::string keyspace);

}  // namespace ringkv::cql

#endif  // RINGKV_CQL_SCHEMA_H_
