// Token allocation: validity, determinism, and the balance figures the header and README quote.
// Balance bounds are stated next to each test; every figure is printed so a run shows the table.
#include "ring/tokens.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ring/ring_testing.h"

namespace ringkv {
namespace {

using testing::BaseSeed;
using testing::MustBuild;
using testing::NodeName;
using testing::RandomMembers;
using testing::SeedTrace;

// Max over mean of the nodes' replicated ownership at factor n.
double Imbalance(const Ring& ring, uint32_t n) {
  const std::vector<double> own = ring.Ownership(n);
  double sum = 0, max = 0;
  for (double o : own) {
    sum += o;
    max = std::max(max, o);
  }
  return max / (sum / static_cast<double>(own.size()));
}

using TokenSource =
    std::function<Result<std::vector<Token>>(const Ring&, const std::string&, uint64_t)>;

TokenSource Allocated(uint32_t vnodes, uint32_t rf) {
  return [=](const Ring& ring, const std::string& name, uint64_t seed) {
    return AllocateTokens(ring, name, {vnodes, rf, seed});
  };
}

TokenSource Random(uint32_t vnodes) {
  return [=](const Ring& ring, const std::string& name, uint64_t seed) {
    return RandomTokens(ring, name, vnodes, seed);
  };
}

// Grows a cluster from empty one node at a time, each joiner taking tokens against the ring so far
// (as a real cluster grows, joins serialised), calling `at` after each join.
Ring Grow(size_t nodes, const TokenSource& source, uint64_t seed,
          const std::function<void(const Ring&)>& at = nullptr) {
  Ring ring;
  std::vector<Member> members;
  for (size_t i = 0; i < nodes; ++i) {
    const std::string name = NodeName(i);
    Result<std::vector<Token>> tokens = source(ring, name, seed * 1000003 + i);
    EXPECT_TRUE(tokens.ok()) << tokens.status().ToString();
    members.push_back({name, std::move(tokens).value()});
    ring = MustBuild(members);
    if (at) at(ring);
  }
  return ring;
}

// Tokens a caller may use for `node` in `ring`: the count asked for, ascending, distinct, never the
// origin, none held already, and a ring that builds with them.
void ExpectUsable(const Ring& ring, const std::string& node,
                  const Result<std::vector<Token>>& tokens, size_t count) {
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  const std::vector<Token>& t = tokens.value();
  ASSERT_EQ(t.size(), count);
  ASSERT_TRUE(std::is_sorted(t.begin(), t.end()));
  ASSERT_EQ(std::adjacent_find(t.begin(), t.end()), t.end());
  ASSERT_NE(t.front(), kTokenMin);
  std::vector<Member> members = ring.Members();
  members.push_back({node, t});
  ASSERT_TRUE(Ring::Build(members).ok()) << Ring::Build(members).status().ToString();
}

TEST(TokensTest, RejectsBadRequests) {
  const Ring ring = MustBuild({{"a", {1, 2, 3}}});
  for (uint64_t seed : {0, 1}) {
    const auto check = [&](std::string_view node, uint32_t count, uint32_t rf) {
      EXPECT_EQ(AllocateTokens(ring, node, {count, rf, seed}).status().code(),
                Code::kInvalidArgument)
          << node << " " << count << " " << rf;
      if (rf != 0) {
        EXPECT_EQ(RandomTokens(ring, node, count, seed).status().code(), Code::kInvalidArgument)
            << node << " " << count;
      }
    };
    check("a", 4, 3);  // already a member
    check("", 4, 3);
    check(std::string(kNodeNameBytesMax + 1, 'x'), 4, 3);
    check("b", 0, 3);
    check("b", kTokensPerNodeMax + 1, 3);
    check("b", 4, 0);
    EXPECT_EQ(AllocateTokens(ring, "b", {4, 0, seed}).status().code(), Code::kInvalidArgument);
  }
}

TEST(TokensTest, RandomTokensAreDeterministicAndAvoidHeldTokens) {
  const uint64_t seed = BaseSeed();
  SCOPED_TRACE(SeedTrace(seed));
  // The ring already holds the first token this seed draws: it must be skipped.
  const Token first = static_cast<Token>(std::mt19937_64(seed)());
  const Ring ring = MustBuild({{"a", {first}}});
  const Result<std::vector<Token>> tokens = RandomTokens(ring, "b", 64, seed);
  ExpectUsable(ring, "b", tokens, 64);
  EXPECT_EQ(RandomTokens(ring, "b", 64, seed).value(), tokens.value());
  EXPECT_NE(RandomTokens(ring, "b", 64, seed + 1).value(), tokens.value());
}

TEST(TokensTest, FirstNodeIsEvenlySpaced) {
  for (uint32_t vnodes : {1u, 3u, 16u, 256u}) {
    const Result<std::vector<Token>> tokens = AllocateTokens(Ring(), "a", {vnodes, 3, 7});
    ExpectUsable(Ring(), "a", tokens, vnodes);
    const Ring ring = MustBuild({{"a", tokens.value()}});
    for (const TokenRange& r : ring.Ranges()) {
      EXPECT_NEAR(r.Fraction(), 1.0 / vnodes, 1e-12) << r.ToString();
    }
  }
  EXPECT_NE(AllocateTokens(Ring(), "a", {16, 3, 7}).value(),
            AllocateTokens(Ring(), "a", {16, 3, 8}).value());
}

TEST(TokensTest, AllocationIsDeterministic) {
  const uint64_t seed = BaseSeed();
  SCOPED_TRACE(SeedTrace(seed));
  const Ring ring = Grow(7, Allocated(16, 3), seed);
  const Result<std::vector<Token>> a = AllocateTokens(ring, "new", {16, 3, seed});
  ExpectUsable(ring, "new", a, 16);
  EXPECT_EQ(AllocateTokens(ring, "new", {16, 3, seed}).value(), a.value());
  // The name is only checked, so a different seed, not a different name, is what separates two
  // concurrent joiners.
  EXPECT_EQ(AllocateTokens(ring, "other", {16, 3, seed}).value(), a.value());
  const std::vector<Token> b = AllocateTokens(ring, "new", {16, 3, seed + 1}).value();
  std::vector<Token> both;
  std::set_intersection(a.value().begin(), a.value().end(), b.begin(), b.end(),
                        std::back_inserter(both));
  EXPECT_TRUE(both.empty()) << "two seeds picked a common token";
}

// Rings where ranges are tiny, wrap at the extremes, or few: tokens stay usable.
TEST(TokensTest, AllocationHandlesAwkwardRings) {
  const uint64_t seed = BaseSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  const std::vector<std::vector<Member>> rings = {
      {{"a", {kTokenMax}}},
      {{"a", {kTokenMin + 1}}},
      {{"a", {kTokenMax}}, {"b", {kTokenMin + 1}}},
      {{"a", {0, 2}}, {"b", {1}}, {"c", {Token{1} << 62}}},  // ranges too small to split
      {{"a", {-1, 1}}, {"b", {0, kTokenMax}}, {"c", {kTokenMin + 1, kTokenMin + 2}}},
      RandomMembers(rng, 9, 16),
      RandomMembers(rng, 2, 48),  // fewer nodes than N: every walk laps the ring
  };
  for (const std::vector<Member>& members : rings) {
    const Ring ring = MustBuild(members);
    for (uint32_t rf = 1; rf <= 5; ++rf) {
      for (uint32_t count : {1u, 16u, 64u}) {
        SCOPED_TRACE(testing::NodeName(ring.node_count()) + " rf " + std::to_string(rf) +
                     " count " + std::to_string(count));
        ExpectUsable(ring, "new", AllocateTokens(ring, "new", {count, rf, seed}), count);
      }
    }
  }
}

// The balance figures. Clusters grow from empty to 50 nodes, one join at a time, with the default
// 16 vnodes balanced for N = 3; imbalance (max node / mean) is read at 3, 5, 10, 20 and 50 nodes,
// worst of three seeds. Stated bounds for the default: at N = 3 <= 1.10; at N = 1 and 2 <= 1.15; at
// N = 5 (not the factor balanced for) <= 1.25. Random tokens are printed for comparison, not
// bounded.
TEST(TokensTest, ImbalanceAtTheDefaultVNodeCount) {
  constexpr size_t kCheckpoints[] = {3, 5, 10, 20, 50};
  constexpr uint32_t kFactors[] = {1, 2, 3, 5};
  constexpr double kBound[] = {1.15, 1.15, 1.10, 1.25};
  constexpr int kSeeds = 3;
  double worst[std::size(kCheckpoints)][std::size(kFactors)] = {};
  double random16[std::size(kCheckpoints)] = {};
  double random256[std::size(kCheckpoints)] = {};
  const auto record = [&](double(*table)[std::size(kFactors)], double* row_only, const Ring& ring) {
    for (size_t c = 0; c < std::size(kCheckpoints); ++c) {
      if (ring.node_count() != kCheckpoints[c]) continue;
      if (table != nullptr) {
        for (size_t f = 0; f < std::size(kFactors); ++f) {
          table[c][f] = std::max(table[c][f], Imbalance(ring, kFactors[f]));
        }
      } else {
        row_only[c] = std::max(row_only[c], Imbalance(ring, 3));
      }
    }
  };
  for (int s = 0; s < kSeeds; ++s) {
    const uint64_t seed = BaseSeed() + s;
    Grow(50, Allocated(kDefaultTokensPerNode, 3), seed,
         [&](const Ring& r) { record(worst, nullptr, r); });
    Grow(50, Random(kDefaultTokensPerNode), seed,
         [&](const Ring& r) { record(nullptr, random16, r); });
    Grow(50, Random(256), seed, [&](const Ring& r) { record(nullptr, random256, r); });
  }
  std::printf("max/mean ownership, worst of %d seeds (base %llu), %u vnodes allocated for N=3:\n",
              kSeeds, static_cast<unsigned long long>(BaseSeed()), kDefaultTokensPerNode);
  std::printf("nodes    N=1    N=2    N=3    N=5  | random 16 N=3  random 256 N=3\n");
  for (size_t c = 0; c < std::size(kCheckpoints); ++c) {
    std::printf("%5zu  %.3f  %.3f  %.3f  %.3f  |         %.3f           %.3f\n", kCheckpoints[c],
                worst[c][0], worst[c][1], worst[c][2], worst[c][3], random16[c], random256[c]);
    for (size_t f = 0; f < std::size(kFactors); ++f) {
      EXPECT_LE(worst[c][f], kBound[f])
          << kCheckpoints[c] << " nodes, N=" << kFactors[f] << "; " << SeedTrace(BaseSeed());
    }
  }
}

struct Moved {
  double slots = 0;    // share of (key, replica) pairs whose node changed
  double primary = 0;  // share of keys whose primary changed
};

// Joins one node to `ring` and measures what moves over `keys` random keys, checking on the way
// that everything that moves, moves to the new node.
Moved JoinAndMeasure(const Ring& ring, const std::vector<Token>& tokens, uint32_t n, int keys,
                     uint64_t seed) {
  std::vector<Member> members = ring.Members();
  members.push_back({"joiner", tokens});
  const Ring joined = MustBuild(members);
  std::mt19937_64 rng(seed);
  int moved_slots = 0, moved_primary = 0;
  for (int k = 0; k < keys; ++k) {
    const Token key = TokenOf("key-" + std::to_string(rng()));
    const std::vector<std::string> before = ring.PreferenceList(key, n);
    const std::vector<std::string> after = joined.PreferenceList(key, n);
    for (const std::string& node : after) {
      if (std::find(before.begin(), before.end(), node) != before.end()) continue;
      EXPECT_EQ(node, "joiner") << "key token " << key;
      ++moved_slots;
    }
    if (before.front() != after.front()) {
      EXPECT_EQ(after.front(), "joiner") << "key token " << key;
      ++moved_primary;
    }
  }
  return {static_cast<double>(moved_slots) / (static_cast<double>(keys) * n),
          static_cast<double>(moved_primary) / keys};
}

// Adding one node to an n-node ring (n >= N) moves about 1/(n+1) of the keys' replicas, and of
// their primaries, all to the new node. Measured over 20000 keys, as (moved share) * (n + 1), which
// is 1 for a perfectly fair join. Bound with the default allocator: within [0.85, 1.15] (the
// joiner's share is within the imbalance bound; 20000 keys add ~3% sampling noise at n = 49). With
// 256 random tokens each: within [0.7, 1.3].
TEST(TokensTest, JoinMovesAboutOneOverNPlusOneOfTheKeys) {
  constexpr size_t kSizes[] = {3, 4, 5, 7, 10, 20, 49};
  constexpr uint32_t kN = 3;
  constexpr int kKeys = 20000;
  const uint64_t seed = BaseSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::printf("join of one node to n: moved share * (n+1), replicas at N=3 / primaries\n");
  std::printf("    n   allocated 16       random 256\n");
  const auto wanted = [&](const Ring& ring) {
    return std::find(std::begin(kSizes), std::end(kSizes), ring.node_count()) != std::end(kSizes);
  };
  std::vector<Ring> allocated, random;
  Grow(49, Allocated(kDefaultTokensPerNode, kN), seed, [&](const Ring& r) {
    if (wanted(r)) allocated.push_back(r);
  });
  Grow(49, Random(256), seed, [&](const Ring& r) {
    if (wanted(r)) random.push_back(r);
  });
  ASSERT_EQ(allocated.size(), std::size(kSizes));
  ASSERT_EQ(random.size(), std::size(kSizes));
  for (size_t i = 0; i < std::size(kSizes); ++i) {
    const double fair = static_cast<double>(kSizes[i] + 1);
    const Moved alloc = JoinAndMeasure(
        allocated[i],
        AllocateTokens(allocated[i], "joiner", {kDefaultTokensPerNode, kN, seed + 99}).value(), kN,
        kKeys, seed);
    const Moved rand = JoinAndMeasure(
        random[i], RandomTokens(random[i], "joiner", 256, seed + 99).value(), kN, kKeys, seed);
    std::printf("%5zu   %.3f / %.3f      %.3f / %.3f\n", kSizes[i], alloc.slots * fair,
                alloc.primary * fair, rand.slots * fair, rand.primary * fair);
    for (double m : {alloc.slots, alloc.primary}) {
      EXPECT_GE(m * fair, 0.85) << kSizes[i] << " nodes, allocated";
      EXPECT_LE(m * fair, 1.15) << kSizes[i] << " nodes, allocated";
    }
    for (double m : {rand.slots, rand.primary}) {
      EXPECT_GE(m * fair, 0.7) << kSizes[i] << " nodes, random";
      EXPECT_LE(m * fair, 1.3) << kSizes[i] << " nodes, random";
    }
  }
}

}  // namespace
}  // namespace ringkv
