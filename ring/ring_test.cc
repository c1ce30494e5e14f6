// Ring: validation, a hand-checked ring, wrap-around at the ends of the token space, and properties
// over random clusters checked against NaiveRing (ring/ring_testing.h).
#include "ring/ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "ring/ring_testing.h"

namespace ringkv {
namespace {

using testing::BaseSeed;
using testing::MustBuild;
using testing::NaiveRing;
using testing::ProbeToken;
using testing::RandomMembers;
using testing::SeedTrace;
using testing::Uniform;
using Names = std::vector<std::string>;

Status BuildStatus(std::vector<Member> members) { return Ring::Build(std::move(members)).status(); }

TEST(RingTest, RejectsInvalidMembers) {
  EXPECT_EQ(BuildStatus({{"", {1}}}).code(), Code::kInvalidArgument);
  EXPECT_EQ(BuildStatus({{std::string(kNodeNameBytesMax + 1, 'n'), {1}}}).code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(BuildStatus({{std::string(kNodeNameBytesMax, 'n'), {1}}}).ok());
  EXPECT_EQ(BuildStatus({{"a", {1}}, {"a", {2}}}).code(), Code::kInvalidArgument);
  EXPECT_EQ(BuildStatus({{"a", {}}}).code(), Code::kInvalidArgument);
  EXPECT_EQ(BuildStatus({{"a", {kTokenMin}}}).code(), Code::kInvalidArgument);
  EXPECT_TRUE(BuildStatus({{"a", {kTokenMin + 1, kTokenMax}}}).ok());
  std::vector<Token> too_many(kTokensPerNodeMax + 1);
  std::iota(too_many.begin(), too_many.end(), Token{1});
  EXPECT_EQ(BuildStatus({{"a", too_many}}).code(), Code::kInvalidArgument);
  too_many.pop_back();
  EXPECT_TRUE(BuildStatus({{"a", too_many}}).ok());
}

// Token collisions are rejected, never resolved: the caller (membership) owns that decision.
TEST(RingTest, RejectsTokenCollisions) {
  const Status within = BuildStatus({{"a", {5, 7, 5}}});
  EXPECT_EQ(within.code(), Code::kInvalidArgument);
  EXPECT_NE(within.message().find("'a' lists token 5 twice"), std::string::npos)
      << within.message();

  const Status between = BuildStatus({{"b", {1, 9}}, {"a", {3, 9}}, {"c", {4}}});
  EXPECT_EQ(between.code(), Code::kInvalidArgument);
  EXPECT_NE(between.message().find("token 9 is claimed by both 'a' and 'b'"), std::string::npos)
      << between.message();
}

TEST(RingTest, EmptyRing) {
  const Ring empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_TRUE(empty.PreferenceList(0, 3).empty());
  EXPECT_TRUE(empty.PrimaryOwner(0).empty());
  EXPECT_TRUE(empty.Ranges().empty());
  EXPECT_EQ(empty.OwnershipFraction("a", 3), 0.0);
  EXPECT_EQ(MustBuild({}).Digest(), empty.Digest());
}

TEST(RingTest, OneTokenOwnsTheWholeRing) {
  const Ring ring = MustBuild({{"solo", {123}}});
  for (Token t : {kTokenMin + 1, Token{122}, Token{123}, Token{124}, kTokenMax}) {
    EXPECT_EQ(ring.PreferenceList(t, 3), Names{"solo"}) << t;
  }
  ASSERT_EQ(ring.Ranges().size(), 1u);
  EXPECT_TRUE(ring.Ranges()[0].IsFullRing());
  EXPECT_DOUBLE_EQ(ring.OwnershipFraction("solo", 1), 1.0);
  EXPECT_EQ(ring.RangesReplicatedBy("solo", 1), (std::vector<TokenRange>{{123, 123}}));
}

// Vnodes in token order: -100 a, 0 b, 100 a, 200 c.
Ring SmallRing() { return MustBuild({{"c", {200}}, {"a", {100, -100}}, {"b", {0}}}); }

TEST(RingTest, HandCheckedPreferenceLists) {
  const Ring ring = SmallRing();
  EXPECT_EQ(ring.PreferenceList(-100, 3), (Names{"a", "b", "c"}));  // a range's end is inclusive
  EXPECT_EQ(ring.PreferenceList(-99, 3), (Names{"b", "a", "c"}));
  EXPECT_EQ(ring.PreferenceList(0, 3), (Names{"b", "a", "c"}));
  EXPECT_EQ(ring.PreferenceList(1, 3), (Names{"a", "c", "b"}));  // skips a's second vnode
  EXPECT_EQ(ring.PreferenceList(150, 3), (Names{"c", "a", "b"}));
  EXPECT_EQ(ring.PreferenceList(1, 2), (Names{"a", "c"}));
  EXPECT_EQ(ring.PreferenceList(1, 9), (Names{"a", "c", "b"}));  // fewer nodes than asked
  EXPECT_EQ(ring.PreferenceList(1, 0), Names{});
  EXPECT_EQ(ring.PrimaryOwner(150), "c");
}

TEST(RingTest, WrapsAroundPastTheLastToken) {
  const Ring ring = SmallRing();
  for (Token t : {Token{201}, kTokenMax, kTokenMin + 1, Token{-101}}) {
    EXPECT_EQ(ring.PreferenceList(t, 3), (Names{"a", "b", "c"})) << t;
    EXPECT_EQ(ring.VNodeFor(t), 0u) << t;
  }
  EXPECT_EQ(ring.VNodeFor(200), 3u);
}

TEST(RingTest, TokensAtTheExtremes) {
  // The maximum is a key token (TokenOf maps the minimum there) and a valid vnode token.
  const Ring ring = MustBuild({{"top", {kTokenMax}}, {"bottom", {kTokenMin + 1}}});
  EXPECT_EQ(ring.PrimaryOwner(kTokenMax), "top");
  EXPECT_EQ(ring.PrimaryOwner(kTokenMin + 1), "bottom");
  EXPECT_EQ(ring.PrimaryOwner(kTokenMin + 2), "top");
  EXPECT_EQ(ring.PrimaryOwner(0), "top");
  const std::vector<TokenRange> ranges = ring.Ranges();
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], (TokenRange{kTokenMax, kTokenMin + 1}));  // wraps; holds two tokens
  EXPECT_EQ(ranges[0].Unwrap(), (std::vector<TokenRange>{{kTokenMin, kTokenMin + 1}}));
  EXPECT_EQ(ranges[1], (TokenRange{kTokenMin + 1, kTokenMax}));
  EXPECT_NEAR(ring.OwnershipFraction("top", 1), 1.0, 1e-15);
  EXPECT_NEAR(ring.OwnershipFraction("bottom", 1), 0.0, 1e-15);
}

TEST(RingTest, HandCheckedRanges) {
  const Ring ring = SmallRing();
  EXPECT_EQ(ring.Ranges(), (std::vector<TokenRange>{{200, -100}, {-100, 0}, {0, 100}, {100, 200}}));
  EXPECT_EQ(ring.RangesReplicatedBy("a", 1), (std::vector<TokenRange>{{200, -100}, {0, 100}}));
  EXPECT_EQ(ring.RangesReplicatedBy("b", 1), (std::vector<TokenRange>{{-100, 0}}));
  EXPECT_EQ(ring.RangesReplicatedBy("c", 2), (std::vector<TokenRange>{{0, 200}}));
  EXPECT_EQ(ring.RangesReplicatedBy("b", 2), (std::vector<TokenRange>{{200, 0}}));    // merged
  EXPECT_EQ(ring.RangesReplicatedBy("a", 2), (std::vector<TokenRange>{{200, 200}}));  // all
  EXPECT_TRUE(ring.RangesReplicatedBy("nobody", 2).empty());
}

TEST(RingTest, DigestTracksTheMemberSet) {
  const Ring ring = SmallRing();
  EXPECT_EQ(ring.Digest(), MustBuild({{"b", {0}}, {"a", {-100, 100}}, {"c", {200}}}).Digest());
  EXPECT_NE(ring.Digest(), MustBuild({{"c", {201}}, {"a", {100, -100}}, {"b", {0}}}).Digest());
  EXPECT_NE(ring.Digest(), MustBuild({{"d", {200}}, {"a", {100, -100}}, {"b", {0}}}).Digest());
  // The same tokens held by different nodes.
  EXPECT_NE(ring.Digest(), MustBuild({{"c", {200}}, {"a", {100}}, {"b", {0, -100}}}).Digest());
  EXPECT_NE(ring.Digest(), Ring().Digest());
}

struct RandomCluster {
  std::vector<Member> members;
  uint32_t n;  // replication factor
};

// 1..60 nodes, 1..256 vnodes each (at most ~4000 tokens in all), factor 1..5.
RandomCluster MakeCluster(std::mt19937_64& rng) {
  static constexpr size_t kVNodeChoices[] = {1, 2, 3, 4, 8, 16, 64, 256};
  const size_t nodes = Uniform(rng, 1, 60);
  size_t vnodes = kVNodeChoices[rng() % std::size(kVNodeChoices)];
  while (nodes * vnodes > 4000) vnodes /= 2;
  return {RandomMembers(rng, nodes, vnodes), static_cast<uint32_t>(Uniform(rng, 1, 5))};
}

// Every key has exactly min(N, nodes) distinct owners, the primary first, exactly as the definition
// (NaiveRing) says, edge tokens included.
TEST(RingTest, PreferenceListsMatchTheDefinition) {
  const uint64_t base = BaseSeed();
  for (uint64_t c = 0; c < 150; ++c) {
    const uint64_t seed = base + c;
    SCOPED_TRACE(SeedTrace(seed));
    std::mt19937_64 rng(seed);
    const RandomCluster cluster = MakeCluster(rng);
    const Ring ring = MustBuild(cluster.members);
    const NaiveRing naive(cluster.members);
    ASSERT_EQ(ring.node_count(), cluster.members.size());
    const size_t want = std::min<size_t>(cluster.n, cluster.members.size());
    for (int k = 0; k < 100; ++k) {
      const Token key = ProbeToken(rng, ring);
      const Names list = ring.PreferenceList(key, cluster.n);
      ASSERT_EQ(list, naive.PreferenceList(key, cluster.n)) << "key token " << key;
      ASSERT_EQ(list.size(), want);
      Names sorted = list;
      std::sort(sorted.begin(), sorted.end());
      ASSERT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end())
          << "duplicate owner";
      ASSERT_EQ(list.front(), ring.PrimaryOwner(key));
      ASSERT_TRUE(ring.RangeOf(ring.VNodeFor(key)).Contains(key)) << key;
    }
  }
}

