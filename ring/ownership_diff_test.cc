// OwnershipDiff: against brute force over random keys for arbitrary ring changes, and the precise
// join / decommission invariants stated in ownership_diff.h.
#include "ring/ownership_diff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "ring/ring_testing.h"
#include "ring/tokens.h"

namespace ringkv {
namespace {

using testing::BaseSeed;
using testing::MustBuild;
using testing::ProbeToken;
using testing::RandomMembers;
using testing::SeedTrace;
using testing::Uniform;
using Names = std::vector<std::string>;

// The changes containing `key`: at most one, since changes never overlap.
std::vector<const RangeChange*> ChangesContaining(const std::vector<RangeChange>& changes,
                                                  Token key) {
  std::vector<const RangeChange*> out;
  for (const RangeChange& c : changes) {
    if (c.range.Contains(key)) out.push_back(&c);
  }
  return out;
}

bool SameSet(Names a, Names b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

// For every probed key: it lies in a change exactly when its replica set differs between the rings,
// and the change names the key's lists in both rings. Plus: changes are well formed.
void ExpectDiffMatchesBruteForce(const Ring& from, const Ring& to, uint32_t n,
                                 std::mt19937_64& rng) {
  const std::vector<RangeChange> changes = OwnershipDiff(from, to, n);
  double covered = 0;
  for (const RangeChange& c : changes) {
    ASSERT_FALSE(c.gained.empty() && c.lost.empty()) << c.range.ToString();
    for (const std::string& g : c.gained) {
      ASSERT_EQ(std::count(c.new_replicas.begin(), c.new_replicas.end(), g), 1);
      ASSERT_EQ(std::count(c.old_replicas.begin(), c.old_replicas.end(), g), 0);
    }
    for (const std::string& l : c.lost) {
      ASSERT_EQ(std::count(c.old_replicas.begin(), c.old_replicas.end(), l), 1);
      ASSERT_EQ(std::count(c.new_replicas.begin(), c.new_replicas.end(), l), 0);
    }
    covered += c.range.Fraction();
  }
  ASSERT_LE(covered, 1.0 + 1e-9) << "changes overlap";
  for (int k = 0; k < 300; ++k) {
    const Token key = ProbeToken(rng, rng() % 2 == 0 ? from : to);
    const Names old_list = from.PreferenceList(key, n);
    const Names new_list = to.PreferenceList(key, n);
    const std::vector<const RangeChange*> hits = ChangesContaining(changes, key);
    ASSERT_LE(hits.size(), 1u) << "key token " << key << " in overlapping changes";
    if (SameSet(old_list, new_list)) {
      ASSERT_TRUE(hits.empty()) << "key token " << key << " reported but unchanged";
    } else {
      ASSERT_EQ(hits.size(), 1u) << "key token " << key << " changed but not reported";
      ASSERT_EQ(hits[0]->old_replicas, old_list) << key;
      ASSERT_EQ(hits[0]->new_replicas, new_list) << key;
    }
  }
}

// A random change of membership: some nodes leave, some join, some move tokens.
std::vector<Member> Mutate(std::vector<Member> members, std::mt19937_64& rng) {
  std::shuffle(members.begin(), members.end(), rng);
  const size_t leave = Uniform(rng, 0, members.size() / 2);
  members.resize(members.size() - leave);
  const size_t vnodes = members.empty() ? 8 : members.front().tokens.size();
  for (Member& m : RandomMembers(rng, Uniform(rng, 0, 4), vnodes, 5000)) {
    members.push_back(std::move(m));
  }
  for (Member& m : members) {
    if (rng() % 8 == 0) m.tokens.back() += 1;  // a move; collisions of +1 are astronomically rare
  }
  return members;
}

TEST(OwnershipDiffTest, MatchesBruteForceForArbitraryChanges) {
  const uint64_t base = BaseSeed();
  for (uint64_t c = 0; c < 120; ++c) {
    const uint64_t seed = base + c;
    SCOPED_TRACE(SeedTrace(seed));
    std::mt19937_64 rng(seed);
    const std::vector<Member> before =
        RandomMembers(rng, Uniform(rng, 1, 30), std::size_t{1} << Uniform(rng, 0, 6));
    const Ring from = MustBuild(before);
    const Ring to = MustBuild(Mutate(before, rng));
    const uint32_t n = static_cast<uint32_t>(Uniform(rng, 1, 5));
    ExpectDiffMatchesBruteForce(from, to, n, rng);
    ExpectDiffMatchesBruteForce(to, from, n, rng);
  }
}

TEST(OwnershipDiffTest, EmptyAndIdenticalRings) {
  const Ring ring = MustBuild({{"a", {-100, 100}}, {"b", {0}}, {"c", {200}}});
  EXPECT_TRUE(OwnershipDiff(ring, ring, 3).empty());
  EXPECT_TRUE(OwnershipDiff(Ring(), Ring(), 3).empty());

  // From nothing, the whole ring is gained, range by range; merged where the lists agree.
  const std::vector<RangeChange> created = OwnershipDiff(Ring(), ring, 1);
  ASSERT_EQ(created.size(), 4u);  // owners a, b, a, c: no two neighbours agree
  EXPECT_EQ(created[0].range, (TokenRange{200, -100}));
  EXPECT_EQ(created[0].gained, Names{"a"});
  EXPECT_TRUE(created[0].lost.empty());

  const std::vector<RangeChange> dropped = OwnershipDiff(ring, Ring(), 3);
  ASSERT_EQ(dropped.size(), 4u);  // every vnode's list differs from the next one's
  for (const RangeChange& c : dropped) {
    EXPECT_TRUE(c.new_replicas.empty());
    EXPECT_EQ(c.lost.size(), 3u);
  }
}

TEST(OwnershipDiffTest, HandCheckedJoin) {
  // Vnodes -100 a, 0 b, 100 a, 200 c; d joins at 50.
  const Ring from = MustBuild({{"a", {-100, 100}}, {"b", {0}}, {"c", {200}}});
  const Ring to = MustBuild({{"a", {-100, 100}}, {"b", {0}}, {"c", {200}}, {"d", {50}}});
  // N = 2: (0, 50] was (a, c), is now (d, a): d gains it, c loses it. (-100, 0] was (b, a), is now
  // (b, d): d gains it, a loses it. Nothing else changes.
  const std::vector<RangeChange> changes = OwnershipDiff(from, to, 2);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0], (RangeChange{{-100, 0}, {"b", "a"}, {"b", "d"}, {"d"}, {"a"}}));
  EXPECT_EQ(changes[1], (RangeChange{{0, 50}, {"a", "c"}, {"d", "a"}, {"d"}, {"c"}}));
}

// Merging across the ring's origin: a change that wraps comes out as one arc.
TEST(OwnershipDiffTest, MergesAcrossTheOrigin) {
  const Ring from = MustBuild({{"a", {-100}}, {"b", {100}}});
  const Ring to = MustBuild({{"a", {-100}}, {"b", {100}}, {"c", {200, -200}}});
  // At N = 1, (100, 200] and (200, -200] both go from a to c. They are the last and the first range
  // in token order, adjacent across the end of the token space.
  const std::vector<RangeChange> changes = OwnershipDiff(from, to, 1);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].range, (TokenRange{100, -200}));
  EXPECT_EQ(changes[0].gained, Names{"c"});
  EXPECT_EQ(changes[0].lost, Names{"a"});
}

