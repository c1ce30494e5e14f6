// Exchange: two replicas' trees and key sets run through the state machine in one process; the
// differing keys it finds are checked against the models' differences, its cost against k, and its
// refusals of requests and answers that break the protocol.
#include "aae/exchange.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "aae/aae_testing.h"
#include "common/limits.h"
#include "ring/ring_testing.h"

namespace ringkv {
namespace {

using aae_testing::Diverge;
using aae_testing::ExpectedDiffs;
using aae_testing::KeyMap;
using aae_testing::RandomKeys;
using aae_testing::Replica;
using aae_testing::RunExchange;
using testing::BaseSeed;
using testing::SeedTrace;

// Among M = 100,000 keys, an exchange finds exactly the k differing keys, both ways, in rounds and
// bytes that grow with k.
TEST(Exchange, FindsExactlyTheDifferingKeys) {
  std::mt19937_64 rng(BaseSeed());
  SCOPED_TRACE(SeedTrace(BaseSeed()));
  const KeyMap base = RandomKeys(100000, rng);
  uint64_t full_list_bytes = 0;
  for (const auto& [key, version] : base) full_list_bytes += key.size() + 8;
  const Replica a(base, TreeShape{});
  uint64_t previous_bytes = 0;
  for (size_t k : {0, 1, 100, 10000}) {
    SCOPED_TRACE("k = " + std::to_string(k));
    const Replica b(Diverge(base, k, rng), TreeShape{});
    const Exchange exchange = RunExchange(a, b);
    ASSERT_EQ(exchange.state(), Exchange::State::kDone) << exchange.status().ToString();
    EXPECT_EQ(exchange.diffs(), ExpectedDiffs(a.keys, b.keys));
    EXPECT_EQ(exchange.diffs().size(), k);
    const ExchangeStats& stats = exchange.stats();
    const uint64_t bytes = stats.request_bytes + stats.answer_bytes_b;
    EXPECT_GE(bytes, previous_bytes);
    previous_bytes = bytes;
    if (k == 0) {
      EXPECT_EQ(stats.rounds, 1u);
      EXPECT_EQ(bytes, 8u + 16u);
    }
    if (k == 1) {
      EXPECT_EQ(stats.rounds, 4u);  // root, branches, one branch's leaves, one segment's keys
      EXPECT_EQ(stats.branches_differing, 1u);
      EXPECT_EQ(stats.segments_differing, 1u);
      EXPECT_LT(bytes * 100, full_list_bytes);
    }
  }
}

// Random small histories on both sides, a small tree (many keys a segment) and one branch or
// segment a round: every exchange finds what the models say.
TEST(Exchange, AgreesWithTheModelOnRandomHistories) {
  for (uint64_t seed = BaseSeed(); seed < BaseSeed() + 40; ++seed) {
    SCOPED_TRACE(SeedTrace(seed));
    std::mt19937_64 rng(seed);
    const TreeShape shape{1u << (rng() % 4), 1u << (rng() % 4)};
    const KeyMap base = RandomKeys(rng() % 300, rng);
    KeyMap a_keys = base, b_keys = base;
    for (int op = 0, ops = static_cast<int>(rng() % 40); op < ops; ++op) {
      KeyMap& side = rng() % 2 ? a_keys : b_keys;
      const std::string key = "k" + std::to_string(rng() % 50);
      if (rng() % 3 == 0) {
        side.erase(key);
      } else {
        side[key] = rng() % 4;
      }
    }
    const ExchangeOptions options{static_cast<uint32_t>(1 + rng() % 3),
                                  static_cast<uint32_t>(1 + rng() % 3)};
    const Exchange exchange = RunExchange(Replica(a_keys, shape), Replica(b_keys, shape), options);
    ASSERT_EQ(exchange.state(), Exchange::State::kDone) << exchange.status().ToString();
    EXPECT_EQ(exchange.diffs(), ExpectedDiffs(a_keys, b_keys));
  }
}

TEST(Exchange, ChunksLeavesAndKeysRequestsByTheOptions) {
  std::mt19937_64 rng(BaseSeed());
  const KeyMap base = RandomKeys(5000, rng);
  const Replica a(base, TreeShape{64, 16});
  const Replica b(Diverge(base, 600, rng), TreeShape{64, 16});
  const Exchange exchange = RunExchange(a, b, ExchangeOptions{10, 50});
  ASSERT_EQ(exchange.state(), Exchange::State::kDone);
  const ExchangeStats& stats = exchange.stats();
  EXPECT_EQ(stats.branches_differing, 64u);
  EXPECT_EQ(stats.rounds, 2 + (64 + 9) / 10 + (stats.segments_differing + 49) / 50);
  EXPECT_EQ(exchange.diffs(), ExpectedDiffs(a.keys, b.keys));
}

TEST(Exchange, APeerTreeOfAnotherShapeIsRefused) {
  std::mt19937_64 rng(BaseSeed());
  const KeyMap keys = RandomKeys(100, rng);
  // The peer checks the asker's shape and refuses to answer...
  const Replica ours(keys, TreeShape{1024, 256});
  const Replica theirs(keys, TreeShape{512, 256});
  const Result<AaeAnswer> refusal = theirs.Answer(RootRequest{ours.tree.shape()});
  EXPECT_EQ(refusal.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refusal.status().message().find("1024x256"), std::string::npos);
  const Exchange refused = RunExchange(ours, theirs);
  EXPECT_EQ(refused.state(), Exchange::State::kFailed);
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);

