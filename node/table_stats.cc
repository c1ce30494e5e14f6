#include "node/table_stats.h"

#include <limits>

#include "storage/object_codec.h"

namespace ringkv {

std::string_view TableStats::TableOf(std::string_view key) {
  const size_t nul = key.find('\0');
  return nul == std::string_view::npos ? std::string_view() : key.substr(0, nul);
}

TableFigures& TableStats::Slot(std::string_view keyspace, std::string_view key) {
  std::string_view table = TableOf(key);
  std::string name;
  name.reserve(keyspace.size() + 1 + table.size());
  name.append(keyspace).push_back('\0');
  name.append(table);
  auto it = tables_.find(name);
  if (it != tables_.end()) return it->second;
  if (tables_.size() >= kTrackedTablesMax) {
    name.resize(keyspace.size() + 1);
    name.append(kOtherTables);
  }
  return tables_[name];
}

Status TableStats::Load(Storage* storage, const std::vector<std::string>& keyspaces) {
  for (const auto& ks : keyspaces) {
    Status s = storage->Scan(ks, std::numeric_limits<Token>::min(), std::numeric_limits<Token>::max(),
                             [&](std::string_view key, Token, const VersionedObject& object) {
                               TableFigures& f = Slot(ks, key);
                               ++f.keys;
                               f.bytes += static_cast<int64_t>(EncodeObject(object).size());
                               return true;
                             });
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

void TableStats::RecordRead(std::string_view keyspace, std::string_view key, int64_t latency_us) {
  TableFigures& f = Slot(keyspace, key);
  ++f.reads;
  f.read_latency_us_total += static_cast<uint64_t>(std::max<int64_t>(latency_us, 0));
}

void TableStats::RecordWrite(std::string_view keyspace, std::string_view key, int64_t latency_us,
                             bool existed, size_t old_bytes, size_t new_bytes) {
  TableFigures& f = Slot(keyspace, key);
  ++f.writes;
  f.write_latency_us_total += static_cast<uint64_t>(std::max<int64_t>(latency_us, 0));
  if (!existed) ++f.keys;
  f.bytes += static_cast<int64_t>(new_bytes) - static_cast<int64_t>(old_bytes);
}

void TableStats::RecordErase(std::string_view keyspace, std::string_view key, size_t bytes) {
  TableFigures& f = Slot(keyspace, key);
  --f.keys;
  f.bytes -= static_cast<int64_t>(bytes);
}

void TableStats::DropKeyspace(std::string_view keyspace) {
  for (auto it = tables_.begin(); it != tables_.end();) {
    const bool match = it->first.size() > keyspace.size() && it->first[keyspace.size()] == '\0' &&
                       std::string_view(it->first).substr(0, keyspace.size()) == keyspace;
    it = match ? tables_.erase(it) : std::next(it);
  }
}

std::vector<TableStatsRow> TableStats::Rows() const {
  std::vector<TableStatsRow> out;
  for (const auto& [k, f] : tables_) {
    const size_t nul = k.find('\0');
    out.push_back(TableStatsRow{k.substr(0, nul), k.substr(nul + 1), f});
  }
  return out;
}

}  // namespace ringkv
