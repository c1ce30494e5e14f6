// Parser rules (cql/parser_internal.h): CREATE / DROP KEYSPACE and TABLE, column types, and the
// checks that need a whole table definition (primary key, clustering order, conflict_mode,
// default_time_to_live).
#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "cql/parser_internal.h"

namespace ringkv::cql::parser_internal {

bool Parser::ParseDrop(Statement* out) {
  Token drop = Take();
  if (AcceptKeyword("keyspace") || AcceptKeyword("schema")) {
    DropKeyspaceStmt s;
    s.pos = drop.pos;
    if (!ParseIfExists(false, &s.if_exists)) return false;
    if (!ParseIdent(&s.keyspace, "a keyspace name")) return false;
    *out = std::move(s);
    return true;
  }
  if (AcceptKeyword("table") || AcceptKeyword("columnfamily")) {
    DropTableStmt s;
    s.pos = drop.pos;
    if (!ParseIfExists(false, &s.if_exists)) return false;
    if (!ParseTableName(&s.table)) return false;
    *out = std::move(s);
    return true;
  }
  return Fail(Peek(), "expecting KEYSPACE or TABLE after DROP");
}

bool Parser::ParseCreate(Statement* out) {
  Token create = Take();
  if (AcceptKeyword("keyspace") || AcceptKeyword("schema")) {
    CreateKeyspaceStmt s;
    s.pos = create.pos;
    if (!ParseCreateKeyspace(&s)) return false;
    *out = std::move(s);
    return true;
  }
  if (AcceptKeyword("table") || AcceptKeyword("columnfamily")) {
    CreateTableStmt s;
    s.pos = create.pos;
    if (!ParseCreateTable(&s)) return false;
    *out = std::move(s);
    return true;
  }
  if (Peek().IsKeyword("index") || Peek().IsKeyword("type") || Peek().IsKeyword("materialized")) {
    return Fail(Peek(), "CREATE " + Peek().text + " is not supported", ErrorKind::kInvalid);
  }
  return Fail(Peek(), "expecting KEYSPACE or TABLE after CREATE");
}

bool Parser::ParseProperty(Property* p) {
  if (!ParseIdent(&p->name, "a property name")) return false;
  if (!ExpectSymbol("=")) return false;
  return ParseTerm(&p->value);
}

// A string or integer term as text (replication factors are written either way).
std::optional<std::string> Parser::ScalarText(const Term& t) {
  if (t.kind == Term::Kind::kString || t.kind == Term::Kind::kInteger) return t.text;
  return std::nullopt;
}

bool Parser::ParsePositiveFactor(const Term& t, int* out) {
  auto text = ScalarText(t);
  int64_t v = 0;
  bool ok = text && !text->empty() && text->size() <= 9 &&
            std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '9'; });
  if (ok) v = std::stoll(*text);
  if (!ok || v < 1 || v > kReplicationFactorMax) {
    return FailAt(
        t.pos, text.value_or(""),
        "replication factor must be an integer from 1 to " + std::to_string(kReplicationFactorMax));
  }
  *out = static_cast<int>(v);
  return true;
}

