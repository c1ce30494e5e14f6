// RowConverter: one input record (a JSONL line, or a CSV record under its header) -> the column
// values of one row of the target table, or the reason the row is bad.
//
// Field names map to the table's columns by exact name, else by a case-insensitive match that is
// unique. Values become CQL-lite terms and are typed by ConvertTerm (cql/parser.h), so a wrong
// type is reported as the shell would report it ("Invalid STRING constant (x) for "shard" of type
// int"):
//   JSON:  numbers -> int/bigint/float/double/timestamp (ms); strings -> text, timestamp
//          ('2026-11-24 10:00'), uuid, blob ("0x..."); true/false -> boolean; arrays -> list/set;
//          objects -> map (keys are strings in JSON: for a map with non-text keys each key is read
//          as a CQL literal); null -> null.
//   CSV:   text columns take the field as it stands; other columns read it as a CQL literal of the
//          column's type (42, 1.5, true, 0xCAFE, ['a', 'b'], {'k': 1.0}); timestamps and uuids
//          may also be written bare (2026-11-24 10:00:00, 01234567-...). An empty unquoted field
//          is null.
// A field naming no column is an error for the row (or skipped with ignore_unknown); every key
// column must be present and not null.
//
// Thread safety: const methods may be called concurrently.
#ifndef RINGKV_TOOLS_KVLOAD_ROW_CONVERT_H_
#define RINGKV_TOOLS_KVLOAD_ROW_CONVERT_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cql/ast.h"
#include "cql/value.h"

namespace ringkv::kvload {

struct TableColumn {
  std::string name;
  cql::Type type;
  bool is_key = false;  // partition or clustering key
};

// One converted row: (index into the table's columns, value or null), in field order.
struct Row {
  std::vector<std::pair<size_t, std::optional<cql::Value>>> cells;
};

class RowConverter {
 public:
  RowConverter(std::vector<TableColumn> columns, bool ignore_unknown);

  const std::vector<TableColumn>& columns() const { return columns_; }

  // A JSONL line. On failure returns false with *reason set; *parsed holds the parsed JSON when the
  // line was valid JSON (for the error file), else null.
  bool FromJsonLine(std::string_view line, Row* row, std::string* reason,
                    nlohmann::json* parsed) const;
  // A JSON object already parsed.
  bool FromJson(const nlohmann::json& object, Row* row, std::string* reason) const;

  // Resolves a CSV header to column indexes (nullopt: unknown, skipped with ignore_unknown).
  // False, with *reason, on an unknown name without ignore_unknown, a duplicate, or a missing key.
  bool BindCsvHeader(const std::vector<std::string>& header,
                     std::vector<std::optional<size_t>>* mapping, std::string* reason) const;
  bool FromCsv(const std::vector<std::optional<size_t>>& mapping,
               const std::vector<std::string>& fields, const std::vector<bool>& quoted, Row* row,
               std::string* reason) const;

 private:
  // Index of the column a field name denotes, or nullopt.
  std::optional<size_t> Find(std::string_view name) const;
  bool CheckKeys(const Row& row, std::string* reason) const;

  std::vector<TableColumn> columns_;
  bool ignore_unknown_;
};

// The term a JSON value denotes for a column of `type`; false with *reason if it cannot be one.
bool TermFromJson(const nlohmann::json& j, const cql::Type& type, cql::Term* term,
                  std::string* reason);
// The term a CSV field denotes for a column of `type`.
bool TermFromCsvField(const std::string& field, bool quoted, const cql::Type& type,
                      cql::Term* term, std::string* reason);
// A CQL literal on its own ("42", "['a', 'b']", "{'k': 1.5}") -> its term.
bool ParseLiteral(std::string_view text, cql::Term* term, std::string* reason);

// The table's columns with their key flags, from Session::Columns and the table's CREATE TABLE
// statement (Session::DescribeTable). Without a parsable statement, the first column is taken
// as the key (Columns lists the partition key first).
std::vector<TableColumn> ColumnsWithKeys(const std::vector<std::pair<std::string, cql::Type>>& cols,
                                         std::string_view create_table_cql);

}  // namespace ringkv::kvload

#endif  // RINGKV_TOOLS_KVLOAD_ROW_CONVERT_H_
