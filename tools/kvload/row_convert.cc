#include "tools/kvload/row_convert.h"

#include <algorithm>
#include <cctype>
#include <variant>

#include <fmt/format.h>

#include "cql/parser.h"

namespace ringkv::kvload {

using cql::Kind;
using cql::Term;
using cql::Type;

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IsInteger(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Types and converts one term for `column`.
bool Convert(const Term& term, const TableColumn& column, std::optional<cql::Value>* out,
             std::string* reason) {
  static const std::vector<cql::Value> kNoBinds;
  auto converted = cql::ConvertTerm(term, column.type, kNoBinds, column.name);
  if (!converted.ok()) {
    *reason = converted.error().message;
    return false;
  }
  *out = std::move(converted.value());
  return true;
}

}  // namespace

bool ParseLiteral(std::string_view text, Term* term, std::string* reason) {
  // The parser reads statements, not terms: a one-column INSERT holds exactly one term, and a
  // field that closes the parenthesis early to smuggle in more is caught by the checks below.
  std::string statement = fmt::format("INSERT INTO t (c) VALUES ({})", text);
  auto parsed = cql::ParseStatement(statement);
  auto* insert = parsed.ok() ? std::get_if<cql::InsertStmt>(&parsed->statement) : nullptr;
  if (insert == nullptr || insert->values.size() != 1 || parsed->bind_count != 0 ||
      insert->using_clause.ttl || insert->using_clause.timestamp) {
    *reason = fmt::format("'{}' is not a CQL literal", text);
    return false;
  }
  *term = std::move(insert->values[0]);
  return true;
}

bool TermFromJson(const nlohmann::json& j, const Type& type, Term* term, std::string* reason) {
  term->elements.clear();
  term->values.clear();
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      term->kind = Term::Kind::kNull;
      return true;
    case nlohmann::json::value_t::boolean:
      term->kind = Term::Kind::kBoolean;
      term->boolean = j.get<bool>();
      return true;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      term->kind = Term::Kind::kInteger;
      term->text = j.dump();
      return true;
    case nlohmann::json::value_t::number_float:
      term->kind = Term::Kind::kFloat;
      term->text = j.dump();
      return true;
    case nlohmann::json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      if (type.kind == Kind::kBlob) return ParseLiteral(s, term, reason);
      term->kind = Term::Kind::kString;
      term->text = s;
      return true;
    }
    case nlohmann::json::value_t::array: {
      term->kind = type.kind == Kind::kSet ? Term::Kind::kSet : Term::Kind::kList;
      Type element = type.params.empty() ? Type{} : type.params[0];
      for (const auto& e : j) {
        Term t;
        if (!TermFromJson(e, element, &t, reason)) return false;
        term->elements.push_back(std::move(t));
      }
      return true;
    }
    case nlohmann::json::value_t::object: {
      term->kind = Term::Kind::kMap;
      Type key = type.params.size() == 2 ? type.params[0] : Type{};
      Type value = type.params.size() == 2 ? type.params[1] : Type{};
      for (const auto& [k, v] : j.items()) {
        Term kt, vt;
        if (key.kind == Kind::kText) {
          kt.kind = Term::Kind::kString;
          kt.text = k;
        } else if (!ParseLiteral(k, &kt, reason)) {
          return false;
        }
        if (!TermFromJson(v, value, &vt, reason)) return false;
        term->elements.push_back(std::move(kt));
        term->values.push_back(std::move(vt));
      }
      return true;
    }
    default:
      *reason = fmt::format("unsupported JSON value {}", j.dump());
      return false;
  }
}

bool TermFromCsvField(const std::string& field, bool quoted, const Type& type, Term* term,
                      std::string* reason) {
  if (field.empty() && !quoted) {
    term->kind = Term::Kind::kNull;
    return true;
  }
  if (type.kind == Kind::kText) {
    term->kind = Term::Kind::kString;
    term->text = field;
    return true;
  }
  if (type.kind == Kind::kTimestamp && !IsInteger(field)) {
    term->kind = Term::Kind::kString;  // a date, bare or quoted
    term->text = field.size() >= 2 && field.front() == '\'' && field.back() == '\''
                     ? field.substr(1, field.size() - 2)
                     : field;
    return true;
  }
  if (type.kind == Kind::kUuid && field.find('\'') == std::string::npos) {
    term->kind = Term::Kind::kString;
    term->text = field;
    return true;
  }
  return ParseLiteral(field, term, reason);
}

RowConverter::RowConverter(std::vector<TableColumn> columns, bool ignore_unknown)
    : columns_(std::move(columns)), ignore_unknown_(ignore_unknown) {}

