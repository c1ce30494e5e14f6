// SELECT: finds the partitions (a Get of each when the partition key is given by = / IN, else a
// token range Scan of the table's keys), resolves each partition's siblings per the table's
// conflict mode, and walks its rows: clustering and filtering restrictions, column selection,
// ttl() / writetime() / token(), COUNT, DISTINCT, LIMIT and paging.
#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <limits>
#include <nlohmann/json.hpp>

#include "cql/keys.h"
#include "cql/session_impl.h"

namespace ringkv::cql {
namespace {

constexpr char kFilteringMessage[] =
    "Cannot execute this query as it might involve data filtering and thus may have unpredictable "
    "performance. If you want to execute this query despite the performance unpredictability, "
    "use ALLOW FILTERING";

struct OutColumn {
  Selector::Kind kind = Selector::Kind::kColumn;
  size_t column = 0;  // kColumn, kTtl, kWritetime, kCount
  ColumnSpec spec;
};

// One row of one version of a partition, by table column.
struct RowValues {
  std::vector<std::optional<Value>> values;
  std::vector<std::optional<int64_t>> writetime_us, ttl_s;
};

struct OutRow {
  RowValues row;
  int64_t token = 0;
  uint32_t sibling = 0, siblings = 0;
};

// Where the next page starts: the partition (by index in the key list, or by the scan position
// just before it) and how many of its rows the earlier pages returned.
struct Cursor {
  uint64_t partition_index = 0;  // key lookups
  bool has_after = false;        // scans
  int64_t after_token = 0;
  std::string after_key;
  uint64_t skip_rows = 0;
  uint64_t returned = 0;  // rows returned by earlier pages (for LIMIT)
};

std::string Hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    out += digits[(static_cast<uint8_t>(c) >> 4) & 0xf];
    out += digits[static_cast<uint8_t>(c) & 0xf];
  }
  return out;
}

