// Mix64: Murmur3's 64-bit finalizer (fmix64), a bijection on 64-bit words that spreads every input
// bit over the whole output. TokenOf (common/token.h) ends with it; anti-entropy (aae/) uses it to
// combine a key's token with a version hash. Not a MAC: a peer can choose inputs that collide.
//
// Thread safety: a pure function.
#ifndef RINGKV_COMMON_HASH_H_
#define RINGKV_COMMON_HASH_H_

#include <cstdint>

namespace ringkv {

inline uint64_t Mix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

}  // namespace ringkv

#endif  // RINGKV_COMMON_HASH_H_
