// DDL and the schema records: CREATE / DROP KEYSPACE, USE, CREATE / DROP TABLE, TRUNCATE, and the
// schema cache. Records live in the ringkv keyspace system_schema, read and written at QUORUM.
#include <fmt/format.h>

#include <algorithm>

#include "cql/keys.h"
#include "cql/schema_agreement.h"
#include "cql/session_impl.h"

namespace ringkv::cql {
namespace {

CqlError AlreadyExists(std::string message, SourcePos pos) {
  CqlError e = Invalid(std::move(message), pos);
  e.kind = ErrorKind::kAlreadyExists;
  return e;
}

// Schema records are read and written at QUORUM whatever the session's level: a schema change
// must be seen by the next statement of any session.
ReadOptions SchemaRead(bool trace) {
  ReadOptions o;
  o.keyspace = kSchemaKeyspace;
  o.consistency = Consistency::kQuorum;
  o.trace = trace;
  return o;
}

WriteOptions SchemaWrite(std::string context) {
  WriteOptions o;
  o.keyspace = kSchemaKeyspace;
  o.consistency = Consistency::kQuorum;
  o.context = std::move(context);
  return o;
}

// A keyspace that does not exist yet answers as an empty one: system_schema before the first DDL.
bool IsUnknownKeyspace(const Error& e) {
  return e.code() == ErrorCode::kInvalidArgument &&
         e.message().find("keyspace") != std::string::npos;
}

}  // namespace

std::optional<CqlError> Session::Impl::EnsureSchemaKeyspace() {
  if (schema_keyspace_ready_) return std::nullopt;
  auto created = client_.CreateKeyspace(kSchemaKeyspace, kSchemaReplicationFactor,
                                        /*if_not_exists=*/true);
  if (!created.ok()) return FromClient(created.error(), /*write=*/true);
  // Whether this call created it or another did a moment ago, every node must know it first.
  if (auto e = AwaitSchemaAgreement(client_, kSchemaKeyspace)) return e;
  schema_keyspace_ready_ = true;
  return std::nullopt;
}

CqlResult<std::optional<std::string>> Session::Impl::ReadRecord(const std::string& key,
                                                                std::string* context) {
  auto got = client_.Get(key, SchemaRead(false));
  // Too few replicas for QUORUM: read the schema from any replica that answers. Cassandra's nodes
  // hold the schema locally, so a statement at ONE works while most nodes are down; so does ours,
  // at the price of possibly missing a schema change made during the outage.
  if (!got.ok() && got.error().code() == ErrorCode::kUnavailable) {
    ReadOptions any_replica = SchemaRead(false);
    any_replica.consistency = Consistency::kOne;
    got = client_.Get(key, any_replica);
  }
  if (!got.ok()) {
    if (IsUnknownKeyspace(got.error())) return std::optional<std::string>();
    return FromClient(got.error(), false);
  }
  if (context != nullptr) *context = got->context;
  if (!got->found || got->siblings.empty()) return std::optional<std::string>();
  // Concurrent DDL on one name: the newest definition wins.
  const Sibling* newest = &got->siblings[0];
  for (const Sibling& s : got->siblings) {
    if (s.timestamp_us > newest->timestamp_us ||
        (s.timestamp_us == newest->timestamp_us && s.value > newest->value)) {
      newest = &s;
    }
  }
  return std::optional<std::string>(newest->value);
}

std::optional<CqlError> Session::Impl::WriteRecord(const std::string& key,
                                                   const std::string& value,
                                                   const std::string& context) {
  auto put = client_.Put(key, value, SchemaWrite(context));
  if (!put.ok()) return FromClient(put.error(), true);
  return std::nullopt;
}

std::optional<CqlError> Session::Impl::DeleteRecord(const std::string& key) {
  std::string context;
  auto got = ReadRecord(key, &context);
  if (!got.ok()) return got.error();
  if (!got->has_value()) return std::nullopt;
  auto del = client_.Del(key, SchemaWrite(context));
  if (!del.ok()) return FromClient(del.error(), true);
  return std::nullopt;
}

CqlResult<std::vector<std::string>> Session::Impl::ScanRecordKeys(const std::string& prefix) {
  std::vector<std::string> keys;
  ScanOptions o;
  o.keyspace = kSchemaKeyspace;
  o.key_prefix = prefix;
  o.consistency = Consistency::kQuorum;
  o.limit = kScanPageKeys;
  for (uint64_t page = 0; page < kScanPagesMax; ++page) {
    auto got = client_.Scan(o);
    if (!got.ok() && got.error().code() == ErrorCode::kUnavailable &&
        o.consistency != Consistency::kOne) {
      o.consistency = Consistency::kOne;  // as ReadRecord: any replica's schema will do
      got = client_.Scan(o);
    }
    if (!got.ok()) {
      if (IsUnknownKeyspace(got.error())) return keys;
      return FromClient(got.error(), false);
    }
    for (const ScanEntry& e : got->entries) {
      if (!e.siblings.empty()) keys.push_back(e.key);
    }
    if (!got->more || got->entries.empty()) break;
    o.has_after = true;
    o.after_token = got->entries.back().token;
    o.after_key = got->entries.back().key;
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

CqlResult<std::optional<KeyspaceSchema>> Session::Impl::LoadKeyspace(std::string_view keyspace) {
  auto rec = ReadRecord(KeyspaceRecordKey(keyspace), nullptr);
  if (!rec.ok()) return rec.error();
  if (!rec->has_value()) {
    keyspaces_.erase(std::string(keyspace));
    return std::optional<KeyspaceSchema>();
  }
  auto parsed = KeyspaceSchema::FromJson(**rec);
  if (!parsed) {
    return ServerError(fmt::format("the schema record of keyspace '{}' is corrupt", keyspace));
  }
  keyspaces_[std::string(keyspace)] = *parsed;
  return parsed;
}

CqlResult<std::vector<std::string>> Session::Impl::Keyspaces() {
  auto keys = ScanRecordKeys(std::string(kKeyspaceRecordPrefix) + '\0');
  if (!keys.ok()) return keys.error();
  std::vector<std::string> out;
  for (const std::string& k : *keys) out.push_back(k.substr(sizeof(kKeyspaceRecordPrefix)));
  return out;
}

CqlResult<std::vector<std::string>> Session::Impl::Tables(std::string_view keyspace) {
  const std::string prefix = TableRecordPrefix(keyspace);
  auto keys = ScanRecordKeys(prefix);
  if (!keys.ok()) return keys.error();
  std::vector<std::string> out;
  for (const std::string& k : *keys) out.push_back(k.substr(prefix.size()));
  return out;
}

CqlResult<const TableSchema*> Session::Impl::Table(std::string_view keyspace,
                                                   std::string_view table, SourcePos pos) {
  const auto id = std::make_pair(std::string(keyspace), std::string(table));
  if (auto it = tables_.find(id); it != tables_.end()) return &it->second;
  // Not cached: read the record (another session may have created it since).
  auto rec = ReadRecord(TableRecordKey(keyspace, table), nullptr);
  if (!rec.ok()) return rec.error();
  if (!rec->has_value()) {
    auto ks = LoadKeyspace(keyspace);
    if (!ks.ok()) return ks.error();
    if (!ks->has_value()) {
      return Invalid(fmt::format("Keyspace '{}' does not exist", keyspace), pos);
    }
    return Invalid(fmt::format("table {} does not exist", table), pos, std::string(table));
  }
  auto parsed = TableSchema::FromJson(**rec);
  if (!parsed) {
    return ServerError(fmt::format("the schema record of table {}.{} is corrupt", keyspace, table));
  }
  return &(tables_[id] = std::move(*parsed));
}

CqlResult<std::string> Session::Impl::ResolveKeyspace(const TableName& name) {
  if (!name.keyspace.empty()) return name.keyspace;
  if (keyspace_.empty()) {
    return Invalid(
        "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename",
        name.pos);
  }
  return keyspace_;
}

CqlResult<const TableSchema*> Session::Impl::TableOf(const TableName& name) {
  auto ks = ResolveKeyspace(name);
  if (!ks.ok()) return ks.error();
  return Table(*ks, name.name, name.pos);
}

CqlResult<bool> Session::Impl::Use(std::string_view keyspace) {
  auto ks = LoadKeyspace(keyspace);
  if (!ks.ok()) return ks.error();
  if (!ks->has_value()) return Invalid(fmt::format("Keyspace '{}' does not exist", keyspace));
  keyspace_ = std::string(keyspace);
  return true;
}

CqlResult<ResultSet> Session::Impl::UseKeyspace(const UseStmt& s) {
  auto used = Use(s.keyspace.name);
  if (!used.ok()) {
    CqlError e = used.error();
    e.line = s.keyspace.pos.line;
    e.column = s.keyspace.pos.column;
    return e;
  }
  ResultSet rs;
  rs.keyspace_changed = s.keyspace.name;
  return rs;
}

CqlResult<ResultSet> Session::Impl::CreateKeyspace(const CreateKeyspaceStmt& s) {
  const std::string& name = s.keyspace.name;
  if (name == kSchemaKeyspace || name == "system") {
    return Invalid(fmt::format("{} keyspace is not user-modifiable", name), s.keyspace.pos);
  }
  if (s.replication_factor < 1) {
    return Invalid("A replication factor of at least 1 is required", s.pos);
  }
  if (auto e = EnsureSchemaKeyspace()) return *e;
  std::string context;
  auto rec = ReadRecord(KeyspaceRecordKey(name), &context);
  if (!rec.ok()) return rec.error();
  ResultSet rs;
  if (rec->has_value()) {
    if (s.if_not_exists) {
      rs.message = fmt::format("keyspace {} already exists", name);
      return rs;
    }
    return AlreadyExists(fmt::format("Keyspace '{}' already exists", name), s.keyspace.pos);
  }
  KeyspaceSchema k;
  k.name = name;
  k.replication_class = s.replication_class;
  k.replication_factor = static_cast<uint32_t>(s.replication_factor);
  k.replication_options = s.replication_options;
  for (const Property& p : s.properties) {
    if (p.name.name == "durable_writes" && p.value.kind == Term::Kind::kBoolean) {
      k.durable_writes = p.value.boolean;
    }
    if (p.name.name == "sloppy_quorum" && p.value.kind == Term::Kind::kBoolean) {
      k.sloppy_quorum = p.value.boolean;
    }
  }
  // The ringkv keyspace may exist without a CQL record (made by kvctl): use it as it is.
  auto created = client_.CreateKeyspace(name, k.replication_factor, /*if_not_exists=*/true,
                                        k.sloppy_quorum);
  if (!created.ok()) return FromClient(created.error(), true);
  // Before the record: a CQL keyspace whose record exists is usable through every node. If this
  // fails, a retry finds no record and waits again.
  if (auto e = AwaitSchemaAgreement(client_, name)) return *e;
  if (auto e = WriteRecord(KeyspaceRecordKey(name), k.ToJson(), context)) return *e;
  keyspaces_[name] = k;
  rs.message = fmt::format("created keyspace {} (replication factor {}{})", name,
                           k.replication_factor, k.sloppy_quorum ? ", sloppy quorum" : "");
  return rs;
}

CqlResult<ResultSet> Session::Impl::DropKeyspace(const DropKeyspaceStmt& s) {
  const std::string& name = s.keyspace.name;
  if (name == kSchemaKeyspace || name == "system") {
    return Invalid(fmt::format("{} keyspace is not user-modifiable", name), s.keyspace.pos);
  }
  auto ks = LoadKeyspace(name);
  if (!ks.ok()) return ks.error();
  ResultSet rs;
  if (!ks->has_value()) {
    if (s.if_exists) return rs;
    return Invalid(fmt::format("Keyspace '{}' does not exist", name), s.keyspace.pos);
  }
  auto dropped = client_.DropKeyspace(name, /*if_exists=*/true);
  if (!dropped.ok()) return FromClient(dropped.error(), true);
  auto tables = Tables(name);
  if (!tables.ok()) return tables.error();
  for (const std::string& t : *tables) {
    if (auto e = DeleteRecord(TableRecordKey(name, t))) return *e;
    tables_.erase({name, t});
  }
  if (auto e = DeleteRecord(KeyspaceRecordKey(name))) return *e;
  keyspaces_.erase(name);
  if (keyspace_ == name) keyspace_.clear();
  rs.message = fmt::format("dropped keyspace {}", name);
  return rs;
}

CqlResult<ResultSet> Session::Impl::CreateTable(const CreateTableStmt& s) {
  auto ks_name = ResolveKeyspace(s.table);
  if (!ks_name.ok()) return ks_name.error();
  for (const ColumnDef& c : s.columns) {
    if (c.is_static) {
      return Invalid("Static columns are not supported (column " + c.name.name + ")", c.name.pos,
                     c.name.name);
    }
  }
  if (s.default_time_to_live_s < 0 || s.default_time_to_live_s > kTtlMaxS) {
    return Invalid(fmt::format("default_time_to_live must be between 0 and {}", kTtlMaxS), s.pos);
  }
  if (s.columns.size() > kColumnsMax) {
    return Invalid(fmt::format("A table may have at most {} columns", kColumnsMax), s.pos);
  }
  auto ks = LoadKeyspace(*ks_name);
  if (!ks.ok()) return ks.error();
  if (!ks->has_value()) {
    return Invalid(fmt::format("Keyspace '{}' does not exist", *ks_name), s.table.pos);
  }
  const std::string key = TableRecordKey(*ks_name, s.table.name);
  std::string context;
  auto rec = ReadRecord(key, &context);
  if (!rec.ok()) return rec.error();
  ResultSet rs;
  if (rec->has_value()) {
    if (s.if_not_exists) {
      rs.message = fmt::format("table {}.{} already exists", *ks_name, s.table.name);
      return rs;
    }
    return AlreadyExists(fmt::format("Table '{}.{}' already exists", *ks_name, s.table.name),
                         s.table.pos);
  }
  TableSchema t = TableFromCreate(s, *ks_name);
  if (auto e = WriteRecord(key, t.ToJson(), context)) return *e;
  tables_[{*ks_name, s.table.name}] = t;
  rs.message = fmt::format("created table {}.{} (conflict_mode {})", *ks_name, s.table.name,
                           ConflictModeName(t.conflict_mode));
  return rs;
}

std::optional<CqlError> Session::Impl::DeleteAllPartitions(const TableSchema& t, ResultSet* rs) {
  ScanOptions o;
  o.keyspace = t.keyspace;
  o.key_prefix = TableKeyPrefix(t.name);
  o.limit = kScanPageKeys;
  o.consistency = consistency_;
  // As Cassandra, TRUNCATE needs every replica, unless the session asked for a level itself.
  WriteOptions w = WriteOpts(t.keyspace, "");
  if (consistency_ == Consistency::kDefault) w.consistency = Consistency::kAll;
  uint64_t deleted = 0;
  for (uint64_t page = 0; page < kScanPagesMax; ++page) {
    auto got = client_.Scan(o);
    if (!got.ok()) return FromClient(got.error(), false);
    for (const ScanEntry& e : got->entries) {
      w.context = e.context;
      auto del = client_.Del(e.key, w);
      if (!del.ok()) return FromClient(del.error(), true);
      if (del->trace) rs->traces.push_back(std::move(*del->trace));
      ++deleted;
    }
    if (!got->more || got->entries.empty()) break;
    o.has_after = true;
    o.after_token = got->entries.back().token;
    o.after_key = got->entries.back().key;
  }
  rs->notes.push_back(fmt::format("deleted {} partitions of {}", deleted, t.QualifiedName()));
  return std::nullopt;
}

CqlResult<ResultSet> Session::Impl::Truncate(const TruncateStmt& s) {
  auto t = TableOf(s.table);
  if (!t.ok()) return t.error();
  ResultSet rs;
  if (auto e = DeleteAllPartitions(**t, &rs)) return *e;
  rs.message = fmt::format("truncated table {}", (*t)->QualifiedName());
  return rs;
}

CqlResult<ResultSet> Session::Impl::DropTable(const DropTableStmt& s) {
  auto ks_name = ResolveKeyspace(s.table);
  if (!ks_name.ok()) return ks_name.error();
  auto t = Table(*ks_name, s.table.name, s.table.pos);
  ResultSet rs;
  if (!t.ok()) {
    if (s.if_exists && t.error().kind == ErrorKind::kInvalid) return rs;
    return t.error();
  }
  const TableSchema table = **t;
  if (auto e = DeleteAllPartitions(table, &rs)) return *e;
  if (auto e = DeleteRecord(TableRecordKey(table.keyspace, table.name))) return *e;
  tables_.erase({table.keyspace, table.name});
  rs.message = fmt::format("dropped table {}", table.QualifiedName());
  return rs;
}

}  // namespace ringkv::cql
