// TictacTree: segments as slices of the range (exhaustively on edge ranges), incremental updates
// against rebuilds from a model, order independence, XOR removal, Compare against the model's
// differences, and the serialized form against malformed input.
#include "aae/tictac_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "aae/aae_testing.h"
#include "ring/ring_testing.h"

namespace ringkv {
namespace {

using aae_testing::Diverge;
using aae_testing::KeyMap;
using aae_testing::RandomKeys;
using aae_testing::TreeOf;
using testing::BaseSeed;
using testing::SeedTrace;

constexpr TreeShape kSmall{16, 16};  // many keys a leaf: XORs of several contributions
constexpr TokenRange kWholeRing{};

void ExpectSameTree(const TictacTree& a, const TictacTree& b) {
  EXPECT_EQ(a.root(), b.root());
  EXPECT_EQ(a.Serialize(), b.Serialize());  // every leaf
  EXPECT_TRUE(a.CheckInvariants().ok());
  EXPECT_TRUE(b.CheckInvariants().ok());
}

TEST(TreeShape, ValidateRefusesWhatIsNotAPowerOfTwoOrTooLarge) {
  EXPECT_TRUE(TreeShape{}.Validate().ok());
  EXPECT_TRUE((TreeShape{1, 1}.Validate().ok()));
  EXPECT_TRUE((TreeShape{1024, 1024}.Validate().ok()));
  EXPECT_EQ(TreeShape({0, 256}).Validate().code(), Code::kInvalidArgument);
  EXPECT_EQ(TreeShape({1000, 256}).Validate().code(), Code::kInvalidArgument);
  EXPECT_EQ(TreeShape({1024, 3}).Validate().code(), Code::kInvalidArgument);
  EXPECT_EQ(TreeShape({2048, 1024}).Validate().code(), Code::kInvalidArgument);
  EXPECT_EQ(TreeShape({1u << 17, 1}).Validate().code(), Code::kInvalidArgument);
}

__extension__ typedef unsigned __int128 Uint128;

// Ranges at the edges: the whole ring from several origins, plain and wrapping ranges, ranges at
// the ends of the token space, and ranges narrower than (or about as wide as) the segment count.
std::vector<TokenRange> EdgeRanges() {
  return {{0, 0},
          {kTokenMin, kTokenMin},
          {kTokenMax, kTokenMax},
          {-1000, 5000},
          {5000, -1000},
          {kTokenMin, kTokenMax},
          {kTokenMin, 0},
          {7, kTokenMax},
          {kTokenMax, 7},
          {kTokenMax, kTokenMin},
          {kTokenMax - 1, kTokenMax},
          {kTokenMax - 3, kTokenMin + 2},
          {10, 11},
          {10, 13},
          {100, 100 + 255},
          {100, 100 + 256},
          {100, 100 + 257},
          {-300, 300}};
}

// The number of tokens in a range, 2^64 for the whole ring.
Uint128 Width(const TokenRange& r) {
  const uint64_t w = static_cast<uint64_t>(r.end) - static_cast<uint64_t>(r.start);
  return w == 0 ? Uint128{1} << 64 : Uint128{w};
}

Token Next(Token t) { return static_cast<Token>(static_cast<uint64_t>(t) + 1); }

// Segment s's arc starts where the last non-empty one before it ended, holds tokens of segment s
// at both ends and of an earlier segment just before; the arcs' widths add up to the range's. As
// SegmentOf never decreases along the range, this makes the arcs a partition of the range.
TEST(Segments, ArcsPartitionTheRangeInOrder) {
  for (TreeShape shape : {TreeShape{1, 1}, TreeShape{1, 2}, TreeShape{4, 4}, TreeShape{16, 16},
                          TreeShape{1024, 1024}}) {
    for (const TokenRange& range : EdgeRanges()) {
      SCOPED_TRACE(shape.ToString() + " over " + range.ToString());
      Token at = range.start;
      Uint128 covered = 0;
      uint32_t nonempty = 0;
      for (uint32_t s = 0; s < shape.segments(); ++s) {
        const std::optional<TokenRange> arc = SegmentTokens(shape, range, s, s);
        if (!arc) continue;
        ++nonempty;
        ASSERT_EQ(arc->start, at) << "segment " << s;
        ASSERT_EQ(SegmentOf(shape, range, Next(arc->start)), s);
        ASSERT_EQ(SegmentOf(shape, range, arc->end), s);
        if (arc->start != range.start) {
          ASSERT_LT(SegmentOf(shape, range, arc->start), s);
        }
        covered += Width(*arc);
        at = arc->end;
      }
      EXPECT_EQ(at, range.end);
      EXPECT_TRUE(covered == Width(range));
      EXPECT_EQ(Uint128{nonempty}, std::min<Uint128>(Width(range), shape.segments()));
    }
  }
}

// On ranges of a few hundred tokens, every token: in exactly one segment's arc, its SegmentOf's.
TEST(Segments, EveryTokenOfANarrowRangeIsInExactlyItsSegment) {
  for (TreeShape shape : {TreeShape{1, 1}, TreeShape{2, 2}, TreeShape{16, 16}}) {
    for (const TokenRange& range : EdgeRanges()) {
      if (Width(range) > 1000) continue;
      SCOPED_TRACE(shape.ToString() + " over " + range.ToString());
      for (Token t = Next(range.start);; t = Next(t)) {
        const uint32_t segment = SegmentOf(shape, range, t);
        ASSERT_LT(segment, shape.segments());
        int arcs = 0;
        for (uint32_t s = 0; s < shape.segments(); ++s) {
          const auto arc = SegmentTokens(shape, range, s, s);
          if (arc && arc->Contains(t)) {
            ++arcs;
            EXPECT_EQ(s, segment) << "token " << t;
          }
        }
        EXPECT_EQ(arcs, 1) << "token " << t;
        if (t == range.end) break;
      }
    }
  }
}

// A run of segments is the arc from its first non-empty segment's start to its last one's end, and
// random tokens of wide ranges lie in their segment's arc.
TEST(Segments, RunsAndRandomTokensAgreeWithSingleSegments) {
  std::mt19937_64 rng(BaseSeed());
  SCOPED_TRACE(SeedTrace(BaseSeed()));
  for (TreeShape shape : {TreeShape{4, 4}, TreeShape{64, 16}}) {
    for (const TokenRange& range : EdgeRanges()) {
      SCOPED_TRACE(shape.ToString() + " over " + range.ToString());
      for (int i = 0; i < 200; ++i) {
        uint32_t first = rng() % shape.segments(), last = rng() % shape.segments();
        if (first > last) std::swap(first, last);
        std::optional<TokenRange> from, to;
        for (uint32_t s = first; s <= last; ++s) {
          if (auto arc = SegmentTokens(shape, range, s, s)) {
            if (!from) from = arc;
            to = arc;
          }
        }
        const std::optional<TokenRange> run = SegmentTokens(shape, range, first, last);
        ASSERT_EQ(run.has_value(), from.has_value());
        if (run) {
          EXPECT_EQ(*run, (TokenRange{from->start, to->end}));
        }

        const Token t = static_cast<Token>(static_cast<uint64_t>(range.start) + 1 +
                                           static_cast<uint64_t>(rng() % Width(range)));
        ASSERT_TRUE(range.Contains(t));
        const auto arc = SegmentTokens(shape, range, SegmentOf(shape, range, t),
                                       SegmentOf(shape, range, t));
        ASSERT_TRUE(arc.has_value());
        EXPECT_TRUE(arc->Contains(t)) << "token " << t;
      }
    }
  }
}

// Keys spread evenly over segments: Murmur3 tokens are uniform over any range.
TEST(Segments, KeysSpreadEvenlyOverTheSegments) {
  std::mt19937_64 rng(BaseSeed());
  const TreeShape shape{16, 16};
  for (const TokenRange& range : {TokenRange{}, TokenRange{kTokenMax / 2, kTokenMin / 2}}) {
    SCOPED_TRACE(range.ToString());
    std::vector<int> count(shape.segments());
    int keys = 0;
    for (const auto& [key, version] : RandomKeys(200000, rng)) {
      if (!range.Contains(TokenOf(key))) continue;
      ++count[SegmentOf(shape, range, TokenOf(key))];
      ++keys;
    }
    // About 780 or 390 keys a segment; a segment off by 30% is beyond 6 standard deviations.
    const double mean = static_cast<double>(keys) / shape.segments();
    for (int c : count) {
      EXPECT_GT(c, 0.7 * mean);
      EXPECT_LT(c, 1.3 * mean);
    }
  }
}

// Random inserts, overwrites and removes, applied one by one, give the tree a rebuild from the
// final key set gives.
TEST(TictacTree, IncrementalUpdatesEqualARebuild) {
  for (TreeShape shape : {kSmall, TreeShape{}}) {
    for (uint64_t seed = BaseSeed(); seed < BaseSeed() + 5; ++seed) {
      SCOPED_TRACE(SeedTrace(seed) + " shape " + shape.ToString());
      std::mt19937_64 rng(seed);
      KeyMap model;
      TictacTree tree(shape, kWholeRing);
      for (int op = 0; op < 5000; ++op) {
        const std::string key = "k" + std::to_string(rng() % 800);
        const auto it = model.find(key);
        const std::optional<uint64_t> old =
            it == model.end() ? std::nullopt : std::optional<uint64_t>(it->second);
        std::optional<uint64_t> next;
        if (rng() % 4 != 0) next = rng() % 8;  // small version hashes: equal ones recur
        tree.Apply(key, old, next);
        if (next) {
          model[key] = *next;
        } else {
          model.erase(key);
        }
      }
      ExpectSameTree(tree, TreeOf(model, shape));
    }
  }
}

TEST(TictacTree, InsertionOrderDoesNotMatter) {
  std::mt19937_64 rng(BaseSeed());
  SCOPED_TRACE(SeedTrace(BaseSeed()));
  const KeyMap keys = RandomKeys(3000, rng);
  std::vector<std::pair<std::string, uint64_t>> order(keys.begin(), keys.end());
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  TictacTree shuffled(kSmall, kWholeRing);
  for (const auto& [key, version] : order) shuffled.Apply(key, std::nullopt, version);
  ExpectSameTree(shuffled, TreeOf(keys, kSmall));
}

TEST(TictacTree, RemoveAndOverwriteBackRestoreThePreviousTree) {
  std::mt19937_64 rng(BaseSeed());
  TictacTree tree = TreeOf(RandomKeys(1000, rng), kSmall);
  const TictacTree before = tree;
  tree.Apply("fresh", std::nullopt, 7);
  EXPECT_NE(tree.root(), before.root());
  tree.Apply("fresh", 7, std::nullopt);
  ExpectSameTree(tree, before);

  tree.Apply(aae_testing::DocKey("doc", 5), 0, 0);  // no change: old == new
  ExpectSameTree(tree, before);

  // Version hash 0 still counts: a key's presence is never invisible.
  tree.Apply("zero", std::nullopt, 0);
  EXPECT_NE(tree.root(), before.root());
  tree.Apply("zero", 0, std::nullopt);
  ExpectSameTree(tree, before);
}

TEST(TictacTree, MemoryDoesNotGrowWithKeys) {
  TictacTree tree(TreeShape{}, kWholeRing);
  const size_t empty = tree.MemoryBytes();
  EXPECT_GE(empty, 8u * (262144 + 1024 + 1));
  EXPECT_LT(empty, 8u * (262144 + 1024 + 1) + 256);
  std::mt19937_64 rng(BaseSeed());
  for (const auto& [key, version] : RandomKeys(100000, rng)) tree.Apply(key, std::nullopt, version);
  EXPECT_EQ(tree.MemoryBytes(), empty);
  tree.Clear();
  EXPECT_EQ(tree.root(), 0u);
  ExpectSameTree(tree, TictacTree(TreeShape{}, kWholeRing));
}

TEST(TictacTree, CompareOfDifferentShapesIsRefused) {
  const Result<TreeDiff> diff =
      Compare(TictacTree({1024, 256}, kWholeRing), TictacTree({512, 256}, kWholeRing));
  EXPECT_EQ(diff.status().code(), Code::kInvalidArgument);
  EXPECT_NE(diff.status().message().find("1024x256"), std::string::npos);
  const Result<TreeDiff> ranges = Compare(TictacTree(kSmall, TokenRange{0, 10}),
                                          TictacTree(kSmall, TokenRange{0, 11}));
  EXPECT_EQ(ranges.status().code(), Code::kInvalidArgument);
  EXPECT_NE(ranges.status().message().find("(0, 11]"), std::string::npos);
}

// Compare finds exactly the segments that hold the differing keys, among M = 100,000.
TEST(TictacTree, CompareFindsExactlyTheDifferingSegments) {
  std::mt19937_64 rng(BaseSeed());
  SCOPED_TRACE(SeedTrace(BaseSeed()));
  const KeyMap base = RandomKeys(100000, rng);
  const TictacTree a = TreeOf(base, TreeShape{});
  for (size_t k : {0, 1, 100, 10000}) {
    SCOPED_TRACE("k = " + std::to_string(k));
    const KeyMap other = Diverge(base, k, rng);
    const std::vector<KeyDiff> expected = aae_testing::ExpectedDiffs(base, other);
    ASSERT_EQ(expected.size(), k);
    std::set<uint32_t> segments, branches;
    for (const KeyDiff& d : expected) {
      const uint32_t segment = SegmentOf(a.shape(), a.range(), TokenOf(d.key));
      segments.insert(segment);
      branches.insert(segment / a.shape().leaves_per_branch);
    }
    const Result<TreeDiff> diff = Compare(a, TreeOf(other, TreeShape{}));
    ASSERT_TRUE(diff.ok());
    EXPECT_EQ(diff->segments, std::vector<uint32_t>(segments.begin(), segments.end()));
    EXPECT_EQ(diff->branches, std::vector<uint32_t>(branches.begin(), branches.end()));
  }
}

TEST(TictacTree, SerializeRoundTrips) {
  std::mt19937_64 rng(BaseSeed());
  for (TreeShape shape : {kSmall, TreeShape{}, TreeShape{1, 1}}) {
    const TictacTree tree = TreeOf(RandomKeys(2000, rng), shape);
    const std::string bytes = tree.Serialize();
    EXPECT_EQ(bytes.size(), 40 + 8 * size_t{shape.segments()});
    Result<TictacTree> back = TictacTree::Deserialize(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->shape(), shape);
    EXPECT_EQ(back->range(), kWholeRing);
    ExpectSameTree(back.value(), tree);
    EXPECT_EQ(back->branch_hashes()[0], tree.branch_hashes()[0]);
  }
}

// Overwrites 8 bytes of `bytes` at `offset` with v, big-endian.
std::string WithWord(std::string bytes, size_t offset, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) bytes[offset + i] = static_cast<char>(v & 0xff);
  return bytes;
}

TEST(TictacTree, MalformedSerializedTreesAreRefused) {
  std::mt19937_64 rng(BaseSeed());
  const std::string good = TreeOf(RandomKeys(500, rng), kSmall).Serialize();
  const uint64_t magic_version = 0x524b545400000002ULL;
  const struct {
    const char* what;
    std::string bytes;
    Code code;
  } cases[] = {
      {"empty", "", Code::kCorruption},
      {"short header", good.substr(0, 12), Code::kCorruption},
      {"bad magic", WithWord(good, 0, 0x58585858ULL << 32 | 1), Code::kCorruption},
      {"unknown version", WithWord(good, 0, magic_version + 1), Code::kCorruption},
      {"shape not a power of two", WithWord(good, 8, uint64_t{12} << 32 | 16),
       Code::kInvalidArgument},
      {"shape too large", WithWord(good, 8, uint64_t{65536} << 32 | 65536), Code::kInvalidArgument},
      {"shape of another size", WithWord(good, 8, uint64_t{32} << 32 | 16), Code::kCorruption},
      {"truncated", good.substr(0, good.size() - 1), Code::kCorruption},
      {"one byte more", good + "x", Code::kCorruption},
      {"a leaf changed", WithWord(good, 32 + 8 * 7, 12345), Code::kCorruption},
      {"the range changed", WithWord(good, 16, 5), Code::kCorruption},
      {"checksum changed", WithWord(good, good.size() - 8, 1), Code::kCorruption},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(TictacTree::Deserialize(c.bytes).status().code(), c.code);
  }
  // Random bytes, and every prefix of a good tree, are refused without a crash.
  for (size_t n = 0; n < good.size(); n += 37) {
    EXPECT_FALSE(TictacTree::Deserialize(good.substr(0, n)).ok());
    std::string noise(n, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    EXPECT_FALSE(TictacTree::Deserialize(noise).ok());
  }
}

}  // namespace
}  // namespace ringkv
