// ConvertTerm (declared in cql/parser.h): the typing of literals, kept with the
// language so that every executor reports type errors the same way, at the literal.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>

#include "cql/civil_time.h"
#include "cql/lexer.h"
#include "cql/parser.h"

namespace ringkv::cql {
namespace {

// Longest literal quoted whole in an error message.
constexpr size_t kShownBytesMax = 100;

const char* TermKindName(Term::Kind k) {
  switch (k) {
    case Term::Kind::kString:
      return "STRING constant";
    case Term::Kind::kInteger:
      return "INTEGER constant";
    case Term::Kind::kFloat:
      return "FLOAT constant";
    case Term::Kind::kBoolean:
      return "BOOLEAN constant";
    case Term::Kind::kNull:
      return "null";
    case Term::Kind::kBlob:
      return "HEX constant";
    case Term::Kind::kUuid:
      return "UUID constant";
    case Term::Kind::kList:
      return "list literal";
    case Term::Kind::kSet:
      return "set literal";
    case Term::Kind::kMap:
      return "map literal";
    case Term::Kind::kBind:
      return "bind marker";
    case Term::Kind::kFunction:
      return "function call";
  }
  return "term";
}

bool IsTextKind(Kind k) { return k == Kind::kText; }
bool IsIntegerKind(Kind k) { return k == Kind::kInt || k == Kind::kBigint; }
bool IsFloatKind(Kind k) { return k == Kind::kFloat || k == Kind::kDouble; }

// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF), as Cassandra
// requires of text.
bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // the sequence runs past the end
    for (int k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

Uuid RandomUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string b(16, '\0');
  for (int i = 0; i < 16; i += 8) {
    uint64_t r = rng();
    for (int k = 0; k < 8; ++k) b[i + k] = static_cast<char>((r >> (8 * k)) & 0xFF);
  }
  b[6] = static_cast<char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return Uuid{std::move(b)};
}

std::optional<Uuid> ParseUuid(std::string_view s) {
  if (s.size() != 36) return std::nullopt;
  std::string bytes;
  int nibble = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      return std::nullopt;
    if (nibble < 0) {
      nibble = v;
    } else {
      bytes.push_back(static_cast<char>(nibble * 16 + v));
      nibble = -1;
    }
  }
  return Uuid{std::move(bytes)};
}

class Converter {
 public:
  Converter(const std::vector<Value>& binds, std::string_view column, const ConvertContext* context)
      : binds_(binds), column_(column), context_(context) {}

  CqlError error;

  bool Convert(const Term& t, const Type& type, std::optional<Value>* out, bool in_collection) {
    if (t.kind == Term::Kind::kNull) {
      if (in_collection) return Fail(t, "null is not supported inside collections");
      out->reset();
      return true;
    }
    if (t.kind == Term::Kind::kBind) return ConvertBind(t, type, out);
    Value v;
    if (type.is_collection()) {
      if (!ConvertCollection(t, type, &v)) return false;
    } else if (!ConvertScalar(t, type.kind, &v)) {
      return false;
    }
    *out = std::move(v);
    return true;
  }

 private:
  std::string For(const Type& type) const {
    if (column_.empty()) return "for type " + type.ToCql();
    return "for \"" + std::string(column_) + "\" of type " + type.ToCql();
  }
  bool Fail(const Term& t, std::string message) {
    error = CqlError{ErrorKind::kInvalid, std::move(message), t.pos.line, t.pos.column, Near(t)};
    return false;
  }
  // The term as the user wrote it, near enough, for CqlError::near.
  static std::string Near(const Term& t) {
    constexpr size_t kNearBytesMax = 40;
    std::string near;
    switch (t.kind) {
      case Term::Kind::kString:
        near = "'" + t.text + "'";
        break;
      case Term::Kind::kBlob:
        near = Value::Blob(t.text).ToDisplay();
        break;
      case Term::Kind::kBind:
        near = "?";
        break;
      case Term::Kind::kBoolean:
        near = t.boolean ? "true" : "false";
        break;
      case Term::Kind::kNull:
        near = "null";
        break;
      case Term::Kind::kList:
        near = "[";
        break;
      case Term::Kind::kSet:
      case Term::Kind::kMap:
        near = "{";
        break;
      default:
        near = t.text;
        break;
    }
    if (near.size() > kNearBytesMax) near.resize(kNearBytesMax);
    return near;
  }
  bool Mismatch(const Term& t, const Type& type) {
    std::string shown;
    switch (t.kind) {
      case Term::Kind::kString:
      case Term::Kind::kInteger:
      case Term::Kind::kFloat:
      case Term::Kind::kUuid:
        shown =
            " (" +
            (t.text.size() > kShownBytesMax ? t.text.substr(0, kShownBytesMax) + "..." : t.text) +
            ")";
        break;
      case Term::Kind::kBoolean:
        shown = t.boolean ? " (true)" : " (false)";
        break;
      case Term::Kind::kFunction:
        shown = " (" + t.text + "(...))";
        break;
      default:
        break;
    }
    return Fail(t, "Invalid " + std::string(TermKindName(t.kind)) + shown + " " + For(type));
  }

