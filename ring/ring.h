// Ring: the consistent-hash ring with virtual nodes. Each physical node holds several tokens
// (vnodes); a vnode with token t owns the token range (previous token, t]; a key's replicas are the
// first n distinct physical nodes met walking clockwise from the key's token (DESIGN.md §4).
//
// A Ring is a pure function of the set of members {(node name, tokens)}: it canonicalises its input
// (members by name, tokens ascending), so every node that learns the same tokens through gossip
// derives an identical ring, lookups and Digest() included, whatever order it learnt them in.
// Placement uses integer comparisons only; floating point appears only in ownership reports.
//
// Membership status (JOINING, LEAVING, ...) is deliberately not an input. The caller decides which
// members form a ring: the NORMAL members give the ring that serves reads; that ring plus a joining
// node (or minus a leaving one) gives the future ring, and OwnershipDiff (ring/ownership_diff.h)
// between the two names the ranges to stream and the pending replicas to write to meanwhile.
//
// Token collisions are rejected, never resolved here: Build() fails if two vnodes share a token.
// Resolving one needs facts the ring does not have (Cassandra lets the node with the newer
// generation keep the token), so it is the membership layer's decision, taken before it builds the
// ring.
//
// Thread safety: immutable after Build(); const methods may be called from any number of threads.
#ifndef RINGKV_RING_RING_H_
#define RINGKV_RING_RING_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/token.h"
#include "ring/token_range.h"

namespace ringkv {

// Limits (STYLE.md): members arrive from peers through gossip, so everything a ring holds is
// bounded.
inline constexpr size_t kNodeNameBytesMax = 255;
inline constexpr size_t kTokensPerNodeMax = 1024;  // Cassandra's num_tokens tops out at 1536
inline constexpr size_t kRingNodesMax = 4096;
inline constexpr size_t kRingTokensMax = size_t{1} << 20;  // 16 MiB of vnodes

struct Member {
  std::string name;
  std::vector<Token> tokens;

  friend bool operator==(const Member&, const Member&) = default;
};

class Ring {
 public:
  // A vnode: one token and the index of its physical node in nodes().
  struct VNode {
    Token token;
    uint32_t node;
  };

  // The empty ring: no nodes, every preference list empty.
  Ring() = default;

  // Validates and canonicalises. InvalidArgument when: a name is empty, longer than
  // kNodeNameBytesMax or repeated; a member has no tokens or more than kTokensPerNodeMax; a token
  // is kTokenMin (the ring's origin, never a key token) or is held twice (within one member or by
  // two); more than kRingNodesMax members or kRingTokensMax tokens in all.
  static Result<Ring> Build(std::vector<Member> members);

  bool empty() const { return nodes_.empty(); }
  size_t node_count() const { return nodes_.size(); }
  size_t token_count() const { return vnodes_.size(); }
  // Node names, ascending. A node's index here is what VNode::node and the *Indices methods use.
  const std::vector<std::string>& nodes() const { return nodes_; }
  // All vnodes, ascending by token.
  const std::vector<VNode>& vnodes() const { return vnodes_; }
  // The members as Build() canonicalised them: by name, tokens ascending.
  std::vector<Member> Members() const;
  std::optional<uint32_t> IndexOf(std::string_view node) const;
  bool Contains(std::string_view node) const { return IndexOf(node).has_value(); }
  // The number of tokens the node at `node_index` holds.
  size_t TokensOf(uint32_t node_index) const { return token_counts_[node_index]; }

  // The index in vnodes() of the vnode owning `token`: the first with vnode.token >= token,
  // wrapping to 0 past the last. O(log T) for T tokens. REQUIRES: !empty().
  size_t VNodeFor(Token token) const;

  // The first min(n, node_count()) distinct physical nodes clockwise from `token`, primary first.
  // Cost: O(log T) to find the vnode, then one step per vnode walked, each step checking the nodes
  // found so far (O(n) for n <= 16, O(1) with a bitmap above). With tokens spread by the allocator
  // (ring/tokens.h) the walk is a few vnodes longer than n; it never exceeds T.
  std::vector<std::string> PreferenceList(Token token, uint32_t n) const;
  // As PreferenceList, as node indices into nodes(), into *out (cleared first): the allocation-free
  // form for hot paths.
  void PreferenceIndices(Token token, uint32_t n, std::vector<uint32_t>* out) const;
  // The same walk, starting at vnodes()[vnode_index]: the replicas of every key in
  // RangeOf(vnode_index).
  void ReplicasOfVNode(size_t vnode_index, uint32_t n, std::vector<uint32_t>* out) const;

  // The primary replica of `token`; an empty view when the ring is empty (names are never empty).
  std::string_view PrimaryOwner(Token token) const;

  // The range vnodes()[i] owns as primary: (vnodes()[i-1].token, vnodes()[i].token], the first one
  // wrapping from the last token. A one-token ring has one full-ring range. REQUIRES: i <
  // token_count().
  TokenRange RangeOf(size_t vnode_index) const;
  // RangeOf(i) for every vnode, ascending by end token (so the first is the wrapping one).
  std::vector<TokenRange> Ranges() const;
  // The ranges whose keys `node` replicates at replication factor n, ascending by end token,
  // adjacent ones merged. Empty if the node is not a member.
  std::vector<TokenRange> RangesReplicatedBy(std::string_view node, uint32_t n) const;

  // The share of all keys `node` replicates at replication factor n, in [0, 1]: its primary share
  // for n = 1; 1 for every node when n >= node_count(). 0 if the node is not a member.
  double OwnershipFraction(std::string_view node, uint32_t n) const;
  // OwnershipFraction for every node, indexed like nodes(). O(T * walk).
  std::vector<double> Ownership(uint32_t n) const;

  // A 64-bit fingerprint of the canonical member set: equal rings have equal digests, and two nodes
  // whose digests differ know their rings differ. Murmur3 over a canonical encoding; not a MAC.
  uint64_t Digest() const { return digest_; }

 private:
  std::vector<std::string> nodes_;    // ascending
  std::vector<size_t> token_counts_;  // by node index
  std::vector<VNode> vnodes_;         // ascending by token
  uint64_t digest_ = 0;
};

}  // namespace ringkv

#endif  // RINGKV_RING_RING_H_