bool Parser::ParseCreateKeyspace(CreateKeyspaceStmt* s) {
  if (!ParseIfExists(true, &s->if_not_exists)) return false;
  if (!ParseIdent(&s->keyspace, "a keyspace name")) return false;
  if (!ExpectKeyword("with", "WITH replication = {...}")) return false;
  do {
    Property p;
    if (!ParseProperty(&p)) return false;
    s->properties.push_back(std::move(p));
  } while (AcceptKeyword("and"));
  // Also accepted after the options, as the issue writes it.
  if (!s->if_not_exists && !ParseIfExists(true, &s->if_not_exists)) return false;

  const Property* replication = nullptr;
  for (const Property& p : s->properties) {
    if (p.name.name == "replication") {
      replication = &p;
    } else if (p.name.name == "sloppy_quorum") {
      if (p.value.kind != Term::Kind::kBoolean) {
        return FailAt(p.value.pos, "", "sloppy_quorum must be true or false");
      }
    } else if (p.name.name != "durable_writes") {
      return FailAt(p.name.pos, p.name.name, "Unknown property '" + p.name.name + "'");
    }
  }
  if (replication == nullptr) {
    return FailAt(s->keyspace.pos, s->keyspace.name,
                  "Missing mandatory option 'replication' (WITH replication = {'class': "
                  "'SimpleStrategy', 'replication_factor': N})");
  }
  const Term& map = replication->value;
  if (map.kind != Term::Kind::kMap) {
    return FailAt(map.pos, "",
                  "replication must be a map, e.g. {'class': 'SimpleStrategy', "
                  "'replication_factor': 3}");
  }
  const Term* rf = nullptr;
  std::vector<const Term*> dc_factors;
  for (size_t i = 0; i < map.elements.size(); ++i) {
    const Term& k = map.elements[i];
    const Term& v = map.values[i];
    if (k.kind != Term::Kind::kString)
      return FailAt(k.pos, "", "replication option names are strings");
    if (k.text == "class") {
      if (v.kind != Term::Kind::kString)
        return FailAt(v.pos, "", "the replication class is a string");
      s->replication_class = v.text;
    } else if (k.text == "replication_factor") {
      rf = &v;
    } else {
      auto text = ScalarText(v);
      if (!text) return FailAt(v.pos, "", "replication option '" + k.text + "' must be a number");
      s->replication_options.emplace_back(k.text, *text);
      dc_factors.push_back(&v);
    }
  }
  std::string cls = s->replication_class;
  if (auto dot = cls.rfind('.'); dot != std::string::npos) cls = cls.substr(dot + 1);
  if (cls == "SimpleStrategy") {
    if (rf == nullptr) {
      return FailAt(map.pos, "", "SimpleStrategy requires a 'replication_factor' option");
    }
    if (!dc_factors.empty()) {
      return FailAt(dc_factors[0]->pos, "", "Unrecognized strategy option for SimpleStrategy");
    }
    return ParsePositiveFactor(*rf, &s->replication_factor);
  }
  if (cls == "NetworkTopologyStrategy") {
    if (rf != nullptr) return ParsePositiveFactor(*rf, &s->replication_factor);
    if (dc_factors.empty()) {
      return FailAt(map.pos, "",
                    "NetworkTopologyStrategy needs a replication factor per data centre");
    }
    int sum = 0;
    for (const Term* f : dc_factors) {
      int n = 0;
      if (!ParsePositiveFactor(*f, &n)) return false;
      sum += n;
    }
    if (sum > kReplicationFactorMax) {
      return FailAt(map.pos, "", "replication factor is too large");
    }
    s->replication_factor = sum;
    return true;
  }
  if (s->replication_class.empty()) {
    return FailAt(map.pos, "", "Missing replication strategy class");
  }
  return FailAt(map.pos, "",
                "Unable to find replication strategy class '" + s->replication_class +
                    "' (SimpleStrategy or NetworkTopologyStrategy)");
}

bool Parser::ParseType(Type* out, bool inner) {
  const Token& t = Peek();
  if (t.kind != TokenKind::kIdent) return Fail(t, "expecting a type name");
  static constexpr std::pair<std::string_view, Kind> kScalars[] = {
      {"text", Kind::kText},           {"varchar", Kind::kText},  {"ascii", Kind::kText},
      {"blob", Kind::kBlob},           {"int", Kind::kInt},       {"bigint", Kind::kBigint},
      {"float", Kind::kFloat},         {"double", Kind::kDouble}, {"boolean", Kind::kBoolean},
      {"timestamp", Kind::kTimestamp}, {"uuid", Kind::kUuid}};
  for (const auto& [name, kind] : kScalars) {
    if (t.text == name) {
      Take();
      *out = Type::Scalar(kind);
      return true;
    }
  }
  Kind kind;
  if (t.text == "list") {
    kind = Kind::kList;
  } else if (t.text == "set") {
    kind = Kind::kSet;
  } else if (t.text == "map") {
    kind = Kind::kMap;
  } else if (t.text == "counter") {
    return Fail(t, "counters are not supported", ErrorKind::kInvalid);
  } else if (t.text == "frozen" || t.text == "tuple") {
    return Fail(t, "type '" + t.text + "' is not supported (collections do not nest)",
                ErrorKind::kInvalid);
  } else {
    return Fail(t,
                "type '" + t.text +
                    "' is not supported (text, varchar, blob, int, bigint, float, "
                    "double, boolean, timestamp, uuid, list<T>, set<T>, map<K, V>)",
                ErrorKind::kInvalid);
  }
  if (inner) return Fail(t, "collections do not nest", ErrorKind::kInvalid);
  Take();
  out->kind = kind;
  out->params.clear();
  if (!ExpectSymbol("<")) return false;
  Type p;
  if (!ParseType(&p, true)) return false;
  out->params.push_back(std::move(p));
  if (kind == Kind::kMap) {
    if (!ExpectSymbol(",")) return false;
    Type v;
    if (!ParseType(&v, true)) return false;
    out->params.push_back(std::move(v));
  }
  return ExpectSymbol(">");
}

