#include "cql/native/prepared.h"

#include <fmt/format.h>

#include <variant>

#include "cql/schema.h"
#include "cql/session_impl.h"  // Invalid()

namespace ringkv::cql::native {

namespace {

const Type kIntType = Type::Scalar(Kind::kInt);
const Type kBigintType = Type::Scalar(Kind::kBigint);

// Walks a statement's terms, giving each bind marker the type of the place it stands in.
class BindCollector {
 public:
  BindCollector(int count, std::string keyspace, Session* session)
      : binds_(static_cast<size_t>(count)), keyspace_(std::move(keyspace)), session_(session) {}

  std::optional<CqlError> Statement(const cql::Statement& s) {
    return std::visit([this](const auto& stmt) { return Visit(stmt); }, s);
  }

  CqlResult<std::vector<ColumnDesc>> Finish() {
    std::vector<ColumnDesc> out;
    for (size_t i = 0; i < binds_.size(); ++i) {
      if (!binds_[i]) {
        return Invalid(fmt::format("cannot tell the type of bind marker {}", i + 1));
      }
      out.push_back(*binds_[i]);
    }
    return out;
  }

 private:
  std::optional<CqlError> Visit(const SelectStmt& s) {
    if (auto e = Where(s.table, s.where)) return e;
    if (s.limit) Term(*s.limit, "[limit]", kIntType);
    return std::nullopt;
  }
  std::optional<CqlError> Visit(const InsertStmt& s) {
    auto t = Table(s.table);
    if (!t.ok()) return t.error();
    for (size_t i = 0; i < s.columns.size() && i < s.values.size(); ++i) {
      auto c = Column(*t, s.columns[i]);
      if (!c.ok()) return c.error();
      Term(s.values[i], c->name, c->type);
    }
    Using(s.using_clause);
    return std::nullopt;
  }
  std::optional<CqlError> Visit(const UpdateStmt& s) {
    auto t = Table(s.table);
    if (!t.ok()) return t.error();
    Using(s.using_clause);
    for (const Assignment& a : s.assignments) {
      auto c = Column(*t, a.column);
      if (!c.ok()) return c.error();
      if (a.op == Assignment::Op::kSetElement) {
        const bool map = c->type.kind == Kind::kMap;
        if (a.key) Term(*a.key, "key(" + c->name + ")", map ? c->type.params[0] : kIntType);
        if (!c->type.params.empty()) {
          Term(a.value, "value(" + c->name + ")", c->type.params[map ? 1 : 0]);
        }
      } else if (a.op == Assignment::Op::kRemove && c->type.kind == Kind::kMap) {
        // col = col - {k1, k2}: a set of the map's keys.
        Term(a.value, c->name, Type{Kind::kSet, {c->type.params[0]}});
      } else {
        Term(a.value, c->name, c->type);
      }
    }
    return Where(s.table, s.where);
  }
  std::optional<CqlError> Visit(const DeleteStmt& s) {
    auto t = Table(s.table);
    if (!t.ok()) return t.error();
    Using(s.using_clause);
    for (const DeleteTarget& d : s.targets) {
      if (!d.key) continue;
      auto c = Column(*t, d.column);
      if (!c.ok()) return c.error();
      const bool map = c->type.kind == Kind::kMap;
      Term(*d.key, "key(" + c->name + ")", map ? c->type.params[0] : kIntType);
    }
    return Where(s.table, s.where);
  }
  std::optional<CqlError> Visit(const BatchStmt& s) {
    Using(s.using_clause);
    for (const auto& entry : s.entries) {
      auto e = std::visit([this](const auto& stmt) { return Visit(stmt); }, entry);
      if (e) return e;
    }
    return std::nullopt;
  }
  // DDL and USE take no bind markers.
  template <typename S>
  std::optional<CqlError> Visit(const S&) {
    return std::nullopt;
  }

