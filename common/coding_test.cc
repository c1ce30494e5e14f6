// Varints, fixed-width integers and the bounds-checked Decoder over untrusted bytes.
#include "common/coding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ringkv {
namespace {

std::string Varint(uint64_t v) {
  std::string s;
  PutVarint64(&s, v);
  return s;
}

// Boundaries of every LEB128 length: 2^(7k) - 1 and 2^(7k), plus the extremes.
std::vector<uint64_t> Boundaries() {
  std::vector<uint64_t> out = {0, 1, std::numeric_limits<uint64_t>::max(),
                               std::numeric_limits<uint64_t>::max() - 1, uint64_t{1} << 63};
  for (int k = 1; k <= 9; ++k) {
    const uint64_t p = uint64_t{1} << (7 * k);
    out.push_back(p - 1);
    out.push_back(p);
    out.push_back(p + 1);
  }
  return out;
}

// Length of the LEB128 encoding computed independently of PutVarint64.
size_t ExpectedLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

TEST(CodingTest, VarintRoundTripsAtLengthBoundaries) {
  for (uint64_t v : Boundaries()) {
    const std::string bytes = Varint(v);
    EXPECT_EQ(bytes.size(), ExpectedLength(v)) << v;
    Decoder in(bytes);
    uint64_t got = 0;
    ASSERT_TRUE(in.GetVarint64(&got)) << v;
    EXPECT_EQ(got, v);
    EXPECT_TRUE(in.empty());
  }
}

TEST(CodingTest, VarintKnownEncodings) {
  EXPECT_EQ(Varint(0), std::string(1, '\0'));
  EXPECT_EQ(Varint(127), "\x7f");
  EXPECT_EQ(Varint(128), "\x80\x01");
  EXPECT_EQ(Varint(300), "\xac\x02");
  EXPECT_EQ(Varint(std::numeric_limits<uint64_t>::max()),
            "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
}

TEST(CodingTest, VarintRoundTripsRandomValuesInSequence) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> values;
  std::string bytes;
  for (int i = 0; i < 2000; ++i) {
    // Spread over every length: a random value shifted right by a random amount.
    const uint64_t v = rng() >> (rng() % 64);
    values.push_back(v);
    PutVarint64(&bytes, v);
  }
  Decoder in(bytes);
  for (uint64_t want : values) {
    uint64_t got = 0;
    ASSERT_TRUE(in.GetVarint64(&got));
    ASSERT_EQ(got, want);
  }
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, VarintRejectsOverflowingTenthByte) {
  // Nine continuation bytes carry 63 bits; the tenth may only contribute bit 63.
  const std::string nine(9, '\xff');
  for (int last = 0; last < 256; ++last) {
    std::string bytes = nine + static_cast<char>(last);
    Decoder in(bytes);
    uint64_t v = 0;
    const bool ok = in.GetVarint64(&v);
    if (last == 1) {
      ASSERT_TRUE(ok);
      EXPECT_EQ(v, std::numeric_limits<uint64_t>::max());
    } else if (last == 0) {
      // 2^63 - 1 fits in nine bytes: a zero tenth byte is padding, refused as non-canonical.
      EXPECT_FALSE(ok) << "overlong encoding accepted";
    } else {
      EXPECT_FALSE(ok) << "tenth byte " << last << " overflows 64 bits";
    }
  }
}

TEST(CodingTest, VarintRejectsElevenBytes) {
  // Ten continuation bytes then a terminator: longer than any 64-bit value.
  std::string bytes(10, '\x80');
  bytes.push_back('\x00');
  Decoder in(bytes);
  uint64_t v = 0;
  EXPECT_FALSE(in.GetVarint64(&v));
}

TEST(CodingTest, VarintRejectsEveryTruncation) {
  for (uint64_t v : Boundaries()) {
    const std::string bytes = Varint(v);
    for (size_t len = 0; len < bytes.size(); ++len) {
      Decoder in(std::string_view(bytes).substr(0, len));
      uint64_t got = 12345;
      EXPECT_FALSE(in.GetVarint64(&got)) << v << " cut at " << len;
      EXPECT_EQ(got, 12345u) << "output written on failure";
    }
  }
}

TEST(CodingTest, Fixed64BigEndianRoundTripAndOrder) {
  std::string bytes;
  PutFixed64BE(&bytes, 0x0102030405060708ULL);
  EXPECT_EQ(bytes, "\x01\x02\x03\x04\x05\x06\x07\x08");
  // Big-endian: byte order is numeric order, which is why storage keys use it.
  std::string a, b;
  PutFixed64BE(&a, 0x00ff);
  PutFixed64BE(&b, 0x0100);
  EXPECT_LT(a, b);
  for (uint64_t v : Boundaries()) {
    std::string s;
    PutFixed64BE(&s, v);
    ASSERT_EQ(s.size(), 8u);
    for (size_t len = 0; len < 8; ++len) {
      Decoder cut(std::string_view(s).substr(0, len));
      uint64_t got = 0;
      EXPECT_FALSE(cut.GetFixed64BE(&got)) << len;
    }
    Decoder in(s);
    uint64_t got = 0;
    ASSERT_TRUE(in.GetFixed64BE(&got));
    EXPECT_EQ(got, v);
    EXPECT_TRUE(in.empty());
  }
}

TEST(CodingTest, GetByteOnEmptyInputFails) {
  Decoder in("");
  uint8_t b = 7;
  EXPECT_FALSE(in.GetByte(&b));
  EXPECT_EQ(b, 7);
  Decoder one("\xfe");
  ASSERT_TRUE(one.GetByte(&b));
  EXPECT_EQ(b, 0xfe);
  EXPECT_FALSE(one.GetByte(&b));
}

TEST(CodingTest, LengthPrefixedRoundTripAndLimits) {
  std::string bytes;
  PutLengthPrefixed(&bytes, "hello");
  PutLengthPrefixed(&bytes, "");
  PutLengthPrefixed(&bytes, std::string(300, 'x'));
  Decoder in(bytes);
  std::string_view s;
  ASSERT_TRUE(in.GetLengthPrefixed(&s, 1000));
  EXPECT_EQ(s, "hello");
  ASSERT_TRUE(in.GetLengthPrefixed(&s, 1000));
  EXPECT_EQ(s, "");
  ASSERT_TRUE(in.GetLengthPrefixed(&s, 300));  // exactly at the limit
  EXPECT_EQ(s, std::string(300, 'x'));
  EXPECT_TRUE(in.empty());

  Decoder over(bytes);
  ASSERT_TRUE(over.GetLengthPrefixed(&s, 5));
  ASSERT_TRUE(over.GetLengthPrefixed(&s, 5));
  EXPECT_FALSE(over.GetLengthPrefixed(&s, 299)) << "length above max_bytes accepted";
}

TEST(CodingTest, LengthPrefixedRejectsEveryTruncation) {
  std::string bytes;
  PutLengthPrefixed(&bytes, std::string(200, 'v'));  // two-byte length, then 200 bytes
  for (size_t len = 0; len < bytes.size(); ++len) {
    Decoder in(std::string_view(bytes).substr(0, len));
    std::string_view s;
    EXPECT_FALSE(in.GetLengthPrefixed(&s, 1 << 20)) << "cut at " << len;
  }
}

TEST(CodingTest, LengthPrefixedHugeLengthDoesNotOverflow) {
  // A length near 2^64 must not wrap any bounds arithmetic.
  std::string bytes = Varint(std::numeric_limits<uint64_t>::max());
  bytes += "abc";
  Decoder in(bytes);
  std::string_view s;
  EXPECT_FALSE(in.GetLengthPrefixed(&s, std::numeric_limits<uint64_t>::max()));
}

TEST(CodingTest, RestShowsUnreadBytes) {
  std::string bytes = Varint(300) + "tail";
  Decoder in(bytes);
  uint64_t v = 0;
  ASSERT_TRUE(in.GetVarint64(&v));
  EXPECT_EQ(in.rest(), "tail");
  EXPECT_FALSE(in.empty());
}

// coding.h: "Every Get* returns false, and leaves the cursor failed, when the input is too short or
// malformed." A failed read must not let a later read succeed on the bytes after the bad field.
TEST(CodingTest, FailedReadLeavesCursorFailed) {
  // A length prefix of 5 over 3 remaining bytes fails, but the 3 bytes are still there.
  Decoder in(
      "\x05"
      "abc");
  std::string_view s;
  ASSERT_FALSE(in.GetLengthPrefixed(&s, 100));
  uint8_t b = 0;
  EXPECT_FALSE(in.GetByte(&b)) << "read succeeded after a failed read (got byte " << int{b} << ")";

  // An overflowing varint leaves its tenth byte consumed and the rest readable.
  std::string bytes(9, '\xff');
  bytes +=
      "\x02"
      "x";
  Decoder over(bytes);
  uint64_t v = 0;
  ASSERT_FALSE(over.GetVarint64(&v));
  EXPECT_FALSE(over.GetByte(&b)) << "read succeeded after a failed read (got byte " << int{b}
                                 << ")";
}

}  // namespace
}  // namespace ringkv
