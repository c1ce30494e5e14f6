// One CQL partition as it is stored in one ringkv object: its rows, each row's cells with write
// timestamps and expiries, and the tombstones that shadow them. This is Cassandra's data model in
// miniature, and merging two versions of a partition is Cassandra's reconciliation: cell by cell,
// the higher write timestamp wins.
//
// Layout (cql/README.md has the byte format):
//   Partition: a partition tombstone, rows keyed by their clustering key encoding (so the map's
//     order is the clustering order, DESC columns included).
//   Row: a row marker (INSERT sets it, so a row holding only its key exists), a row tombstone,
//     cells keyed by (column, element). Scalars and lists are one cell (element empty); a set or
//     map element is a cell of its own (element = the encoded element / map key), so concurrent
//     adds to one collection merge. A collection-wide deletion is a tombstone cell with an empty
//     element: it shadows that column's element cells written at or before its timestamp.
//
// Thread safety: plain data and pure functions; `now_s` is passed in, never read from a clock here.
#ifndef RINGKV_CQL_PARTITION_H_
#define RINGKV_CQL_PARTITION_H_

#include <compare>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ringkv::cql {

// No timestamp: older than any write.
inline constexpr int64_t kNoTimestamp = std::numeric_limits<int64_t>::min();
// How long deleted and expired data is kept as tombstones at least (so that an older version of a
// partition, met later as a sibling, cannot bring it back): the node's default --gc-grace-s, 10
// days as Cassandra's gc_grace_seconds. Past it they are dropped only by a write whose read found
// every replica holding the same object (Compact's purge_before_s; the rule of the node's own
// tombstone collection, node/tombstone_gc.h).
inline constexpr int64_t kTombstoneGraceS = 10 * 24 * 3600;
// Compact's purge_before_s that keeps every tombstone.
inline constexpr int64_t kKeepTombstones = std::numeric_limits<int64_t>::min();
// The largest encoded partition a write may store: the node's value limit (common/limits.h
// kValueBytesMaxDefault).
inline constexpr size_t kPartitionBytesMax = 16u << 20;
// Decoding limits: a row key, column name or cell value may not exceed the partition bound.
inline constexpr uint8_t kPartitionFormat = 1;

// A deletion: everything written at or before `timestamp_us` is shadowed. `local_s` is the wall
// time (seconds) it was made at, from which the grace period runs.
struct Deletion {
  int64_t timestamp_us = kNoTimestamp;
  int64_t local_s = 0;
  bool live() const { return timestamp_us != kNoTimestamp; }
  friend bool operator==(const Deletion&, const Deletion&) = default;
};

struct Cell {
  std::string value;          // EncodeValue bytes of the column (or of a map value); empty for a
                              // set element and for tombstones
  int64_t timestamp_us = kNoTimestamp;
  int64_t expires_s = 0;      // live cells: expiry (unix seconds), 0 never. Tombstones: when made.
  uint32_t ttl_s = 0;         // the TTL it was written with (0: none), as Cassandra keeps it
  bool tombstone = false;
  friend bool operator==(const Cell&, const Cell&) = default;
};

struct CellKey {
  std::string column;
  std::string element;  // empty: the column's own cell (scalar, list, or collection tombstone)
  friend auto operator<=>(const CellKey&, const CellKey&) = default;
  friend bool operator==(const CellKey&, const CellKey&) = default;
};

struct RowMarker {
  int64_t timestamp_us = kNoTimestamp;
  int64_t expires_s = 0;  // 0: never
  uint32_t ttl_s = 0;
  friend bool operator==(const RowMarker&, const RowMarker&) = default;
};

struct Row {
  RowMarker marker;
  Deletion deletion;
  std::map<CellKey, Cell> cells;
  friend bool operator==(const Row&, const Row&) = default;
};

struct Partition {
  Deletion deletion;
  std::map<std::string, Row> rows;  // clustering key encoding -> row ("" without clustering)
  friend bool operator==(const Partition&, const Partition&) = default;
};

// Which of two cells a merge keeps, as Cassandra decides: the higher timestamp; at equal
// timestamps a tombstone; then the one whose value bytes are greater; then the later expiry.
// Returns true when `a` wins over (or equals) `b`.
bool CellWins(const Cell& a, const Cell& b);

// The union of two versions, cell by cell (commutative, associative, idempotent).
Partition Merge(const Partition& a, const Partition& b);
// Merges `b` into `*a`.
void MergeInto(Partition* a, const Partition& b);

// Applies deletions and expiry as of `now_s`: cells and markers shadowed by a row, partition or
// collection deletion are dropped; expired cells become tombstones (so that they still win over
// older cells); tombstones, expired markers and deletions made before `purge_before_s` are
// dropped (none by default), as are rows left empty. Merge() results are valid without it;
// Compact keeps the stored form small and canonical.
void Compact(Partition* p, int64_t now_s, int64_t purge_before_s = kKeepTombstones);
// Whether Compact(p, now_s, purge_before_s) would drop a tombstone, an expired marker or a
// deletion. REQUIRES: p compacted as of now_s.
bool HasTombstonesBefore(const Partition& p, int64_t purge_before_s);

// Whether a cell / row marker is live: written, not a tombstone, not expired at `now_s`.
// Shadowing by deletions is Compact's job: call these on compacted partitions.
bool CellLive(const Cell& c, int64_t now_s);
bool MarkerLive(const RowMarker& m, int64_t now_s);
// A row exists for SELECT when its marker or any cell is live (after Compact).
bool RowLive(const Row& r, int64_t now_s);
// The newest timestamp anywhere in the partition (cells, markers, deletions): LWW picks by it.
int64_t NewestTimestamp(const Partition& p);

// The stored form: canonical (equal partitions encode to equal bytes).
std::string EncodePartition(const Partition& p);
// False on malformed or unknown-format input; `*out` is then unspecified.
bool DecodePartition(std::string_view bytes, Partition* out);

// Index of the version last-writer-wins keeps: the highest NewestTimestamp, ties to the greater
// encoding. REQUIRES: !versions.empty().
size_t PickNewest(const std::vector<Partition>& versions);

}  // namespace ringkv::cql

#endif  // RINGKV_CQL_PARTITION_H_
