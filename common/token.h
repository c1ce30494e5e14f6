// The partitioner's token for a key: Murmur3 x64 128-bit with seed 0, first 64-bit half, exactly as
// Cassandra's Murmur3Partitioner computes it, so token ranges agree with Cassandra tools.
//
// Cassandra's implementation reads the tail bytes (len % 16) as signed Java bytes; so does this one,
// which differs from the reference MurmurHash3 for keys whose tail has bytes >= 0x80.
#ifndef RINGKV_COMMON_TOKEN_H_
#define RINGKV_COMMON_TOKEN_H_

#include <cstdint>
#include <string_view>

namespace ringkv {

using Token = int64_t;

Token TokenOf(std::string_view key);

}  // namespace ringkv

#endif  // RINGKV_COMMON_TOKEN_H_
