#include "cql/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "cql/parser.h"

namespace ringkv::cql {
namespace {

Type ListOf(Kind k) { return Type{Kind::kList, {Type::Scalar(k)}}; }
Type SetOf(Kind k) { return Type{Kind::kSet, {Type::Scalar(k)}}; }
Type MapOf(Kind k, Kind v) { return Type{Kind::kMap, {Type::Scalar(k), Type::Scalar(v)}}; }
Value Float(double d) { return Value{Type::Scalar(Kind::kFloat), d}; }
Value UuidValue(std::string bytes) {
  return Value{Type::Scalar(Kind::kUuid), Uuid{std::move(bytes)}};
}

std::string Encode(const Value& v) {
  std::string out;
  EncodeValue(v, &out);
  return out;
}

// Encodes, decodes and checks the value comes back whole with no bytes left over.
void ExpectRoundTrip(const Value& v) {
  std::string bytes = Encode(v) + "tail";
  std::string_view in = bytes;
  Value back;
  ASSERT_TRUE(DecodeValue(v.type, &in, &back)) << v.ToLiteral();
  EXPECT_EQ(in, "tail") << v.ToLiteral();
  EXPECT_TRUE(back == v) << v.ToLiteral() << " came back as " << back.ToLiteral();
}

// Parses `v.ToLiteral()` in an INSERT and converts it back for v's type.
void ExpectLiteralRoundTrip(const Value& v) {
  std::string stmt = "INSERT INTO t (c) VALUES (" + v.ToLiteral() + ")";
  auto parsed = ParseStatement(stmt);
  ASSERT_TRUE(parsed.ok()) << stmt << ": " << parsed.error().ToString();
  const auto& insert = std::get<InsertStmt>(parsed->statement);
  auto converted = ConvertTerm(insert.values[0], v.type, {});
  ASSERT_TRUE(converted.ok()) << stmt << ": " << converted.error().ToString();
  ASSERT_TRUE(converted->has_value());
  EXPECT_TRUE(*converted.value() == v) << stmt << " -> " << converted.value()->ToLiteral();
}

std::vector<Value> Samples() {
  return {
      Value::Text(""),
      Value::Text("a"),
      Value::Text("it's"),
      Value::Text(std::string("a\0b", 3)),
      Value::Text("\xc3\xa9t\xc3\xa9"),
      Value::Blob(""),
      Value::Blob(std::string("\0\xff\x01", 3)),
      Value::Int(0),
      Value::Int(-1),
      Value::Int(INT32_MIN),
      Value::Int(INT32_MAX),
      Value::Bigint(INT64_MIN),
      Value::Bigint(INT64_MAX),
      Value::Bigint(42),
      Value::Double(0.5),
      Value::Double(-0.0),
      Value::Double(1e300),
      Value::Double(-2.25e-300),
      Value::Double(std::numeric_limits<double>::infinity()),
      Value::Double(-std::numeric_limits<double>::infinity()),
      Value::Double(std::nan("")),
      Float(1.5),
      Float(-3.25),
      Float(static_cast<float>(0.1)),
      Value::Boolean(true),
      Value::Boolean(false),
      Value::Timestamp(0),
      Value::Timestamp(1795860000123),
      Value::Timestamp(-1),
      Value::Timestamp(INT64_MIN),
      UuidValue(
          std::string("\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef", 16)),
      Value{ListOf(Kind::kText), ValueList{Value::Text("b"), Value::Text("a"), Value::Text("b")}},
      Value{ListOf(Kind::kInt), ValueList{}},
      Value{SetOf(Kind::kInt), ValueList{Value::Int(-5), Value::Int(1), Value::Int(7)}},
      Value{MapOf(Kind::kText, Kind::kDouble), ValueMap{{Value::Text("a"), Value::Double(1.5)},
                                                        {Value::Text("b"), Value::Double(-2)}}},
  };
}

TEST(ValueTest, EncodeDecodeRoundTrips) {
  for (const Value& v : Samples()) ExpectRoundTrip(v);
}

TEST(ValueTest, LiteralRoundTrips) {
  for (const Value& v : Samples()) ExpectLiteralRoundTrip(v);
}

TEST(ValueTest, DecodeRejectsMalformed) {
  Value out;
  for (std::string bad :
       {std::string(""), std::string("abc"), std::string("a\0\x02", 3), std::string("a\0", 2)}) {
    std::string_view in = bad;
    EXPECT_FALSE(DecodeValue(Type::Scalar(Kind::kText), &in, &out)) << bad;
  }
  std::string_view short_int = "\x80\x00";
  EXPECT_FALSE(DecodeValue(Type::Scalar(Kind::kInt), &short_int, &out));
  std::string_view bad_bool = "\x02";
  EXPECT_FALSE(DecodeValue(Type::Scalar(Kind::kBoolean), &bad_bool, &out));
  // A count larger than the input must not allocate.
  std::string_view huge = "\xff\xff\xff\xff";
  EXPECT_FALSE(DecodeValue(ListOf(Kind::kInt), &huge, &out));
  // One NaN: another NaN's bits are not the canonical encoding.
  std::string nan = Encode(Value::Double(std::nan("")));
  nan.back() = static_cast<char>(nan.back() ^ 1);
  std::string_view nan_in = nan;
  EXPECT_FALSE(DecodeValue(Type::Scalar(Kind::kDouble), &nan_in, &out));
  // Sets and maps must be canonical (sorted, unique).
  Value unsorted{SetOf(Kind::kInt), ValueList{Value::Int(2), Value::Int(1)}};
  std::string bytes = Encode(unsorted);
  std::string_view in = bytes;
  EXPECT_FALSE(DecodeValue(SetOf(Kind::kInt), &in, &out));
}

// For each scalar kind, random values: the byte order of encodings is the order of Compare.
TEST(ValueTest, EncodingOrderMatchesCompare) {
  std::mt19937_64 rng(7);
  auto random_value = [&](Kind k) -> Value {
    switch (k) {
      case Kind::kText:
      case Kind::kBlob: {
        std::string s(rng() % 4, '\0');
        for (char& c : s) c = "\0\1a\xff"[rng() % 4];
        return k == Kind::kText ? Value::Text(s) : Value::Blob(s);
      }
      case Kind::kInt:
        return Value::Int(static_cast<int32_t>(rng()) >> (rng() % 32));
      case Kind::kBigint:
        return Value::Bigint(static_cast<int64_t>(rng()) >> (rng() % 64));
      case Kind::kTimestamp:
        return Value::Timestamp(static_cast<int64_t>(rng()) >> (rng() % 64));
      case Kind::kDouble: {
        static const double kSpecial[] = {0.0,
                                          -0.0,
                                          std::numeric_limits<double>::infinity(),
                                          -std::numeric_limits<double>::infinity(),
                                          std::nan(""),
                                          1e-310,
                                          -1e-310};
        if (rng() % 4 == 0) return Value::Double(kSpecial[rng() % 7]);
        return Value::Double(std::ldexp(static_cast<double>(static_cast<int64_t>(rng()) >> 11),
                                        static_cast<int>(rng() % 200) - 100));
      }
      case Kind::kFloat:
        return Float(static_cast<float>(static_cast<int32_t>(rng()) >> (rng() % 31)) / 1024.0f);
      case Kind::kBoolean:
        return Value::Boolean(rng() % 2 == 1);
      default: {
        std::string b(16, '\0');
        for (char& c : b) c = static_cast<char>(rng() % 3 == 0 ? 0xff : rng());
        return UuidValue(b);
      }
    }
  };
  for (Kind k : {Kind::kText, Kind::kBlob, Kind::kInt, Kind::kBigint, Kind::kTimestamp,
                 Kind::kDouble, Kind::kFloat, Kind::kBoolean, Kind::kUuid}) {
    for (int i = 0; i < 2000; ++i) {
      Value a = random_value(k), b = random_value(k);
      int by_value = Compare(a, b);
      std::string ea = Encode(a), eb = Encode(b);
      int by_bytes = ea < eb ? -1 : (eb < ea ? 1 : 0);
      ASSERT_EQ(by_value, by_bytes) << a.ToLiteral() << " vs " << b.ToLiteral();
    }
  }
}

TEST(ValueTest, DisplayAsCqlsh) {
  EXPECT_EQ(Value::Text("it's").ToDisplay(), "it's");
  EXPECT_EQ(Value::Blob("\x01\xab").ToDisplay(), "0x01ab");
  EXPECT_EQ(Value::Double(0.5).ToDisplay(), "0.5");
  EXPECT_EQ(Value::Double(1e6).ToDisplay(), "1e+06");
  EXPECT_EQ(Value::Double(123.456789).ToDisplay(), "123.45679");
  EXPECT_EQ(Value::Double(0.0).ToDisplay(), "0");
  EXPECT_EQ(Value::Double(1.0).ToDisplay(), "1");
  EXPECT_EQ(Value::Double(std::nan("")).ToDisplay(), "NaN");
  EXPECT_EQ(Float(2.5).ToDisplay(), "2.5");
  EXPECT_EQ(Value::Boolean(true).ToDisplay(), "True");
  EXPECT_EQ(Value::Timestamp(0).ToDisplay(), "1970-01-01 00:00:00.000000+0000");
  EXPECT_EQ(Value::Timestamp(-1).ToDisplay(), "1969-12-31 23:59:59.999000+0000");
  // 2026-11-24 10:00:00.123 UTC
  EXPECT_EQ(Value::Timestamp(1795514400123).ToDisplay(), "2026-11-24 10:00:00.123000+0000");
  EXPECT_EQ(
      (Value{ListOf(Kind::kText), ValueList{Value::Text("a"), Value::Text("b'c")}}).ToDisplay(),
      "['a', 'b''c']");
  EXPECT_EQ((Value{MapOf(Kind::kText, Kind::kInt), ValueMap{{Value::Text("k"), Value::Int(1)}}})
                .ToDisplay(),
            "{'k': 1}");
  EXPECT_EQ(UuidValue(std::string(16, '\xab')).ToDisplay(), "abababab-abab-abab-abab-abababababab");
  EXPECT_EQ((Type{Kind::kMap, {Type::Scalar(Kind::kText), Type::Scalar(Kind::kInt)}}).ToCql(),
            "map<text, int>");
}

TEST(ValueTest, CompareOrders) {
  EXPECT_LT(Compare(Value::Int(-3), Value::Int(2)), 0);
  EXPECT_LT(Compare(Value::Text("a"), Value::Text("ab")), 0);
  EXPECT_LT(Compare(Value::Text("a"), Value::Text("\xc3\xa9")), 0);  // bytes compare unsigned
  EXPECT_LT(Compare(Value::Boolean(false), Value::Boolean(true)), 0);
  EXPECT_LT(Compare(Value::Double(-0.0), Value::Double(0.0)), 0);
  EXPECT_EQ(Compare(Value::Double(std::nan("")), Value::Double(std::nan(""))), 0);
  EXPECT_GT(
      Compare(Value::Double(std::nan("")), Value::Double(std::numeric_limits<double>::infinity())),
      0);
  EXPECT_FALSE(Value::Int(1) == Value::Bigint(1));  // different types
}

}  // namespace
}  // namespace ringkv::cql