// Factors above 16 take the bitmap path through the walk; same definition.
TEST(RingTest, LargeFactorsMatchTheDefinition) {
  const uint64_t base = BaseSeed();
  for (uint64_t c = 0; c < 30; ++c) {
    const uint64_t seed = base + c;
    SCOPED_TRACE(SeedTrace(seed));
    std::mt19937_64 rng(seed);
    const std::vector<Member> members =
        RandomMembers(rng, Uniform(rng, 10, 60), Uniform(rng, 1, 8));
    const Ring ring = MustBuild(members);
    const NaiveRing naive(members);
    for (int k = 0; k < 50; ++k) {
      const uint32_t n = static_cast<uint32_t>(Uniform(rng, 17, 70));
      const Token key = ProbeToken(rng, ring);
      const Names list = ring.PreferenceList(key, n);
      ASSERT_EQ(list, naive.PreferenceList(key, n)) << "key token " << key << " n " << n;
      ASSERT_EQ(list.size(), std::min<size_t>(n, members.size()));
    }
  }
}

// The ring is a function of the member set: shuffling members and their tokens changes nothing.
TEST(RingTest, IndependentOfInsertionOrder) {
  const uint64_t base = BaseSeed();
  for (uint64_t c = 0; c < 100; ++c) {
    const uint64_t seed = base + c;
    SCOPED_TRACE(SeedTrace(seed));
    std::mt19937_64 rng(seed);
    const RandomCluster cluster = MakeCluster(rng);
    std::vector<Member> shuffled = cluster.members;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    for (Member& m : shuffled) std::shuffle(m.tokens.begin(), m.tokens.end(), rng);
    const Ring a = MustBuild(cluster.members);
    const Ring b = MustBuild(shuffled);
    ASSERT_EQ(a.Digest(), b.Digest());
    ASSERT_EQ(a.nodes(), b.nodes());
    ASSERT_EQ(a.Members(), b.Members());
    ASSERT_EQ(a.Ranges(), b.Ranges());
    ASSERT_EQ(MustBuild(a.Members()).Digest(), a.Digest());  // Members() round-trips
    for (int k = 0; k < 50; ++k) {
      const Token key = ProbeToken(rng, a);
      ASSERT_EQ(a.PreferenceList(key, cluster.n), b.PreferenceList(key, cluster.n)) << key;
    }
  }
}

