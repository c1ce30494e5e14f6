#include "tools/kvsh/completion.h"

#include <algorithm>
#include <cctype>

#include "tools/kvsh/command.h"

namespace ringkv::kvsh {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}
std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool WordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
         (static_cast<unsigned char>(c) & 0x80) != 0;
}

// The complete words before the partial one, ignoring quoted strings.
std::vector<std::string> WordsBefore(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\'') {
      const size_t end = text.find('\'', i + 1);
      if (end == std::string_view::npos) break;
      out.push_back("'");
      i = end + 1;
    } else if (WordChar(c)) {
      size_t j = i;
      while (j < text.size() && WordChar(text[j])) ++j;
      out.emplace_back(text.substr(i, j - i));
      i = j;
    } else {
      if (c == '(' || c == ',' || c == '=' || c == ')') out.emplace_back(1, c);
      ++i;
    }
  }
  return out;
}

const std::vector<std::string>& StartKeywords() {
  static const std::vector<std::string> kWords = {
      "SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "APPLY", "CREATE", "DROP", "USE",
      "TRUNCATE"};
  return kWords;
}

const std::vector<std::string>& OtherKeywords() {
  static const std::vector<std::string> kWords = {
      "FROM",     "WHERE",   "AND",      "INTO",     "VALUES",  "SET",      "USING",
      "TTL",      "TIMESTAMP", "LIMIT",  "ORDER",    "BY",      "ASC",      "DESC",
      "ALLOW",    "FILTERING", "TABLE",  "KEYSPACE", "IF",      "NOT",      "EXISTS",
      "WITH",     "PRIMARY", "KEY",      "BATCH",    "UNLOGGED", "IN",      "TOKEN",
      "DISTINCT", "COUNT",   "WRITETIME", "AS",      "NULL",    "TRUE",     "FALSE",
      "REPLICATION", "CLUSTERING"};
  return kWords;
}

const std::vector<std::string>& TypeNames() {
  static const std::vector<std::string> kWords = {
      "text", "varchar", "blob", "int", "bigint", "float", "double", "boolean",
      "timestamp", "uuid", "list<", "set<", "map<"};
  return kWords;
}

}  // namespace

std::string_view PartialWord(std::string_view text) {
  size_t i = text.size();
  while (i > 0 && WordChar(text[i - 1])) --i;
  return text.substr(i);
}

std::vector<std::string> CompletionCandidates(std::string_view text, Backend& backend) {
  const std::string_view partial = PartialWord(text);
  const std::vector<std::string> words = WordsBefore(text.substr(0, text.size() - partial.size()));
  const std::string prev = words.empty() ? "" : Upper(words.back());
  const std::string first = words.empty() ? "" : Upper(words.front());
  const bool lower_case = !partial.empty() && std::islower(static_cast<unsigned char>(partial[0]));

  std::vector<std::string> names;     // offered as they are
  std::vector<std::string> keywords;  // offered in the partial word's case
  auto add_keyspaces = [&] {
    auto ks = backend.Keyspaces();
    if (ks.ok()) names.insert(names.end(), ks->begin(), ks->end());
  };
  // Tables: of the keyspace typed before a '.', else of the session's, plus keyspaces (for
  // "ks.table").
  auto add_tables = [&] {
    const size_t dot = partial.find('.');
    if (dot != std::string_view::npos) {
      const std::string ks(partial.substr(0, dot));
      auto tables = backend.Tables(ks);
      if (tables.ok()) {
        for (const auto& t : *tables) names.push_back(ks + "." + t);
      }
      return;
    }
    if (!backend.keyspace().empty()) {
      auto tables = backend.Tables(backend.keyspace());
      if (tables.ok()) names.insert(names.end(), tables->begin(), tables->end());
    }
    add_keyspaces();
  };
  // The table this statement names, if any: the word after FROM / INTO / UPDATE / COPY / TABLE.
  auto named_table = [&]() -> std::string {
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      const std::string w = Upper(words[i]);
      if (w == "FROM" || w == "INTO" || w == "UPDATE" || w == "TRUNCATE" ||
          (w == "COPY" && i == 0)) {
        return words[i + 1];
      }
    }
    return {};
  };
  auto add_columns = [&] {
    std::string table = named_table();
    if (table.empty()) return;
    std::string ks = backend.keyspace();
    const size_t dot = table.find('.');
    if (dot != std::string::npos) {
      ks = table.substr(0, dot);
      table = table.substr(dot + 1);
    }
    auto cols = backend.Columns(ks, table);
    if (cols.ok()) {
      for (const auto& c : *cols) names.push_back(c.name);
    }
  };

  if (words.empty()) {
    keywords = StartKeywords();
    keywords.insert(keywords.end(), ShellCommandWords().begin(), ShellCommandWords().end());
  } else if (first == "CONSISTENCY" && words.size() == 1) {
    keywords = {"ONE", "TWO", "THREE", "QUORUM", "ALL", "ANY"};
  } else if ((first == "TRACING" || first == "EXPAND" || first == "PAGING") && words.size() == 1) {
    keywords = {"ON", "OFF"};
  } else if (first == "SLOPPY" && words.size() == 1) {
    keywords = {"ON", "OFF", "DEFAULT"};
  } else if ((first == "DESCRIBE" || first == "DESC") && words.size() == 1) {
    keywords = {"KEYSPACES", "KEYSPACE", "TABLES", "TABLE"};
  } else if (first == "HELP" && words.size() == 1) {
    keywords = ShellCommandWords();
    keywords.insert(keywords.end(), StartKeywords().begin(), StartKeywords().end());
  } else if (prev == "USE" || prev == "KEYSPACE") {
    add_keyspaces();
  } else if (prev == "FROM" || prev == "INTO" || prev == "UPDATE" || prev == "TABLE" ||
             prev == "TRUNCATE" || (prev == "COPY" && words.size() == 1)) {
    // In "COPY t FROM 'f'" FROM takes a file name; it is quoted, so no candidates.
    if (!(first == "COPY" && words.size() > 1)) add_tables();
  } else if (first == "CREATE" && words.size() == 1) {
    keywords = {"TABLE", "KEYSPACE"};
  } else if (first == "DROP" && words.size() == 1) {
    keywords = {"TABLE", "KEYSPACE"};
  } else if (first == "COPY" && words.size() >= 2 && (prev == "(" || prev == ",")) {
    add_columns();
  } else if (first == "COPY" && words.size() >= 2) {
    keywords = {"TO", "FROM", "WITH", "AND", "HEADER", "DELIMITER", "NULL", "MAXBATCHSIZE",
                "INGESTRATE", "MAXROWS", "CONCURRENCY", "PAGESIZE", "MAXERRORS", "ERRFILE"};
  } else {
    add_columns();
    keywords = OtherKeywords();
    if (first == "SELECT" && named_table().empty()) keywords.push_back("*");
    // After CREATE TABLE t (name: a type.
    if (first == "CREATE" && words.size() >= 3 && prev != "(" && prev != ",") {
      names.insert(names.end(), TypeNames().begin(), TypeNames().end());
    }
  }
  // In "SELECT cols FROM t" the columns come before the table is named: only keywords there
  // (every column of every table would be noise).

  std::vector<std::string> out;
  const std::string upper_partial = Upper(partial);
  for (const auto& k : keywords) {
    if (Upper(k).rfind(upper_partial, 0) == 0) out.push_back(lower_case ? Lower(k) : k);
  }
  for (const auto& n : names) {
    if (n.rfind(partial, 0) == 0 || Lower(n).rfind(Lower(partial), 0) == 0) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace ringkv::kvsh
