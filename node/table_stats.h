// TableStats: a node's local (replica-side) figures per keyspace and per CQL table, for Info's
// keyspaceStats, `kvctl tablestats` and /metrics. A key of the form "<table>\0<rest>" counts under
// <table>; other keys under table "".
//
// Keys and bytes are kept up to date by the writes (a new object adds a key, a write adds the
// difference between the new and the old encoded size) from a count taken by scanning storage at
// start (Load). Bytes are the encoded objects' sizes: what LevelDB stores before its compression
// and per-entry overheads, so an estimate of the data, not of the disk used.
//
// Thread safety: none; the node's loop.
#ifndef RINGKV_NODE_TABLE_STATS_H_
#define RINGKV_NODE_TABLE_STATS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "storage/storage.h"

namespace ringkv {

// Tables tracked per node; keys of further tables count under kOtherTables, so a client inventing
// table names cannot grow this without bound.
inline constexpr size_t kTrackedTablesMax = 4096;
inline constexpr std::string_view kOtherTables = "(other tables)";

struct TableFigures {
  uint64_t reads = 0, writes = 0;
  uint64_t read_latency_us_total = 0, write_latency_us_total = 0;
  int64_t keys = 0, bytes = 0;
};

struct TableStatsRow {
  std::string keyspace, table;  // table "": keys outside any table; the keyspace's total is the
                                // sum of its rows
  TableFigures figures;
};

class TableStats {
 public:
  // The table a key belongs to: the bytes before its first NUL; "" if it has none.
  static std::string_view TableOf(std::string_view key);

  // Counts every stored object of `keyspaces` (a full scan; at start only).
  Status Load(Storage* storage, const std::vector<std::string>& keyspaces);

  void RecordRead(std::string_view keyspace, std::string_view key, int64_t latency_us);
  // A write that stored an object of `new_bytes` where one of `old_bytes` was (0 with !existed).
  void RecordWrite(std::string_view keyspace, std::string_view key, int64_t latency_us,
                   bool existed, size_t old_bytes, size_t new_bytes);
  // An object of `bytes` erased (not a write: `kvctl cleanup` removed a copy this node no longer
  // owns).
  void RecordErase(std::string_view keyspace, std::string_view key, size_t bytes);
  // A dropped keyspace's figures go with it.
  void DropKeyspace(std::string_view keyspace);

  std::vector<TableStatsRow> Rows() const;

 private:
  TableFigures& Slot(std::string_view keyspace, std::string_view key);

  // Keyed by "keyspace\0table" (keyspace names hold no NUL), so a lookup needs no copies.
  std::map<std::string, TableFigures, std::less<>> tables_;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_TABLE_STATS_H_