// Ranges() tiles the ring; RangesReplicatedBy and Ownership agree with the preference lists.
TEST(RingTest, RangesAndOwnershipAgreeWithPreferenceLists) {
  const uint64_t base = BaseSeed();
  for (uint64_t c = 0; c < 100; ++c) {
    const uint64_t seed = base + c;
    SCOPED_TRACE(SeedTrace(seed));
    std::mt19937_64 rng(seed);
    const RandomCluster cluster = MakeCluster(rng);
    const Ring ring = MustBuild(cluster.members);

    const std::vector<TokenRange> ranges = ring.Ranges();
    double total = 0;
    for (size_t i = 0; i < ranges.size(); ++i) {
      ASSERT_EQ(ranges[i].end, ring.vnodes()[i].token);
      ASSERT_EQ(ranges[i].start, ranges[(i + ranges.size() - 1) % ranges.size()].end);
      total += ranges[i].Fraction();
    }
    ASSERT_NEAR(total, 1.0, 1e-9);

    const std::vector<double> own = ring.Ownership(cluster.n);
    const double own_total = std::accumulate(own.begin(), own.end(), 0.0);
    ASSERT_NEAR(own_total, std::min<double>(cluster.n, ring.node_count()), 1e-9);

    const std::string& node = ring.nodes()[rng() % ring.node_count()];
    const std::vector<TokenRange> mine = ring.RangesReplicatedBy(node, cluster.n);
    double mine_total = 0;
    for (const TokenRange& r : mine) mine_total += r.Fraction();
    ASSERT_NEAR(mine_total, ring.OwnershipFraction(node, cluster.n), 1e-9);
    for (int k = 0; k < 100; ++k) {
      const Token key = ProbeToken(rng, ring);
      const Names list = ring.PreferenceList(key, cluster.n);
      const bool replica = std::find(list.begin(), list.end(), node) != list.end();
      int hits = 0;
      for (const TokenRange& r : mine) hits += r.Contains(key) ? 1 : 0;
      ASSERT_EQ(hits, replica ? 1 : 0) << node << " key token " << key;
    }
  }
}

