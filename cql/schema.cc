#include "cql/schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cql/parser.h"

namespace ringkv::cql {
namespace {

using nlohmann::json;

const char* RoleName(ColumnRole role) {
  switch (role) {
    case ColumnRole::kPartitionKey: return "partition_key";
    case ColumnRole::kClustering: return "clustering";
    case ColumnRole::kRegular: return "regular";
  }
  return "regular";
}

std::optional<ColumnRole> RoleFromName(std::string_view s) {
  if (s == "partition_key") return ColumnRole::kPartitionKey;
  if (s == "clustering") return ColumnRole::kClustering;
  if (s == "regular") return ColumnRole::kRegular;
  return std::nullopt;
}

std::optional<ConflictMode> ModeFromName(std::string_view s) {
  for (ConflictMode m : {ConflictMode::kMerge, ConflictMode::kLww, ConflictMode::kSiblings}) {
    if (s == ConflictModeName(m)) return m;
  }
  return std::nullopt;
}

std::string Quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace

const ColumnSchema* TableSchema::Find(std::string_view column) const {
  const size_t i = IndexOf(column);
  return i < columns.size() ? &columns[i] : nullptr;
}

size_t TableSchema::IndexOf(std::string_view column) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == column) return i;
  }
  return columns.size();
}

std::string TableSchema::ToJson() const {
  json cols = json::array();
  for (const ColumnSchema& c : columns) {
    cols.push_back({{"name", c.name},
                    {"type", c.type.ToCql()},
                    {"kind", RoleName(c.role)},
                    {"order", c.descending ? "desc" : "asc"}});
  }
  json j = {{"keyspace", keyspace},
            {"table", name},
            {"columns", cols},
            {"options",
             {{"default_time_to_live", default_time_to_live_s},
              {"conflict_mode", ConflictModeName(conflict_mode)}}}};
  return j.dump();
}

