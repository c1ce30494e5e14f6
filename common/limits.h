// Limits on everything a peer or a client can make the node hold (STYLE.md, Limits on everything).
#ifndef RINGKV_COMMON_LIMITS_H_
#define RINGKV_COMMON_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace ringkv {

inline constexpr size_t kKeyBytesMax = 64 * 1024;
inline constexpr size_t kValueBytesMaxDefault = 16 * 1024 * 1024;
inline constexpr size_t kKeyspaceNameBytesMax = 48;
// All siblings of one key together, as stored. A read returns them all in one answer, so this bounds
// answers too (Riak's max_object_size plays the same part).
inline constexpr size_t kObjectBytesMaxDefault = 64 * 1024 * 1024;
// Riak rejects writes past 100 siblings by default; so do we, and tell the writer to resolve them.
inline constexpr size_t kSiblingsMax = 100;
// Replica merges do not refuse to converge: two replicas with 100 siblings each may merge into 200.
// Stored objects are bounded by this (and by the object byte bound) instead; a new write is refused
// past kSiblingsMax, a write that resolves siblings never is.
inline constexpr size_t kSiblingsStoredMax = 10 * kSiblingsMax;
// A version vector has one entry per actor (a node that coordinated a write: node/identity.h).
inline constexpr size_t kClockEntriesMax = 64;
inline constexpr size_t kContextBytesMax = 16 + 16 * kClockEntriesMax;
inline constexpr uint32_t kTtlSecondsMax = 20 * 365 * 24 * 3600;

}  // namespace ringkv

#endif  // RINGKV_COMMON_LIMITS_H_