bool Parser::ParseCreateTable(CreateTableStmt* s) {
  if (!ParseIfExists(true, &s->if_not_exists)) return false;
  if (!ParseTableName(&s->table)) return false;
  if (!ExpectSymbol("(")) return false;
  int key_declarations = 0;
  SourcePos second_key;
  do {
    if (Peek().IsSymbol(")")) break;  // a trailing comma
    const Token& t = Peek();
    if (t.IsKeyword("primary")) {
      if (++key_declarations == 2) second_key = t.pos;
      Take();
      if (!ExpectKeyword("key", "KEY after PRIMARY")) return false;
      if (!ParsePrimaryKey(s)) return false;
      continue;
    }
    ColumnDef c;
    if (!ParseIdent(&c.name, "a column name or PRIMARY KEY")) return false;
    c.type_pos = Peek().pos;
    if (!ParseType(&c.type, false)) return false;
    if (AcceptKeyword("static")) c.is_static = true;
    if (Peek().IsKeyword("primary")) {
      if (++key_declarations == 2) second_key = Peek().pos;
      Take();
      if (!ExpectKeyword("key", "KEY after PRIMARY")) return false;
      s->partition_key.clear();
      s->partition_key.push_back(c.name);
    }
    s->columns.push_back(std::move(c));
  } while (AcceptSymbol(","));
  if (!ExpectSymbol(")")) return false;
  if (key_declarations == 0) {
    return FailAt(s->table.pos, s->table.name, "No PRIMARY KEY specified (exactly one required)");
  }
  if (key_declarations > 1) {
    return FailAt(second_key, "PRIMARY", "Multiple PRIMARY KEYs specified (exactly one required)");
  }
  if (AcceptKeyword("with")) {
    do {
      if (AcceptKeyword("clustering")) {
        if (!ExpectKeyword("order", "ORDER after CLUSTERING") || !ExpectKeyword("by", "BY") ||
            !ExpectSymbol("(")) {
          return false;
        }
        do {
          Ordering o;
          if (!ParseIdent(&o.column, "a clustering column")) return false;
          if (AcceptKeyword("desc")) {
            o.descending = true;
          } else if (!AcceptKeyword("asc")) {
            return Fail(Peek(), "expecting ASC or DESC");
          }
          s->clustering_order.push_back(std::move(o));
        } while (AcceptSymbol(","));
        if (!ExpectSymbol(")")) return false;
        continue;
      }
      if (Peek().IsKeyword("compact")) {
        return Fail(Peek(), "COMPACT STORAGE is not supported", ErrorKind::kInvalid);
      }
      Property p;
      if (!ParseProperty(&p)) return false;
      s->properties.push_back(std::move(p));
    } while (AcceptKeyword("and"));
  }
  return CheckTable(s);
}

bool Parser::ParsePrimaryKey(CreateTableStmt* s) {
  if (!ExpectSymbol("(")) return false;
  s->partition_key.clear();
  s->clustering_key.clear();
  if (AcceptSymbol("(")) {
    do {
      Ident c;
      if (!ParseIdent(&c, "a partition key column")) return false;
      s->partition_key.push_back(std::move(c));
    } while (AcceptSymbol(","));
    if (!ExpectSymbol(")")) return false;
  } else {
    Ident c;
    if (!ParseIdent(&c, "a partition key column")) return false;
    s->partition_key.push_back(std::move(c));
  }
  while (AcceptSymbol(",")) {
    Ident c;
    if (!ParseIdent(&c, "a clustering column")) return false;
    s->clustering_key.push_back(std::move(c));
  }
  return ExpectSymbol(")");
}

