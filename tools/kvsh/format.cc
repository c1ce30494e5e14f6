#include "tools/kvsh/format.h"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace ringkv::kvsh {
namespace {

// Decodes one code point at `*i`, advancing it; invalid bytes decode as themselves, one byte.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  int len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
  if (len <= 1 || *i + len > s.size()) {
    ++*i;
    return b0;
  }
  uint32_t cp = b0 & (0xFF >> (len + 1));
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + k]);
    if ((b >> 6) != 0x2) {
      ++*i;
      return b0;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  *i += len;
  return cp;
}

bool IsWide(uint32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF && cp != 0x303F) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
         (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

bool IsCombining(uint32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
         (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F) || cp == 0x200B;
}

std::string Pad(std::string_view text, size_t width, bool right) {
  const size_t w = DisplayWidth(text);
  std::string pad(width > w ? width - w : 0, ' ');
  return right ? pad + std::string(text) : std::string(text) + pad;
}

// Control characters would break the layout (a newline inside a cell); cqlsh shows them escaped.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

size_t DisplayWidth(std::string_view utf8) {
  size_t width = 0;
  for (size_t i = 0; i < utf8.size();) {
    const uint32_t cp = NextCodePoint(utf8, &i);
    if (IsCombining(cp)) continue;
    width += IsWide(cp) ? 2 : 1;
  }
  return width;
}

std::string FormatTable(const DisplayTable& table) {
  const size_t n = table.headers.size();
  std::vector<std::vector<std::string>> cells;
  cells.reserve(table.rows.size());
  std::vector<size_t> widths(n);
  for (size_t c = 0; c < n; ++c) widths[c] = DisplayWidth(table.headers[c]);
  for (const auto& row : table.rows) {
    std::vector<std::string> printable;
    for (size_t c = 0; c < n; ++c) {
      printable.push_back(Printable(c < row.size() ? row[c] : std::string()));
      widths[c] = std::max(widths[c], DisplayWidth(printable.back()));
    }
    cells.push_back(std::move(printable));
  }
  auto right = [&](size_t c) { return c < table.right_align.size() && table.right_align[c]; };
  std::string out = "\n";
  std::string rule;
  for (size_t c = 0; c < n; ++c) {
    out += (c == 0 ? " " : " | ") + Pad(table.headers[c], widths[c], right(c));
    rule += (c == 0 ? "" : "+") + std::string(widths[c] + 2, '-');
  }
  out += " \n" + rule + "\n";
  for (const auto& row : cells) {
    for (size_t c = 0; c < n; ++c) out += (c == 0 ? " " : " | ") + Pad(row[c], widths[c], right(c));
    out += " \n";
  }
  return out;
}

std::string FormatExpanded(const DisplayTable& table, size_t first_row) {
  size_t name_width = 0;
  for (const auto& h : table.headers) name_width = std::max(name_width, DisplayWidth(h));
  std::string out;
  for (size_t r = 0; r < table.rows.size(); ++r) {
    std::vector<std::string> values;
    size_t value_width = 0;
    for (size_t c = 0; c < table.headers.size(); ++c) {
      values.push_back(Printable(c < table.rows[r].size() ? table.rows[r][c] : std::string()));
      value_width = std::max(value_width, DisplayWidth(values.back()));
    }
    out += fmt::format("\n@ Row {}\n", first_row + r);
    out += std::string(name_width + 2, '-') + "+" + std::string(value_width + 2, '-') + "\n";
    for (size_t c = 0; c < table.headers.size(); ++c) {
      out += " " + Pad(table.headers[c], name_width, false) + " | " + values[c] + "\n";
    }
  }
  return out;
}

std::string RowCountLine(size_t rows) { return fmt::format("\n({} rows)\n", rows); }

bool IsNumeric(const cql::Type& type) {
  switch (type.kind) {
    case cql::Kind::kInt:
    case cql::Kind::kBigint:
    case cql::Kind::kFloat:
    case cql::Kind::kDouble:
      return true;
    default:
      return false;
  }
}

std::string DisplayCell(const std::optional<cql::Value>& value) {
  return value.has_value() ? value->ToDisplay() : "null";
}

std::string FormatTimestampUs(int64_t us) {
  const int64_t secs = us >= 0 ? us / 1'000'000 : -((-us + 999'999) / 1'000'000);
  const int64_t frac = us - secs * 1'000'000;
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+0000", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

std::string FormatTraces(const std::vector<TraceInfo>& traces,
                         const std::vector<std::string>& notes, int64_t start_ms) {
  std::string out;
  for (size_t i = 0; i < traces.size(); ++i) {
    const TraceInfo& t = traces[i];
    out += fmt::format("\nTracing session: request {} of {}, coordinator {}\n", i + 1,
                       traces.size(), t.coordinator.empty() ? "?" : t.coordinator);
    DisplayTable table;
    table.headers = {"activity", "timestamp", "source", "source_elapsed"};
    table.right_align = {true, false, false, true};
    for (const TraceEvent& e : t.events) {
      table.rows.push_back({e.activity,
                            FormatTimestampUs(start_ms * 1000 + static_cast<int64_t>(e.elapsed_us)),
                            e.node.empty() ? t.coordinator : e.node,
                            std::to_string(e.elapsed_us)});
    }
    table.rows.push_back({"Request complete",
                          FormatTimestampUs(start_ms * 1000 + static_cast<int64_t>(t.duration_us)),
                          t.coordinator, std::to_string(t.duration_us)});
    out += FormatTable(table);
    auto list = [](const std::vector<std::string>& v) {
      return v.empty() ? std::string("-") : fmt::format("{}", fmt::join(v, ", "));
    };
    out += fmt::format("\n replicas asked: {}\n replicas answered: {}\n", list(t.replicas_asked),
                       list(t.replicas_answered));
    out += fmt::format(" read repaired: {}\n siblings in answer: {}\n duration: {} us\n",
                       list(t.read_repaired), t.siblings, t.duration_us);
  }
  if (!notes.empty()) {
    out += "\nSession:\n";
    for (const auto& n : notes) out += " " + n + "\n";
  }
  if (traces.empty() && notes.empty()) out += "\nTracing session: no cluster requests\n";
  return out;
}

std::string ErrorLine(const cql::CqlError& e) {
  auto server = [&](const char* name, int code, const char* what) {
    return fmt::format("{}: Error from server: code={:04} [{}] message=\"{}\"", name, code, what,
                       e.message);
  };
  switch (e.kind) {
    case cql::ErrorKind::kSyntax:
      // cqlsh counts columns from 0.
      if (e.line > 0) {
        return fmt::format("SyntaxException: line {}:{} {}", e.line, std::max(0, e.column - 1),
                           e.message);
      }
      return "SyntaxException: " + e.message;
    case cql::ErrorKind::kInvalid:
      return server("InvalidRequest", 2200, "Invalid query");
    case cql::ErrorKind::kAlreadyExists:
      return server("AlreadyExists", 2400, "Query invalid because of configuration issue");
    case cql::ErrorKind::kUnavailable:
      return server("Unavailable", 1000, "Unavailable exception");
    case cql::ErrorKind::kTimeout:
      return server("OperationTimedOut", 1200,
                    "Coordinator node timed out waiting for replica nodes' responses");
    case cql::ErrorKind::kServer:
      return server("ServerError", 0, "Server error");
  }
  return e.message;
}

std::string Caret(std::string_view statement, const cql::CqlError& e) {
  if (e.line <= 0 || e.column <= 0) return {};
  size_t start = 0;
  for (int l = 1; l < e.line; ++l) {
    const size_t nl = statement.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  size_t end = statement.find('\n', start);
  if (end == std::string_view::npos) end = statement.size();
  const std::string_view line = statement.substr(start, end - start);
  const size_t col = static_cast<size_t>(e.column - 1);
  if (col > line.size()) return {};
  // Tabs in the prefix stay tabs so that the caret lines up however the terminal expands them.
  std::string pad;
  for (char c : line.substr(0, col)) {
    if (c == '\t') {
      pad.push_back('\t');
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      pad.push_back(' ');
    }
  }
  const size_t token_width = std::max<size_t>(1, DisplayWidth(e.near));
  return std::string(line) + "\n" + pad + "^" + std::string(token_width - 1, '~') + "\n";
}

std::string ConsistencyName(Consistency c) {
  switch (c) {
    case Consistency::kOne: return "ONE";
    case Consistency::kTwo: return "TWO";
    case Consistency::kThree: return "THREE";
    case Consistency::kAll: return "ALL";
    case Consistency::kAny: return "ANY";
    case Consistency::kDefault:
    case Consistency::kQuorum: return "QUORUM";
  }
  return "QUORUM";
}

}  // namespace ringkv::kvsh