std::optional<TableSchema> TableSchema::FromJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  try {
    TableSchema t;
    t.keyspace = j.at("keyspace").get<std::string>();
    t.name = j.at("table").get<std::string>();
    const json& cols = j.at("columns");
    if (!cols.is_array() || cols.size() > kColumnsMax) return std::nullopt;
    for (const json& c : cols) {
      ColumnSchema col;
      col.name = c.at("name").get<std::string>();
      auto type = ParseTypeName(c.at("type").get<std::string>());
      auto role = RoleFromName(c.at("kind").get<std::string>());
      if (!type || !role) return std::nullopt;
      col.type = *type;
      col.role = *role;
      col.descending = c.value("order", "asc") == "desc";
      if (col.role == ColumnRole::kPartitionKey) ++t.partition_key_count;
      if (col.role == ColumnRole::kClustering) ++t.clustering_count;
      t.columns.push_back(std::move(col));
    }
    // Keys first, in order: the layout everything else indexes by.
    for (size_t i = 0; i < t.columns.size(); ++i) {
      const ColumnRole want = i < t.partition_key_count ? ColumnRole::kPartitionKey
                              : i < t.partition_key_count + t.clustering_count
                                  ? ColumnRole::kClustering
                                  : ColumnRole::kRegular;
      if (t.columns[i].role != want) return std::nullopt;
    }
    if (t.partition_key_count == 0) return std::nullopt;
    const json& options = j.at("options");
    t.default_time_to_live_s = options.value("default_time_to_live", int64_t{0});
    auto mode = ModeFromName(options.value("conflict_mode", "merge"));
    if (!mode) return std::nullopt;
    t.conflict_mode = *mode;
    return t;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string TableSchema::Describe() const {
  std::string out = fmt::format("CREATE TABLE {}.{} (\n", QuoteIdent(keyspace), QuoteIdent(name));
  const bool single_key = partition_key_count == 1 && clustering_count == 0;
  for (size_t i = 0; i < columns.size(); ++i) {
    out += fmt::format("    {} {}{},\n", QuoteIdent(columns[i].name), columns[i].type.ToCql(),
                       single_key && i == 0 ? " PRIMARY KEY" : "");
  }
  if (!single_key) {
    std::vector<std::string> pk, ck;
    for (size_t i = 0; i < partition_key_count; ++i) pk.push_back(QuoteIdent(columns[i].name));
    for (size_t i = 0; i < clustering_count; ++i) {
      ck.push_back(QuoteIdent(columns[partition_key_count + i].name));
    }
    std::string key = pk.size() == 1 ? pk[0] : fmt::format("({})", fmt::join(pk, ", "));
    if (!ck.empty()) key += ", " + fmt::format("{}", fmt::join(ck, ", "));
    out += fmt::format("    PRIMARY KEY ({})\n", key);
  } else {
    out.erase(out.size() - 2, 1);  // the last column's comma
  }
  out += ") WITH ";
  if (clustering_count > 0) {
    std::vector<std::string> order;
    for (size_t i = 0; i < clustering_count; ++i) {
      const ColumnSchema& c = columns[partition_key_count + i];
      order.push_back(QuoteIdent(c.name) + (c.descending ? " DESC" : " ASC"));
    }
    out += fmt::format("CLUSTERING ORDER BY ({})\n    AND ", fmt::join(order, ", "));
  }
  out += fmt::format("conflict_mode = '{}'\n    AND default_time_to_live = {};",
                     ConflictModeName(conflict_mode), default_time_to_live_s);
  return out;
}

std::string KeyspaceSchema::ToJson() const {
  json options = json::object();
  for (const auto& [k, v] : replication_options) options[k] = v;
  json j = {{"name", name},
            {"replication",
             {{"class", replication_class},
              {"replication_factor", replication_factor},
              {"options", options}}},
            {"durable_writes", durable_writes},
            {"sloppy_quorum", sloppy_quorum}};
  return j.dump();
}

std::optional<KeyspaceSchema> KeyspaceSchema::FromJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  try {
    KeyspaceSchema k;
    k.name = j.at("name").get<std::string>();
    const json& r = j.at("replication");
    k.replication_class = r.at("class").get<std::string>();
    k.replication_factor = r.at("replication_factor").get<uint32_t>();
    if (auto it = r.find("options"); it != r.end() && it->is_object()) {
      for (auto o = it->begin(); o != it->end(); ++o) {
        k.replication_options.emplace_back(o.key(), o.value().get<std::string>());
      }
    }
    k.durable_writes = j.value("durable_writes", true);
    k.sloppy_quorum = j.value("sloppy_quorum", false);  // absent: written before it existed
    return k;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string KeyspaceSchema::Describe() const {
  std::string replication = fmt::format("'class': {}", Quoted(replication_class));
  if (replication_options.empty()) {
    replication += fmt::format(", 'replication_factor': '{}'", replication_factor);
  }
  for (const auto& [k, v] : replication_options) {
    replication += fmt::format(", {}: {}", Quoted(k), Quoted(v));
  }
  return fmt::format("CREATE KEYSPACE {} WITH replication = {{{}}}  AND durable_writes = {}{};",
                     QuoteIdent(name), replication, durable_writes ? "true" : "false",
                     sloppy_quorum ? "  AND sloppy_quorum = true" : "");
}

std::string KeyspaceRecordKey(std::string_view keyspace) {
  std::string out = kKeyspaceRecordPrefix;
  out.push_back('\0');
  out.append(keyspace);
  return out;
}

std::string TableRecordPrefix(std::string_view keyspace) {
  std::string out = "table";
  out.push_back('\0');
  out.append(keyspace);
  out.push_back('\0');
  return out;
}

std::string TableRecordKey(std::string_view keyspace, std::string_view table) {
  return TableRecordPrefix(keyspace) + std::string(table);
}

std::string QuoteIdent(std::string_view name) {
  bool bare = !name.empty() && name[0] >= 'a' && name[0] <= 'z';
  for (char c : name) {
    bare = bare && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (bare) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

TableSchema TableFromCreate(const CreateTableStmt& stmt, std::string keyspace) {
  TableSchema t;
  t.keyspace = std::move(keyspace);
  t.name = stmt.table.name;
  t.conflict_mode = stmt.conflict_mode;
  t.default_time_to_live_s = stmt.default_time_to_live_s;
  auto type_of = [&](const std::string& name) {
    for (const ColumnDef& c : stmt.columns) {
      if (c.name.name == name) return c.type;
    }
    return Type{};
  };
  for (const Ident& k : stmt.partition_key) {
    t.columns.push_back({k.name, type_of(k.name), ColumnRole::kPartitionKey, false});
  }
  for (size_t i = 0; i < stmt.clustering_key.size(); ++i) {
    const Ident& k = stmt.clustering_key[i];
    bool desc = false;
    for (const Ordering& o : stmt.clustering_order) {
      if (o.column.name == k.name) desc = o.descending;
    }
    t.columns.push_back({k.name, type_of(k.name), ColumnRole::kClustering, desc});
  }
  std::vector<ColumnSchema> regular;
  for (const ColumnDef& c : stmt.columns) {
    bool key = false;
    for (size_t i = 0; i < t.columns.size(); ++i) key = key || t.columns[i].name == c.name.name;
    if (!key) regular.push_back({c.name.name, c.type, ColumnRole::kRegular, false});
  }
  std::sort(regular.begin(), regular.end(),
            [](const ColumnSchema& a, const ColumnSchema& b) { return a.name < b.name; });
  t.columns.insert(t.columns.end(), regular.begin(), regular.end());
  t.partition_key_count = stmt.partition_key.size();
  t.clustering_count = stmt.clustering_key.size();
  return t;
}

}  // namespace ringkv::cql
