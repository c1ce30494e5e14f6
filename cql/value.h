// CQL-lite types and values: what a column holds, how it prints (as cqlsh prints it), how it is
// stored (a self-delimiting binary form) and how values order (clustering keys, sets, map keys).
//
// Thread safety: values are plain data; copies are independent.
#ifndef RINGKV_CQL_VALUE_H_
#define RINGKV_CQL_VALUE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ringkv::cql {

enum class Kind : uint8_t {
  kText, kBlob, kInt, kBigint, kFloat, kDouble, kBoolean, kTimestamp, kUuid,
  kList, kSet, kMap,
};

struct Type {
  Kind kind = Kind::kText;
  // list<T> and set<T>: {T}; map<K, V>: {K, V}; scalars: empty. Collections do not nest.
  std::vector<Type> params;

  static Type Scalar(Kind k) { return Type{k, {}}; }
  bool is_collection() const { return kind == Kind::kList || kind == Kind::kSet || kind == Kind::kMap; }
  std::string ToCql() const;  // "text", "map<text, int>"
  friend bool operator==(const Type&, const Type&) = default;
};

// A non-null value of some Type. Null is std::optional<Value> without a value, wherever it occurs.
//   text, blob            -> std::string (bytes; text is UTF-8)
//   int, bigint           -> int64_t (int checked to 32 bits on the way in)
//   timestamp             -> int64_t milliseconds since the epoch
//   float, double         -> double (float rounded to 32 bits on the way in)
//   boolean               -> bool
//   uuid                  -> Uuid (16 bytes)
//   list, set             -> std::vector<Value> (sets sorted, no duplicates)
//   map                   -> std::vector<std::pair<Value, Value>> (sorted by key, keys unique)
struct Uuid {
  std::string bytes;  // exactly 16
  friend bool operator==(const Uuid&, const Uuid&) = default;
};

struct Value;
using ValueList = std::vector<Value>;
using ValueMap = std::vector<std::pair<Value, Value>>;

struct Value {
  Type type;
  std::variant<std::string, int64_t, double, bool, Uuid, ValueList, ValueMap> data;

  static Value Text(std::string s) { return {Type::Scalar(Kind::kText), std::move(s)}; }
  static Value Blob(std::string s) { return {Type::Scalar(Kind::kBlob), std::move(s)}; }
  static Value Int(int64_t v) { return {Type::Scalar(Kind::kInt), v}; }
  static Value Bigint(int64_t v) { return {Type::Scalar(Kind::kBigint), v}; }
  static Value Double(double v) { return {Type::Scalar(Kind::kDouble), v}; }
  static Value Boolean(bool v) { return {Type::Scalar(Kind::kBoolean), v}; }
  static Value Timestamp(int64_t ms) { return {Type::Scalar(Kind::kTimestamp), ms}; }

  // As cqlsh shows it in a result table: text unquoted, blob 0x..., timestamp
  // "2026-11-24 10:00:00.000000+0000", collections ['a', 'b'] / {'k': 1} with quoted text inside.
  std::string ToDisplay() const;
  // As a CQL literal that parses back to the same value: 'it''s', 0x..., 1.5, true, uuid, [..].
  std::string ToLiteral() const;
};

// Total order within one type (numbers numerically, text and blob bytewise, false < true).
int Compare(const Value& a, const Value& b);
bool operator==(const Value& a, const Value& b);

// Binary form for storage: self-delimiting, canonical (equal values encode equally), and for
// scalars order-preserving under bytewise comparison (used in keys).
void EncodeValue(const Value& v, std::string* out);
// Reads one value of `type` from the front of `*in` and advances it. False on malformed input.
bool DecodeValue(const Type& type, std::string_view* in, Value* out);

}  // namespace ringkv::cql

#endif  // RINGKV_CQL_VALUE_H_