// The invariants of a single join and a single decommission (ownership_diff.h), on random rings and
// on allocated ones, n from 1 to 40 nodes, N from 1 to 5.
TEST(OwnershipDiffTest, JoinAndDecommissionInvariants) {
  const uint64_t base = BaseSeed();
  for (uint64_t c = 0; c < 120; ++c) {
    const uint64_t seed = base + c;
    SCOPED_TRACE(SeedTrace(seed));
    std::mt19937_64 rng(seed);
    const size_t nodes = Uniform(rng, 1, 40);
    const uint32_t n = static_cast<uint32_t>(Uniform(rng, 1, 5));
    const uint32_t vnodes = static_cast<uint32_t>(Uniform(rng, 1, 24));
    std::vector<Member> members = RandomMembers(rng, nodes, vnodes);
    const Ring from = MustBuild(members);

    // Join, tokens random or allocated.
    const Result<std::vector<Token>> tokens =
        c % 2 == 0 ? RandomTokens(from, "joiner", vnodes, seed)
                   : AllocateTokens(from, "joiner", {vnodes, n, seed});
    ASSERT_TRUE(tokens.ok());
    members.push_back({"joiner", tokens.value()});
    const Ring to = MustBuild(members);
    const std::vector<RangeChange> join = OwnershipDiff(from, to, n);
    double gained = 0;
    for (const RangeChange& ch : join) {
      SCOPED_TRACE(ch.range.ToString());
      ASSERT_EQ(ch.gained, Names{"joiner"});
      if (nodes >= n) {
        ASSERT_EQ(ch.lost, Names{ch.old_replicas.back()});
        Names expected = ch.new_replicas;
        std::erase(expected, "joiner");
        expected.push_back(ch.old_replicas.back());
        ASSERT_EQ(expected, ch.old_replicas) << "the others kept their order";
      } else {
        ASSERT_TRUE(ch.lost.empty());
      }
      gained += ch.range.Fraction();
    }
    // What the joiner gains is exactly what it owns.
    ASSERT_NEAR(gained, to.OwnershipFraction("joiner", n), 1e-9);
    if (nodes < n) {
      ASSERT_NEAR(gained, 1.0, 1e-9);
    }

    // Decommission of a random node of the joined ring.
    const std::string leaver = to.nodes()[rng() % to.node_count()];
    std::vector<Member> rest = to.Members();
    std::erase_if(rest, [&](const Member& m) { return m.name == leaver; });
    const Ring after = MustBuild(rest);
    const std::vector<RangeChange> leave = OwnershipDiff(to, after, n);
    double lost = 0;
    for (const RangeChange& ch : leave) {
      SCOPED_TRACE(ch.range.ToString());
      ASSERT_EQ(ch.lost, Names{leaver});
      if (after.node_count() >= n) {
        ASSERT_EQ(ch.gained, Names{ch.new_replicas.back()});
        Names expected = ch.old_replicas;
        std::erase(expected, leaver);
        expected.push_back(ch.new_replicas.back());
        ASSERT_EQ(expected, ch.new_replicas) << "the others kept their order";
      } else {
        ASSERT_TRUE(ch.gained.empty());
      }
      lost += ch.range.Fraction();
    }
    ASSERT_NEAR(lost, to.OwnershipFraction(leaver, n), 1e-9);
  }
}

}  // namespace
}  // namespace ringkv
