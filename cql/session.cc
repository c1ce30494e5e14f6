// Session: parsing, dispatch to the executors, and the plumbing they share (client options and
// errors, the session clock, literal typing, WHERE typing).
#include "cql/session.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "cql/session_impl.h"

namespace ringkv::cql {

CqlError Invalid(std::string message, SourcePos pos, std::string near) {
  CqlError e;
  e.kind = ErrorKind::kInvalid;
  e.message = std::move(message);
  e.line = pos.line;
  e.column = pos.column;
  e.near = std::move(near);
  return e;
}

CqlError ServerError(std::string message) {
  CqlError e = Invalid(std::move(message));
  e.kind = ErrorKind::kServer;
  return e;
}

std::string DisplayKey(const std::vector<Value>& values) {
  if (values.size() == 1) return values[0].ToLiteral();
  std::vector<std::string> parts;
  for (const Value& v : values) parts.push_back(v.ToLiteral());
  return fmt::format("({})", fmt::join(parts, ", "));
}

bool Cartesian(const std::vector<std::vector<Value>>& lists, size_t max,
               std::vector<std::vector<Value>>* out) {
  out->assign(1, {});
  for (const auto& list : lists) {
    if (out->size() * list.size() > max) return false;
    std::vector<std::vector<Value>> next;
    for (const auto& prefix : *out) {
      for (const Value& v : list) {
        next.push_back(prefix);
        next.back().push_back(v);
      }
    }
    *out = std::move(next);
  }
  return true;
}

bool Satisfies(const std::optional<Value>& v, const TypedRelation& r) {
  if (!v.has_value()) return false;
  switch (r.op) {
    case Relation::Op::kEq: return Compare(*v, r.values[0]) == 0;
    case Relation::Op::kLt: return Compare(*v, r.values[0]) < 0;
    case Relation::Op::kLe: return Compare(*v, r.values[0]) <= 0;
    case Relation::Op::kGt: return Compare(*v, r.values[0]) > 0;
    case Relation::Op::kGe: return Compare(*v, r.values[0]) >= 0;
    case Relation::Op::kNe: return Compare(*v, r.values[0]) != 0;
    case Relation::Op::kIn:
      return std::any_of(r.values.begin(), r.values.end(),
                         [&](const Value& x) { return Compare(*v, x) == 0; });
  }
  return false;
}

// --- Session::Impl plumbing ---

std::string Session::Impl::ConsistencyName() const {
  switch (consistency_) {
    case Consistency::kDefault: return "QUORUM";
    case Consistency::kOne: return "ONE";
    case Consistency::kTwo: return "TWO";
    case Consistency::kThree: return "THREE";
    case Consistency::kQuorum: return "QUORUM";
    case Consistency::kAll: return "ALL";
    case Consistency::kAny: return "ANY";
  }
  return "QUORUM";
}

ReadOptions Session::Impl::ReadOpts(const std::string& keyspace) const {
  ReadOptions o;
  o.keyspace = keyspace;
  o.consistency = consistency_;
  o.trace = tracing_;
  return o;
}

WriteOptions Session::Impl::WriteOpts(const std::string& keyspace, std::string context) const {
  WriteOptions o;
  o.keyspace = keyspace;
  o.context = std::move(context);
  o.consistency = consistency_;
  o.trace = tracing_;
  o.quorum = quorum_;
  return o;
}

CqlError Session::Impl::FromClient(const Error& e, bool write) const {
  CqlError out;
  switch (e.code()) {
    case ErrorCode::kUnavailable:
      out.kind = ErrorKind::kUnavailable;
      out.message = fmt::format("Cannot achieve consistency level {}: needed {}, alive {}",
                                ConsistencyName(), e.needed(), e.alive());
      out.needed = e.needed();
      out.alive = e.alive();
      break;
    case ErrorCode::kTimeout:
      out.kind = ErrorKind::kTimeout;
      out.message =
          write ? fmt::format("Write timed out at consistency {}: the write is in doubt (it may "
                              "have been applied; read before retrying): {}",
                              ConsistencyName(), e.message())
                : fmt::format("Read timed out at consistency {}: {}", ConsistencyName(),
                              e.message());
      break;
    default:
      out.kind = ErrorKind::kServer;
      out.message = e.ToString();
      break;
  }
  return out;
}

int64_t Session::Impl::NowUs() {
  const int64_t wall = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  last_us_ = std::max(wall, last_us_ + 1);
  return last_us_;
}

int64_t Session::Impl::NowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CqlResult<std::optional<Value>> Session::Impl::Convert(const Term& term, const Type& type,
                                                       const std::vector<Value>& binds,
                                                       std::string_view column) {
  return ConvertTerm(term, type, binds, column);
}

CqlResult<std::vector<TypedRelation>> Session::Impl::TypeRelations(
    const TableSchema& t, const std::vector<Relation>& where, const std::vector<Value>& binds) {
  std::vector<TypedRelation> out;
  for (const Relation& r : where) {
    if (r.is_token) continue;
    const Ident& name = r.columns.at(0);
    const size_t index = t.IndexOf(name.name);
    if (index == t.columns.size()) {
      return Invalid(fmt::format("Undefined column name {} in table {}", name.name,
                                 t.QualifiedName()),
                     name.pos, name.name);
    }
    const ColumnSchema& col = t.columns[index];
    if (r.op == Relation::Op::kNe) {
      return Invalid("Unsupported \"!=\" relation: " + col.name + " != ...", r.pos, name.name);
    }
    if (col.type.is_collection()) {
      return Invalid(fmt::format("Collection column '{}' ({}) cannot be restricted by a '{}' "
                                 "relation",
                                 col.name, col.type.ToCql(), r.op == Relation::Op::kIn ? "IN" : "="),
                     r.pos, name.name);
    }
    TypedRelation typed{index, r.op, {}, r.pos};
    for (const Term& term : r.terms) {
      auto v = Convert(term, col.type, binds, col.name);
      if (!v.ok()) return v.error();
      if (!v->has_value()) {
        return Invalid("Invalid null value in condition for column " + col.name, term.pos);
      }
      typed.values.push_back(std::move(**v));
    }
    if (r.op != Relation::Op::kIn && typed.values.size() != 1) {
      return Invalid("Invalid restriction on " + col.name, r.pos);
    }
    out.push_back(std::move(typed));
  }
  return out;
}

CqlResult<ResultSet> Session::Impl::Execute(std::string_view text,
                                            const std::vector<Value>& binds,
                                            const ExecuteOptions& options) {
  auto parsed = ParseStatement(text);
  if (!parsed.ok()) return parsed.error();
  if (static_cast<size_t>(parsed->bind_count) != binds.size()) {
    return Invalid(fmt::format("There were {} markers(?) in CQL but {} bound variables",
                               parsed->bind_count, binds.size()));
  }
  return std::visit(
      [&](const auto& s) -> CqlResult<ResultSet> {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, SelectStmt>) return Select(s, binds, options);
        if constexpr (std::is_same_v<S, InsertStmt>) return Insert(s, binds);
        if constexpr (std::is_same_v<S, UpdateStmt>) return Update(s, binds);
        if constexpr (std::is_same_v<S, DeleteStmt>) return Delete(s, binds);
        if constexpr (std::is_same_v<S, BatchStmt>) return Batch(s, binds);
        if constexpr (std::is_same_v<S, CreateKeyspaceStmt>) return CreateKeyspace(s);
        if constexpr (std::is_same_v<S, DropKeyspaceStmt>) return DropKeyspace(s);
        if constexpr (std::is_same_v<S, UseStmt>) return UseKeyspace(s);
        if constexpr (std::is_same_v<S, CreateTableStmt>) return CreateTable(s);
        if constexpr (std::is_same_v<S, DropTableStmt>) return DropTable(s);
        if constexpr (std::is_same_v<S, TruncateStmt>) return Truncate(s);
      },
      parsed->statement);
}

