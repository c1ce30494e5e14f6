// The system tables a Cassandra driver reads when it connects and to route by token:
// system.local, system.peers, system.peers_v2, system_schema.keyspaces / .tables / .columns (and
// the other system_schema tables, empty: ringkv has no types, functions, aggregates, triggers,
// indexes or views). They are built on each query from the ring this node knows and the schema
// records the Session reads; nothing is stored.
//
// What they say about ringkv:
//   - every node is in data centre "datacenter1", rack "rack1"; the partitioner is Murmur3;
//   - a keyspace's replication is SimpleStrategy with the ringkv keyspace's factor (ringkv has
//     one ring, so that is where its replicas are, whatever class CREATE KEYSPACE named);
//   - a node's CQL port is its ringkv port plus the same offset as this node's (--cql port minus
//     --listen port): nodes of a cluster are expected to keep one offset (7000+i / 9042+i);
//   - release_version is "3.11.0" and schema_version one constant uuid on every node, so drivers
//     pick their Cassandra 3 schema queries and see schema agreement at once (the Session itself
//     waits for agreement after CREATE KEYSPACE).
//
// Thread safety: pure functions; the Session is used from the calling thread only.
#ifndef RINGKV_CQL_NATIVE_SYSTEM_TABLES_H_
#define RINGKV_CQL_NATIVE_SYSTEM_TABLES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cql/ast.h"
#include "cql/native/messages.h"
#include "cql/session.h"
#include "ringkv/client.h"

namespace ringkv::cql::native {

struct NodeEntry {
  std::string name;
  std::string host;  // IPv4 address the node listens on
  int32_t cql_port = 0;
  uint64_t host_id = 0;
  std::vector<int64_t> tokens;
  bool self = false;
};

struct ClusterSnapshot {
  std::string cluster_name;
  std::vector<NodeEntry> nodes;  // self included
};

// The snapshot of `ring` (from Client::Ring on this node) with CQL ports at `cql_port_offset`
// from each node's ringkv port. Members that left or were removed are not in it (system.peers
// would send drivers to them).
ClusterSnapshot SnapshotFromRing(const RingInfo& ring, std::string cluster_name,
                                 int32_t cql_port_offset);

// Whether a SELECT of `keyspace` is answered here rather than by the Session.
bool IsSystemKeyspace(std::string_view keyspace);

struct TableAnswer {
  RowsMetadata metadata;
  std::vector<Row> rows;
};

// Answers a SELECT on a system table: every column (SELECT *) or the named ones, rows filtered
// by `=` / `IN` restrictions on any column. Unknown tables and other selectors are Invalid.
CqlResult<TableAnswer> QuerySystemTable(const SelectStmt& select, const std::vector<Value>& binds,
                                        const ClusterSnapshot& cluster, Session* session);

}  // namespace ringkv::cql::native

#endif  // RINGKV_CQL_NATIVE_SYSTEM_TABLES_H_
