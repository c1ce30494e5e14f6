// VersionHash: the 64-bit digest of a stored object's causal state that anti-entropy's trees hold
// per key (aae/tictac_tree.h). Two replicas whose copies of a key are equal after merging (the
// same clock and the same siblings, whatever order they were stored in) give the same hash; a
// replica missing a write, a delete or a merge gives another.
//
// It covers the clock's entries and each sibling's dot and tombstone flag, and not the values: a
// dot names exactly one value (node/identity.h), so equal dots are equal values. Sibling order
// does not matter (the dots are sorted first).
//
// Thread safety: a pure function.
#ifndef RINGKV_AAE_VERSION_HASH_H_
#define RINGKV_AAE_VERSION_HASH_H_

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <vector>

#include "common/hash.h"
#include "common/version.h"

namespace ringkv {

inline uint64_t VersionHash(const VersionedObject& object) {
  uint64_t h = 0x6a09e667f3bcc908ULL;
  auto mix = [&h](uint64_t word) { h = Mix64(h ^ Mix64(word + 0x9e3779b97f4a7c15ULL)); };
  mix(object.clock().size());
  for (const auto& [actor, counter] : object.clock().entries()) {
    mix(actor);
    mix(counter);
  }
  std::vector<std::tuple<uint64_t, uint64_t, bool>> dots;
  dots.reserve(object.siblings().size());
  for (const auto& s : object.siblings()) dots.emplace_back(s.dot.actor, s.dot.counter, s.tombstone);
  std::sort(dots.begin(), dots.end());
  mix(dots.size());
  for (const auto& [actor, counter, tombstone] : dots) {
    mix(actor);
    mix(counter);
    mix(tombstone ? 1 : 0);
  }
  return h;
}

}  // namespace ringkv

#endif  // RINGKV_AAE_VERSION_HASH_H_
