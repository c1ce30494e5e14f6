// The messages of an anti-entropy exchange (aae/exchange.h), as plain structs: what one side asks a
// replica of a range about its tree and keys, and what the replica answers. The node carries them
// over the peer transport (their wire form belongs there, with the range they concern); this
// module only gives their meaning, their validation and how a replica answers them.
//
// One exchange descends a tree in up to four kinds of round:
//   RootRequest      -> RootAnswer      the root hash, and the tree's shape so shapes are checked
//   BranchesRequest  -> BranchesAnswer  the hashes of the listed branches
//   LeavesRequest    -> LeavesAnswer    the leaf hashes of the listed branches
//   KeysRequest      -> KeysAnswer      every (key, version hash) held in the listed segments
// Lists of branch or segment ids are strictly ascending and in range for the shape, so a request
// is bounded by the shape itself; a replica refuses any other (ValidateRequest).
//
// Thread safety: values; the functions are pure.
#ifndef RINGKV_AAE_MESSAGES_H_
#define RINGKV_AAE_MESSAGES_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "aae/tictac_tree.h"
#include "common/status.h"

namespace ringkv {

// Carries the asker's shape: a replica whose tree has another shape refuses rather than answer.
struct RootRequest {
  TreeShape shape;
};
struct BranchesRequest {
  std::vector<uint32_t> branches;
};
struct LeavesRequest {
  std::vector<uint32_t> branches;
};
struct KeysRequest {
  std::vector<uint32_t> segments;
};
using AaeRequest = std::variant<RootRequest, BranchesRequest, LeavesRequest, KeysRequest>;

struct RootAnswer {
  TreeShape shape;
  uint64_t root = 0;
};
// One hash per requested branch, in the request's order.
struct BranchesAnswer {
  std::vector<uint64_t> hashes;
};
// leaves_per_branch hashes per requested branch: the first branch's leaves, then the next's.
struct LeavesAnswer {
  std::vector<uint64_t> hashes;
};
struct KeyVersion {
  std::string key;
  uint64_t version_hash = 0;

  friend bool operator==(const KeyVersion&, const KeyVersion&) = default;
};
// Every key the replica holds in the requested segments, in any order, each once.
struct KeysAnswer {
  std::vector<KeyVersion> keys;
};
using AaeAnswer = std::variant<RootAnswer, BranchesAnswer, LeavesAnswer, KeysAnswer>;

// Bytes of payload a message puts on the wire, as the benchmark and the exchange's statistics count
// them: a shape 8, a branch or segment id 4, a hash 8, a key its bytes plus 8 for its version hash.
// Framing and the range the message concerns are not counted.
uint64_t PayloadBytes(const AaeRequest& request);
uint64_t PayloadBytes(const AaeAnswer& answer);

// OK if a replica whose tree has `shape` can answer `request`. InvalidArgument naming the problem
// otherwise: a RootRequest of another shape, or ids that are not strictly ascending or out of
// range.
Status ValidateRequest(const TreeShape& shape, const AaeRequest& request);

// The answer of a replica whose tree is `tree` to a Root, Branches or Leaves request. A KeysRequest
// is answered from storage, not the tree (KeysAnswerBuilder): InvalidArgument. Errors of
// ValidateRequest are returned as they are.
Result<AaeAnswer> AnswerFromTree(const TictacTree& tree, const AaeRequest& request);

// The token arcs that hold exactly the keys of `request`'s segments in a tree of `shape` over
// `range`: adjacent segments merged into one arc, each arc unwrapped (TokenRange::Unwrap), so each
// is one sequential storage scan (DESIGN.md §3) and the scans read ~ the keys asked for, not the
// range. Disjoint, none wrapping. REQUIRES: ValidateRequest(shape, request).ok().
std::vector<TokenRange> KeysRequestTokens(const TreeShape& shape, const TokenRange& range,
                                          const KeysRequest& request);

// Builds a replica's KeysAnswer while the caller scans its copy of the range, or better only
// KeysRequestTokens: Add() every live or tombstoned key with its version hash, keep what Take()
// returns. Keys outside the requested segments are skipped. O(log segments requested) per key.
// TODO(limits): an answer holds every key of the requested segments; cap it (and tell the asker to
// ask again for fewer segments) before it crosses the wire.
class KeysAnswerBuilder {
 public:
  // REQUIRES: ValidateRequest(shape, request).ok(). Copies what it needs of all three.
  KeysAnswerBuilder(const TreeShape& shape, const TokenRange& range, const KeysRequest& request);

  // REQUIRES: the range contains TokenOf(key).
  void Add(std::string_view key, uint64_t version_hash);
  KeysAnswer Take() { return std::move(answer_); }

 private:
  TreeShape shape_;
  TokenRange range_;
  std::vector<uint32_t> segments_;  // ascending
  KeysAnswer answer_;
};

}  // namespace ringkv

#endif  // RINGKV_AAE_MESSAGES_H_
