// INSERT, UPDATE, DELETE and BATCH: each statement becomes, per partition, a list of changes
// (PartitionOp) applied by one read-modify-write: Get the partition, resolve its siblings, apply
// the changes, Put with the read's context. Cells carry the statement's timestamp, so a change
// only wins over data written at a lower (or, by value bytes, equal) timestamp, as in Cassandra.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>

#include "cql/keys.h"
#include "cql/session_impl.h"

namespace ringkv::cql {
namespace {

const Type kBigintType = Type::Scalar(Kind::kBigint);
const Type kIntType = Type::Scalar(Kind::kInt);

std::string Encoded(const Value& v) {
  std::string out;
  EncodeValue(v, &out);
  return out;
}

Cell LiveCell(std::string value, const WriteStamp& st) {
  Cell c;
  c.value = std::move(value);
  c.timestamp_us = st.timestamp_us;
  c.ttl_s = st.ttl_s;
  c.expires_s = st.ttl_s > 0 ? st.now_s + st.ttl_s : 0;
  return c;
}

Cell TombCell(int64_t timestamp_us, int64_t now_s) {
  Cell c;
  c.tombstone = true;
  c.timestamp_us = timestamp_us;
  c.expires_s = now_s;
  return c;
}

// Writes `cell` unless the row holds a cell there that wins over it (a newer one): a statement's
// cells merge into the partition exactly as a sibling would.
void PutCell(Row* row, CellKey key, Cell cell) {
  auto [it, inserted] = row->cells.try_emplace(std::move(key), cell);
  if (!inserted && !CellWins(it->second, cell)) it->second = std::move(cell);
}

// `col = value` (or INSERT's value): replaces the whole column.
void SetColumn(Row* row, const ColumnSchema& col, const std::optional<Value>& v,
               const WriteStamp& st) {
  const Kind kind = col.type.kind;
  if (kind == Kind::kSet || kind == Kind::kMap) {
    // Cassandra's overwrite: delete the collection just before the new elements' timestamp.
    PutCell(row, {col.name, ""}, TombCell(st.timestamp_us - 1, st.now_s));
    if (!v) return;
    if (kind == Kind::kSet) {
      for (const Value& e : std::get<ValueList>(v->data)) {
        PutCell(row, {col.name, Encoded(e)}, LiveCell("", st));
      }
    } else {
      for (const auto& [k, val] : std::get<ValueMap>(v->data)) {
        PutCell(row, {col.name, Encoded(k)}, LiveCell(Encoded(val), st));
      }
    }
    return;
  }
  const bool empty_list = v && kind == Kind::kList && std::get<ValueList>(v->data).empty();
  if (!v || empty_list) {
    PutCell(row, {col.name, ""}, TombCell(st.timestamp_us, st.now_s));
  } else {
    PutCell(row, {col.name, ""}, LiveCell(Encoded(*v), st));
  }
}

// The list a column holds now in `p` (empty if none), for list operations that need it.
ValueList CurrentList(const Partition& p, const std::string& row_key, const ColumnSchema& col,
                      int64_t now_s) {
  auto row = p.rows.find(row_key);
  if (row == p.rows.end()) return {};
  auto cell = row->second.cells.find({col.name, ""});
  if (cell == row->second.cells.end() || !CellLive(cell->second, now_s)) return {};
  const int64_t shadow = std::max(p.deletion.timestamp_us, row->second.deletion.timestamp_us);
  if (cell->second.timestamp_us <= shadow) return {};
  std::string_view in = cell->second.value;
  Value v;
  if (!DecodeValue(col.type, &in, &v)) return {};
  return std::get<ValueList>(v.data);
}

void WriteList(Row* row, const ColumnSchema& col, ValueList list, const WriteStamp& st) {
  Value v{col.type, std::move(list)};
  SetColumn(row, col, v, st);
}

Type ElementType(const ColumnSchema& col) { return col.type.params.at(0); }
Type SetOf(const Type& t) { return Type{Kind::kSet, {t}}; }

// The key columns a WHERE clause of UPDATE / DELETE selects.
struct KeyPlan {
  std::vector<std::vector<Value>> partitions;   // pk values of each partition
  std::vector<std::vector<Value>> rows;         // clustering prefixes (of ck_prefix columns)
  size_t ck_prefix = 0;                         // clustering columns restricted by = / IN
  std::vector<TypedRelation> ck_range;          // ranges on clustering column ck_prefix
};

std::string Names(const std::vector<std::string>& names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

CqlResult<WriteStamp> Session::Impl::Stamp(const UsingClause& u, const TableSchema& t,
                                           const std::vector<Value>& binds,
                                           std::optional<int64_t> batch_ts, bool allow_ttl) {
  WriteStamp st;
  st.now_s = NowS();
  if (u.timestamp) {
    auto v = Convert(*u.timestamp, kBigintType, binds, "[timestamp]");
    if (!v.ok()) return v.error();
    if (!v->has_value()) return Invalid("Invalid null value of timestamp", u.timestamp->pos);
    st.timestamp_us = std::get<int64_t>((*v)->data);
    if (st.timestamp_us == kNoTimestamp) {
      return Invalid("Invalid timestamp value", u.timestamp->pos);
    }
  } else {
    st.timestamp_us = batch_ts ? *batch_ts : NowUs();
  }
  if (!allow_ttl) return st;
  int64_t ttl = t.default_time_to_live_s;
  if (u.ttl) {
    auto v = Convert(*u.ttl, kIntType, binds, "[ttl]");
    if (!v.ok()) return v.error();
    ttl = v->has_value() ? std::get<int64_t>((*v)->data) : 0;
    if (ttl < 0) {
      return Invalid(fmt::format("A TTL must be greater or equal to 0, but was {}", ttl),
                     u.ttl->pos);
    }
    if (ttl > kTtlMaxS) {
      return Invalid(fmt::format("ttl is too large. requested ({}) maximum ({})", ttl, kTtlMaxS),
                     u.ttl->pos);
    }
  }
  st.ttl_s = static_cast<uint32_t>(ttl);
  return st;
}

namespace {

// `typed` is TypeRelations of `where`.
CqlResult<KeyPlan> PlanKeys(const TableSchema& t, const std::vector<Relation>& where,
                            const CqlResult<std::vector<TypedRelation>>& typed, bool allow_range,
                            bool is_update, SourcePos stmt_pos) {
  for (const Relation& r : where) {
    if (r.is_token) {
      return Invalid("The token function cannot be used in WHERE clauses for UPDATE and DELETE "
                     "statements",
                     r.pos);
    }
  }
  if (!typed.ok()) return typed.error();
  std::vector<std::string> non_key;
  std::map<size_t, std::vector<const TypedRelation*>> by_column;
  for (const TypedRelation& r : *typed) {
    if (!t.is_key(r.column)) {
      non_key.push_back(t.columns[r.column].name);
      continue;
    }
    by_column[r.column].push_back(&r);
  }
  if (!non_key.empty()) {
    return Invalid("Non PRIMARY KEY columns found in where clause: " + Names(non_key), stmt_pos);
  }
  KeyPlan plan;
  std::vector<std::vector<Value>> pk_lists;
  std::vector<std::string> missing;
  for (size_t i = 0; i < t.partition_key_count; ++i) {
    auto it = by_column.find(i);
    if (it == by_column.end()) {
      missing.push_back(t.columns[i].name);
      continue;
    }
    if (it->second.size() > 1) {
      return Invalid(t.columns[i].name +
                         " cannot be restricted by more than one relation if it includes an Equal",
                     it->second[1]->pos);
    }
    const TypedRelation& r = *it->second[0];
    if (r.op != Relation::Op::kEq && r.op != Relation::Op::kIn) {
      return Invalid("Only EQ and IN relation are supported on the partition key (unless you use "
                     "the token() function)",
                     r.pos);
    }
    pk_lists.push_back(r.values);
  }
  if (!missing.empty()) {
    return Invalid("Some partition key parts are missing: " + Names(missing), stmt_pos);
  }
  std::vector<std::vector<Value>> ck_lists;
  size_t first_unrestricted = t.clustering_count;
  bool after_range = false;
  for (size_t i = 0; i < t.clustering_count; ++i) {
    const size_t col = t.partition_key_count + i;
    auto it = by_column.find(col);
    if (it == by_column.end()) {
      first_unrestricted = std::min(first_unrestricted, i);
      continue;
    }
    const TypedRelation& r = *it->second[0];
    const bool eq = r.op == Relation::Op::kEq || r.op == Relation::Op::kIn;
    if (after_range) {
      return Invalid(fmt::format("Clustering column \"{}\" cannot be restricted (preceding column "
                                 "\"{}\" is restricted by a non-EQ relation)",
                                 t.columns[col].name, t.columns[col - 1].name),
                     r.pos);
    }
    if (first_unrestricted < i) {
      return Invalid(fmt::format("PRIMARY KEY column \"{}\" cannot be restricted as preceding "
                                 "column \"{}\" is not restricted",
                                 t.columns[col].name,
                                 t.columns[t.partition_key_count + first_unrestricted].name),
                     r.pos);
    }
    if (eq) {
      if (it->second.size() > 1) {
        return Invalid(t.columns[col].name + " cannot be restricted by more than one relation if "
                                             "it includes an Equal",
                       it->second[1]->pos);
      }
      ck_lists.push_back(r.values);
      continue;
    }
    if (!allow_range) {
      return Invalid("Slice restrictions are not supported on the clustering columns in UPDATE "
                     "statements",
                     r.pos);
    }
    for (const TypedRelation* range : it->second) {
      if (range->op == Relation::Op::kEq || range->op == Relation::Op::kIn) {
        return Invalid(t.columns[col].name + " cannot be restricted by more than one relation if "
                                             "it includes an Equal",
                       range->pos);
      }
      plan.ck_range.push_back(*range);
    }
    after_range = true;  // nothing may follow a range
  }
  if (is_update && ck_lists.size() < t.clustering_count) {
    std::vector<std::string> ck_missing;
    for (size_t i = ck_lists.size(); i < t.clustering_count; ++i) {
      ck_missing.push_back(t.columns[t.partition_key_count + i].name);
    }
    return Invalid("Some clustering keys are missing: " + Names(ck_missing), stmt_pos);
  }
  plan.ck_prefix = ck_lists.size();
  if (!Cartesian(pk_lists, kKeysPerStatementMax, &plan.partitions) ||
      !Cartesian(ck_lists, kKeysPerStatementMax, &plan.rows)) {
    return Invalid(fmt::format("IN restrictions select more than {} keys (the cartesian product "
                               "of the IN lists)",
                               kKeysPerStatementMax),
                   stmt_pos);
  }
  return plan;
}

// One PartitionWrite per partition of the plan, each running `op` on every row key of the plan.
std::vector<PartitionWrite> WritesFor(const TableSchema& t, const KeyPlan& plan,
                                      const std::function<PartitionOp(std::string row_key)>& op) {
  std::vector<PartitionWrite> out;
  for (const auto& pk : plan.partitions) {
    PartitionWrite w;
    w.key = StorageKey(t, pk);
    w.display = DisplayKey(pk);
    for (const auto& ck : plan.rows) w.ops.push_back(op(RowKey(t, ck)));
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace

CqlResult<std::vector<PartitionWrite>> Session::Impl::PlanInsert(const InsertStmt& s,
                                                                 const std::vector<Value>& binds,
                                                                 std::optional<int64_t> batch_ts) {
  auto table = TableOf(s.table);
  if (!table.ok()) return table.error();
  const TableSchema& t = **table;
  auto stamp = Stamp(s.using_clause, t, binds, batch_ts, /*allow_ttl=*/true);
  if (!stamp.ok()) return stamp.error();
  std::vector<std::optional<Value>> values(t.columns.size());
  std::vector<bool> given(t.columns.size(), false);
  for (size_t i = 0; i < s.columns.size(); ++i) {
    const Ident& name = s.columns[i];
    const size_t index = t.IndexOf(name.name);
    if (index == t.columns.size()) {
      return Invalid(fmt::format("Undefined column name {} in table {}", name.name,
                                 t.QualifiedName()),
                     name.pos, name.name);
    }
    if (given[index]) {
      return Invalid("Multiple definitions found for column " + name.name, name.pos, name.name);
    }
    given[index] = true;
    auto v = Convert(s.values[i], t.columns[index].type, binds, name.name);
    if (!v.ok()) return v.error();
    if (t.is_key(index) && !v->has_value()) {
      return Invalid("Invalid null value in condition for column " + name.name, s.values[i].pos);
    }
    values[index] = std::move(*v);
  }
  std::vector<std::string> missing_pk, missing_ck;
  for (size_t i = 0; i < t.partition_key_count + t.clustering_count; ++i) {
    if (given[i]) continue;
    (i < t.partition_key_count ? missing_pk : missing_ck).push_back(t.columns[i].name);
  }
  if (!missing_pk.empty()) {
    return Invalid("Some partition key parts are missing: " + Names(missing_pk), s.pos);
  }
  if (!missing_ck.empty()) {
    return Invalid("Some clustering keys are missing: " + Names(missing_ck), s.pos);
  }
  std::vector<Value> pk, ck;
  for (size_t i = 0; i < t.partition_key_count; ++i) pk.push_back(*values[i]);
  for (size_t i = 0; i < t.clustering_count; ++i) {
    ck.push_back(*values[t.partition_key_count + i]);
  }
  PartitionWrite w;
  w.key = StorageKey(t, pk);
  w.display = DisplayKey(pk);
  const WriteStamp st = *stamp;
  std::vector<std::pair<ColumnSchema, std::optional<Value>>> cells;
  for (size_t i = t.partition_key_count + t.clustering_count; i < t.columns.size(); ++i) {
    if (given[i]) cells.emplace_back(t.columns[i], values[i]);
  }
  w.ops.push_back([row_key = RowKey(t, ck), st, cells](Partition* p,
                                                      int64_t) -> std::optional<CqlError> {
    Row& row = p->rows[row_key];
    RowMarker marker{st.timestamp_us, st.ttl_s > 0 ? st.now_s + st.ttl_s : 0, st.ttl_s};
    Row with_marker;
    with_marker.marker = marker;
    MergeInto(p, Partition{Deletion{}, {{row_key, with_marker}}});
    for (const auto& [col, v] : cells) SetColumn(&row, col, v, st);
    return std::nullopt;
  });
  return std::vector<PartitionWrite>{std::move(w)};
}

CqlResult<std::vector<PartitionWrite>> Session::Impl::PlanUpdate(const UpdateStmt& s,
                                                                 const std::vector<Value>& binds,
                                                                 std::optional<int64_t> batch_ts) {
  auto table = TableOf(s.table);
  if (!table.ok()) return table.error();
  const TableSchema& t = **table;
  auto stamp = Stamp(s.using_clause, t, binds, batch_ts, /*allow_ttl=*/true);
  if (!stamp.ok()) return stamp.error();
  auto plan = PlanKeys(t, s.where, TypeRelations(t, s.where, binds), /*allow_range=*/false, /*is_update=*/true, s.pos);
  if (!plan.ok()) return plan.error();
  const WriteStamp st = *stamp;

  // Each assignment as a change to one row, given the row key.
  using RowChange = std::function<std::optional<CqlError>(Partition*, const std::string&, int64_t)>;
  std::vector<RowChange> changes;
  for (const Assignment& a : s.assignments) {
    const size_t index = t.IndexOf(a.column.name);
    if (index == t.columns.size()) {
      return Invalid(fmt::format("Undefined column name {} in table {}", a.column.name,
                                 t.QualifiedName()),
                     a.pos, a.column.name);
    }
    if (t.is_key(index)) {
      return Invalid(fmt::format("PRIMARY KEY part {} found in SET part", a.column.name), a.pos,
                     a.column.name);
    }
    const ColumnSchema col = t.columns[index];
    const Kind kind = col.type.kind;
    const auto not_for = [&](std::string_view what) {
      return Invalid(fmt::format("Invalid operation ({}) for non {} column {}", what,
                                 kind == Kind::kList ? "set/map" : "list", col.name),
                     a.pos, col.name);
    };
    switch (a.op) {
      case Assignment::Op::kSet: {
        auto v = Convert(a.value, col.type, binds, col.name);
        if (!v.ok()) return v.error();
        changes.push_back([col, v = *v, st](Partition* p, const std::string& rk, int64_t) {
          SetColumn(&p->rows[rk], col, v, st);
          return std::optional<CqlError>();
        });
        break;
      }
      case Assignment::Op::kAppend:
      case Assignment::Op::kPrepend: {
        if (!col.type.is_collection()) {
          return Invalid(fmt::format("Invalid operation ({} = {} + ?) for non counter column {}",
                                     col.name, col.name, col.name),
                         a.pos, col.name);
        }
        if (a.op == Assignment::Op::kPrepend && kind != Kind::kList) {
          return not_for(col.name + " = ? + " + col.name);
        }
        auto v = Convert(a.value, col.type, binds, col.name);
        if (!v.ok()) return v.error();
        if (!v->has_value()) break;  // appending null: nothing
        const bool prepend = a.op == Assignment::Op::kPrepend;
        changes.push_back([col, v = **v, st, prepend](Partition* p, const std::string& rk,
                                                      int64_t now_s) {
          Row& row = p->rows[rk];
          if (col.type.kind == Kind::kList) {
            // A list is one cell: append / prepend rewrite it from the value read.
            ValueList list = CurrentList(*p, rk, col, now_s);
            const auto& add = std::get<ValueList>(v.data);
            list.insert(prepend ? list.begin() : list.end(), add.begin(), add.end());
            WriteList(&p->rows[rk], col, std::move(list), st);
          } else if (col.type.kind == Kind::kSet) {
            for (const Value& e : std::get<ValueList>(v.data)) {
              PutCell(&row, {col.name, Encoded(e)}, LiveCell("", st));
            }
          } else {
            for (const auto& [k, val] : std::get<ValueMap>(v.data)) {
              PutCell(&row, {col.name, Encoded(k)}, LiveCell(Encoded(val), st));
            }
          }
          return std::optional<CqlError>();
        });
        break;
      }
      case Assignment::Op::kRemove: {
        if (!col.type.is_collection()) {
          return Invalid(fmt::format("Invalid operation ({} = {} - ?) for non counter column {}",
                                     col.name, col.name, col.name),
                         a.pos, col.name);
        }
        const Type type = kind == Kind::kMap ? SetOf(col.type.params.at(0)) : col.type;
        auto v = Convert(a.value, type, binds, col.name);
        if (!v.ok()) return v.error();
        if (!v->has_value()) break;
        changes.push_back([col, v = **v, st](Partition* p, const std::string& rk, int64_t now_s) {
          const auto& items = std::get<ValueList>(v.data);
          if (col.type.kind == Kind::kList) {
            ValueList list = CurrentList(*p, rk, col, now_s);
            std::erase_if(list, [&](const Value& e) {
              return std::any_of(items.begin(), items.end(),
                                 [&](const Value& x) { return Compare(e, x) == 0; });
            });
            WriteList(&p->rows[rk], col, std::move(list), st);
          } else {
            Row& row = p->rows[rk];
            for (const Value& e : items) {
              PutCell(&row, {col.name, Encoded(e)}, TombCell(st.timestamp_us, st.now_s));
            }
          }
          return std::optional<CqlError>();
        });
        break;
      }
      case Assignment::Op::kSetElement: {
        if (kind != Kind::kMap && kind != Kind::kList) {
          return Invalid(fmt::format("Invalid operation ({}[?] = ?) for non list/map column {}",
                                     col.name, col.name),
                         a.pos, col.name);
        }
        const Type key_type = kind == Kind::kMap ? col.type.params.at(0) : kIntType;
        const Type value_type = kind == Kind::kMap ? col.type.params.at(1) : ElementType(col);
        auto k = Convert(*a.key, key_type, binds, col.name);
        if (!k.ok()) return k.error();
        if (!k->has_value()) return Invalid("Invalid null value for map key", a.key->pos);
        auto v = Convert(a.value, value_type, binds, col.name);
        if (!v.ok()) return v.error();
        const SourcePos pos = a.key->pos;
        changes.push_back([col, k = **k, v = *v, st, pos](Partition* p, const std::string& rk,
                                                          int64_t now_s) -> std::optional<CqlError> {
          Row& row = p->rows[rk];
          if (col.type.kind == Kind::kMap) {
            PutCell(&row, {col.name, Encoded(k)},
                    v ? LiveCell(Encoded(*v), st) : TombCell(st.timestamp_us, st.now_s));
            return std::nullopt;
          }
          ValueList list = CurrentList(*p, rk, col, now_s);
          const int64_t i = std::get<int64_t>(k.data);
          if (i < 0 || static_cast<size_t>(i) >= list.size()) {
            return Invalid(fmt::format("List index {} out of bound, list has size {}", i,
                                       list.size()),
                           pos);
          }
          if (v) {
            list[static_cast<size_t>(i)] = *v;
          } else {
            list.erase(list.begin() + i);
          }
          WriteList(&p->rows[rk], col, std::move(list), st);
          return std::nullopt;
        });
        break;
      }
    }
  }
  return WritesFor(t, *plan, [changes](std::string row_key) -> PartitionOp {
    return [changes, row_key](Partition* p, int64_t now_s) -> std::optional<CqlError> {
      for (const auto& change : changes) {
        if (auto e = change(p, row_key, now_s)) return e;
      }
      return std::nullopt;
    };
  });
}

CqlResult<std::vector<PartitionWrite>> Session::Impl::PlanDelete(const DeleteStmt& s,
                                                                 const std::vector<Value>& binds,
                                                                 std::optional<int64_t> batch_ts) {
  auto table = TableOf(s.table);
  if (!table.ok()) return table.error();
  const TableSchema& t = **table;
  auto stamp = Stamp(s.using_clause, t, binds, batch_ts, /*allow_ttl=*/false);
  if (!stamp.ok()) return stamp.error();
  auto plan = PlanKeys(t, s.where, TypeRelations(t, s.where, binds), /*allow_range=*/true, /*is_update=*/false, s.pos);
  if (!plan.ok()) return plan.error();
  const WriteStamp st = *stamp;
  const Deletion deletion{st.timestamp_us, st.now_s};
  const bool full_rows = plan->ck_prefix == t.clustering_count && plan->ck_range.empty();

  if (s.targets.empty()) {
    if (plan->ck_prefix == 0 && plan->ck_range.empty()) {
      // The whole partition: a partition tombstone (not a ringkv delete), so that USING
      // TIMESTAMP orders it against the partition's cells.
      KeyPlan one = *plan;
      one.rows.assign(1, {});
      return WritesFor(t, one, [deletion](std::string) -> PartitionOp {
        return [deletion](Partition* p, int64_t) {
          MergeInto(p, Partition{deletion, {}});
          return std::optional<CqlError>();
        };
      });
    }
    if (full_rows) {
      return WritesFor(t, *plan, [deletion](std::string row_key) -> PartitionOp {
        return [deletion, row_key](Partition* p, int64_t) {
          Row& row = p->rows[row_key];
          if (row.deletion.timestamp_us < deletion.timestamp_us) row.deletion = deletion;
          return std::optional<CqlError>();
        };
      });
    }
    // A prefix or a range of rows: tombstones on the rows in it that the read found (rows a
    // concurrent writer adds in the range are not covered; Cassandra's range tombstone would).
    const TableSchema table_copy = t;
    const KeyPlan key_plan = *plan;
    KeyPlan one = *plan;
    one.rows.assign(1, {});
    return WritesFor(t, one, [table_copy, key_plan, deletion](std::string) -> PartitionOp {
      return [table_copy, key_plan, deletion](Partition* p, int64_t) {
        for (auto& [row_key, row] : p->rows) {
          std::vector<Value> ck;
          if (!DecodeRowKey(table_copy, row_key, &ck)) continue;
          bool match = key_plan.rows.empty();
          for (const auto& prefix : key_plan.rows) {
            bool eq = true;
            for (size_t i = 0; i < prefix.size() && eq; ++i) eq = Compare(prefix[i], ck[i]) == 0;
            match = match || eq;
          }
          for (const TypedRelation& r : key_plan.ck_range) {
            match = match && Satisfies(ck[r.column - table_copy.partition_key_count], r);
          }
          if (match && row.deletion.timestamp_us < deletion.timestamp_us) row.deletion = deletion;
        }
        return std::optional<CqlError>();
      };
    });
  }

  if (!full_rows) {
    return Invalid("Range deletions are not supported for specific columns", s.pos);
  }
  using RowChange = std::function<std::optional<CqlError>(Partition*, const std::string&, int64_t)>;
  std::vector<RowChange> changes;
  for (const DeleteTarget& target : s.targets) {
    const size_t index = t.IndexOf(target.column.name);
    if (index == t.columns.size()) {
      return Invalid(fmt::format("Undefined column name {} in table {}", target.column.name,
                                 t.QualifiedName()),
                     target.column.pos, target.column.name);
    }
    if (t.is_key(index)) {
      return Invalid(fmt::format("Invalid identifier {} for deletion (should not be a PRIMARY KEY "
                                 "part)",
                                 target.column.name),
                     target.column.pos, target.column.name);
    }
    const ColumnSchema col = t.columns[index];
    if (!target.key) {
      changes.push_back([col, st](Partition* p, const std::string& rk, int64_t) {
        // Scalars and lists: the cell; sets and maps: a collection tombstone (element "").
        PutCell(&p->rows[rk], {col.name, ""}, TombCell(st.timestamp_us, st.now_s));
        return std::optional<CqlError>();
      });
      continue;
    }
    if (col.type.kind != Kind::kMap && col.type.kind != Kind::kList) {
      return Invalid(fmt::format("Invalid element access syntax for non list/map column {}",
                                 col.name),
                     target.column.pos, col.name);
    }
    const Type key_type = col.type.kind == Kind::kMap ? col.type.params.at(0) : kIntType;
    auto k = Convert(*target.key, key_type, binds, col.name);
    if (!k.ok()) return k.error();
    if (!k->has_value()) return Invalid("Invalid null value for map key", target.key->pos);
    const SourcePos pos = target.key->pos;
    changes.push_back([col, k = **k, st, pos](Partition* p, const std::string& rk,
                                              int64_t now_s) -> std::optional<CqlError> {
      if (col.type.kind == Kind::kMap) {
        PutCell(&p->rows[rk], {col.name, Encoded(k)}, TombCell(st.timestamp_us, st.now_s));
        return std::nullopt;
      }
      ValueList list = CurrentList(*p, rk, col, now_s);
      const int64_t i = std::get<int64_t>(k.data);
      if (i < 0 || static_cast<size_t>(i) >= list.size()) {
        return Invalid(fmt::format("List index {} out of bound, list has size {}", i, list.size()),
                       pos);
      }
      list.erase(list.begin() + i);
      WriteList(&p->rows[rk], col, std::move(list), st);
      return std::nullopt;
    });
  }
  return WritesFor(t, *plan, [changes](std::string row_key) -> PartitionOp {
    return [changes, row_key](Partition* p, int64_t now_s) -> std::optional<CqlError> {
      for (const auto& change : changes) {
        if (auto e = change(p, row_key, now_s)) return e;
      }
      return std::nullopt;
    };
  });
}

CqlResult<std::vector<Partition>> Session::Impl::DecodeVersions(
    const std::vector<Sibling>& siblings, std::string_view key, int64_t now_s) {
  std::vector<Partition> out;
  for (const Sibling& s : siblings) {
    Partition p;
    if (!DecodePartition(s.value, &p)) {
      std::string printable(key);
      std::replace(printable.begin(), printable.end(), '\0', '|');
      return ServerError(fmt::format("the object '{}' does not hold a CQL partition (written by "
                                     "another client?)",
                                     printable));
    }
    Compact(&p, now_s);
    out.push_back(std::move(p));
  }
  return out;
}

bool Session::Impl::ReplicasAgree(const std::string& keyspace, const std::string& key,
                                  const GetResult& read) {
  if (read.replicas_agreed) return true;
  ReadOptions all = ReadOpts(keyspace);
  all.consistency = Consistency::kAll;
  all.trace = false;
  auto again = client_.Get(key, all);
  return again.ok() && again->replicas_agreed && again->context == read.context;
}

Partition Session::Impl::ResolveForWrite(const TableSchema& t, std::vector<Partition> versions,
                                         std::string_view display, ResultSet* rs) {
  if (versions.empty()) return Partition{};
  if (versions.size() == 1) return std::move(versions[0]);
  if (t.conflict_mode == ConflictMode::kLww) {
    rs->notes.push_back(fmt::format("partition {}: {} siblings, kept the newest", display,
                                    versions.size()));
    return std::move(versions[PickNewest(versions)]);
  }
  Partition merged;
  for (const Partition& v : versions) MergeInto(&merged, v);
  rs->notes.push_back(fmt::format("partition {}: merged {} siblings cell by cell", display,
                                  versions.size()));
  return merged;
}

std::optional<CqlError> Session::Impl::ApplyWrites(const TableSchema& t,
                                                   std::vector<PartitionWrite> writes,
                                                   ResultSet* rs) {
  for (PartitionWrite& w : writes) {
    auto got = client_.Get(w.key, ReadOpts(t.keyspace));
    if (!got.ok()) return FromClient(got.error(), /*write=*/false);
    if (got->trace) rs->traces.push_back(std::move(*got->trace));
    const int64_t now_s = NowS();
    auto versions = DecodeVersions(got->siblings, w.key, now_s);
    if (!versions.ok()) return versions.error();
    rs->notes.push_back(fmt::format("read-before-write of partition {}: {} version(s)", w.display,
                                    versions->size()));
    Partition p = ResolveForWrite(t, std::move(*versions), w.display, rs);
    for (const PartitionOp& op : w.ops) {
      if (auto e = op(&p, now_s)) return e;
    }
    Compact(&p, now_s);
    // Tombstones past the grace period go only once every replica holds the same object.
    const int64_t horizon_s = now_s - tombstone_grace_s;
    if (HasTombstonesBefore(p, horizon_s) && ReplicasAgree(t.keyspace, w.key, got.value())) {
      Compact(&p, now_s, horizon_s);
      rs->notes.push_back(fmt::format("partition {}: tombstones older than {} s dropped, every "
                                      "replica holding the same version",
                                      w.display, tombstone_grace_s));
    } else if (HasTombstonesBefore(p, horizon_s)) {
      rs->notes.push_back(fmt::format("partition {}: tombstones older than {} s kept, not every "
                                      "replica holding the same version",
                                      w.display, tombstone_grace_s));
    }
    const std::string bytes = EncodePartition(p);
    if (bytes.size() > kPartitionBytesMax) {
      return Invalid(fmt::format("Partition {} of {} would be {} bytes, over the limit of {} "
                                  "bytes for one partition: nothing was written to it",
                                  w.display, t.QualifiedName(), bytes.size(), kPartitionBytesMax));
    }
    auto put = client_.Put(w.key, bytes, WriteOpts(t.keyspace, got->context));
    if (!put.ok()) return FromClient(put.error(), /*write=*/true);
    if (put->trace) rs->traces.push_back(std::move(*put->trace));
    if (put->siblings > 1) {
      rs->warnings.push_back(fmt::format("partition {} has {} siblings: a concurrent write stands "
                                         "beside this one",
                                         w.display, put->siblings));
    }
  }
  return std::nullopt;
}

CqlResult<ResultSet> Session::Impl::Insert(const InsertStmt& s, const std::vector<Value>& binds) {
  auto writes = PlanInsert(s, binds, std::nullopt);
  if (!writes.ok()) return writes.error();
  ResultSet rs;
  auto t = TableOf(s.table);
  if (!t.ok()) return t.error();
  if (auto e = ApplyWrites(**t, std::move(*writes), &rs)) return *e;
  return rs;
}

CqlResult<ResultSet> Session::Impl::Update(const UpdateStmt& s, const std::vector<Value>& binds) {
  auto writes = PlanUpdate(s, binds, std::nullopt);
  if (!writes.ok()) return writes.error();
  ResultSet rs;
  auto t = TableOf(s.table);
  if (!t.ok()) return t.error();
  if (auto e = ApplyWrites(**t, std::move(*writes), &rs)) return *e;
  return rs;
}

CqlResult<ResultSet> Session::Impl::Delete(const DeleteStmt& s, const std::vector<Value>& binds) {
  auto writes = PlanDelete(s, binds, std::nullopt);
  if (!writes.ok()) return writes.error();
  ResultSet rs;
  auto t = TableOf(s.table);
  if (!t.ok()) return t.error();
  if (auto e = ApplyWrites(**t, std::move(*writes), &rs)) return *e;
  return rs;
}

CqlResult<ResultSet> Session::Impl::Batch(const BatchStmt& s, const std::vector<Value>& binds) {
  // One timestamp for the whole batch, as Cassandra, unless an entry names its own.
  int64_t batch_ts = 0;
  if (s.using_clause.timestamp) {
    auto v = Convert(*s.using_clause.timestamp, kBigintType, binds, "[timestamp]");
    if (!v.ok()) return v.error();
    if (!v->has_value()) {
      return Invalid("Invalid null value of timestamp", s.using_clause.timestamp->pos);
    }
    batch_ts = std::get<int64_t>((*v)->data);
  } else {
    batch_ts = NowUs();
  }
  // Group by table, then partition, in order of first appearance.
  struct TableWrites {
    TableSchema table;
    std::vector<PartitionWrite> writes;
    std::map<std::string, size_t> index;
  };
  std::vector<TableWrites> groups;
  size_t partitions = 0;
  for (const BatchEntry& entry : s.entries) {
    const TableName& name = std::visit([](const auto& e) -> const TableName& { return e.table; },
                                       entry);
    auto planned = std::visit(
        [&](const auto& e) -> CqlResult<std::vector<PartitionWrite>> {
          using E = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<E, InsertStmt>) return PlanInsert(e, binds, batch_ts);
          if constexpr (std::is_same_v<E, UpdateStmt>) return PlanUpdate(e, binds, batch_ts);
          if constexpr (std::is_same_v<E, DeleteStmt>) return PlanDelete(e, binds, batch_ts);
        },
        entry);
    if (!planned.ok()) return planned.error();
    auto table = TableOf(name);
    if (!table.ok()) return table.error();
    auto group = std::find_if(groups.begin(), groups.end(), [&](const TableWrites& g) {
      return g.table.keyspace == (*table)->keyspace && g.table.name == (*table)->name;
    });
    if (group == groups.end()) {
      groups.push_back(TableWrites{**table, {}, {}});
      group = std::prev(groups.end());
    }
    for (PartitionWrite& w : *planned) {
      auto [it, inserted] = group->index.try_emplace(w.key, group->writes.size());
      if (inserted) {
        group->writes.push_back(std::move(w));
        if (++partitions > kBatchPartitionsMax) {
          return Invalid(fmt::format("A batch may touch at most {} partitions",
                                     kBatchPartitionsMax),
                         s.pos);
        }
      } else {
        auto& ops = group->writes[it->second].ops;
        ops.insert(ops.end(), w.ops.begin(), w.ops.end());
      }
    }
  }
  ResultSet rs;
  if (!s.unlogged && partitions > 1) {
    rs.warnings.push_back(fmt::format(
        "Logged batch across {} partitions is not atomic here: ringkv has no batchlog, so each "
        "partition is applied atomically on its own and a failure may leave some applied",
        partitions));
  }
  for (TableWrites& g : groups) {
    if (auto e = ApplyWrites(g.table, std::move(g.writes), &rs)) return *e;
  }
  return rs;
}

}  // namespace ringkv::cql
