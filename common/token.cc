#include "common/token.h"

#include <cstring>
#include <limits>

#include "common/hash.h"

namespace ringkv {
namespace {

uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t Block(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];  // little-endian, as Java's getLong there
  return v;
}

// A tail byte as Java widens it: sign-extended.
uint64_t Signed(uint8_t b) { return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(b))); }

}  // namespace

Token TokenOf(std::string_view key) {
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  const size_t len = key.size();
  const size_t blocks = len / 16;
  constexpr uint64_t c1 = 0x87c37b91114253d5ULL;
  constexpr uint64_t c2 = 0x4cf5ad432745937fULL;
  uint64_t h1 = 0, h2 = 0;

  for (size_t i = 0; i < blocks; ++i) {
    uint64_t k1 = Block(data + i * 16);
    uint64_t k2 = Block(data + i * 16 + 8);
    k1 *= c1; k1 = Rotl(k1, 31); k1 *= c2; h1 ^= k1;
    h1 = Rotl(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
    k2 *= c2; k2 = Rotl(k2, 33); k2 *= c1; h2 ^= k2;
    h2 = Rotl(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
  }

  const uint8_t* tail = data + blocks * 16;
  uint64_t k1 = 0, k2 = 0;
  switch (len & 15) {
    case 15: k2 ^= Signed(tail[14]) << 48; [[fallthrough]];
    case 14: k2 ^= Signed(tail[13]) << 40; [[fallthrough]];
    case 13: k2 ^= Signed(tail[12]) << 32; [[fallthrough]];
    case 12: k2 ^= Signed(tail[11]) << 24; [[fallthrough]];
    case 11: k2 ^= Signed(tail[10]) << 16; [[fallthrough]];
    case 10: k2 ^= Signed(tail[9]) << 8; [[fallthrough]];
    case 9:
      k2 ^= Signed(tail[8]);
      k2 *= c2; k2 = Rotl(k2, 33); k2 *= c1; h2 ^= k2;
      [[fallthrough]];
    case 8: k1 ^= Signed(tail[7]) << 56; [[fallthrough]];
    case 7: k1 ^= Signed(tail[6]) << 48; [[fallthrough]];
    case 6: k1 ^= Signed(tail[5]) << 40; [[fallthrough]];
    case 5: k1 ^= Signed(tail[4]) << 32; [[fallthrough]];
    case 4: k1 ^= Signed(tail[3]) << 24; [[fallthrough]];
    case 3: k1 ^= Signed(tail[2]) << 16; [[fallthrough]];
    case 2: k1 ^= Signed(tail[1]) << 8; [[fallthrough]];
    case 1:
      k1 ^= Signed(tail[0]);
      k1 *= c1; k1 = Rotl(k1, 31); k1 *= c2; h1 ^= k1;
  }

  h1 ^= len; h2 ^= len;
  h1 += h2; h2 += h1;
  h1 = Mix64(h1); h2 = Mix64(h2);
  h1 += h2;

  const auto token = static_cast<Token>(h1);
  // Cassandra reserves the minimum as the ring's start; a key that hashes there takes the maximum.
  return token == std::numeric_limits<Token>::min() ? std::numeric_limits<Token>::max() : token;
}

}  // namespace ringkv
