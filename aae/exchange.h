// Exchange: one anti-entropy comparison between two replicas, A and B, of one (keyspace, token
// range), written sans-IO (DESIGN.md §2). It finds the keys on which the replicas differ by
// descending their Tictac trees (aae/tictac_tree.h) only where the hashes differ:
//
//   kRoot      both roots (and shapes)               equal roots: done, nothing differs
//   kBranches  every branch hash                      -> the differing branches
//   kLeaves    leaf hashes of the differing branches  -> the differing segments
//              (at most options.branches_per_request_max branches a round)
//   kKeys      (key, version hash) in those segments  -> the differing keys
//              (at most options.segments_per_request_max segments a round)
//   kDone / kFailed
//
// The caller moves the messages (aae/messages.h): it gives request() to both replicas (the local
// one answers with AnswerFromTree or a KeysAnswerBuilder over a scan of KeysRequestTokens, the
// peer over the transport) and hands both answers to OnAnswers(). Asking both sides the same
// question keeps the exchange symmetric: it holds no tree, so writes may land between rounds, and a
// third node could run it. Each round costs one round trip to the peer.
//
// Cost: with k differing keys in a range of M keys, on trees of S segments in B branches of L
// leaves, b <= min(k, B) branches and s <= k segments differ, and an exchange takes
//   rounds  2 + ceil(b / branches_per_request_max) + ceil(s / segments_per_request_max)
//   bytes   O(B + b * L + s * (1 + M / S))
// which grow with k and the tree's shape, not with M, as long as M / S (the keys per segment)
// stays small. Equal replicas cost one round: 8 bytes asked, 16 answered.
//
// Answers are untrusted (a peer's): a shape other than the exchange's, a count that does not match
// the request, a key outside the range or the requested segments, a duplicate or an oversized key
// fails the exchange with a clear Status and never crashes.
//
// The result, diffs(), lists each differing key once, ascending, with its version hash on each side
// (absent on a side: nullopt): keys missing on A, missing on B, or with different version hashes.
// Repairing them (a read of both versions and a merge, so nothing newer is overwritten) is the
// caller's.
//
// Thread safety: none; one exchange belongs to one event loop.
#ifndef RINGKV_AAE_EXCHANGE_H_
#define RINGKV_AAE_EXCHANGE_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "aae/messages.h"
#include "aae/tictac_tree.h"
#include "common/status.h"

namespace ringkv {

struct ExchangeOptions {
  // Bounds a LeavesAnswer: 64 branches of 256 leaves are 128 KiB of hashes.
  uint32_t branches_per_request_max = 64;
  // Bounds a KeysRequest, and with the keys per segment a KeysAnswer.
  uint32_t segments_per_request_max = 1024;
};

struct KeyDiff {
  std::string key;
  std::optional<uint64_t> version_hash_a;  // nullopt: A does not hold the key
  std::optional<uint64_t> version_hash_b;  // nullopt: B does not hold the key

  friend bool operator==(const KeyDiff&, const KeyDiff&) = default;
};

struct ExchangeStats {
  uint32_t rounds = 0;          // requests answered by both sides
  uint64_t request_bytes = 0;   // PayloadBytes of the requests (each sent once to the peer)
  uint64_t answer_bytes_a = 0;  // PayloadBytes of A's answers
  uint64_t answer_bytes_b = 0;  // PayloadBytes of B's answers
  uint32_t branches_differing = 0;
  uint32_t segments_differing = 0;
};

class Exchange {
 public:
  enum class State { kRoot, kBranches, kLeaves, kKeys, kDone, kFailed };

  // An exchange between two trees of `shape` over `range` (the replicas' range: it places the
  // segments, aae/tictac_tree.h). REQUIRES: shape.Validate().ok(), both options >= 1.
  Exchange(TreeShape shape, TokenRange range, ExchangeOptions options = {});

  State state() const { return state_; }
  bool finished() const { return state_ == State::kDone || state_ == State::kFailed; }

  // The request both replicas must answer now. REQUIRES: !finished().
  const AaeRequest& request() const;

  // A's and B's answers to request(). Moves to the next round or finishes; a malformed answer
  // (see above) fails the exchange. REQUIRES: !finished().
  void OnAnswers(const AaeAnswer& a, const AaeAnswer& b);

  // A replica did not answer (refused, unreachable, timed out): the exchange fails with `why`.
  // No effect once finished.
  void Abort(Status why);

  // OK while running and once done; why it failed otherwise.
  const Status& status() const { return status_; }
  // The differing keys, ascending by key. Complete once state() == kDone.
  const std::vector<KeyDiff>& diffs() const { return diffs_; }
  const ExchangeStats& stats() const { return stats_; }

 private:
  // One transition per state; each validates both answers first.
  void OnRoot(const RootAnswer& a, const RootAnswer& b);
  void OnBranches(const BranchesAnswer& a, const BranchesAnswer& b);
  void OnLeaves(const LeavesAnswer& a, const LeavesAnswer& b);
  void OnKeys(const KeysAnswer& a, const KeysAnswer& b);

  // Asks for the next chunk of leaves, else of keys, else finishes.
  void NextRequest();
  void Finish();
  void Fail(Status why);

  TreeShape shape_;
  TokenRange range_;
  ExchangeOptions options_;
  State state_ = State::kRoot;
  Status status_;
  AaeRequest request_;
  std::deque<uint32_t> branches_todo_;  // differing branches whose leaves are not yet asked for
  std::deque<uint32_t> segments_todo_;  // differing segments whose keys are not yet asked for
  std::vector<KeyDiff> diffs_;
  ExchangeStats stats_;
};

}  // namespace ringkv

#endif  // RINGKV_AAE_EXCHANGE_H_
