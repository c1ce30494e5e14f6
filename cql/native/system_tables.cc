#include "cql/native/system_tables.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "cql/native/types.h"
#include "cql/parser.h"
#include "cql/schema.h"
#include "cql/session_impl.h"  // Invalid()

namespace ringkv::cql::native {

namespace {

constexpr char kDataCenter[] = "datacenter1";
constexpr char kRack[] = "rack1";
constexpr char kReleaseVersion[] = "3.11.0";
constexpr char kPartitioner[] = "org.apache.cassandra.dht.Murmur3Partitioner";
// One schema version for every node: see the header.
constexpr char kSchemaVersion[] = "ringkv-schema-v1";  // 16 bytes

const Type kText = Type::Scalar(Kind::kText);
const Type kTextSet{Kind::kSet, {Type::Scalar(Kind::kText)}};
const Type kTextMap{Kind::kMap, {Type::Scalar(Kind::kText), Type::Scalar(Kind::kText)}};

// A table being built: columns, and rows of serialized cells in the same order.
struct Table {
  std::vector<ColumnDesc> columns;
  std::vector<Row> rows;
  // The tables ringkv keeps empty (types, indexes, ...): any column a query names exists, as
  // text, so that drivers' queries of them (each driver version names other columns) succeed.
  bool open = false;

  void Column(std::string name, Type type, uint16_t wire_type = 0) {
    columns.push_back({std::move(name), std::move(type), wire_type});
  }
};

std::optional<std::string> Text(std::string_view s) { return std::string(s); }
std::optional<std::string> Int(int64_t v) { return SerializeValue(Value::Int(v)); }
std::optional<std::string> Boolean(bool v) { return SerializeValue(Value::Boolean(v)); }

std::optional<std::string> Inet(const std::string& host) {
  in_addr addr{};
  if (inet_pton(AF_INET, host.c_str(), &addr) != 1) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(&addr), 4);  // network order
}

std::optional<std::string> HostIdUuid(uint64_t host_id) {
  std::string bytes;
  PutBe(host_id, 8, &bytes);
  PutBe(host_id ^ 0x5a5a5a5a5a5a5a5aULL, 8, &bytes);
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);  // IETF variant
  return bytes;
}

std::optional<std::string> SchemaVersion() { return std::string(kSchemaVersion, 16); }

std::optional<std::string> Tokens(const std::vector<int64_t>& tokens) {
  ValueList list;
  for (int64_t t : tokens) list.push_back(Value::Text(std::to_string(t)));
  std::sort(list.begin(), list.end(),
            [](const Value& a, const Value& b) { return Compare(a, b) < 0; });
  return SerializeValue(Value{kTextSet, std::move(list)});
}

std::optional<std::string> TextMap(std::map<std::string, std::string> m) {
  ValueMap map;
  for (auto& [k, v] : m) map.emplace_back(Value::Text(k), Value::Text(v));
  return SerializeValue(Value{kTextMap, std::move(map)});
}

Table Local(const ClusterSnapshot& c) {
  Table t;
  for (const char* name : {"key", "bootstrapped"}) t.Column(name, kText);
  t.Column("broadcast_address", kText, kInetWireType);
  for (const char* name : {"cluster_name", "cql_version", "data_center"}) t.Column(name, kText);
  t.Column("host_id", Type::Scalar(Kind::kUuid));
  t.Column("listen_address", kText, kInetWireType);
  for (const char* name : {"native_protocol_version", "partitioner", "rack", "release_version"}) {
    t.Column(name, kText);
  }
  t.Column("rpc_address", kText, kInetWireType);
  t.Column("schema_version", Type::Scalar(Kind::kUuid));
  t.Column("tokens", kTextSet);
  for (const NodeEntry& n : c.nodes) {
    if (!n.self) continue;
    t.rows.push_back({Text("local"), Text("COMPLETED"), Inet(n.host), Text(c.cluster_name),
                      Text("3.4.4"), Text(kDataCenter), HostIdUuid(n.host_id), Inet(n.host),
                      Text("4"), Text(kPartitioner), Text(kRack), Text(kReleaseVersion),
                      Inet(n.host), SchemaVersion(), Tokens(n.tokens)});
  }
  return t;
}