// --- Session ---

Session::Session(Client& client) : impl_(std::make_unique<Impl>(client)) {}
Session::~Session() = default;

void Session::set_tombstone_grace_s(int64_t grace_s) { impl_->tombstone_grace_s = grace_s; }

CqlResult<ResultSet> Session::Execute(std::string_view statement, const std::vector<Value>& binds,
                                      const ExecuteOptions& options) {
  return impl_->Execute(statement, binds, options);
}

const std::string& Session::keyspace() const { return impl_->keyspace_; }
CqlResult<bool> Session::Use(std::string_view keyspace) { return impl_->Use(keyspace); }
Consistency Session::consistency() const { return impl_->consistency_; }
void Session::set_consistency(Consistency c) { impl_->consistency_ = c; }
bool Session::tracing() const { return impl_->tracing_; }
void Session::set_tracing(bool on) { impl_->tracing_ = on; }
Quorum Session::quorum() const { return impl_->quorum_; }
void Session::set_quorum(Quorum q) { impl_->quorum_ = q; }

CqlResult<std::vector<std::string>> Session::Keyspaces() { return impl_->Keyspaces(); }
CqlResult<std::vector<std::string>> Session::Tables(std::string_view keyspace) {
  return impl_->Tables(keyspace);
}

CqlResult<std::vector<ColumnSpec>> Session::Columns(std::string_view keyspace,
                                                    std::string_view table) {
  auto t = impl_->Table(keyspace, table);
  if (!t.ok()) return t.error();
  std::vector<ColumnSpec> out;
  for (const ColumnSchema& c : (*t)->columns) out.push_back({c.name, c.type});
  return out;
}

CqlResult<TableSchema> Session::TableSchemaOf(std::string_view keyspace, std::string_view table) {
  auto t = impl_->Table(keyspace, table);
  if (!t.ok()) return t.error();
  return **t;
}

CqlResult<std::optional<KeyspaceSchema>> Session::KeyspaceSchemaOf(std::string_view keyspace) {
  return impl_->LoadKeyspace(keyspace);
}

CqlResult<std::string> Session::DescribeKeyspace(std::string_view keyspace) {
  auto k = impl_->LoadKeyspace(keyspace);
  if (!k.ok()) return k.error();
  if (!k->has_value()) return Invalid(fmt::format("Keyspace '{}' does not exist", keyspace));
  std::string out = (*k)->Describe() + "\n";
  auto tables = impl_->Tables(keyspace);
  if (!tables.ok()) return tables.error();
  for (const std::string& name : *tables) {
    auto t = impl_->Table(keyspace, name);
    if (!t.ok()) return t.error();
    out += "\n" + (*t)->Describe() + "\n";
  }
  return out;
}

CqlResult<std::string> Session::DescribeTable(std::string_view keyspace, std::string_view table) {
  auto t = impl_->Table(keyspace, table);
  if (!t.ok()) return t.error();
  return (*t)->Describe();
}

}  // namespace ringkv::cql
