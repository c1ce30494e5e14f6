// How kvsh prints: result tables in cqlsh's layout, the expanded (vertical) layout, tracing
// blocks and errors with a caret under the offending token. Everything here works on text that
// is already rendered (a cell is its display string), so it is pure and testable without a
// cluster; shell.cc turns ResultSets into DisplayTables.
//
// Thread safety: pure functions.
#ifndef RINGKV_TOOLS_KVSH_FORMAT_H_
#define RINGKV_TOOLS_KVSH_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cql/session.h"
#include "ringkv/client.h"

namespace ringkv::kvsh {

// Rendered rows: cells are display strings ("null" for null), `right_align[i]` for numeric
// columns. Every row has headers.size() cells.
struct DisplayTable {
  std::vector<std::string> headers;
  std::vector<bool> right_align;
  std::vector<std::vector<std::string>> rows;
};

// Columns on a terminal: code points, East Asian wide and fullwidth characters counting 2,
// combining marks 0. Invalid UTF-8 bytes count 1 each.
size_t DisplayWidth(std::string_view utf8);

// The rows of `table` in cqlsh's layout, starting with a blank line:
//
//    k  | name
//   ----+------
//     1 | alice
//
// No "(N rows)" footer: with paging one result is printed in several pieces (RowCountLine).
std::string FormatTable(const DisplayTable& table);
// The rows in the vertical layout, numbered from `first_row` (1-based):
//
//   @ Row 1
//   ------+-------
//    k    | 1
//    name | alice
std::string FormatExpanded(const DisplayTable& table, size_t first_row = 1);
// "\n(3 rows)\n", as cqlsh prints it (always "rows").
std::string RowCountLine(size_t rows);

// True for types shown right-aligned (numbers).
bool IsNumeric(const cql::Type& type);
// A cell as the table shows it: ToDisplay, or "null".
std::string DisplayCell(const std::optional<cql::Value>& value);

// cqlsh-like "Tracing session:" block for the traces of one statement, with the Session's notes.
// `start_ms` is the wall clock when the statement was sent: events carry only elapsed times.
std::string FormatTraces(const std::vector<TraceInfo>& traces,
                         const std::vector<std::string>& notes, int64_t start_ms);
// "2026-11-24 10:00:00.123000+0000"
std::string FormatTimestampUs(int64_t us);

// The error as cqlsh names it, e.g. "SyntaxException: line 1:9 ..." or
// "InvalidRequest: Error from server: code=2200 [Invalid query] message=\"...\"".
std::string ErrorLine(const cql::CqlError& error);
// When the error points at a token (line > 0): that line of `statement` and a caret under the
// column, each line ending in '\n'. Empty otherwise.
std::string Caret(std::string_view statement, const cql::CqlError& error);

// "ONE", "QUORUM", ...; kDefault is shown as the node's default, "QUORUM".
std::string ConsistencyName(Consistency c);

}  // namespace ringkv::kvsh

#endif  // RINGKV_TOOLS_KVSH_FORMAT_H_
