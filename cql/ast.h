// The CQL-lite syntax tree: what the parser (cql/parser.h) produces and the Session executes.
//
// Plain structs, one per statement kind, gathered in the `Statement` variant. Every node that an
// executor may want to complain about carries the SourcePos of its first token, so that errors
// such as "unknown column 'lnag'" can point at the name as written.
//
// Names: unquoted identifiers are folded to lower case by the parser; "double quoted" ones are kept
// as written (with "" unescaped). Keywords never appear in the tree.
//
// Literals are kept as Terms, untyped: the parser does not know a column's type. ConvertTerm
// (cql/parser.h) turns a Term into a Value for a given Type and reports type errors at the Term.
//
// Thread safety: plain data; copies are independent.
#ifndef RINGKV_CQL_AST_H_
#define RINGKV_CQL_AST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "cql/value.h"

namespace ringkv::cql {

// 1-based line and column (in bytes) of a token in the statement text. 0/0: no position.
struct SourcePos {
  int line = 0;
  int column = 0;
  friend bool operator==(const SourcePos&, const SourcePos&) = default;
};

// A name as written: a column, keyspace, table or property.
struct Ident {
  std::string name;  // folded to lower case unless it was "double quoted"
  SourcePos pos;
};

// `ks.table` or `table` (keyspace empty: the session's keyspace).
struct TableName {
  std::string keyspace;
  std::string name;
  SourcePos pos;  // of the first token (the keyspace if qualified)
};

// A literal, bind marker, collection or function call whose type is not known yet.
struct Term {
  enum class Kind : uint8_t {
    kString,    // 'it''s' or $$it's$$: `text` holds the unescaped contents
    kInteger,   // 42, -7: `text` holds the digits as written, with a leading '-' if negative.
                //   Not range-checked: ConvertTerm checks against the target type.
    kFloat,     // 1.5, -2e3, NaN, Infinity, -Infinity: `text` as written (with the sign)
    kBoolean,   // true / false: `boolean`
    kNull,      // null
    kBlob,      // 0xCAFE: `text` holds the decoded bytes
    kUuid,      // 01234567-89ab-cdef-0123-456789abcdef unquoted: `text` holds it as written
    kList,      // [a, b]: `elements`
    kSet,       // {a, b}: `elements`. `{}` is an empty kSet; ConvertTerm also accepts it for maps.
    kMap,       // {k: v, ...}: `elements` are the keys, `values` the values, same length
    kBind,      // ?: `bind_index` (0-based, in order of appearance in the statement)
    kFunction,  // name(args): `text` the lower-cased name (now, uuid, totimestamp, ...),
                //   `elements` the arguments
  };
  Kind kind = Kind::kNull;
  SourcePos pos;
  std::string text;
  bool boolean = false;
  int bind_index = -1;
  std::vector<Term> elements;
  std::vector<Term> values;
};

// `name = value` inside WITH ... AND ...: replication = {...}, default_time_to_live = 3600, ...
struct Property {
  Ident name;  // lower-cased
  Term value;
};

// USING TTL n AND TIMESTAMP t (either, both, or neither).
struct UsingClause {
  std::optional<Term> ttl;        // seconds; 0 means no expiry
  std::optional<Term> timestamp;  // microseconds since the epoch
};

// One restriction of a WHERE clause (the clauses are joined by AND).
struct Relation {
  enum class Op : uint8_t { kEq, kLt, kLe, kGt, kGe, kIn, kNe };
  SourcePos pos;               // of the column name, or of `token`
  bool is_token = false;       // token(a, b) > 42: `columns` = {a, b}
  std::vector<Ident> columns;  // exactly one unless is_token
  Op op = Op::kEq;
  std::vector<Term> terms;  // one, or the IN list (possibly empty)
};

// One item of SELECT's column list.
struct Selector {
  enum class Kind : uint8_t {
    kColumn,     // col
    kTtl,        // ttl(col)
    kWritetime,  // writetime(col)
    kCountStar,  // count(*) or count(1); `column` empty
    kCount,      // count(col)
    kToken,      // token(a, b): `token_columns`
  };
  Kind kind = Kind::kColumn;
  SourcePos pos;
  Ident column;                      // kColumn, kTtl, kWritetime, kCount
  std::vector<Ident> token_columns;  // kToken
  std::optional<Ident> alias;        // AS name
};

struct Ordering {
  Ident column;
  bool descending = false;
};

// SELECT [DISTINCT] (* | selectors) FROM t [WHERE ...] [ORDER BY ...] [LIMIT n] [ALLOW FILTERING]
struct SelectStmt {
  SourcePos pos;
  TableName table;
  bool distinct = false;
  bool star = false;  // SELECT *: `selectors` empty
  std::vector<Selector> selectors;
  std::vector<Relation> where;
  std::vector<Ordering> order_by;
  std::optional<Term> limit;  // an integer literal or a bind marker
  bool allow_filtering = false;
};

// INSERT INTO t (cols) VALUES (terms) [USING ...]. Columns and values have the same length
// (the parser checks).
struct InsertStmt {
  SourcePos pos;
  TableName table;
  std::vector<Ident> columns;
  std::vector<Term> values;
  UsingClause using_clause;
};

// One assignment of UPDATE ... SET.
struct Assignment {
  enum class Op : uint8_t {
    kSet,         // col = value
    kAppend,      // col = col + value    (list append, set add, map put)
    kPrepend,     // col = value + col    (list prepend)
    kRemove,      // col = col - value    (list: remove these values; set: elements; map: keys)
    kSetElement,  // col[key] = value     (map put; list: replace at index `key`)
  };
  Op op = Op::kSet;
  SourcePos pos;  // of the column name
  Ident column;
  std::optional<Term> key;  // kSetElement only
  Term value;
};

// UPDATE t [USING ...] SET a = ..., b = ... WHERE ...
struct UpdateStmt {
  SourcePos pos;
  TableName table;
  UsingClause using_clause;
  std::vector<Assignment> assignments;
  std::vector<Relation> where;
};

// One column named by DELETE: `col` or `col[key]` (map key, or list index).
struct DeleteTarget {
  Ident column;
  std::optional<Term> key;
};

// DELETE [targets] FROM t [USING TIMESTAMP t] WHERE ...; no targets: the row(s) or partition.
struct DeleteStmt {
  SourcePos pos;
  std::vector<DeleteTarget> targets;
  TableName table;
  UsingClause using_clause;  // the parser rejects TTL here
  std::vector<Relation> where;
};

using BatchEntry = std::variant<InsertStmt, UpdateStmt, DeleteStmt>;

// BEGIN [UNLOGGED | LOGGED] BATCH [USING TIMESTAMP t] stmt; ... APPLY BATCH
struct BatchStmt {
  SourcePos pos;
  bool unlogged = false;
  UsingClause using_clause;  // TIMESTAMP only; applies to entries without their own
  std::vector<BatchEntry> entries;
};

// CREATE KEYSPACE [IF NOT EXISTS] ks WITH replication = {...} [AND durable_writes = b]
//   [AND sloppy_quorum = b]   (ringkv's own: the keyspace's writes use sloppy quorum by default)
struct CreateKeyspaceStmt {
  SourcePos pos;
  Ident keyspace;
  bool if_not_exists = false;
  std::string replication_class;  // as written, e.g. "SimpleStrategy"
  // SimpleStrategy: 'replication_factor'. NetworkTopologyStrategy: the sum of the per data centre
  // factors (the parser checks each is a positive integer).
  int replication_factor = 0;
  // The replication map's other entries as written, e.g. {"dc1", "3"} for NTS.
  std::vector<std::pair<std::string, std::string>> replication_options;
  std::vector<Property> properties;  // every WITH property, replication included
};

struct DropKeyspaceStmt {
  SourcePos pos;
  Ident keyspace;
  bool if_exists = false;
};

struct UseStmt {
  SourcePos pos;
  Ident keyspace;
};

struct ColumnDef {
  Ident name;
  Type type;
  SourcePos type_pos;
  bool is_static = false;  // `STATIC`: accepted and recorded; the executor may reject it
};

enum class ConflictMode : uint8_t { kMerge, kLww, kSiblings };
// "merge", "lww", "siblings".
const char* ConflictModeName(ConflictMode mode);

// CREATE TABLE [IF NOT EXISTS] t (col type [PRIMARY KEY], ..., [PRIMARY KEY (...)])
//   [WITH conflict_mode = '...' AND default_time_to_live = n AND CLUSTERING ORDER BY (c DESC)]
// The parser checks: exactly one primary key declaration, key columns declared, no duplicate
// columns, no collection in the primary key, clustering order names clustering columns in order.
struct CreateTableStmt {
  SourcePos pos;
  TableName table;
  bool if_not_exists = false;
  std::vector<ColumnDef> columns;     // in declaration order
  std::vector<Ident> partition_key;   // at least one
  std::vector<Ident> clustering_key;  // possibly none
  // One entry per clustering column, in clustering order (ASC unless CLUSTERING ORDER BY says).
  std::vector<Ordering> clustering_order;
  ConflictMode conflict_mode = ConflictMode::kMerge;
  int64_t default_time_to_live_s = 0;
  // Every WITH property as written (conflict_mode and default_time_to_live included; CLUSTERING
  // ORDER BY is not a Property). Others (comment, compaction, ...) are accepted and ignored.
  std::vector<Property> properties;
};

struct DropTableStmt {
  SourcePos pos;
  TableName table;
  bool if_exists = false;
};

struct TruncateStmt {
  SourcePos pos;
  TableName table;
};

using Statement =
    std::variant<SelectStmt, InsertStmt, UpdateStmt, DeleteStmt, BatchStmt, CreateKeyspaceStmt,
                 DropKeyspaceStmt, UseStmt, CreateTableStmt, DropTableStmt, TruncateStmt>;

}  // namespace ringkv::cql

#endif  // RINGKV_CQL_AST_H_
