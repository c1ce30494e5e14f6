// TokenRange: an arc of the token ring, (start, end] in Cassandra's notation: start exclusive, end
// inclusive, walking clockwise (towards larger tokens, wrapping from the maximum token to the
// minimum).
//
// Why this shape: a vnode with token t owns the keys whose tokens fall in (previous token, t], so
// the ranges a ring hands out are exactly these arcs and need no other bookkeeping. An arc with
// start >= end wraps around the end of the token space; start == end is the whole ring (a ring with
// a single token), as in Cassandra's Range.
//
// Token std::numeric_limits<Token>::min() is never a key's token (TokenOf maps it to the maximum,
// as Cassandra's Murmur3Partitioner does), so it serves as the ring's origin: Unwrap() splits a
// wrapping arc there into pieces a sequential, token-ordered storage scan can use.
//
// Thread safety: a value type.
#ifndef RINGKV_RING_TOKEN_RANGE_H_
#define RINGKV_RING_TOKEN_RANGE_H_

#include <limits>
#include <string>
#include <vector>

#include "common/token.h"

namespace ringkv {

inline constexpr Token kTokenMin = std::numeric_limits<Token>::min();
inline constexpr Token kTokenMax = std::numeric_limits<Token>::max();

struct TokenRange {
  Token start = 0;  // exclusive
  Token end = 0;    // inclusive

  // start >= end: the arc passes the end of the token space (or is the whole ring).
  bool Wraps() const { return start >= end; }
  bool IsFullRing() const { return start == end; }
  bool Contains(Token t) const {
    return Wraps() ? (t > start || t <= end) : (t > start && t <= end);
  }

  // The share of the 2^64 token space this arc covers, in (0, 1]. For reporting and balancing only:
  // placement never depends on floating point.
  double Fraction() const;

  // The same keys as non-wrapping arcs (start < end), in token order: one piece if the arc does not
  // wrap, else (min, end] then (start, max], leaving out a piece that holds no key token (the
  // piece after start == max, the piece up to end == min). A full ring gives (min, t] and (t, max].
  std::vector<TokenRange> Unwrap() const;

  // "(start, end]".
  std::string ToString() const;

  friend bool operator==(const TokenRange&, const TokenRange&) = default;
};

}  // namespace ringkv

#endif  // RINGKV_RING_TOKEN_RANGE_H_
