// Exchange: two replicas' trees and key sets run through the state machine in one process; the
// differing keys it finds are checked against the models' differences, its cost against k, and its
// refusals of requests and answers that break the protocol.
#include "aae/exchange.h"

#include <gtest/gtest.h>

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
  Exchange exchange(TreeShape{1024, 256});
  exchange.OnAnswers(RootAnswer{TreeShape{1024, 256}, 1}, RootAnswer{TreeShape{512, 256}, 2});
  EXPECT_EQ(exchange.state(), Exchange::State::kFailed);
  EXPECT_EQ(exchange.status().code(), Code::kInvalidArgument);
  EXPECT_NE(exchange.status().message().find("replica B's tree has shape 512x256"),
            std::string::npos)
      << exchange.status().message();
  EXPECT_TRUE(exchange.diffs().empty());
}

// Drives a fresh exchange of two 4x4 trees that differ everywhere to its keys round.
Exchange AtKeysRound() {
  const TreeShape shape{4, 4};
  KeyMap a, b;
  for (int i = 0; i < 64; ++i) a["k" + std::to_string(i)] = 1;
  Exchange exchange(shape, ExchangeOptions{4, 1});
  const Replica ra(a, shape), rb(b, shape);
  while (!std::holds_alternative<KeysRequest>(exchange.request())) {
    exchange.OnAnswers(ra.Answer(exchange.request()).value(),
                       rb.Answer(exchange.request()).value());
    EXPECT_EQ(exchange.state() == Exchange::State::kFailed, false);
  }
  return exchange;
}

// A key of the requested segment, or of another one.
std::string KeyIn(const TreeShape& shape, uint32_t segment, bool inside) {
  for (int i = 0;; ++i) {
    std::string key = "probe" + std::to_string(i);
    if ((SegmentOf(shape, key) == segment) == inside) return key;
  }
}

TEST(Exchange, MalformedAnswersFailTheExchange) {
  {
    Exchange e(TreeShape{4, 4});
    e.OnAnswers(RootAnswer{TreeShape{4, 4}, 1}, BranchesAnswer{});
    EXPECT_EQ(e.status().code(), Code::kProtocol) << "an answer of the wrong kind";
  }
  {
    Exchange e(TreeShape{4, 4});
    e.OnAnswers(RootAnswer{TreeShape{4, 4}, 1}, RootAnswer{TreeShape{4, 4}, 2});
    ASSERT_EQ(e.state(), Exchange::State::kBranches);
    e.OnAnswers(BranchesAnswer{{1, 2, 3, 4}}, BranchesAnswer{{1, 2, 3}});
    EXPECT_EQ(e.status().code(), Code::kProtocol) << "too few branch hashes";
  }
  {
    Exchange e(TreeShape{4, 4});
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

TEST(Exchange, ReplicasRefuseMalformedRequests) {
  const TictacTree tree(TreeShape{4, 4});
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
