// OwnershipDiff: which token ranges change replicas between two rings, from whom to whom. Streaming
// on join, decommission and removenode copies each changed range to the nodes that gain it; while a
// node joins or leaves, the gainers are also the pending replicas that writes must reach so that no
// key ever has fewer than N up-to-date owners (DESIGN.md §5).
//
// Only replica sets count: a range whose replicas stay the same but change order (say, a new
// primary among the same nodes) holds the same data everywhere and is not reported.
//
// What a single join or leave guarantees (tested in ownership_diff_test.cc), at factor N:
//  - Join of X into an n-node ring: every change has gained == {X}. If n >= N, lost is exactly the
//    old list's last (N-th) replica and new_replicas is the old list with X inserted and the last
//    dropped, the others keeping their order; if n < N, lost is empty and every range gains X.
//  - Decommission of Y from an n-node ring: every change has lost == {Y}. If n - 1 >= N, gained is
//    exactly the new list's last replica, the old list's (N+1)-th distinct node; otherwise gained
//    is empty.
// Because tokens of other nodes never move, a walk in the new ring meets the remaining nodes in the
// same order as before; only X (or Y) appears in (or vanishes from) it.
//
// Thread safety: a pure function.
#ifndef RINGKV_RING_OWNERSHIP_DIFF_H_
#define RINGKV_RING_OWNERSHIP_DIFF_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ring/ring.h"
#include "ring/token_range.h"

namespace ringkv {

struct RangeChange {
  TokenRange range;
  std::vector<std::string> old_replicas;  // preference order in the old ring
  std::vector<std::string> new_replicas;  // preference order in the new ring
  std::vector<std::string> gained;        // in new, not old; in new's order: they must stream in
  std::vector<std::string> lost;          // in old, not new; in old's order: they may drop it after

  friend bool operator==(const RangeChange&, const RangeChange&) = default;
};

// The ranges whose replica sets at factor n differ between `from` and `to`, ascending by end token,
// adjacent ranges with identical lists merged (across the ring's origin too). Together with the
// unreported ranges they cover the ring exactly once. Either ring may be empty (every range then
// gains or loses all its replicas). Cost: O(U * (log T + walk)) for U distinct tokens in both
// rings.
std::vector<RangeChange> OwnershipDiff(const Ring& from, const Ring& to, uint32_t n);

}  // namespace ringkv

#endif  // RINGKV_RING_OWNERSHIP_DIFF_H_
