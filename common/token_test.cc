// Murmur3 tokens, checked against Cassandra's golden vectors and against an independent reference
// MurmurHash3_x64_128 written here from the public-domain algorithm (Austin Appleby, smhasher).
#include "common/token.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

namespace ringkv {
namespace {

// The reference algorithm, written for clarity rather than speed. `java_signed_tail` widens each
// tail byte as Java's byte does (sign-extended), which is what Cassandra's Murmur3Partitioner does;
// without it the tail bytes are unsigned, as in smhasher's MurmurHash3_x64_128.
struct Hash128 {
  uint64_t h1;
  uint64_t h2;
};

uint64_t RotateLeft(uint64_t x, unsigned r) { return (x << r) | (x >> (64 - r)); }

uint64_t FinalMix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

uint64_t LoadLittleEndian64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

uint64_t TailByte(unsigned char b, bool java_signed_tail) {
  if (!java_signed_tail) return b;
  return b < 0x80 ? uint64_t{b} : (uint64_t{b} | 0xffffffffffffff00ULL);
}

Hash128 ReferenceMurmur3x64(std::string_view key, uint64_t seed, bool java_signed_tail) {
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  const size_t len = key.size();
  const uint64_t c1 = 0x87c37b91114253d5ULL;
  const uint64_t c2 = 0x4cf5ad432745937fULL;
  uint64_t h1 = seed;
  uint64_t h2 = seed;

  size_t i = 0;
  for (; i + 16 <= len; i += 16) {
    uint64_t k1 = LoadLittleEndian64(data + i);
    uint64_t k2 = LoadLittleEndian64(data + i + 8);
    k1 *= c1;
    k1 = RotateLeft(k1, 31);
    k1 *= c2;
    h1 ^= k1;
    h1 = RotateLeft(h1, 27);
    h1 += h2;
    h1 = h1 * 5 + 0x52dce729;
    k2 *= c2;
    k2 = RotateLeft(k2, 33);
    k2 *= c1;
    h2 ^= k2;
    h2 = RotateLeft(h2, 31);
    h2 += h1;
    h2 = h2 * 5 + 0x38495ab5;
  }

  // Tail: bytes 0..7 of it go to k1, bytes 8..14 to k2, each at its little-endian position.
  const size_t rest = len - i;
  uint64_t k1 = 0;
  uint64_t k2 = 0;
  for (size_t j = 0; j < rest; ++j) {
    const uint64_t b = TailByte(data[i + j], java_signed_tail);
    if (j < 8) {
      k1 ^= b << (8 * j);
    } else {
      k2 ^= b << (8 * (j - 8));
    }
  }
  if (rest > 8) {
    k2 *= c2;
    k2 = RotateLeft(k2, 33);
    k2 *= c1;
    h2 ^= k2;
  }
  if (rest > 0) {
    k1 *= c1;
    k1 = RotateLeft(k1, 31);
    k1 *= c2;
    h1 ^= k1;
  }

  h1 ^= len;
  h2 ^= len;
  h1 += h2;
  h2 += h1;
  h1 = FinalMix(h1);
  h2 = FinalMix(h2);
  h1 += h2;
  h2 += h1;
  return {h1, h2};
}

// The partitioner rule: the first half as a signed token, with the minimum (the ring's start)
// mapped to the maximum.
Token ReferenceToken(std::string_view key, bool java_signed_tail) {
  const auto t = static_cast<Token>(ReferenceMurmur3x64(key, 0, java_signed_tail).h1);
  return t == std::numeric_limits<Token>::min() ? std::numeric_limits<Token>::max() : t;
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

TEST(TokenTest, CassandraGoldenVectors) {
  EXPECT_EQ(TokenOf("doc1"), 5607192412168825486LL);
  EXPECT_EQ(TokenOf("123456789012345678"), -1519150012378291793LL);
}

// The reference itself must be right before it can judge TokenOf: smhasher's published
// verification value for MurmurHash3_x64_128 (keys 0, {0}, {0,1}, ... {0..254} hashed with seed
// 256 - i, the 255 hashes hashed with seed 0, first 4 bytes little-endian) is 0x6384BA69.
TEST(TokenTest, ReferenceMatchesSmhasherVerificationValue) {
  std::string hashes;
  std::string key;
  for (int i = 0; i < 256; ++i) {
    const Hash128 h = ReferenceMurmur3x64(key, 256 - i, /*java_signed_tail=*/false);
    for (int b = 0; b < 8; ++b) hashes.push_back(static_cast<char>(h.h1 >> (8 * b)));
    for (int b = 0; b < 8; ++b) hashes.push_back(static_cast<char>(h.h2 >> (8 * b)));
    key.push_back(static_cast<char>(i));
  }
  const Hash128 final_hash = ReferenceMurmur3x64(hashes, 0, /*java_signed_tail=*/false);
  EXPECT_EQ(static_cast<uint32_t>(final_hash.h1), 0x6384BA69u);
}

TEST(TokenTest, ReferenceAgreesWithCassandraGoldenVectors) {
  EXPECT_EQ(ReferenceToken("doc1", true), 5607192412168825486LL);
  EXPECT_EQ(ReferenceToken("123456789012345678", true), -1519150012378291793LL);
}

// Murmur3 of nothing with seed 0 is 0 in both halves (the finaliser maps 0 to 0), and TokenOf
// returns that hash. Cassandra's Murmur3Partitioner.getToken instead short-circuits an empty key to
// MINIMUM (Long.MIN_VALUE), its ring-start sentinel; ringkv rejects empty keys before hashing
// (KvService::ValidateKey), so the two never meet on a stored key. This pins ringkv's behaviour.
TEST(TokenTest, EmptyKeyHashesToZeroUnlikeCassandrasMinimum) {
  EXPECT_EQ(ReferenceMurmur3x64("", 0, false).h1, 0u);
  EXPECT_EQ(TokenOf(""), 0);
}

TEST(TokenTest, WholeBlockKeysHaveNoTail) {
  // 16 and 32 bytes: only the block loop runs, so signed and unsigned tails agree even with high
  // bytes.
  std::mt19937_64 rng(16);
  for (size_t len : {16u, 32u, 48u}) {
    for (int i = 0; i < 50; ++i) {
      std::string key = RandomBytes(rng, len);
      key[0] = '\xff';
      ASSERT_EQ(ReferenceToken(key, true), ReferenceToken(key, false));
      EXPECT_EQ(TokenOf(key), ReferenceToken(key, false)) << "length " << len;
    }
  }
}

TEST(TokenTest, EveryLengthMatchesJavaStyleReferenceOnRandomBytes) {
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (size_t len = 0; len <= 40; ++len) {
    for (int i = 0; i < 200; ++i) {
      const std::string key = RandomBytes(rng, len);
      ASSERT_EQ(TokenOf(key), ReferenceToken(key, /*java_signed_tail=*/true)) << "length " << len;
    }
  }
}

TEST(TokenTest, EveryLengthMatchesStandardReferenceWhenTailIsAscii) {
  std::mt19937_64 rng(41);
  for (size_t len = 0; len <= 40; ++len) {
    for (int i = 0; i < 200; ++i) {
      std::string key = RandomBytes(rng, len);
      for (size_t j = len / 16 * 16; j < len; ++j) key[j] = static_cast<char>(key[j] & 0x7f);
      ASSERT_EQ(TokenOf(key), ReferenceToken(key, /*java_signed_tail=*/false)) << "length " << len;
    }
  }
}

TEST(TokenTest, HighTailByteTakesTheJavaBranch) {
  // Guards the test above: a tail byte >= 0x80 really does separate the two variants, so agreeing
  // with the Java-style one is a real check.
  int differ = 0;
  for (size_t len = 1; len <= 40; ++len) {
    if (len % 16 == 0) continue;
    std::string key(len, 'a');
    // The first tail byte: at the tail's last position of a half (byte 7) sign extension would
    // shift out of the word and change nothing.
    key[len / 16 * 16] = '\xc3';
    if (ReferenceToken(key, true) != ReferenceToken(key, false)) ++differ;
    EXPECT_EQ(TokenOf(key), ReferenceToken(key, true)) << "length " << len;
  }
  EXPECT_EQ(differ, 38);
}

// Not tested: the rule "a key whose hash is Long.MIN_VALUE takes Long.MAX_VALUE". Exercising it
// needs a key whose Murmur3 first half is exactly 0x8000000000000000, a preimage search of about
// 2^64 hashes, and TokenOf has no seam to inject a hash; a random-key check would be a test that
// cannot fail. ReferenceToken above applies the same rule, so it is at least stated twice.

}  // namespace
}  // namespace ringkv
