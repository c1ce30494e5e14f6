#include "cql/value.h"

#include <fmt/format.h>

#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "cql/civil_time.h"

namespace ringkv::cql {
namespace {

// cqlsh's default float and double precision (cqlsh --float-precision / --double-precision).
constexpr int kDisplayPrecision = 5;
// Collections decoded from storage: an element takes at least one byte, so a count larger than
// the remaining input is malformed; this bounds allocation by the input size.
constexpr uint32_t kCollectionElementsMax = 1u << 24;

const char* ScalarName(Kind k) {
  switch (k) {
    case Kind::kText:
      return "text";
    case Kind::kBlob:
      return "blob";
    case Kind::kInt:
      return "int";
    case Kind::kBigint:
      return "bigint";
    case Kind::kFloat:
      return "float";
    case Kind::kDouble:
      return "double";
    case Kind::kBoolean:
      return "boolean";
    case Kind::kTimestamp:
      return "timestamp";
    case Kind::kUuid:
      return "uuid";
    case Kind::kList:
      return "list";
    case Kind::kSet:
      return "set";
    case Kind::kMap:
      return "map";
  }
  return "?";
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string UuidText(const Uuid& u) {
  std::string h = Hex(u.bytes);
  if (h.size() != 32) return h;
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// cqlsh's format_floating_point_type: %g with the precision widened by the integer digits, so that
// 123.456789 shows as 123.45679 and 1e6 as 1e+06.
std::string DisplayFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  int precision = kDisplayPrecision;
  if (std::fabs(v) > DBL_EPSILON) {
    // Python's int() truncates toward zero.
    int exponent = static_cast<int>(std::trunc(std::log10(std::fabs(v))));
    if (exponent >= -4 && exponent < precision) precision += exponent + 1;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", precision, v);
  return buf;
}

std::string LiteralFloat(double v, bool is_float) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  // Shortest text that reads back to the same number, always with a '.' or exponent so that it
  // lexes as a float.
  std::string s = is_float ? fmt::format("{}", static_cast<float>(v)) : fmt::format("{}", v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string Render(const Value& v, bool literal, bool nested);

std::string RenderElements(const ValueList& list, bool literal) {
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ", ";
    out += Render(list[i], literal, true);
  }
  return out;
}

std::string Render(const Value& v, bool literal, bool nested) {
  switch (v.type.kind) {
    case Kind::kText: {
      const auto& s = std::get<std::string>(v.data);
      return literal || nested ? Quote(s) : s;
    }
    case Kind::kBlob:
      return "0x" + Hex(std::get<std::string>(v.data));
    case Kind::kInt:
    case Kind::kBigint:
      return std::to_string(std::get<int64_t>(v.data));
    case Kind::kFloat:
    case Kind::kDouble: {
      double d = std::get<double>(v.data);
      return literal ? LiteralFloat(d, v.type.kind == Kind::kFloat) : DisplayFloat(d);
    }
    case Kind::kBoolean: {
      bool b = std::get<bool>(v.data);
      if (literal) return b ? "true" : "false";
      return b ? "True" : "False";  // as cqlsh shows booleans
    }
    case Kind::kTimestamp: {
      int64_t ms = std::get<int64_t>(v.data);
      if (!literal) return nested ? Quote(FormatTimestamp(ms)) : FormatTimestamp(ms);
      auto text = FormatTimestampLiteral(ms);
      return text ? Quote(*text) : std::to_string(ms);
    }
    case Kind::kUuid:
      return UuidText(std::get<Uuid>(v.data));
    case Kind::kList:
      return "[" + RenderElements(std::get<ValueList>(v.data), literal) + "]";
    case Kind::kSet:
      return "{" + RenderElements(std::get<ValueList>(v.data), literal) + "}";
    case Kind::kMap: {
      std::string out = "{";
      const auto& map = std::get<ValueMap>(v.data);
      for (size_t i = 0; i < map.size(); ++i) {
        if (i > 0) out += ", ";
        out += Render(map[i].first, literal, true) + ": " + Render(map[i].second, literal, true);
      }
      return out + "}";
    }
  }
  return "?";
}

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Java's Double.compare: -0.0 < 0.0, NaN above everything and equal to itself. Matches the
// encoding's order.
int CompareDouble(double a, double b) {
  bool an = std::isnan(a), bn = std::isnan(b);
  if (an || bn) return Cmp(an, bn);
  if (a == b && a == 0) return Cmp(!std::signbit(a), !std::signbit(b));
  return Cmp(a, b);
}

int CompareBytes(std::string_view a, std::string_view b) {
  // std::string_view compares chars as unsigned (char_traits<char>::compare uses memcmp).
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

void PutBigEndian(uint64_t v, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

bool GetBigEndian(std::string_view* in, int bytes, uint64_t* v) {
  if (in->size() < static_cast<size_t>(bytes)) return false;
  *v = 0;
  for (int i = 0; i < bytes; ++i) *v = (*v << 8) | static_cast<unsigned char>((*in)[i]);
  in->remove_prefix(bytes);
  return true;
}

// Order-preserving bits of an IEEE number: flip every bit of negatives, only the sign of the rest.
uint64_t OrderedDoubleBits(double d) {
  if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();  // one canonical NaN
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  return (bits >> 63) != 0 ? ~bits : bits ^ (uint64_t{1} << 63);
}
double DoubleFromOrdered(uint64_t bits) {
  bits = (bits >> 63) != 0 ? bits ^ (uint64_t{1} << 63) : ~bits;
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}
uint32_t OrderedFloatBits(float f) {
  if (std::isnan(f)) f = std::numeric_limits<float>::quiet_NaN();
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return (bits >> 31) != 0 ? ~bits : bits ^ (uint32_t{1} << 31);
}
float FloatFromOrdered(uint32_t bits) {
  bits = (bits >> 31) != 0 ? bits ^ (uint32_t{1} << 31) : ~bits;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

void EncodeBytes(std::string_view s, std::string* out) {
  for (char c : s) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xFF');
  }
  out->push_back('\0');
  out->push_back('\x01');
}

bool DecodeBytes(std::string_view* in, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i < in->size()) {
    char c = (*in)[i];
    if (c != '\0') {
      out->push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= in->size()) return false;
    char next = (*in)[i + 1];
    if (next == '\x01') {
      in->remove_prefix(i + 2);
      return true;
    }
    if (next != '\xFF') return false;
    out->push_back('\0');
    i += 2;
  }
  return false;
}

bool DecodeElements(const Type& elem, std::string_view* in, ValueList* out) {
  uint64_t n;
  if (!GetBigEndian(in, 4, &n) || n > kCollectionElementsMax || n > in->size()) return false;
  out->clear();
  out->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    Value v;
    if (!DecodeValue(elem, in, &v)) return false;
    out->push_back(std::move(v));
  }
  return true;
}

}  // namespace

std::string Type::ToCql() const {
  switch (kind) {
    case Kind::kList:
    case Kind::kSet:
      return std::string(ScalarName(kind)) + "<" + (params.empty() ? "?" : params[0].ToCql()) + ">";
    case Kind::kMap:
      return params.size() != 2 ? "map<?, ?>"
                                : "map<" + params[0].ToCql() + ", " + params[1].ToCql() + ">";
    default:
      return ScalarName(kind);
  }
}

std::string Value::ToDisplay() const { return Render(*this, false, false); }
std::string Value::ToLiteral() const { return Render(*this, true, false); }

int Compare(const Value& a, const Value& b) {
  if (a.type.kind != b.type.kind) return Cmp(a.type.kind, b.type.kind);
  if (a.data.index() != b.data.index()) return Cmp(a.data.index(), b.data.index());
  switch (a.type.kind) {
    case Kind::kText:
    case Kind::kBlob:
      return CompareBytes(std::get<std::string>(a.data), std::get<std::string>(b.data));
    case Kind::kInt:
    case Kind::kBigint:
    case Kind::kTimestamp:
      return Cmp(std::get<int64_t>(a.data), std::get<int64_t>(b.data));
    case Kind::kFloat:
    case Kind::kDouble:
      return CompareDouble(std::get<double>(a.data), std::get<double>(b.data));
    case Kind::kBoolean:
      return Cmp(std::get<bool>(a.data), std::get<bool>(b.data));
    case Kind::kUuid:
      return CompareBytes(std::get<Uuid>(a.data).bytes, std::get<Uuid>(b.data).bytes);
    case Kind::kList:
    case Kind::kSet: {
      const auto& x = std::get<ValueList>(a.data);
      const auto& y = std::get<ValueList>(b.data);
      for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        if (int c = Compare(x[i], y[i]); c != 0) return c;
      }
      return Cmp(x.size(), y.size());
    }
    case Kind::kMap: {
      const auto& x = std::get<ValueMap>(a.data);
      const auto& y = std::get<ValueMap>(b.data);
      for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        if (int c = Compare(x[i].first, y[i].first); c != 0) return c;
        if (int c = Compare(x[i].second, y[i].second); c != 0) return c;
      }
      return Cmp(x.size(), y.size());
    }
  }
  return 0;
}

bool operator==(const Value& a, const Value& b) { return a.type == b.type && Compare(a, b) == 0; }

void EncodeValue(const Value& v, std::string* out) {
  switch (v.type.kind) {
    case Kind::kText:
    case Kind::kBlob:
      EncodeBytes(std::get<std::string>(v.data), out);
      return;
    case Kind::kInt:
      PutBigEndian(static_cast<uint32_t>(static_cast<int32_t>(std::get<int64_t>(v.data))) ^
                       (uint32_t{1} << 31),
                   4, out);
      return;
    case Kind::kBigint:
    case Kind::kTimestamp:
      PutBigEndian(static_cast<uint64_t>(std::get<int64_t>(v.data)) ^ (uint64_t{1} << 63), 8, out);
      return;
    case Kind::kFloat:
      PutBigEndian(OrderedFloatBits(static_cast<float>(std::get<double>(v.data))), 4, out);
      return;
    case Kind::kDouble:
      PutBigEndian(OrderedDoubleBits(std::get<double>(v.data)), 8, out);
      return;
    case Kind::kBoolean:
      out->push_back(std::get<bool>(v.data) ? '\x01' : '\x00');
      return;
    case Kind::kUuid: {
      // Always 16 bytes so the form stays self-delimiting, even for a malformed Uuid.
      std::string b = std::get<Uuid>(v.data).bytes;
      b.resize(16, '\0');
      out->append(b);
      return;
    }
    case Kind::kList:
    case Kind::kSet: {
      const auto& list = std::get<ValueList>(v.data);
      PutBigEndian(list.size(), 4, out);
      for (const Value& e : list) EncodeValue(e, out);
      return;
    }
    case Kind::kMap: {
      const auto& map = std::get<ValueMap>(v.data);
      PutBigEndian(map.size(), 4, out);
      for (const auto& [k, val] : map) {
        EncodeValue(k, out);
        EncodeValue(val, out);
      }
      return;
    }
  }
}

bool DecodeValue(const Type& type, std::string_view* in, Value* out) {
  out->type = type;
  uint64_t bits;
  switch (type.kind) {
    case Kind::kText:
    case Kind::kBlob: {
      std::string s;
      if (!DecodeBytes(in, &s)) return false;
      out->data = std::move(s);
      return true;
    }
    case Kind::kInt:
      if (!GetBigEndian(in, 4, &bits)) return false;
      out->data = int64_t{static_cast<int32_t>(static_cast<uint32_t>(bits) ^ (uint32_t{1} << 31))};
      return true;
    case Kind::kBigint:
    case Kind::kTimestamp:
      if (!GetBigEndian(in, 8, &bits)) return false;
      out->data = static_cast<int64_t>(bits ^ (uint64_t{1} << 63));
      return true;
    case Kind::kFloat:
      if (!GetBigEndian(in, 4, &bits)) return false;
      out->data = static_cast<double>(FloatFromOrdered(static_cast<uint32_t>(bits)));
      // Canonical form only: one NaN.
      if (std::isnan(std::get<double>(out->data)) &&
          bits != OrderedFloatBits(std::numeric_limits<float>::quiet_NaN())) {
        return false;
      }
      return true;
    case Kind::kDouble:
      if (!GetBigEndian(in, 8, &bits)) return false;
      out->data = DoubleFromOrdered(bits);
      if (std::isnan(std::get<double>(out->data)) &&
          bits != OrderedDoubleBits(std::numeric_limits<double>::quiet_NaN())) {
        return false;
      }
      return true;
    case Kind::kBoolean: {
      if (in->empty()) return false;
      char c = in->front();
      if (c != '\0' && c != '\x01') return false;
      in->remove_prefix(1);
      out->data = c == '\x01';
      return true;
    }
    case Kind::kUuid:
      if (in->size() < 16) return false;
      out->data = Uuid{std::string(in->substr(0, 16))};
      in->remove_prefix(16);
      return true;
    case Kind::kList:
    case Kind::kSet: {
      if (type.params.size() != 1 || type.params[0].is_collection()) return false;
      ValueList list;
      if (!DecodeElements(type.params[0], in, &list)) return false;
      if (type.kind == Kind::kSet) {
        // Canonical form only: sorted, no duplicates.
        for (size_t i = 1; i < list.size(); ++i) {
          if (Compare(list[i - 1], list[i]) >= 0) return false;
        }
      }
      out->data = std::move(list);
      return true;
    }
    case Kind::kMap: {
      if (type.params.size() != 2 || type.params[0].is_collection() ||
          type.params[1].is_collection()) {
        return false;
      }
      uint64_t n;
      if (!GetBigEndian(in, 4, &n) || n > kCollectionElementsMax || n > in->size()) return false;
      ValueMap map;
      map.reserve(n);
      for (uint64_t i = 0; i < n; ++i) {
        Value k, v;
        if (!DecodeValue(type.params[0], in, &k) || !DecodeValue(type.params[1], in, &v))
          return false;
        if (!map.empty() && Compare(map.back().first, k) >= 0) return false;
        map.emplace_back(std::move(k), std::move(v));
      }
      out->data = std::move(map);
      return true;
    }
  }
  return false;
}

}  // namespace ringkv::cql
