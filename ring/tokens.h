// Choosing the tokens of a node that joins a ring.
//
// Two ways, both deterministic functions of (ring, node, count, seed), so a node that restarts its
// join with the same seed asks for the same tokens. (The balanced one uses floating point, so it is
// bit-for-bit repeatable on one build, not necessarily across compilers. That is enough: only the
// joining node runs it; everyone else learns the chosen tokens through gossip.)
//
// - RandomTokens: uniform random tokens, Cassandra's default before 4.0. Simple and needs no view
//   of the ring, but a node's share is a sum of random gaps, so balance only comes with many
//   tokens: at N = 3 on 5 to 50 nodes the most loaded node carried 1.22-1.40x the mean with 16
//   tokens each and 1.05-1.11x with 256 (tokens_test.cc, ring/README.md).
//
// - AllocateTokens: balanced, in the spirit of Cassandra 4's
//   allocate_tokens_for_local_replication_factor. Tokens are placed one at a time; each goes into
//   the existing range, and at the split point within it, that most reduces the spread of
//   replicated ownership around fair shares, per physical node and per vnode, at the given
//   replication factor N and, with less weight, at every factor below it (keyspaces differ in N).
//   Balance per vnode keeps vnode sizes even, which keeps later joins balanced too
//   (ring/balanced_allocator.h). The first node of an empty ring gets evenly spaced tokens at a
//   seeded offset.
//
// kDefaultTokensPerNode is 16, Cassandra 4's default with its allocator, for these reasons:
//   - With the balanced allocator 16 vnodes already keep the most loaded node within 3% of the mean
//     at N = 3 and within 8% at N = 1, 2 and 5 (3 to 50 nodes; tokens_test.cc, ring/README.md), so
//     more vnodes buy little balance.
//   - Every vnode is a range that anti-entropy (a Merkle tree per range) and streaming handle
//     separately; fewer vnodes mean fewer, larger trees and streams.
//   - With V vnodes a node shares replica sets with up to about V*N*(N-1) others; with 256 nearly
//     every pair of nodes shares one, so almost any two failures at N = 3 leave some keys without a
//     quorum. Fewer vnodes confine a failure's effect to fewer peers.
//   - Still enough that a joining node streams from many peers at once and a leaving node's load
//     spreads over many, which is what vnodes are for.
//
// Two nodes allocating against the same ring at the same time would aim at the same spots; the seed
// jitters each split point so their tokens almost surely differ (and Ring::Build rejects them if
// not), but the result is balanced only if joins are serialised (as Cassandra insists), each
// allocating against the ring that includes the last.
// Derive the seed from something unique to the node (e.g. TokenOf(name) ^ generation).
//
// Thread safety: pure functions.
#ifndef RINGKV_RING_TOKENS_H_
#define RINGKV_RING_TOKENS_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/token.h"
#include "ring/ring.h"

namespace ringkv {

inline constexpr uint32_t kDefaultTokensPerNode = 16;
inline constexpr uint32_t kDefaultAllocationReplicationFactor = 3;

// `count` distinct uniform random tokens for `node` that no member of `ring` holds, ascending.
// InvalidArgument if the node is already a member, its name is invalid (see Ring::Build), count is
// 0 or above kTokensPerNodeMax, or the ring would exceed its limits with the node added.
Result<std::vector<Token>> RandomTokens(const Ring& ring, std::string_view node, uint32_t count,
                                        uint64_t seed);

struct AllocationOptions {
  uint32_t tokens = kDefaultTokensPerNode;
  // The replication factor to balance for (Cassandra:
  // allocate_tokens_for_local_replication_factor). Balance at one factor is good at nearby ones
  // too, but not guaranteed.
  uint32_t replication_factor = kDefaultAllocationReplicationFactor;
  uint64_t seed = 0;
};

// `options.tokens` tokens for `node`, placed for balance as described above, ascending; none is
// held by a member of `ring`. Same errors as RandomTokens, and InvalidArgument if the replication
// factor is 0. Cost: O(tokens * T * w * N^2) for T tokens in the ring and w the vnodes a change of
// one token reaches (a few times N): tens of milliseconds for 16 tokens joining 50 nodes. While the
// ring has fewer than N nodes w can reach T (every walk laps the ring); rings are small then.
Result<std::vector<Token>> AllocateTokens(const Ring& ring, std::string_view node,
                                          const AllocationOptions& options);

}  // namespace ringkv

#endif  // RINGKV_RING_TOKENS_H_
