// TictacTree: the Merkle tree of one replica's copy of one (keyspace, token range), in the manner
// of Riak's Tictac AAE (leveled_tictac.erl). Two replicas compare trees level by level to find the
// few keys on which they differ without listing the range (aae/exchange.h).
//
// Shape. Fixed at construction and never resized: a root over `branches` branch hashes, each over
// `leaves_per_branch` leaf hashes; the leaves are the tree's segments, numbered
// 0 .. branches * leaves_per_branch - 1, branch b owning segments [b * lpb, (b + 1) * lpb). Both
// counts are powers of two. The default, 1024 x 256 = 262,144 segments, keeps a few keys per
// segment up to about a million keys per range, so the key lists of an exchange stay close to the
// differing keys themselves; Riak's "large" tree (leveled_tictac.erl) is 1024 x 1024 segments of
// 32-bit hashes (4 MiB). A node holding many small ranges may choose a smaller shape.
//
// Segments. A tree covers one token range (start, end] (ring/token_range.h; it may wrap, and
// start == end is the whole ring). A key's token t = TokenOf(key) (Murmur3, common/token.h) picks
// its segment by its place in the range: the range is cut into `segments` slices of equal width
// (to one token), in token order, so a segment's keys are one token interval (SegmentTokens) and a
// storage ordered by token reads them without scanning the rest of the range. Tokens are uniform,
// so keys spread over the segments as evenly as a hash would spread them.
//
// Hashes. The key with version hash v contributes h(key, v) = Mix64(t ^ Mix64(v ^ kVersionSalt))
// to its leaf. The version hash is the caller's 64-bit digest of the object's causal state
// (siblings' dots, tombstones): equal objects must give equal version hashes on every replica. A
// leaf is the XOR of the contributions of its keys, a branch the XOR of its leaves, the root the
// XOR of its branches, so
//  - a tree depends only on the set of (key, version hash) pairs, not on the order they came in;
//  - an update is O(1): XOR out the old contribution and XOR in the new at the leaf, its branch and
//    the root (three words), and a remove restores the tree to what it was before the insert.
// Two trees over different sets differ at a given leaf, branch or root with probability
// 1 - 2^-64 unless the differences cancel by chance (XOR, not a MAC: trusted replicas only).
//
// Memory. 8 bytes per segment, per branch and for the root, plus the object's few dozen bytes: for
// the default shape 8 * (262,144 + 1,024 + 1) = 2,105,352 bytes of hashes (about 2.0 MiB) per tree,
// whatever the number of keys: the tree holds no keys, so a million keys cost nothing more than ten
// (MemoryBytes()). At most 8 MiB (kSegmentsMax).
// TODO(perf): allocate a branch's leaves on its first key, as leveled does, for sparse ranges.
//
// Invariants (checked by CheckInvariants(), cost O(segments)): every branch hash is the XOR of its
// leaves and the root the XOR of the branches.
//
// Thread safety: none. A tree belongs to one event loop (DESIGN.md §2); const methods may be called
// concurrently with each other.
#ifndef RINGKV_AAE_TICTAC_TREE_H_
#define RINGKV_AAE_TICTAC_TREE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/token.h"
#include "ring/token_range.h"

namespace ringkv {

// The shape of a tree. Trees compare only with trees of the same shape over the same range.
struct TreeShape {
  uint32_t branches = 1024;
  uint32_t leaves_per_branch = 256;

  uint32_t segments() const { return branches * leaves_per_branch; }
  // "1024x256".
  std::string ToString() const;
  // InvalidArgument unless both counts are powers of two, branches <= kBranchesMax,
  // leaves_per_branch <= kLeavesPerBranchMax and segments() <= kSegmentsMax.
  Status Validate() const;