Table Peers(const ClusterSnapshot& c, bool v2) {
  Table t;
  t.Column("peer", kText, kInetWireType);
  if (v2) t.Column("peer_port", Type::Scalar(Kind::kInt));
  t.Column("data_center", kText);
  t.Column("host_id", Type::Scalar(Kind::kUuid));
  if (v2) {
    t.Column("native_address", kText, kInetWireType);
    t.Column("native_port", Type::Scalar(Kind::kInt));
  }
  t.Column("preferred_ip", kText, kInetWireType);
  for (const char* name : {"rack", "release_version"}) t.Column(name, kText);
  if (!v2) t.Column("rpc_address", kText, kInetWireType);
  t.Column("schema_version", Type::Scalar(Kind::kUuid));
  t.Column("tokens", kTextSet);
  for (const NodeEntry& n : c.nodes) {
    if (n.self) continue;
    Row r{Inet(n.host)};
    if (v2) r.push_back(Int(n.cql_port));
    r.insert(r.end(), {Text(kDataCenter), HostIdUuid(n.host_id)});
    if (v2) r.insert(r.end(), {Inet(n.host), Int(n.cql_port)});
    r.insert(r.end(), {Inet(n.host), Text(kRack), Text(kReleaseVersion)});
    if (!v2) r.push_back(Inet(n.host));
    r.insert(r.end(), {SchemaVersion(), Tokens(n.tokens)});
    t.rows.push_back(std::move(r));
  }
  return t;
}

CqlResult<Table> Keyspaces(Session* session) {
  Table t;
  t.Column("keyspace_name", kText);
  t.Column("durable_writes", Type::Scalar(Kind::kBoolean));
  t.Column("replication", kTextMap);
  auto names = session->Keyspaces();
  if (!names.ok()) return names.error();
  for (const std::string& name : *names) {
    auto ks = session->KeyspaceSchemaOf(name);
    if (!ks.ok()) return ks.error();
    if (!ks->has_value()) continue;  // dropped since the scan
    t.rows.push_back(
        {Text(name), Boolean((*ks)->durable_writes),
         TextMap({{"class", "org.apache.cassandra.locator.SimpleStrategy"},
                  {"replication_factor", std::to_string((*ks)->replication_factor)}})});
  }
  return t;
}

// system_schema.tables and .columns: both walk every table of every keyspace.
CqlResult<Table> TablesOrColumns(Session* session, bool columns) {
  Table t;
  t.Column("keyspace_name", kText);
  t.Column("table_name", kText);
  if (columns) {
    for (const char* name : {"column_name", "clustering_order"}) t.Column(name, kText);
    t.Column("column_name_bytes", Type::Scalar(Kind::kBlob));
    t.Column("kind", kText);
    t.Column("position", Type::Scalar(Kind::kInt));
    t.Column("type", kText);
  } else {
    t.Column("comment", kText);
    t.Column("default_time_to_live", Type::Scalar(Kind::kInt));
    t.Column("flags", kTextSet);
    t.Column("gc_grace_seconds", Type::Scalar(Kind::kInt));
  }
  auto keyspaces = session->Keyspaces();
  if (!keyspaces.ok()) return keyspaces.error();
  for (const std::string& ks : *keyspaces) {
    auto tables = session->Tables(ks);
    if (!tables.ok()) return tables.error();
    for (const std::string& name : *tables) {
      auto schema = session->TableSchemaOf(ks, name);
      if (!schema.ok()) continue;  // dropped since the scan
      if (!columns) {
        t.rows.push_back({Text(ks), Text(name), Text(""), Int(schema->default_time_to_live_s),
                          SerializeValue(Value{kTextSet, ValueList{Value::Text("compound")}}),
                          Int(864000)});
        continue;
      }
      for (size_t i = 0; i < schema->columns.size(); ++i) {
        const ColumnSchema& c = schema->columns[i];
        std::string kind = "regular", order = "none";
        int64_t position = -1;
        if (c.role == ColumnRole::kPartitionKey) {
          kind = "partition_key";
          position = static_cast<int64_t>(i);
        } else if (c.role == ColumnRole::kClustering) {
          kind = "clustering";
          position = static_cast<int64_t>(i - schema->partition_key_count);
          order = c.descending ? "desc" : "asc";
        }
        t.rows.push_back({Text(ks), Text(name), Text(c.name), Text(order), Text(c.name), Text(kind),
                          Int(position), Text(c.type.ToCql())});
      }
    }
  }
  return t;
}

CqlResult<Table> Build(const TableName& name, const ClusterSnapshot& cluster, Session* session) {
  if (name.keyspace == "system") {
    if (name.name == "local") return Local(cluster);
    if (name.name == "peers") return Peers(cluster, false);
    if (name.name == "peers_v2") return Peers(cluster, true);
  } else if (name.keyspace == "system_schema") {
    if (name.name == "keyspaces") return Keyspaces(session);
    if (name.name == "tables") return TablesOrColumns(session, false);
    if (name.name == "columns") return TablesOrColumns(session, true);
    for (const char* empty :
         {"types", "functions", "aggregates", "triggers", "indexes", "views", "dropped_columns"}) {
      if (name.name != empty) continue;
      Table t;
      t.Column("keyspace_name", kText);
      t.open = true;
      return t;
    }
  }
  return Invalid(fmt::format("table {}.{} does not exist", name.keyspace, name.name), name.pos,
                 name.name);
}

