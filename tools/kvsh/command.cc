#include "tools/kvsh/command.h"

#include <cctype>

namespace ringkv::kvsh {
namespace {

struct Token {
  enum Kind { kWord, kQuotedName, kString, kPunct } kind;
  std::string text;  // words as written; strings unquoted
};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Words (letters, digits, '_', '-', '/', '~'; not '.'), 'quoted strings' ('' escapes), "quoted
// names", and single punctuation characters. Stops at a ';' outside quotes. False on an
// unterminated quote.
bool Tokenize(std::string_view s, std::vector<Token>* out) {
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == ';') {
      return true;
    } else if (c == '\'' || c == '"') {
      std::string text;
      ++i;
      for (;;) {
        if (i >= s.size()) return false;
        if (s[i] == c) {
          if (i + 1 < s.size() && s[i + 1] == c) {
            text.push_back(c);
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        text.push_back(s[i++]);
      }
      out->push_back({c == '\'' ? Token::kString : Token::kQuotedName, text});
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '/' ||
               c == '~') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' ||
                              s[j] == '-' || s[j] == '/' || s[j] == '~')) {
        ++j;
      }
      out->push_back({Token::kWord, std::string(s.substr(i, j - i))});
      i = j;
    } else {
      out->push_back({Token::kPunct, std::string(1, c)});
      ++i;
    }
  }
  return true;
}

bool IsWord(const std::vector<Token>& t, size_t i, std::string_view upper) {
  return i < t.size() && t[i].kind == Token::kWord && Upper(t[i].text) == upper;
}
bool IsPunct(const std::vector<Token>& t, size_t i, char c) {
  return i < t.size() && t[i].kind == Token::kPunct && t[i].text[0] == c;
}