  int64_t NowMs() const {
    if (context_ != nullptr && context_->now_ms) return context_->now_ms();
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  Uuid NewUuid() const {
    if (context_ != nullptr && context_->random_uuid) return context_->random_uuid();
    return RandomUuid();
  }

  bool ConvertFunction(const Term& t, Kind kind, Value* v) {
    const std::string& f = t.text;
    bool no_args = t.elements.empty();
    bool is_now = [](const Term& x) {
      return x.kind == Term::Kind::kFunction && x.text == "now" && x.elements.empty();
    }(t);
    if (kind == Kind::kTimestamp) {
      if (is_now || (f == "currenttimestamp" && no_args)) {
        *v = Value::Timestamp(NowMs());
        return true;
      }
      if (f == "totimestamp" && t.elements.size() == 1) {
        const Term& arg = t.elements[0];
        if (arg.kind == Term::Kind::kFunction && arg.text == "now" && arg.elements.empty()) {
          *v = Value::Timestamp(NowMs());
          return true;
        }
        return Fail(arg, "toTimestamp() takes now() here");
      }
    }
    if (kind == Kind::kUuid && f == "uuid" && no_args) {
      *v = Value{Type::Scalar(Kind::kUuid), NewUuid()};
      return true;
    }
    static constexpr std::string_view kKnown[] = {"now", "uuid", "totimestamp", "currenttimestamp"};
    if (std::find(std::begin(kKnown), std::end(kKnown), f) == std::end(kKnown)) {
      return Fail(t, "Unknown function '" + f +
                         "' (now(), uuid(), toTimestamp(now()), "
                         "currentTimestamp())");
    }
    return Fail(t, "Invalid call to " + f + "(" + (no_args ? "" : "...") + ") " +
                       For(Type::Scalar(kind)) +
                       " (now() and toTimestamp(now()) give a timestamp, "
                       "uuid() a uuid)");
  }

  bool ParseInteger(const Term& t, const Type& type, int64_t* out) {
    const std::string& s = t.text;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    if (ec != std::errc() || end != s.data() + s.size()) return Mismatch(t, type);
    return true;
  }

  bool ConvertScalar(const Term& t, Kind kind, Value* v) {
    const Type type = Type::Scalar(kind);
    if (t.kind == Term::Kind::kFunction) return ConvertFunction(t, kind, v);
    switch (kind) {
      case Kind::kText:
        if (t.kind != Term::Kind::kString) return Mismatch(t, type);
        if (!IsUtf8(t.text))
          return Fail(t, "String is not valid UTF-8 " + For(type) + " (use a blob)");
        *v = Value::Text(t.text);
        return true;
      case Kind::kBlob:
        if (t.kind != Term::Kind::kBlob) return Mismatch(t, type);
        *v = Value::Blob(t.text);
        return true;
      case Kind::kInt:
      case Kind::kBigint: {
        if (t.kind != Term::Kind::kInteger) return Mismatch(t, type);
        int64_t n;
        if (!ParseInteger(t, type, &n)) return false;
        if (kind == Kind::kInt && (n < INT32_MIN || n > INT32_MAX)) return Mismatch(t, type);
        *v = Value{type, n};
        return true;
      }
      case Kind::kFloat:
      case Kind::kDouble: {
        if (t.kind != Term::Kind::kInteger && t.kind != Term::Kind::kFloat)
          return Mismatch(t, type);
        errno = 0;
        char* end = nullptr;
        double d = std::strtod(t.text.c_str(), &end);
        if (end != t.text.c_str() + t.text.size()) return Mismatch(t, type);
        if (std::isinf(d) && t.text.find("inf") == std::string::npos) {
          return Fail(t, "FLOAT constant (" + t.text + ") is out of range " + For(type));
        }
        if (kind == Kind::kFloat) {
          float f = static_cast<float>(d);
          if (std::isinf(f) && !std::isinf(d)) {
            return Fail(t, "FLOAT constant (" + t.text + ") is out of range " + For(type));
          }
          d = f;
        }
        *v = Value{type, d};
        return true;
      }
      case Kind::kBoolean:
        if (t.kind != Term::Kind::kBoolean) return Mismatch(t, type);
        *v = Value::Boolean(t.boolean);
        return true;
      case Kind::kTimestamp: {
        if (t.kind == Term::Kind::kInteger) {
          int64_t n;
          if (!ParseInteger(t, type, &n)) return false;
          *v = Value::Timestamp(n);
          return true;
        }
        if (t.kind != Term::Kind::kString) return Mismatch(t, type);
        auto ms = ParseTimestamp(t.text);
        if (!ms) {
          return Fail(t, "Unable to parse a timestamp from '" + t.text + "' " + For(type) +
                             " (use 'yyyy-mm-dd', 'yyyy-mm-dd hh:mm:ss[.fff][+hhmm|Z]' or "
                             "milliseconds since the epoch)");
        }
        *v = Value::Timestamp(*ms);
        return true;
      }
      case Kind::kUuid: {
        if (t.kind != Term::Kind::kUuid && t.kind != Term::Kind::kString) return Mismatch(t, type);
        auto u = ParseUuid(t.text);
        if (!u) return Mismatch(t, type);
        *v = Value{type, std::move(*u)};
        return true;
      }
      default:
        return Mismatch(t, type);
    }
  }

  bool Element(const Term& t, const Type& type, Value* out) {
    std::optional<Value> v;
    if (!Convert(t, type, &v, true)) return false;
    if (!v) return Fail(t, "null is not supported inside collections");
    *out = std::move(*v);
    return true;
  }

  bool ConvertCollection(const Term& t, const Type& type, Value* v) {
    v->type = type;
    if (type.kind == Kind::kList) {
      if (t.kind != Term::Kind::kList) return Mismatch(t, type);
      ValueList list(t.elements.size());
      for (size_t i = 0; i < list.size(); ++i) {
        if (!Element(t.elements[i], type.params[0], &list[i])) return false;
      }
      v->data = std::move(list);
      return true;
    }
    if (type.kind == Kind::kSet) {
      if (t.kind != Term::Kind::kSet) return Mismatch(t, type);
      ValueList list(t.elements.size());
      for (size_t i = 0; i < list.size(); ++i) {
        if (!Element(t.elements[i], type.params[0], &list[i])) return false;
      }
      v->data = NormalizeSet(std::move(list));
      return true;
    }
    // map; `{}` lexes as an empty set.
    if (t.kind != Term::Kind::kMap && !(t.kind == Term::Kind::kSet && t.elements.empty())) {
      return Mismatch(t, type);
    }
    ValueMap map(t.elements.size());
    for (size_t i = 0; i < map.size(); ++i) {
      if (!Element(t.elements[i], type.params[0], &map[i].first) ||
          !Element(t.values[i], type.params[1], &map[i].second)) {
        return false;
      }
    }
    v->data = NormalizeMap(std::move(map));
    return true;
  }

  // A bind value of a compatible type: same kinds, or int/bigint (range checked), float/double
  // (rounded), int/bigint for a timestamp.
  bool ConvertBind(const Term& t, const Type& type, std::optional<Value>* out) {
    if (t.bind_index < 0 || static_cast<size_t>(t.bind_index) >= binds_.size()) {
      return Fail(t, "no value for bind marker " + std::to_string(t.bind_index + 1) + " (" +
                         std::to_string(binds_.size()) + " values given)");
    }
    Value v;
    std::string why;
    if (!CoerceValue(binds_[t.bind_index], type, &v, &why)) {
      return Fail(t, "Invalid bind value " + std::to_string(t.bind_index + 1) + " of type " +
                         binds_[t.bind_index].type.ToCql() + " " + For(type) +
                         (why.empty() ? "" : ": " + why));
    }
    *out = std::move(v);
    return true;
  }

 public:
  static ValueList NormalizeSet(ValueList list) {
    std::sort(list.begin(), list.end(),
              [](const Value& a, const Value& b) { return Compare(a, b) < 0; });
    list.erase(std::unique(list.begin(), list.end(),
                           [](const Value& a, const Value& b) { return Compare(a, b) == 0; }),
               list.end());
    return list;
  }
  // Sorted by key; a repeated key keeps its last value, as writing the entries in order would.
  static ValueMap NormalizeMap(ValueMap map) {
    std::stable_sort(map.begin(), map.end(),
                     [](const auto& a, const auto& b) { return Compare(a.first, b.first) < 0; });
    ValueMap out;
    for (auto& e : map) {
      if (!out.empty() && Compare(out.back().first, e.first) == 0) {
        out.back().second = std::move(e.second);
      } else {
        out.push_back(std::move(e));
      }
    }
    return out;
  }

  static bool CoerceScalar(const Value& in, Kind kind, Value* out, std::string* why) {
    const Kind from = in.type.kind;
    *out = in;
    out->type = Type::Scalar(kind);
    if (from == kind || (IsTextKind(from) && IsTextKind(kind))) {
      if (kind == Kind::kText && !IsUtf8(std::get<std::string>(in.data))) {
        *why = "not valid UTF-8 (use a blob)";
        return false;
      }
      if (kind == Kind::kInt) {
        int64_t n = std::get<int64_t>(in.data);
        if (n < INT32_MIN || n > INT32_MAX) {
          *why = "out of range for int";
          return false;
        }
      }
      if (kind == Kind::kUuid && std::get<Uuid>(in.data).bytes.size() != 16) {
        *why = "a uuid has 16 bytes";
        return false;
      }
      if (kind == Kind::kFloat)
        out->data = static_cast<double>(static_cast<float>(std::get<double>(in.data)));
      return true;
    }
    if ((IsIntegerKind(from) || from == Kind::kTimestamp) &&
        (IsIntegerKind(kind) || kind == Kind::kTimestamp)) {
      int64_t n = std::get<int64_t>(in.data);
      if (kind == Kind::kInt && (n < INT32_MIN || n > INT32_MAX)) {
        *why = std::to_string(n) + " is out of range for int";
        return false;
      }
      return true;
    }
    if (IsFloatKind(from) && IsFloatKind(kind)) {
      if (kind == Kind::kFloat)
        out->data = static_cast<double>(static_cast<float>(std::get<double>(in.data)));
      return true;
    }
    if (IsIntegerKind(from) && IsFloatKind(kind)) {
      double d = static_cast<double>(std::get<int64_t>(in.data));
      if (kind == Kind::kFloat) d = static_cast<float>(d);
      out->data = d;
      return true;
    }
    return false;
  }

  static bool CoerceValue(const Value& in, const Type& type, Value* out, std::string* why) {
    if (!type.is_collection()) {
      if (in.type.is_collection()) return false;
      return CoerceScalar(in, type.kind, out, why);
    }
    if (in.type.kind != type.kind) return false;
    out->type = type;
    if (type.kind == Kind::kMap) {
      const auto* map = std::get_if<ValueMap>(&in.data);
      if (map == nullptr) return false;
      ValueMap m(map->size());
      for (size_t i = 0; i < m.size(); ++i) {
        if (!CoerceScalar((*map)[i].first, type.params[0].kind, &m[i].first, why) ||
            !CoerceScalar((*map)[i].second, type.params[1].kind, &m[i].second, why)) {
          return false;
        }
      }
      out->data = NormalizeMap(std::move(m));
      return true;
    }
    const auto* list = std::get_if<ValueList>(&in.data);
    if (list == nullptr) return false;
    ValueList l(list->size());
    for (size_t i = 0; i < l.size(); ++i) {
      if (!CoerceScalar((*list)[i], type.params[0].kind, &l[i], why)) return false;
    }
    out->data = type.kind == Kind::kSet ? NormalizeSet(std::move(l)) : std::move(l);
    return true;
  }

 private:
  const std::vector<Value>& binds_;
  std::string_view column_;
  const ConvertContext* context_;
};

}  // namespace

CqlResult<std::optional<Value>> ConvertTerm(const Term& term, const Type& type,
                                            const std::vector<Value>& binds,
                                            std::string_view column,
                                            const ConvertContext* context) {
  if (type.is_collection() && (type.params.size() != (type.kind == Kind::kMap ? 2u : 1u) ||
                               std::any_of(type.params.begin(), type.params.end(),
                                           [](const Type& p) { return p.is_collection(); }))) {
    return CqlError{ErrorKind::kInvalid, "malformed collection type " + type.ToCql(), term.pos.line,
                    term.pos.column, ""};
  }
  Converter c(binds, column, context);
  std::optional<Value> out;
  if (!c.Convert(term, type, &out, false)) return c.error;
  return out;
}

}  // namespace ringkv::cql
