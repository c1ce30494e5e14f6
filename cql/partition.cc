#include "cql/partition.h"

#include <algorithm>
#include <utility>

namespace ringkv::cql {
namespace {

// Expiry as an ordering key: 0 (never) is the latest.
int64_t ExpiryKey(int64_t expires_s) {
  return expires_s == 0 ? std::numeric_limits<int64_t>::max() : expires_s;
}

bool DeletionWins(const Deletion& a, const Deletion& b) {
  if (a.timestamp_us != b.timestamp_us) return a.timestamp_us > b.timestamp_us;
  return a.local_s >= b.local_s;
}

bool MarkerWins(const RowMarker& a, const RowMarker& b) {
  if (a.timestamp_us != b.timestamp_us) return a.timestamp_us > b.timestamp_us;
  if (ExpiryKey(a.expires_s) != ExpiryKey(b.expires_s)) {
    return ExpiryKey(a.expires_s) > ExpiryKey(b.expires_s);
  }
  return a.ttl_s >= b.ttl_s;
}

void MergeRowInto(Row* a, const Row& b) {
  if (!MarkerWins(a->marker, b.marker)) a->marker = b.marker;
  if (!DeletionWins(a->deletion, b.deletion)) a->deletion = b.deletion;
  for (const auto& [key, cell] : b.cells) {
    auto [it, inserted] = a->cells.try_emplace(key, cell);
    if (!inserted && !CellWins(it->second, cell)) it->second = cell;
  }
}

// --- byte format helpers ---

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutSigned(int64_t v, std::string* out) {
  // Zigzag, so that small negative numbers stay short.
  const uint64_t u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  PutVarint(u, out);
}

void PutBytes(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (in->empty()) return false;
    const auto byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool GetSigned(std::string_view* in, int64_t* v) {
  uint64_t u = 0;
  if (!GetVarint(in, &u)) return false;
  *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

bool GetBytes(std::string_view* in, std::string* out) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  out->assign(in->substr(0, n));
  in->remove_prefix(n);
  return true;
}

bool GetU32(std::string_view* in, uint32_t* v) {
  uint64_t u = 0;
  if (!GetVarint(in, &u) || u > std::numeric_limits<uint32_t>::max()) return false;
  *v = static_cast<uint32_t>(u);
  return true;
}

}  // namespace

bool CellWins(const Cell& a, const Cell& b) {
  if (a.timestamp_us != b.timestamp_us) return a.timestamp_us > b.timestamp_us;
  if (a.tombstone != b.tombstone) return a.tombstone;
  if (a.value != b.value) return a.value > b.value;
  if (ExpiryKey(a.expires_s) != ExpiryKey(b.expires_s)) {
    return ExpiryKey(a.expires_s) > ExpiryKey(b.expires_s);
  }
  return a.ttl_s >= b.ttl_s;
}

void MergeInto(Partition* a, const Partition& b) {
  if (!DeletionWins(a->deletion, b.deletion)) a->deletion = b.deletion;
  for (const auto& [key, row] : b.rows) {
    auto [it, inserted] = a->rows.try_emplace(key, row);
    if (!inserted) MergeRowInto(&it->second, row);
  }
}

Partition Merge(const Partition& a, const Partition& b) {
  Partition out = a;
  MergeInto(&out, b);
  return out;
}

bool CellLive(const Cell& c, int64_t now_s) {
  return !c.tombstone && c.timestamp_us != kNoTimestamp && (c.expires_s == 0 || c.expires_s > now_s);
}

bool MarkerLive(const RowMarker& m, int64_t now_s) {
  return m.timestamp_us != kNoTimestamp && (m.expires_s == 0 || m.expires_s > now_s);
}

bool RowLive(const Row& r, int64_t now_s) {
  if (MarkerLive(r.marker, now_s)) return true;
  for (const auto& [key, cell] : r.cells) {
    if (CellLive(cell, now_s)) return true;
  }
  return false;
}

void Compact(Partition* p, int64_t now_s, int64_t purge_before_s) {
  const int64_t partition_shadow = p->deletion.timestamp_us;
  for (auto row_it = p->rows.begin(); row_it != p->rows.end();) {
    Row& row = row_it->second;
    if (row.deletion.timestamp_us <= partition_shadow) row.deletion = Deletion{};
    const int64_t shadow = std::max(partition_shadow, row.deletion.timestamp_us);
    if (row.marker.timestamp_us <= shadow) row.marker = RowMarker{};
    // An expired marker is kept (not live) until purged, so that it still wins over an older
    // marker met in a sibling.
    if (row.marker.timestamp_us != kNoTimestamp && row.marker.expires_s != 0 &&
        row.marker.expires_s < purge_before_s) {
      row.marker = RowMarker{};
    }
    // Collection deletions of this row: column -> timestamp.
    std::map<std::string, int64_t> collection_shadow;
    for (const auto& [key, cell] : row.cells) {
      if (key.element.empty() && cell.tombstone) collection_shadow[key.column] = cell.timestamp_us;
    }
    for (auto it = row.cells.begin(); it != row.cells.end();) {
      Cell& cell = it->second;
      bool drop = cell.timestamp_us <= shadow;
      if (!drop && !it->first.element.empty()) {
        auto cs = collection_shadow.find(it->first.column);
        drop = cs != collection_shadow.end() && cell.timestamp_us <= cs->second;
      }
      if (!drop && !cell.tombstone && cell.expires_s != 0 && cell.expires_s <= now_s) {
        // Expired: a tombstone from its expiry on, keeping its timestamp.
        cell.tombstone = true;
        cell.value.clear();
        cell.ttl_s = 0;
      }
      if (!drop && cell.tombstone && cell.expires_s < purge_before_s) drop = true;
      it = drop ? row.cells.erase(it) : std::next(it);
    }
    if (row.deletion.live() && row.deletion.local_s < purge_before_s) row.deletion = Deletion{};
    const bool empty = !row.deletion.live() && row.marker.timestamp_us == kNoTimestamp &&
                       row.cells.empty();
    row_it = empty ? p->rows.erase(row_it) : std::next(row_it);
  }
  if (p->deletion.live() && p->deletion.local_s < purge_before_s) p->deletion = Deletion{};
}

bool HasTombstonesBefore(const Partition& p, int64_t purge_before_s) {
  if (p.deletion.live() && p.deletion.local_s < purge_before_s) return true;
  for (const auto& [key, row] : p.rows) {
    if (row.deletion.live() && row.deletion.local_s < purge_before_s) return true;
    if (row.marker.timestamp_us != kNoTimestamp && row.marker.expires_s != 0 &&
        row.marker.expires_s < purge_before_s) {
      return true;
    }
    for (const auto& [ck, cell] : row.cells) {
      if (cell.tombstone && cell.expires_s < purge_before_s) return true;
    }
  }
  return false;
}

int64_t NewestTimestamp(const Partition& p) {
  int64_t newest = p.deletion.timestamp_us;
  for (const auto& [key, row] : p.rows) {
    newest = std::max({newest, row.marker.timestamp_us, row.deletion.timestamp_us});
    for (const auto& [ck, cell] : row.cells) newest = std::max(newest, cell.timestamp_us);
  }
  return newest;
}

std::string EncodePartition(const Partition& p) {
  std::string out;
  out.push_back(static_cast<char>(kPartitionFormat));
  PutSigned(p.deletion.timestamp_us, &out);
  PutSigned(p.deletion.local_s, &out);
  PutVarint(p.rows.size(), &out);
  for (const auto& [key, row] : p.rows) {
    PutBytes(key, &out);
    PutSigned(row.marker.timestamp_us, &out);
    PutSigned(row.marker.expires_s, &out);
    PutVarint(row.marker.ttl_s, &out);
    PutSigned(row.deletion.timestamp_us, &out);
    PutSigned(row.deletion.local_s, &out);
    PutVarint(row.cells.size(), &out);
    for (const auto& [ck, cell] : row.cells) {
      PutBytes(ck.column, &out);
      PutBytes(ck.element, &out);
      out.push_back(cell.tombstone ? 1 : 0);
      PutSigned(cell.timestamp_us, &out);
      PutSigned(cell.expires_s, &out);
      PutVarint(cell.ttl_s, &out);
      PutBytes(cell.value, &out);
    }
  }
  return out;
}

bool DecodePartition(std::string_view in, Partition* out) {
  *out = Partition{};
  if (in.empty() || static_cast<uint8_t>(in.front()) != kPartitionFormat) return false;
  in.remove_prefix(1);
  uint64_t rows = 0;
  if (!GetSigned(&in, &out->deletion.timestamp_us) || !GetSigned(&in, &out->deletion.local_s) ||
      !GetVarint(&in, &rows) || rows > in.size()) {
    return false;
  }
  for (uint64_t r = 0; r < rows; ++r) {
    std::string key;
    Row row;
    uint64_t cells = 0;
    if (!GetBytes(&in, &key) || !GetSigned(&in, &row.marker.timestamp_us) ||
        !GetSigned(&in, &row.marker.expires_s) || !GetU32(&in, &row.marker.ttl_s) ||
        !GetSigned(&in, &row.deletion.timestamp_us) || !GetSigned(&in, &row.deletion.local_s) ||
        !GetVarint(&in, &cells) || cells > in.size()) {
      return false;
    }
    for (uint64_t c = 0; c < cells; ++c) {
      CellKey ck;
      Cell cell;
      if (!GetBytes(&in, &ck.column) || !GetBytes(&in, &ck.element) || in.empty()) return false;
      const auto flags = static_cast<uint8_t>(in.front());
      in.remove_prefix(1);
      if (flags > 1) return false;
      cell.tombstone = flags == 1;
      if (!GetSigned(&in, &cell.timestamp_us) || !GetSigned(&in, &cell.expires_s) ||
          !GetU32(&in, &cell.ttl_s) || !GetBytes(&in, &cell.value)) {
        return false;
      }
      // Canonical: strictly ascending keys, so no duplicates.
      if (!row.cells.empty() && !(std::prev(row.cells.end())->first < ck)) return false;
      row.cells.emplace_hint(row.cells.end(), std::move(ck), std::move(cell));
    }
    if (!out->rows.empty() && !(std::prev(out->rows.end())->first < key)) return false;
    out->rows.emplace_hint(out->rows.end(), std::move(key), std::move(row));
  }
  return in.empty();
}

size_t PickNewest(const std::vector<Partition>& versions) {
  size_t best = 0;
  int64_t best_ts = NewestTimestamp(versions[0]);
  std::string best_bytes;
  for (size_t i = 1; i < versions.size(); ++i) {
    const int64_t ts = NewestTimestamp(versions[i]);
    if (ts < best_ts) continue;
    if (ts == best_ts) {
      // A deterministic tie-break, the same on every client: the greater encoding.
      if (best_bytes.empty()) best_bytes = EncodePartition(versions[best]);
      std::string bytes = EncodePartition(versions[i]);
      if (bytes <= best_bytes) continue;
      best_bytes = std::move(bytes);
    } else {
      best_bytes.clear();
    }
    best = i;
    best_ts = ts;
  }
  return best;
}

}  // namespace ringkv::cql