  // ...and the exchange checks the shape a peer answers with, whatever the peer checked.
  Exchange exchange(TreeShape{1024, 256}, TokenRange{});
  exchange.OnAnswers(RootAnswer{TreeShape{1024, 256}, 1}, RootAnswer{TreeShape{512, 256}, 2});
  EXPECT_EQ(exchange.state(), Exchange::State::kFailed);
  EXPECT_EQ(exchange.status().code(), Code::kInvalidArgument);
  EXPECT_NE(exchange.status().message().find("replica B's tree has shape 512x256"),
            std::string::npos)
      << exchange.status().message();
  EXPECT_TRUE(exchange.diffs().empty());
}

// The range of AtKeysRound's exchange: the positive tokens.
constexpr TokenRange kPositive{0, kTokenMax};

// Drives a fresh exchange over kPositive of two 4x4 trees that differ everywhere to its keys round.
Exchange AtKeysRound() {
  const TreeShape shape{4, 4};
  KeyMap a, b;
  for (int i = 0; i < 128; ++i) {
    const std::string key = "k" + std::to_string(i);
    if (kPositive.Contains(TokenOf(key))) a[key] = 1;
  }
  Exchange exchange(shape, kPositive, ExchangeOptions{4, 1});
  const Replica ra(a, shape, kPositive), rb(b, shape, kPositive);
  while (!std::holds_alternative<KeysRequest>(exchange.request())) {
    exchange.OnAnswers(ra.Answer(exchange.request()).value(),
                       rb.Answer(exchange.request()).value());
    EXPECT_EQ(exchange.state() == Exchange::State::kFailed, false);
  }
  return exchange;
}

// A key of kPositive in the given segment, or in another one, or (outside_range) not in kPositive.
std::string KeyIn(const TreeShape& shape, uint32_t segment, bool inside,
                  bool outside_range = false) {
  for (int i = 0;; ++i) {
    std::string key = "probe" + std::to_string(i);
    const Token token = TokenOf(key);
    if (!kPositive.Contains(token)) {
      if (outside_range) return key;
    } else if (!outside_range && (SegmentOf(shape, kPositive, token) == segment) == inside) {
      return key;
    }
  }
}

TEST(Exchange, MalformedAnswersFailTheExchange) {
  {
    Exchange e(TreeShape{4, 4}, TokenRange{});
    e.OnAnswers(RootAnswer{TreeShape{4, 4}, 1}, BranchesAnswer{});
    EXPECT_EQ(e.status().code(), Code::kProtocol) << "an answer of the wrong kind";
  }
  {
    Exchange e(TreeShape{4, 4}, TokenRange{});
    e.OnAnswers(RootAnswer{TreeShape{4, 4}, 1}, RootAnswer{TreeShape{4, 4}, 2});
    ASSERT_EQ(e.state(), Exchange::State::kBranches);
    e.OnAnswers(BranchesAnswer{{1, 2, 3, 4}}, BranchesAnswer{{1, 2, 3}});
    EXPECT_EQ(e.status().code(), Code::kProtocol) << "too few branch hashes";
  }
  {
    Exchange e(TreeShape{4, 4}, TokenRange{});
    e.OnAnswers(RootAnswer{TreeShape{4, 4}, 1}, RootAnswer{TreeShape{4, 4}, 2});
    e.OnAnswers(BranchesAnswer{{1, 2, 3, 4}}, BranchesAnswer{{1, 2, 3, 5}});
    ASSERT_EQ(e.state(), Exchange::State::kLeaves);
    e.OnAnswers(LeavesAnswer{{1, 2, 3, 4}}, LeavesAnswer{{1, 2, 3, 4, 5}});
    EXPECT_EQ(e.status().code(), Code::kProtocol) << "too many leaf hashes";
  }
  const TreeShape shape{4, 4};
  const auto segment_of = [](const Exchange& e) {
    return std::get<KeysRequest>(e.request()).segments.at(0);
  };
  {
    Exchange e = AtKeysRound();
    const std::string outside = KeyIn(shape, segment_of(e), false);
    e.OnAnswers(KeysAnswer{}, KeysAnswer{{{outside, 1}}});
    EXPECT_EQ(e.status().code(), Code::kProtocol) << "a key outside the segments asked for";
  }
  {
    Exchange e = AtKeysRound();
    const std::string outside = KeyIn(shape, segment_of(e), false, /*outside_range=*/true);
    e.OnAnswers(KeysAnswer{{{outside, 1}}}, KeysAnswer{});
    EXPECT_EQ(e.status().code(), Code::kProtocol) << "a key outside the range";
  }
  {
    Exchange e = AtKeysRound();
    const std::string inside = KeyIn(shape, segment_of(e), true);
    e.OnAnswers(KeysAnswer{{{inside, 1}, {inside, 2}}}, KeysAnswer{});
    EXPECT_EQ(e.status().code(), Code::kProtocol) << "a key twice";
  }
  {
    Exchange e = AtKeysRound();
    e.OnAnswers(KeysAnswer{{{std::string(kKeyBytesMax + 1, 'x'), 1}}}, KeysAnswer{});
    EXPECT_EQ(e.status().code(), Code::kProtocol) << "an oversized key";
  }
  {
    Exchange e = AtKeysRound();
    e.Abort(Status::Timeout("peer did not answer", false));
    EXPECT_EQ(e.state(), Exchange::State::kFailed);
    EXPECT_EQ(e.status().code(), Code::kTimeout);
  }
}

// Over a wrapping range (a quarter of the ring each side of the origin), whose segments are slices
// of its tokens, an exchange still finds exactly the differing keys.
TEST(Exchange, FindsTheDifferingKeysOfAWrappingRange) {
  std::mt19937_64 rng(BaseSeed());
  SCOPED_TRACE(SeedTrace(BaseSeed()));
  const TokenRange range{kTokenMax / 2, kTokenMin / 2};
  KeyMap base;
  for (const auto& [key, version] : RandomKeys(20000, rng)) {
    if (range.Contains(TokenOf(key))) base.emplace(key, version);
  }
  KeyMap other;
  for (const auto& [key, version] : Diverge(base, 300, rng)) {
    if (range.Contains(TokenOf(key))) other.emplace(key, version);
  }
  const Replica a(base, TreeShape{64, 16}, range), b(other, TreeShape{64, 16}, range);
  const Exchange exchange = RunExchange(a, b, ExchangeOptions{8, 16});
  ASSERT_EQ(exchange.state(), Exchange::State::kDone) << exchange.status().ToString();
  EXPECT_EQ(exchange.diffs(), ExpectedDiffs(a.keys, b.keys));
  EXPECT_GT(exchange.diffs().size(), 200u);
}

// The arcs of a keys request hold exactly the keys of its segments: none wraps, none overlaps, and
// adjacent segments make one arc.
TEST(KeysRequestTokens, HoldExactlyTheKeysOfTheRequestedSegments) {
  std::mt19937_64 rng(BaseSeed());
  SCOPED_TRACE(SeedTrace(BaseSeed()));
  const KeyMap keys = RandomKeys(5000, rng);
  const TreeShape shape{4, 4};
  for (const TokenRange& range : {TokenRange{}, TokenRange{kTokenMax / 2, kTokenMin / 2},
                                  TokenRange{-1000, 1000}, TokenRange{kTokenMin, kTokenMax}}) {
    SCOPED_TRACE(range.ToString());
    EXPECT_EQ(KeysRequestTokens(shape, range, KeysRequest{{3, 4, 5}}).size(),
              SegmentTokens(shape, range, 3, 5)->Unwrap().size());
    for (int i = 0; i < 50; ++i) {
      KeysRequest request;
      for (uint32_t s = 0; s < shape.segments(); ++s) {
        if (rng() % 3 == 0) request.segments.push_back(s);
      }
      const std::vector<TokenRange> arcs = KeysRequestTokens(shape, range, request);
      for (const TokenRange& arc : arcs) EXPECT_FALSE(arc.Wraps()) << arc.ToString();
      for (const auto& [key, version] : keys) {
        const Token token = TokenOf(key);
        const bool asked = range.Contains(token) &&
                           std::binary_search(request.segments.begin(), request.segments.end(),
                                              SegmentOf(shape, range, token));
        const auto in = std::count_if(arcs.begin(), arcs.end(),
                                      [&](const TokenRange& arc) { return arc.Contains(token); });
        ASSERT_EQ(in, asked ? 1 : 0) << key;
      }
    }
  }
}

TEST(Exchange, ReplicasRefuseMalformedRequests) {
  const TictacTree tree(TreeShape{4, 4}, TokenRange{});
  EXPECT_TRUE(AnswerFromTree(tree, LeavesRequest{{0, 3}}).ok());
  EXPECT_EQ(AnswerFromTree(tree, BranchesRequest{{4}}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(AnswerFromTree(tree, LeavesRequest{{2, 1}}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(AnswerFromTree(tree, LeavesRequest{{1, 1}}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ValidateRequest(tree.shape(), KeysRequest{{15}}).code(), Code::kOk);
  EXPECT_EQ(ValidateRequest(tree.shape(), KeysRequest{{16}}).code(), Code::kInvalidArgument);
  EXPECT_EQ(AnswerFromTree(tree, KeysRequest{{0}}).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace ringkv