// Checks that need the whole definition; errors point at the offending name.
bool Parser::CheckTable(CreateTableStmt* s) {
  std::set<std::string> seen;
  for (const ColumnDef& c : s->columns) {
    if (!seen.insert(c.name.name).second) {
      return FailAt(c.name.pos, c.name.name, "Multiple definition of identifier " + c.name.name);
    }
  }
  auto find = [&](const std::string& name) -> const ColumnDef* {
    for (const ColumnDef& c : s->columns) {
      if (c.name.name == name) return &c;
    }
    return nullptr;
  };
  std::set<std::string> keys;
  for (const auto* part : {&s->partition_key, &s->clustering_key}) {
    for (const Ident& k : *part) {
      const ColumnDef* c = find(k.name);
      if (c == nullptr) {
        return FailAt(k.pos, k.name, "Unknown definition " + k.name + " referenced in PRIMARY KEY");
      }
      if (!keys.insert(k.name).second) {
        return FailAt(k.pos, k.name,
                      "Multiple definition of identifier " + k.name + " in PRIMARY KEY");
      }
      if (c->type.is_collection()) {
        return FailAt(k.pos, k.name, "Invalid collection type for PRIMARY KEY component " + k.name);
      }
      if (c->is_static) {
        return FailAt(k.pos, k.name,
                      "Static column " + k.name + " cannot be part of the PRIMARY KEY");
      }
    }
  }
  for (const ColumnDef& c : s->columns) {
    if (c.is_static && s->clustering_key.empty()) {
      return FailAt(c.name.pos, c.name.name,
                    "Static columns are only useful (and thus allowed) if the table has at least "
                    "one clustering column");
    }
  }
  // Clustering order: a prefix of the clustering columns, in order; the rest ascending.
  std::vector<Ordering> order;
  for (size_t i = 0; i < s->clustering_order.size(); ++i) {
    const Ordering& o = s->clustering_order[i];
    if (i >= s->clustering_key.size() || s->clustering_key[i].name != o.column.name) {
      return FailAt(o.column.pos, o.column.name,
                    "CLUSTERING ORDER BY must list the clustering columns in their order (" +
                        o.column.name + " is out of place or not a clustering column)");
    }
  }
  for (size_t i = 0; i < s->clustering_key.size(); ++i) {
    if (i < s->clustering_order.size()) {
      order.push_back(s->clustering_order[i]);
    } else {
      order.push_back(Ordering{s->clustering_key[i], false});
    }
  }
  s->clustering_order = std::move(order);
  for (const Property& p : s->properties) {
    const std::string& name = p.name.name;
    if (name == "conflict_mode") {
      if (p.value.kind != Term::Kind::kString) {
        return FailAt(p.value.pos, "", "conflict_mode is a string: 'merge', 'lww' or 'siblings'");
      }
      if (p.value.text == "merge") {
        s->conflict_mode = ConflictMode::kMerge;
      } else if (p.value.text == "lww") {
        s->conflict_mode = ConflictMode::kLww;
      } else if (p.value.text == "siblings") {
        s->conflict_mode = ConflictMode::kSiblings;
      } else {
        return FailAt(p.value.pos, p.value.text,
                      "Unknown conflict_mode '" + p.value.text + "' (merge, lww or siblings)");
      }
    } else if (name == "default_time_to_live") {
      const std::string& v = p.value.text;
      bool ok = p.value.kind == Term::Kind::kInteger && !v.empty() && v[0] != '-' && v.size() <= 10;
      int64_t n = ok ? std::stoll(v) : -1;
      if (!ok || n > kTtlMax_s) {
        return FailAt(p.value.pos, v,
                      "default_time_to_live must be an integer from 0 to " +
                          std::to_string(kTtlMax_s) + " (seconds)");
      }
      s->default_time_to_live_s = n;
    }
  }
  return true;
}

}  // namespace ringkv::cql::parser_internal