// Unquoted identifiers fold to lower case, as in CQL.
std::string Name(const Token& t) {
  std::string out = t.text;
  if (t.kind == Token::kWord) {
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// [ks.]name at t[*i]; advances past it.
bool QualifiedName(const std::vector<Token>& t, size_t* i, std::string* ks, std::string* name) {
  auto is_name = [&](size_t j) {
    return j < t.size() && (t[j].kind == Token::kWord || t[j].kind == Token::kQuotedName);
  };
  if (!is_name(*i)) return false;
  std::string first = Name(t[*i]);
  ++*i;
  if (IsPunct(t, *i, '.') && is_name(*i + 1)) {
    *ks = first;
    *name = Name(t[*i + 1]);
    *i += 2;
  } else {
    ks->clear();
    *name = first;
  }
  return true;
}

ParsedCommand Bad(std::string message) {
  ParsedCommand p;
  p.is_command = true;
  p.error.message = std::move(message);
  return p;
}
ParsedCommand Good(Command c) {
  ParsedCommand p;
  p.is_command = true;
  p.command = std::move(c);
  return p;
}

ParsedCommand ParseToggle(CommandKind kind, const char* name, const std::vector<Token>& t) {
  Command c{kind};
  if (t.size() == 1) return Good(c);
  if (t.size() == 2 && IsWord(t, 1, "ON")) {
    c.toggle = Toggle::kOn;
    return Good(c);
  }
  if (t.size() == 2 && IsWord(t, 1, "OFF")) {
    c.toggle = Toggle::kOff;
    return Good(c);
  }
  if (kind == CommandKind::kPaging && t.size() == 2 && t[1].kind == Token::kWord) {
    const std::string& n = t[1].text;
    if (!n.empty() && n.size() <= 9 && n.find_first_not_of("0123456789") == std::string::npos) {
      const unsigned long v = std::stoul(n);
      if (v == 0) return Bad("Page size must be a positive integer.");
      c.toggle = Toggle::kOn;
      c.page_size = static_cast<uint32_t>(v);
      return Good(c);
    }
  }
  return Bad(std::string("Improper ") + name + " command.");
}

ParsedCommand ParseDescribe(const std::vector<Token>& t) {
  Command c{CommandKind::kDescribe};
  size_t i = 1;
  if (IsWord(t, i, "KEYSPACES") && t.size() == 2) {
    c.describe = DescribeWhat::kKeyspaces;
    return Good(c);
  }
  if (IsWord(t, i, "TABLES") && t.size() == 2) {
    c.describe = DescribeWhat::kTables;
    return Good(c);
  }
  if (IsWord(t, i, "KEYSPACE")) {
    ++i;
    c.describe = DescribeWhat::kKeyspace;
    if (i == t.size()) return Good(c);  // the current keyspace
    if ((t[i].kind != Token::kWord && t[i].kind != Token::kQuotedName) || i + 1 != t.size()) {
      return Bad("Improper DESCRIBE command.");
    }
    c.keyspace = Name(t[i]);
    return Good(c);
  }
  if (IsWord(t, i, "TABLE") || IsWord(t, i, "COLUMNFAMILY")) {
    ++i;
    c.describe = DescribeWhat::kTable;
    if (!QualifiedName(t, &i, &c.keyspace, &c.name) || i != t.size()) {
      return Bad("Improper DESCRIBE command.");
    }
    return Good(c);
  }
  return Bad("Improper DESCRIBE command.");
}

ParsedCommand ParseCopy(const std::vector<Token>& t) {
  Command c{CommandKind::kCopy};
  CopySpec& spec = c.copy;
  size_t i = 1;
  if (!QualifiedName(t, &i, &spec.keyspace, &spec.table)) return Bad("Improper COPY command.");
  if (IsPunct(t, i, '(')) {
    ++i;
    for (;;) {
      if (i >= t.size() || (t[i].kind != Token::kWord && t[i].kind != Token::kQuotedName)) {
        return Bad("Improper COPY command.");
      }
      spec.columns.push_back(Name(t[i++]));
      if (IsPunct(t, i, ',')) {
        ++i;
        continue;
      }
      if (IsPunct(t, i, ')')) {
        ++i;
        break;
      }
      return Bad("Improper COPY command.");
    }
  }
  if (IsWord(t, i, "TO")) {
    spec.to = true;
  } else if (IsWord(t, i, "FROM")) {
    spec.to = false;
  } else {
    return Bad("Improper COPY command.");
  }
  ++i;
  if (i >= t.size()) return Bad("Improper COPY command.");
  if (t[i].kind == Token::kString) {
    spec.file = t[i].text;
  } else if (IsWord(t, i, "STDOUT") || IsWord(t, i, "STDIN")) {
    spec.file = Upper(t[i].text);
  } else {
    return Bad("Improper COPY command: the file name must be quoted.");
  }
  ++i;
  if (i == t.size()) return Good(c);
  if (!IsWord(t, i, "WITH")) return Bad("Improper COPY command.");
  ++i;
  for (;;) {
    if (i + 2 >= t.size()) return Bad("Improper COPY command.");
    if (t[i].kind != Token::kWord || !IsPunct(t, i + 1, '=')) return Bad("Improper COPY command.");
    std::string name = Upper(t[i].text);
    // Values are taken as written: 'quoted', a word, or one punctuation character
    // (DELIMITER = |).
    spec.options.emplace_back(name, t[i + 2].text);
    i += 3;
    if (i == t.size()) return Good(c);
    if (!IsWord(t, i, "AND")) return Bad("Improper COPY command.");
    ++i;
  }
}

}  // namespace

std::optional<Consistency> ParseConsistency(std::string_view name) {
  const std::string u = Upper(name);
  if (u == "ONE") return Consistency::kOne;
  if (u == "TWO") return Consistency::kTwo;
  if (u == "THREE") return Consistency::kThree;
  if (u == "QUORUM" || u == "LOCAL_QUORUM") return Consistency::kQuorum;
  if (u == "ALL") return Consistency::kAll;
  if (u == "ANY") return Consistency::kAny;
  return std::nullopt;
}

const std::vector<std::string>& ShellCommandWords() {
  static const std::vector<std::string> kWords = {
      "CONSISTENCY", "COPY", "DESCRIBE", "DESC", "EXIT", "EXPAND",
      "HELP",        "PAGING", "QUIT",   "SLOPPY", "SOURCE", "TRACING"};
  return kWords;
}

ParsedCommand ParseCommand(std::string_view statement) {
  std::vector<Token> t;
  const bool complete = Tokenize(statement, &t);
  if (t.empty() || t[0].kind != Token::kWord) return {};
  const std::string first = Upper(t[0].text);
  bool known = false;
  for (const auto& w : ShellCommandWords()) known = known || w == first;
  if (!known) return {};
  if (!complete) return Bad("Improper " + first + " command: unterminated quote.");
  if (first == "EXIT" || first == "QUIT") {
    if (t.size() != 1) return Bad("Improper " + first + " command.");
    return Good(Command{CommandKind::kExit});
  }
  if (first == "CONSISTENCY") {
    Command c{CommandKind::kConsistency};
    if (t.size() == 1) return Good(c);
    if (t.size() == 2) {
      c.level = ParseConsistency(t[1].text);
      if (c.level) return Good(c);
    }
    return Bad("Improper CONSISTENCY command.");
  }
  if (first == "TRACING") return ParseToggle(CommandKind::kTracing, "TRACING", t);
  if (first == "SLOPPY") {
    Command c{CommandKind::kSloppy};
    if (t.size() == 1) return Good(c);
    if (t.size() == 2 && IsWord(t, 1, "ON")) c.quorum = Quorum::kSloppy;
    if (t.size() == 2 && IsWord(t, 1, "OFF")) c.quorum = Quorum::kStrict;
    if (t.size() == 2 && IsWord(t, 1, "DEFAULT")) c.quorum = Quorum::kDefault;
    if (c.quorum) return Good(c);
    return Bad("Improper SLOPPY command: SLOPPY [ON | OFF | DEFAULT]");
  }
  if (first == "EXPAND") return ParseToggle(CommandKind::kExpand, "EXPAND", t);
  if (first == "PAGING") return ParseToggle(CommandKind::kPaging, "PAGING", t);
  if (first == "DESCRIBE" || first == "DESC") return ParseDescribe(t);
  if (first == "SOURCE") {
    if (t.size() != 2 || t[1].kind != Token::kString) {
      return Bad("Improper SOURCE command: SOURCE 'file'");
    }
    Command c{CommandKind::kSource};
    c.file = t[1].text;
    return Good(c);
  }
  if (first == "HELP") {
    Command c{CommandKind::kHelp};
    for (size_t i = 1; i < t.size(); ++i) c.topic += (i > 1 ? " " : "") + Upper(t[i].text);
    return Good(c);
  }
  return ParseCopy(t);
}

}  // namespace ringkv::kvsh