bool Unhex(std::string_view s, std::string* out) {
  if (s.size() % 2 != 0) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    const int hi = nibble(s[i]), lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

std::string EncodeCursor(const Cursor& c) {
  nlohmann::json j = {{"i", c.partition_index}, {"a", c.has_after},     {"t", c.after_token},
                      {"k", Hex(c.after_key)},  {"s", c.skip_rows},     {"r", c.returned}};
  return j.dump();
}

bool DecodeCursor(std::string_view text, Cursor* c) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  try {
    c->partition_index = j.at("i").get<uint64_t>();
    c->has_after = j.at("a").get<bool>();
    c->after_token = j.at("t").get<int64_t>();
    c->skip_rows = j.at("s").get<uint64_t>();
    c->returned = j.at("r").get<uint64_t>();
    return Unhex(j.at("k").get<std::string>(), &c->after_key);
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// The values of the row at `row_key` of version `p` (compacted), or false if it is not live.
bool ReadRow(const TableSchema& t, const std::vector<Value>& pk, const std::string& row_key,
             const Row& row, int64_t now_s, RowValues* out) {
  if (!RowLive(row, now_s)) return false;
  std::vector<Value> ck;
  if (!DecodeRowKey(t, row_key, &ck)) return false;
  const size_t n = t.columns.size();
  out->values.assign(n, std::nullopt);
  out->writetime_us.assign(n, std::nullopt);
  out->ttl_s.assign(n, std::nullopt);
  for (size_t i = 0; i < pk.size(); ++i) out->values[i] = pk[i];
  for (size_t i = 0; i < ck.size(); ++i) out->values[t.partition_key_count + i] = ck[i];
  for (size_t i = t.partition_key_count + t.clustering_count; i < n; ++i) {
    const ColumnSchema& col = t.columns[i];
    const Kind kind = col.type.kind;
    if (kind == Kind::kSet || kind == Kind::kMap) {
      ValueList set;
      ValueMap map;
      for (auto it = row.cells.lower_bound(CellKey{col.name, ""});
           it != row.cells.end() && it->first.column == col.name; ++it) {
        if (it->first.element.empty() || !CellLive(it->second, now_s)) continue;
        std::string_view key = it->first.element;
        Value k;
        if (!DecodeValue(col.type.params.at(0), &key, &k)) continue;
        if (kind == Kind::kSet) {
          set.push_back(std::move(k));
          continue;
        }
        std::string_view val = it->second.value;
        Value v;
        if (!DecodeValue(col.type.params.at(1), &val, &v)) continue;
        map.emplace_back(std::move(k), std::move(v));
      }
      if (kind == Kind::kSet && !set.empty()) out->values[i] = Value{col.type, std::move(set)};
      if (kind == Kind::kMap && !map.empty()) out->values[i] = Value{col.type, std::move(map)};
      continue;
    }
    auto it = row.cells.find(CellKey{col.name, ""});
    if (it == row.cells.end() || !CellLive(it->second, now_s)) continue;
    std::string_view in = it->second.value;
    Value v;
    if (!DecodeValue(col.type, &in, &v)) continue;
    out->values[i] = std::move(v);
    out->writetime_us[i] = it->second.timestamp_us;
    if (it->second.expires_s != 0) out->ttl_s[i] = it->second.expires_s - now_s;
  }
  return true;
}

}  // namespace

CqlResult<ResultSet> Session::Impl::Select(const SelectStmt& s, const std::vector<Value>& binds,
                                           const ExecuteOptions& options) {
  auto table = TableOf(s.table);
  if (!table.ok()) return table.error();
  const TableSchema t = **table;  // a copy: later schema reloads may move the cached one
  const size_t keys = t.partition_key_count + t.clustering_count;

  // --- the column list ---
  std::vector<OutColumn> out_columns;
  bool aggregate = false;
  auto find_column = [&](const Ident& id) -> CqlResult<size_t> {
    const size_t i = t.IndexOf(id.name);
    if (i == t.columns.size()) {
      return Invalid(fmt::format("Undefined column name {} in table {}", id.name,
                                 t.QualifiedName()),
                     id.pos, id.name);
    }
    return i;
  };
  if (s.star) {
    for (size_t i = 0; i < t.columns.size(); ++i) {
      out_columns.push_back({Selector::Kind::kColumn, i, {t.columns[i].name, t.columns[i].type}});
    }
  }
  for (const Selector& sel : s.selectors) {
    OutColumn oc;
    oc.kind = sel.kind;
    switch (sel.kind) {
      case Selector::Kind::kColumn:
      case Selector::Kind::kTtl:
      case Selector::Kind::kWritetime:
      case Selector::Kind::kCount: {
        auto i = find_column(sel.column);
        if (!i.ok()) return i.error();
        oc.column = *i;
        const ColumnSchema& col = t.columns[*i];
        if (sel.kind == Selector::Kind::kColumn) {
          oc.spec = {col.name, col.type};
        } else if (sel.kind == Selector::Kind::kCount) {
          oc.spec = {"count", Type::Scalar(Kind::kBigint)};
          aggregate = true;
        } else {
          const char* fn = sel.kind == Selector::Kind::kTtl ? "ttl" : "writetime";
          if (t.is_key(*i)) {
            return Invalid(fmt::format("Cannot use selection function {} on PRIMARY KEY part {}",
                                       fn, col.name),
                           sel.pos, col.name);
          }
          if (col.type.kind == Kind::kSet || col.type.kind == Kind::kMap) {
            return Invalid(fmt::format("Cannot use selection function {} on collections", fn),
                           sel.pos, col.name);
          }
          oc.spec = {fmt::format("{}({})", fn, col.name),
                     Type::Scalar(sel.kind == Selector::Kind::kTtl ? Kind::kInt : Kind::kBigint)};
        }
        break;
      }
      case Selector::Kind::kCountStar:
        oc.spec = {"count", Type::Scalar(Kind::kBigint)};
        aggregate = true;
        break;
      case Selector::Kind::kToken: {
        bool ok = sel.token_columns.size() == t.partition_key_count;
        std::vector<std::string> names;
        for (size_t i = 0; i < sel.token_columns.size(); ++i) {
          ok = ok && sel.token_columns[i].name == t.columns[i].name;
          names.push_back(sel.token_columns[i].name);
        }
        if (!ok) {
          return Invalid("token() takes the partition key columns in order", sel.pos);
        }
        oc.spec = {fmt::format("token({})", fmt::join(names, ", ")),
                   Type::Scalar(Kind::kBigint)};
        break;
      }
    }
    if (sel.alias) oc.spec.name = sel.alias->name;
    out_columns.push_back(std::move(oc));
  }
  if (s.distinct) {
    std::vector<bool> seen(t.partition_key_count, false);
    for (const OutColumn& oc : out_columns) {
      if (oc.kind == Selector::Kind::kCountStar || oc.kind == Selector::Kind::kToken) continue;
      if (oc.kind != Selector::Kind::kColumn || oc.column >= t.partition_key_count) {
        return Invalid(fmt::format("SELECT DISTINCT queries must only request partition key "
                                   "columns and/or static columns (not {})",
                                   t.columns[oc.column].name),
                       s.pos);
      }
      seen[oc.column] = true;
    }
    for (size_t i = 0; i < seen.size(); ++i) {
      if (!seen[i] && !aggregate) {
        return Invalid(fmt::format("SELECT DISTINCT queries must request all the partition key "
                                   "columns (missing {})",
                                   t.columns[i].name),
                       s.pos);
      }
    }
  }

  // --- the WHERE clause ---
  auto typed = TypeRelations(t, s.where, binds);
  if (!typed.ok()) return typed.error();
  int64_t start_token = std::numeric_limits<int64_t>::min();
  int64_t end_token = std::numeric_limits<int64_t>::max();
  bool has_token = false;
  for (const Relation& r : s.where) {
    if (!r.is_token) continue;
    has_token = true;
    bool ok = r.columns.size() == t.partition_key_count;
    for (size_t i = 0; ok && i < r.columns.size(); ++i) ok = r.columns[i].name == t.columns[i].name;
    if (!ok) {
      std::vector<std::string> names;
      for (size_t i = 0; i < t.partition_key_count; ++i) names.push_back(t.columns[i].name);
      return Invalid(fmt::format("The token function arguments must be in the partition key "
                                 "order: {}",
                                 fmt::join(names, ", ")),
                     r.pos);
    }
    if (r.op == Relation::Op::kIn || r.op == Relation::Op::kNe || r.terms.size() != 1) {
      return Invalid("Only =, <, <=, >, >= are supported on token()", r.pos);
    }
    auto v = Convert(r.terms[0], Type::Scalar(Kind::kBigint), binds, "token");
    if (!v.ok()) return v.error();
    if (!v->has_value()) return Invalid("Invalid null value for token", r.terms[0].pos);
    const int64_t x = std::get<int64_t>((*v)->data);
    const int64_t below = x == std::numeric_limits<int64_t>::min() ? x : x - 1;
    // Scan ranges are (start, end]: > x starts after x; >= x after x-1; <= x ends at x; < x at x-1.
    switch (r.op) {
      case Relation::Op::kGt: start_token = std::max(start_token, x); break;
      case Relation::Op::kGe: start_token = std::max(start_token, below); break;
      case Relation::Op::kLt: end_token = std::min(end_token, below); break;
      case Relation::Op::kLe: end_token = std::min(end_token, x); break;
      case Relation::Op::kEq:
        start_token = std::max(start_token, below);
        end_token = std::min(end_token, x);
        break;
      default: break;
    }
  }
  // Partition key lookups: every partition key column restricted by exactly one = or IN.
  std::vector<std::vector<Value>> pk_lists(t.partition_key_count);
  std::vector<int> pk_relations(t.partition_key_count, 0);
  bool pk_eq_only = true, needs_filtering = false;
  for (const TypedRelation& r : *typed) {
    if (r.column < t.partition_key_count) {
      ++pk_relations[r.column];
      const bool eq = r.op == Relation::Op::kEq || r.op == Relation::Op::kIn;
      pk_eq_only = pk_eq_only && eq;
      if (eq) pk_lists[r.column] = r.values;
    } else if (r.column >= keys) {
      needs_filtering = true;
    }
  }
  const bool any_pk = std::any_of(pk_relations.begin(), pk_relations.end(),
                                  [](int n) { return n > 0; });
  const bool key_mode = pk_eq_only && std::all_of(pk_relations.begin(), pk_relations.end(),
                                                  [](int n) { return n == 1; });
  if (any_pk && !key_mode) needs_filtering = true;
  if (has_token && any_pk) {
    return Invalid("Columns of the partition key cannot be restricted by both a normal relation "
                   "and a token relation",
                   s.pos);
  }
  // Clustering: = / IN on a prefix, then at most one column with a range, is served per
  // partition; anything else filters. Without a partition key it always filters (a full scan).
  {
    bool after_gap = false;
    for (size_t i = 0; i < t.clustering_count; ++i) {
      const size_t col = t.partition_key_count + i;
      bool restricted = false, eq = false, range = false;
      for (const TypedRelation& r : *typed) {
        if (r.column != col) continue;
        restricted = true;
        (r.op == Relation::Op::kEq || r.op == Relation::Op::kIn ? eq : range) = true;
      }
      if (restricted && (after_gap || !key_mode || (eq && range))) needs_filtering = true;
      if (!restricted || range) after_gap = true;
    }
  }
  if (needs_filtering && !s.allow_filtering) return Invalid(kFilteringMessage, s.pos);

  bool reverse = false;
  if (!s.order_by.empty()) {
    if (!key_mode) {
      return Invalid("ORDER BY is only supported when the partition key is restricted by an EQ or "
                     "an IN.",
                     s.order_by[0].column.pos);
    }
    for (size_t i = 0; i < s.order_by.size(); ++i) {
      const Ordering& o = s.order_by[i];
      const size_t col = t.partition_key_count + i;
      const bool ok = i < t.clustering_count && o.column.name == t.columns[col].name;
      const bool flips = ok && o.descending != t.columns[col].descending;
      if (!ok || (i > 0 && flips != reverse)) {
        return Invalid("Order by currently only supports the ordering of columns following their "
                       "declared order in the PRIMARY KEY",
                       o.column.pos, o.column.name);
      }
      reverse = flips;
    }
  }
  uint64_t limit = std::numeric_limits<uint64_t>::max();
  if (s.limit) {
    auto v = Convert(*s.limit, Type::Scalar(Kind::kInt), binds, "[limit]");
    if (!v.ok()) return v.error();
    if (!v->has_value() || std::get<int64_t>((*v)->data) <= 0) {
      return Invalid("LIMIT must be strictly positive", s.limit->pos);
    }
    limit = static_cast<uint64_t>(std::get<int64_t>((*v)->data));
  }
  Cursor cursor;
  if (!options.paging_state.empty() && !DecodeCursor(options.paging_state, &cursor)) {
    return Invalid("Invalid value for the paging state");
  }
  const uint64_t page_size =
      aggregate || options.page_size == 0 ? std::numeric_limits<uint64_t>::max()
                                          : options.page_size;

  // --- walking the partitions ---
  ResultSet rs;
  for (const OutColumn& oc : out_columns) rs.columns.push_back(oc.spec);
  std::vector<OutRow> rows;
  uint64_t returned = cursor.returned;
  bool stop = false;
  std::optional<CqlError> failure;
  // Consumes one partition from row `skip` on; returns the row index at which the page filled
  // up (more rows remain), or nullopt if the partition was used up (or LIMIT reached: `stop`).
  auto consume = [&](const std::string& key, int64_t token, const std::vector<Sibling>& siblings,
                     uint64_t skip) -> std::optional<uint64_t> {
    std::vector<Value> pk;
    if (!DecodeStorageKey(t, key, &pk)) return std::nullopt;  // not a key of this table
    const int64_t now_s = NowS();
    auto versions = DecodeVersions(siblings, key, now_s);
    if (!versions.ok()) {
      failure = versions.error();
      stop = true;
      return std::nullopt;
    }
    const std::string display = DisplayKey(pk);
    if (versions->size() > 1) {
      if (t.conflict_mode == ConflictMode::kMerge) {
        Partition merged;
        for (const Partition& v : *versions) MergeInto(&merged, v);
        Compact(&merged, now_s);
        rs.notes.push_back(fmt::format("partition {}: merged {} siblings cell by cell", display,
                                       versions->size()));
        versions->assign(1, std::move(merged));
      } else if (t.conflict_mode == ConflictMode::kLww) {
        rs.notes.push_back(fmt::format("partition {}: {} siblings, kept the newest", display,
                                       versions->size()));
        Partition newest = std::move((*versions)[PickNewest(*versions)]);
        versions->assign(1, std::move(newest));
      } else {
        rs.warnings.push_back(fmt::format("partition {} has {} siblings", display,
                                          versions->size()));
      }
    }
    const uint32_t count = static_cast<uint32_t>(versions->size());
    std::vector<OutRow> found;
    for (uint32_t vi = 0; vi < count; ++vi) {
      const Partition& p = (*versions)[vi];
      auto take = [&](const std::string& row_key, const Row& row) {
        OutRow out;
        if (!ReadRow(t, pk, row_key, row, now_s, &out.row)) return;
        for (const TypedRelation& r : *typed) {
          if (!Satisfies(out.row.values[r.column], r)) return;
        }
        out.token = token;
        if (count > 1) {
          out.sibling = vi + 1;
          out.siblings = count;
        }
        found.push_back(std::move(out));
      };
      if (reverse) {
        for (auto it = p.rows.rbegin(); it != p.rows.rend(); ++it) take(it->first, it->second);
      } else {
        for (const auto& [row_key, row] : p.rows) take(row_key, row);
      }
    }
    if (s.distinct && !found.empty()) found.resize(1);
    for (uint64_t j = skip; j < found.size(); ++j) {
      if (returned >= limit) {
        stop = true;
        return std::nullopt;
      }
      if (rows.size() >= page_size) {
        stop = true;
        return j;
      }
      rows.push_back(std::move(found[j]));
      ++returned;
    }
    if (returned >= limit) stop = true;
    return std::nullopt;
  };

  if (key_mode) {
    std::vector<std::vector<Value>> pks;
    if (!Cartesian(pk_lists, kKeysPerStatementMax, &pks)) {
      return Invalid(fmt::format("IN restrictions select more than {} partitions",
                                 kKeysPerStatementMax),
                     s.pos);
    }
    std::vector<std::string> storage_keys;
    for (const auto& pk : pks) {
      std::string k = StorageKey(t, pk);
      if (std::find(storage_keys.begin(), storage_keys.end(), k) == storage_keys.end()) {
        storage_keys.push_back(std::move(k));
      }
    }
    uint64_t skip = cursor.skip_rows;
    for (size_t begin = cursor.partition_index; begin < storage_keys.size() && !stop;
         begin += kReadsInFlightMax) {
      // Up to kReadsInFlightMax partitions read at once.
      const size_t end = std::min(storage_keys.size(), begin + kReadsInFlightMax);
      std::vector<std::future<Expected<GetResult>>> reads;
      for (size_t i = begin; i < end; ++i) {
        reads.push_back(client_.GetAsync(storage_keys[i], ReadOpts(t.keyspace)));
      }
      std::vector<Expected<GetResult>> results;
      for (auto& f : reads) results.push_back(f.get());
      for (size_t i = begin; i < end && !stop; ++i) {
        auto& got = results[i - begin];
        if (!got.ok()) return FromClient(got.error(), false);
        if (got->trace) rs.traces.push_back(std::move(*got->trace));
        auto at = consume(storage_keys[i], Client::TokenOf(storage_keys[i]), got->siblings, skip);
        skip = 0;
        if (failure) return *failure;
        if (at) {
          Cursor next;
          next.partition_index = i;
          next.skip_rows = *at;
          next.returned = returned;
          rs.paging_state = EncodeCursor(next);
        }
      }
    }
  } else if (start_token < end_token) {
    ScanOptions o;
    o.keyspace = t.keyspace;
    o.start_token = start_token;
    o.end_token = end_token;
    o.key_prefix = TableKeyPrefix(t.name);
    o.limit = kScanPageKeys;
    o.consistency = consistency_;
    o.has_after = cursor.has_after;
    o.after_token = cursor.after_token;
    o.after_key = cursor.after_key;
    uint64_t skip = cursor.skip_rows;
    // The scan position just before the partition being consumed: where a next page resumes.
    bool prev_has = cursor.has_after;
    int64_t prev_token = cursor.after_token;
    std::string prev_key = cursor.after_key;
    for (uint64_t page = 0; page < kScanPagesMax && !stop; ++page) {
      auto got = client_.Scan(o);
      if (!got.ok()) return FromClient(got.error(), false);
      for (const ScanEntry& e : got->entries) {
        if (stop) break;
        auto at = consume(e.key, e.token, e.siblings, skip);
        skip = 0;
        if (failure) return *failure;
        if (at) {
          Cursor next;
          next.has_after = prev_has;
          next.after_token = prev_token;
          next.after_key = prev_key;
          next.skip_rows = *at;
          next.returned = returned;
          rs.paging_state = EncodeCursor(next);
          break;
        }
        prev_has = true;
        prev_token = e.token;
        prev_key = e.key;
      }
      if (!got->more || got->entries.empty()) break;
      o.has_after = true;
      o.after_token = got->entries.back().token;
      o.after_key = got->entries.back().key;
    }
  }

  // --- the result ---
  auto cell_of = [&](const OutColumn& oc, const OutRow& r) -> std::optional<Value> {
    switch (oc.kind) {
      case Selector::Kind::kColumn: return r.row.values[oc.column];
      case Selector::Kind::kTtl:
        if (!r.row.ttl_s[oc.column]) return std::nullopt;
        return Value::Int(*r.row.ttl_s[oc.column]);
      case Selector::Kind::kWritetime:
        if (!r.row.writetime_us[oc.column]) return std::nullopt;
        return Value::Bigint(*r.row.writetime_us[oc.column]);
      case Selector::Kind::kToken: return Value::Bigint(r.token);
      default: return std::nullopt;
    }
  };
  if (aggregate) {
    std::vector<std::optional<Value>> out;
    for (const OutColumn& oc : out_columns) {
      if (oc.kind == Selector::Kind::kCountStar) {
        out.push_back(Value::Bigint(static_cast<int64_t>(rows.size())));
      } else if (oc.kind == Selector::Kind::kCount) {
        out.push_back(Value::Bigint(std::count_if(rows.begin(), rows.end(), [&](const OutRow& r) {
          return r.row.values[oc.column].has_value();
        })));
      } else {
        out.push_back(rows.empty() ? std::nullopt : cell_of(oc, rows[0]));
      }
    }
    rs.rows.push_back(std::move(out));
    rs.paging_state.clear();
    return rs;
  }
  bool any_sibling = false;
  for (const OutRow& r : rows) {
    std::vector<std::optional<Value>> out;
    for (const OutColumn& oc : out_columns) out.push_back(cell_of(oc, r));
    rs.rows.push_back(std::move(out));
    rs.sibling_of_row.push_back(r.sibling);
    rs.siblings_of_row.push_back(r.siblings);
    any_sibling = any_sibling || r.siblings > 0;
  }
  if (!any_sibling) {
    rs.sibling_of_row.clear();
    rs.siblings_of_row.clear();
  }
  return rs;
}

}  // namespace ringkv::cql