  friend bool operator==(const TreeShape&, const TreeShape&) = default;
};

// The segment (leaf) of a key whose token is `token` in every tree of `shape` over `range`: the
// token's offset in the range, scaled to [0, segments). Cost: a 128-bit division.
// REQUIRES: shape.Validate().ok(), range.Contains(token).
uint32_t SegmentOf(const TreeShape& shape, const TokenRange& range, Token token);

// The tokens of segments first..last of such a tree, as one arc (from_exclusive, to_inclusive],
// which wraps where the range does; nullopt if they hold no token (a range narrower than its
// segment count leaves some segments empty). Over all segments the arcs cover the range and no
// token lies in two; all segments of a whole-ring tree give the whole ring.
// REQUIRES: shape.Validate().ok(), first <= last < shape.segments().
std::optional<TokenRange> SegmentTokens(const TreeShape& shape, const TokenRange& range,
                                        uint32_t first, uint32_t last);

inline constexpr uint32_t kBranchesMax = 1u << 16;
inline constexpr uint32_t kLeavesPerBranchMax = 1u << 16;
// 8 MiB of leaves: Riak's largest tree (1024 x 1024 segments) in 64-bit hashes.
inline constexpr uint32_t kSegmentsMax = 1u << 20;

class TictacTree {
 public:
  // An empty tree (all hashes zero) of `shape` over `range` (TokenRange{}: the whole ring).
  // REQUIRES: shape.Validate().ok().
  explicit TictacTree(TreeShape shape = TreeShape{}, TokenRange range = TokenRange{});

  TictacTree(const TictacTree&) = default;
  TictacTree& operator=(const TictacTree&) = default;
  TictacTree(TictacTree&&) = default;
  TictacTree& operator=(TictacTree&&) = default;

  const TreeShape& shape() const { return shape_; }
  const TokenRange& range() const { return range_; }

  // The contribution of `key` at version hash `version_hash` to its leaf.
  static uint64_t KeyVersionHash(std::string_view key, uint64_t version_hash);

  // Records that `key` went from `old_version_hash` to `new_version_hash` (nullopt: absent). Insert
  // is (nullopt, v), remove (v, nullopt), overwrite (v, w). O(1): one TokenOf, one SegmentOf and
  // three XORs. REQUIRES: range().Contains(TokenOf(key)); old_version_hash is what the tree last
  // recorded for key (the caller's storage knows it), otherwise the tree no longer matches the data
  // until rebuilt.
  void Apply(std::string_view key, std::optional<uint64_t> old_version_hash,
             std::optional<uint64_t> new_version_hash);

  // Back to the empty tree, as before a rebuild by range scan.
  void Clear();

  uint64_t root() const { return root_; }
  // All branch hashes, branch 0 first.
  std::span<const uint64_t> branch_hashes() const { return branches_; }
  // The leaf hashes of branch b, its first segment first. REQUIRES: b < shape().branches.
  std::span<const uint64_t> leaves_of(uint32_t b) const;
  // REQUIRES: segment < shape().segments().
  uint64_t leaf(uint32_t segment) const { return leaves_[segment]; }

  // Bytes this tree holds, hashes and object together. Independent of the number of keys.
  size_t MemoryBytes() const;

  // Internal consistency (see above); Corruption naming the first broken branch otherwise.
  Status CheckInvariants() const;

  // The persistent and wire form (layout in tictac_tree.cc): shape, range, leaf hashes and a
  // checksum. Branches and root are recomputed on load. Size: 40 + 8 * segments bytes.
  std::string Serialize() const;
  // Corruption for a wrong magic, format version, size or checksum; InvalidArgument for a shape
  // that fails Validate(). Never crashes on any input.
  static Result<TictacTree> Deserialize(std::string_view bytes);

 private:
  void XorSegment(uint32_t segment, uint64_t delta);

  TreeShape shape_;
  TokenRange range_;
  uint32_t branch_shift_;  // log2(leaves_per_branch): segment >> shift is its branch
  uint64_t root_ = 0;
  std::vector<uint64_t> branches_;
  std::vector<uint64_t> leaves_;
};

// The indices i (plus `first_index`) at which a[i] != b[i]: one level of a comparison.
// REQUIRES: a.size() == b.size().
std::vector<uint32_t> DifferingIndices(std::span<const uint64_t> a, std::span<const uint64_t> b,
                                       uint32_t first_index = 0);

// Where two trees of one shape differ: the branches whose hashes differ, ascending, then the
// segments whose leaf hashes differ within them, ascending. The same descent an exchange makes in
// rounds (aae/exchange.h), done in one process. Cost: O(branches + differing branches * lpb).
struct TreeDiff {
  std::vector<uint32_t> branches;
  std::vector<uint32_t> segments;
};
// InvalidArgument if the shapes or the ranges differ.
Result<TreeDiff> Compare(const TictacTree& a, const TictacTree& b);

}  // namespace ringkv

#endif  // RINGKV_AAE_TICTAC_TREE_H_