// True if `a` with `dropped` removed is a prefix of `b`.
bool WithoutIsPrefixOf(Names a, const std::string& dropped, const Names& b) {
  std::erase(a, dropped);
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// Adding a node changes a key's list only by inserting the new node (and dropping the old last
// replica); removing one only by dropping it (and appending the next node). Nothing else moves.
TEST(RingTest, AddingOrRemovingANodeMovesOnlyItsKeys) {
  const uint64_t base = BaseSeed();
  for (uint64_t c = 0; c < 100; ++c) {
    const uint64_t seed = base + c;
    SCOPED_TRACE(SeedTrace(seed));
    std::mt19937_64 rng(seed);
    const RandomCluster cluster = MakeCluster(rng);
    const Ring ring = MustBuild(cluster.members);
    const uint32_t n = cluster.n;

    std::vector<Member> grown = cluster.members;
    grown.push_back(RandomMembers(rng, 1, ring.token_count() / ring.node_count(), 1000)[0]);
    const std::string added = grown.back().name;
    const Ring joined = MustBuild(grown);

    std::vector<Member> shrunk = cluster.members;
    const size_t victim = rng() % shrunk.size();
    const std::string removed = shrunk[victim].name;
    shrunk.erase(shrunk.begin() + static_cast<ptrdiff_t>(victim));
    const Ring left = MustBuild(shrunk);

    for (int k = 0; k < 200; ++k) {
      const Token key = ProbeToken(rng, joined);
      const Names old_list = ring.PreferenceList(key, n);
      const Names join_list = joined.PreferenceList(key, n);
      ASSERT_EQ(join_list.size(), std::min<size_t>(n, joined.node_count()));
      ASSERT_TRUE(WithoutIsPrefixOf(join_list, added, old_list)) << key;
      if (std::find(join_list.begin(), join_list.end(), added) == join_list.end()) {
        ASSERT_EQ(join_list, old_list) << key;
      }

      const Names leave_list = left.PreferenceList(key, n);
      ASSERT_EQ(leave_list.size(), std::min<size_t>(n, left.node_count()));
      ASSERT_TRUE(WithoutIsPrefixOf(old_list, removed, leave_list)) << key;
      if (std::find(old_list.begin(), old_list.end(), removed) == old_list.end()) {
        ASSERT_EQ(leave_list, old_list) << key;
      }
    }
  }
}

}  // namespace
}  // namespace ringkv