size_t IndexOf(Table* t, std::string_view column) {
  for (size_t i = 0; i < t->columns.size(); ++i) {
    if (t->columns[i].name == column) return i;
  }
  if (t->open) t->Column(std::string(column), kText);  // no rows to widen
  return t->columns.size() - (t->open ? 1 : 0);
}

CqlError Undefined(const Ident& column, const TableName& table) {
  return Invalid(fmt::format("Undefined column name {} in table {}.{}", column.name, table.keyspace,
                             table.name),
                 column.pos, column.name);
}

// Keeps the rows that satisfy every `=` / `IN` restriction.
std::optional<CqlError> Filter(const SelectStmt& s, const std::vector<Value>& binds, Table* t) {
  for (const Relation& r : s.where) {
    if (r.is_token || (r.op != Relation::Op::kEq && r.op != Relation::Op::kIn)) {
      return Invalid("system tables take only = and IN restrictions", r.pos);
    }
    const size_t col = IndexOf(t, r.columns.at(0).name);
    if (col == t->columns.size()) return Undefined(r.columns[0], s.table);
    std::vector<std::string> wanted;
    for (const Term& term : r.terms) {
      auto v = ConvertTerm(term, t->columns[col].type, binds, t->columns[col].name);
      if (!v.ok()) return v.error();
      if (v->has_value()) wanted.push_back(SerializeValue(**v));
    }
    std::erase_if(t->rows, [&](const Row& row) {
      return !row[col] || std::find(wanted.begin(), wanted.end(), *row[col]) == wanted.end();
    });
  }
  return std::nullopt;
}

}  // namespace

ClusterSnapshot SnapshotFromRing(const RingInfo& ring, std::string cluster_name,
                                 int32_t cql_port_offset) {
  ClusterSnapshot out;
  out.cluster_name = std::move(cluster_name);
  for (const RingMemberInfo& m : ring.members) {
    if (m.departed()) continue;  // drivers would try to connect to every peer listed
    NodeEntry n;
    n.name = m.name;
    const auto colon = m.address.rfind(':');
    n.host = m.address.substr(0, colon);
    if (colon != std::string::npos) {
      n.cql_port = std::atoi(m.address.c_str() + colon + 1) + cql_port_offset;
    }
    n.host_id = m.host_id;
    n.tokens = m.tokens;
    n.self = m.name == ring.self;
    out.nodes.push_back(std::move(n));
  }
  return out;
}

bool IsSystemKeyspace(std::string_view keyspace) {
  return keyspace == "system" || keyspace == "system_schema" ||
         keyspace == "system_virtual_schema" || keyspace == "system_auth" ||
         keyspace == "system_distributed" || keyspace == "system_traces";
}

CqlResult<TableAnswer> QuerySystemTable(const SelectStmt& s, const std::vector<Value>& binds,
                                        const ClusterSnapshot& cluster, Session* session) {
  auto built = Build(s.table, cluster, session);
  if (!built.ok()) return built.error();
  Table& t = *built;
  if (auto e = Filter(s, binds, &t)) return *e;

  TableAnswer out;
  out.metadata.keyspace = s.table.keyspace;
  out.metadata.table = s.table.name;
  if (s.star) {
    out.metadata.columns = t.columns;
    out.rows = std::move(t.rows);
    return out;
  }
  if (s.selectors.size() == 1 && s.selectors[0].kind == Selector::Kind::kCountStar) {
    out.metadata.columns = {{"count", Type::Scalar(Kind::kBigint)}};
    out.rows.push_back({SerializeValue(Value::Bigint(static_cast<int64_t>(t.rows.size())))});
    return out;
  }
  std::vector<size_t> picked;
  for (const Selector& sel : s.selectors) {
    if (sel.kind != Selector::Kind::kColumn) {
      return Invalid("system tables take only column names or count(*)", sel.pos);
    }
    const size_t col = IndexOf(&t, sel.column.name);
    if (col == t.columns.size()) return Undefined(sel.column, s.table);
    picked.push_back(col);
    ColumnDesc d = t.columns[col];
    if (sel.alias) d.name = sel.alias->name;
    out.metadata.columns.push_back(std::move(d));
  }
  for (const Row& row : t.rows) {
    Row r;
    for (size_t col : picked) r.push_back(row[col]);
    out.rows.push_back(std::move(r));
  }
  return out;
}

}  // namespace ringkv::cql::native