  std::optional<CqlError> Where(const TableName& name, const std::vector<Relation>& where) {
    if (where.empty()) return std::nullopt;
    auto t = Table(name);
    if (!t.ok()) return t.error();
    for (const Relation& r : where) {
      if (r.is_token) {
        for (const auto& term : r.terms) Term(term, "partition key token", kBigintType);
        continue;
      }
      auto c = Column(*t, r.columns.at(0));
      if (!c.ok()) return c.error();
      for (const auto& term : r.terms) Term(term, c->name, c->type);
    }
    return std::nullopt;
  }

  void Using(const UsingClause& u) {
    if (u.ttl) Term(*u.ttl, "[ttl]", kIntType);
    if (u.timestamp) Term(*u.timestamp, "[timestamp]", kBigintType);
  }

  // A marker takes `type`; a marker inside a collection literal takes the element's type.
  void Term(const cql::Term& t, const std::string& name, const Type& type) {
    switch (t.kind) {
      case cql::Term::Kind::kBind:
        if (t.bind_index >= 0 && static_cast<size_t>(t.bind_index) < binds_.size()) {
          binds_[static_cast<size_t>(t.bind_index)] = ColumnDesc{name, type};
        }
        return;
      case cql::Term::Kind::kList:
      case cql::Term::Kind::kSet:
        if (type.is_collection() && !type.params.empty()) {
          for (const auto& e : t.elements) Term(e, name, type.params[0]);
        }
        return;
      case cql::Term::Kind::kMap:
        if (type.kind == Kind::kMap) {
          for (const auto& e : t.elements) Term(e, name, type.params[0]);
          for (const auto& e : t.values) Term(e, name, type.params[1]);
        }
        return;
      default:
        return;
    }
  }

  CqlResult<TableSchema> Table(const TableName& name) {
    const std::string ks = name.keyspace.empty() ? keyspace_ : name.keyspace;
    if (ks.empty()) {
      return Invalid(
          "No keyspace has been specified. USE a keyspace, or explicitly specify "
          "keyspace.tablename");
    }
    return session_->TableSchemaOf(ks, name.name);
  }

  static CqlResult<ColumnSchema> Column(const TableSchema& t, const Ident& column) {
    const ColumnSchema* c = t.Find(column.name);
    if (c == nullptr) {
      return Invalid(
          fmt::format("Undefined column name {} in table {}", column.name, t.QualifiedName()),
          column.pos, column.name);
    }
    return *c;
  }

  std::vector<std::optional<ColumnDesc>> binds_;
  const std::string keyspace_;
  Session* const session_;
};

uint64_t Fnv1a(std::string_view s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

CqlResult<std::vector<ColumnDesc>> BindTypes(const ParsedStatement& parsed,
                                             std::string_view keyspace, Session* session) {
  BindCollector collector(parsed.bind_count, std::string(keyspace), session);
  if (auto e = collector.Statement(parsed.statement)) return *e;
  return collector.Finish();
}

std::string PreparedCache::IdOf(std::string_view keyspace, std::string_view query) {
  // Not a security boundary: ids only have to differ between statements (two FNV-1a hashes
  // from different offsets make a collision between a node's statements negligible).
  std::string key = std::string(keyspace) + '\0' + std::string(query);
  std::string id;
  for (uint64_t seed : {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL}) {
    const uint64_t h = Fnv1a(key, seed);
    for (int i = 7; i >= 0; --i) id.push_back(static_cast<char>((h >> (8 * i)) & 0xff));
  }
  return id;
}

void PreparedCache::Put(const std::string& id, PreparedStatement statement) {
  std::lock_guard<std::mutex> lock(mu_);
  if (by_id_.count(id) == 0) order_.push_back(id);
  by_id_[id] = std::move(statement);
  while (by_id_.size() > kPreparedMax) {
    by_id_.erase(order_.front());
    order_.pop_front();
  }
}

std::optional<PreparedStatement> PreparedCache::Get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

size_t PreparedCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_id_.size();
}

}  // namespace ringkv::cql::native