std::optional<size_t> RowConverter::Find(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return i;
  }
  std::optional<size_t> found;
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (EqualsIgnoreCase(columns_[i].name, name)) {
      if (found) return std::nullopt;  // ambiguous: "Lang" and "LANG" both exist
      found = i;
    }
  }
  return found;
}

bool RowConverter::CheckKeys(const Row& row, std::string* reason) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (!columns_[i].is_key) continue;
    auto cell = std::find_if(row.cells.begin(), row.cells.end(),
                             [i](const auto& c) { return c.first == i; });
    if (cell == row.cells.end()) {
      *reason = fmt::format("missing key column '{}'", columns_[i].name);
      return false;
    }
    if (!cell->second) {
      *reason = fmt::format("key column '{}' is null", columns_[i].name);
      return false;
    }
  }
  return true;
}

bool RowConverter::FromJsonLine(std::string_view line, Row* row, std::string* reason,
                                nlohmann::json* parsed) const {
  *parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (parsed->is_discarded()) {
    *parsed = nullptr;
    *reason = "malformed JSON";
    return false;
  }
  return FromJson(*parsed, row, reason);
}

bool RowConverter::FromJson(const nlohmann::json& object, Row* row, std::string* reason) const {
  row->cells.clear();
  if (!object.is_object()) {
    *reason = "not a JSON object";
    return false;
  }
  for (const auto& [name, value] : object.items()) {
    auto index = Find(name);
    if (!index) {
      if (ignore_unknown_) continue;
      *reason = fmt::format("unknown column '{}'", name);
      return false;
    }
    const TableColumn& column = columns_[*index];
    Term term;
    std::optional<cql::Value> cell;
    if (!TermFromJson(value, column.type, &term, reason)) {
      *reason = fmt::format("column '{}': {}", column.name, *reason);
      return false;
    }
    if (!Convert(term, column, &cell, reason)) return false;
    row->cells.emplace_back(*index, std::move(cell));
  }
  return CheckKeys(*row, reason);
}

bool RowConverter::BindCsvHeader(const std::vector<std::string>& header,
                                 std::vector<std::optional<size_t>>* mapping,
                                 std::string* reason) const {
  mapping->clear();
  std::vector<bool> seen(columns_.size(), false);
  for (const std::string& name : header) {
    auto index = Find(name);
    if (!index) {
      if (!ignore_unknown_) {
        *reason = fmt::format("unknown column '{}' in the CSV header", name);
        return false;
      }
    } else if (seen[*index]) {
      *reason = fmt::format("column '{}' appears twice in the CSV header", columns_[*index].name);
      return false;
    } else {
      seen[*index] = true;
    }
    mapping->push_back(index);
  }
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].is_key && !seen[i]) {
      *reason = fmt::format("the CSV header lacks key column '{}'", columns_[i].name);
      return false;
    }
  }
  return true;
}

bool RowConverter::FromCsv(const std::vector<std::optional<size_t>>& mapping,
                           const std::vector<std::string>& fields, const std::vector<bool>& quoted,
                           Row* row, std::string* reason) const {
  row->cells.clear();
  if (fields.size() != mapping.size()) {
    *reason = fmt::format("{} fields where the header has {}", fields.size(), mapping.size());
    return false;
  }
  for (size_t f = 0; f < fields.size(); ++f) {
    if (!mapping[f]) continue;
    const TableColumn& column = columns_[*mapping[f]];
    Term term;
    std::optional<cql::Value> cell;
    if (!TermFromCsvField(fields[f], f < quoted.size() && quoted[f], column.type, &term, reason)) {
      *reason = fmt::format("column '{}': {}", column.name, *reason);
      return false;
    }
    if (!Convert(term, column, &cell, reason)) return false;
    row->cells.emplace_back(*mapping[f], std::move(cell));
  }
  return CheckKeys(*row, reason);
}

std::vector<TableColumn> ColumnsWithKeys(const std::vector<std::pair<std::string, Type>>& cols,
                                         std::string_view create_table_cql) {
  std::vector<TableColumn> out;
  for (const auto& [name, type] : cols) out.push_back(TableColumn{name, type, false});
  auto parsed = cql::ParseStatement(create_table_cql);
  auto* create = parsed.ok() ? std::get_if<cql::CreateTableStmt>(&parsed->statement) : nullptr;
  bool any = false;
  if (create != nullptr) {
    auto mark = [&](const std::vector<cql::Ident>& keys) {
      for (const auto& key : keys) {
        for (auto& c : out) {
          if (c.name == key.name) c.is_key = any = true;
        }
      }
    };
    mark(create->partition_key);
    mark(create->clustering_key);
  }
  if (!any && !out.empty()) out[0].is_key = true;
  return out;
}

}  // namespace ringkv::kvload
