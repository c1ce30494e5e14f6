#include "cql/partition.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace ringkv::cql {
namespace {

constexpr int64_t kNow = 1'800'000'000;  // the injected clock, seconds

Cell Live(std::string value, int64_t ts, int64_t expires_s = 0) {
  Cell c;
  c.value = std::move(value);
  c.timestamp_us = ts;
  c.expires_s = expires_s;
  return c;
}

Cell Tomb(int64_t ts) {
  Cell c;
  c.tombstone = true;
  c.timestamp_us = ts;
  c.expires_s = kNow;
  return c;
}

Partition OneCell(const std::string& row, const std::string& column, Cell cell,
                  std::string element = "") {
  Partition p;
  p.rows[row].cells[CellKey{column, std::move(element)}] = std::move(cell);
  return p;
}

const Cell* Find(const Partition& p, const std::string& row, const std::string& column,
                 const std::string& element = "") {
  auto r = p.rows.find(row);
  if (r == p.rows.end()) return nullptr;
  auto c = r->second.cells.find(CellKey{column, element});
  return c == r->second.cells.end() ? nullptr : &c->second;
}

TEST(PartitionCodec, RoundTripAndCanonical) {
  Partition p;
  p.deletion = Deletion{100, kNow - 5};
  Row& r = p.rows["\x01k"];
  r.marker = RowMarker{200, kNow + 60, 60};
  r.deletion = Deletion{150, kNow - 1};
  r.cells[{"score", ""}] = Live("\x05", 300, kNow + 10);
  r.cells[{"tags", "a"}] = Live("", 301);
  r.cells[{"tags", ""}] = Tomb(299);
  p.rows[""].cells[{"x", ""}] = Live(std::string("\0\xff", 2), -7);

  const std::string bytes = EncodePartition(p);
  Partition back;
  ASSERT_TRUE(DecodePartition(bytes, &back));
  EXPECT_EQ(back, p);
  EXPECT_EQ(EncodePartition(back), bytes);  // canonical

  // Every truncation and a trailing byte are rejected, never crash.
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodePartition(bytes.substr(0, n), &back)) << n;
  }
  EXPECT_FALSE(DecodePartition(bytes + "x", &back));
  std::string wrong_format = bytes;
  wrong_format[0] = 9;
  EXPECT_FALSE(DecodePartition(wrong_format, &back));
}

TEST(PartitionCodec, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  Partition out;
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 64, '\0');
    for (auto& ch : s) ch = static_cast<char>(rng());
    if (!s.empty()) s[0] = static_cast<char>(kPartitionFormat);
    (void)DecodePartition(s, &out);
  }
}

TEST(PartitionMerge, HigherTimestampWinsEitherOrder) {
  Partition a = OneCell("", "v", Live("old", 10));
  Partition b = OneCell("", "v", Live("new", 20));
  EXPECT_EQ(Find(Merge(a, b), "", "v")->value, "new");
  EXPECT_EQ(Find(Merge(b, a), "", "v")->value, "new");
}

TEST(PartitionMerge, TiesGoToTombstoneThenGreaterValue) {
  Partition a = OneCell("", "v", Live("aaa", 10));
  Partition b = OneCell("", "v", Live("bbb", 10));
  EXPECT_EQ(Find(Merge(a, b), "", "v")->value, "bbb");
  EXPECT_EQ(Find(Merge(b, a), "", "v")->value, "bbb");
  Partition t = OneCell("", "v", Tomb(10));
  EXPECT_TRUE(Find(Merge(b, t), "", "v")->tombstone);
  EXPECT_TRUE(Find(Merge(t, b), "", "v")->tombstone);
}

TEST(PartitionMerge, CommutativeAssociativeIdempotent) {
  std::mt19937 rng(11);
  auto random_partition = [&] {
    Partition p;
    for (int i = 0; i < 6; ++i) {
      const std::string row(1, static_cast<char>('a' + rng() % 3));
      const std::string col(1, static_cast<char>('x' + rng() % 3));
      const int64_t ts = rng() % 5;
      Cell c = rng() % 4 == 0 ? Tomb(ts) : Live(std::to_string(rng() % 3), ts);
      Partition one = OneCell(row, col, c);
      if (rng() % 5 == 0) one.rows[row].deletion = Deletion{static_cast<int64_t>(rng() % 5), kNow};
      if (rng() % 5 == 0) one.rows[row].marker = RowMarker{static_cast<int64_t>(rng() % 5), 0, 0};
      MergeInto(&p, one);
    }
    if (rng() % 6 == 0) p.deletion = Deletion{static_cast<int64_t>(rng() % 5), kNow};
    return p;
  };
  for (int i = 0; i < 300; ++i) {
    Partition a = random_partition(), b = random_partition(), c = random_partition();
    EXPECT_EQ(Merge(a, b), Merge(b, a));
    EXPECT_EQ(Merge(Merge(a, b), c), Merge(a, Merge(b, c)));
    EXPECT_EQ(Merge(a, a), a);
    // Compacting before or after merging shows the same live data.
    Partition m1 = Merge(a, b);
    Compact(&m1, kNow);
    Partition ca = a, cb = b;
    Compact(&ca, kNow);
    Compact(&cb, kNow);
    Partition m2 = Merge(ca, cb);
    Compact(&m2, kNow);
    EXPECT_EQ(m1, m2);
  }
}

TEST(PartitionCompact, RowAndPartitionTombstonesShadowOlderCellsOnly) {
  Partition p = OneCell("r", "old", Live("1", 10));
  p.rows["r"].cells[{"new", ""}] = Live("2", 30);
  p.rows["r"].marker = RowMarker{10, 0, 0};
  p.rows["r"].deletion = Deletion{20, kNow};
  Compact(&p, kNow);
  EXPECT_EQ(Find(p, "r", "old"), nullptr);
  ASSERT_NE(Find(p, "r", "new"), nullptr);
  EXPECT_FALSE(MarkerLive(p.rows["r"].marker, kNow));
  EXPECT_TRUE(RowLive(p.rows["r"], kNow));

  Partition q = OneCell("r", "v", Live("1", 10));
  MergeInto(&q, OneCell("s", "v", Live("2", 50)));
  q.deletion = Deletion{40, kNow};
  Compact(&q, kNow);
  EXPECT_EQ(q.rows.count("r"), 0u);
  EXPECT_EQ(q.rows.count("s"), 1u);

  // A tombstone keeps shadowing an older sibling that arrives after it.
  Partition later = OneCell("r", "v", Live("1", 5));
  MergeInto(&later, q);
  Compact(&later, kNow);
  EXPECT_EQ(later.rows.count("r"), 0u);
}

TEST(PartitionCompact, TtlExpiryWithInjectedClock) {
  Partition p = OneCell("", "v", Live("x", 10, kNow + 100));
  Partition at_start = p;
  Compact(&at_start, kNow);
  EXPECT_TRUE(CellLive(*Find(at_start, "", "v"), kNow));
  EXPECT_TRUE(CellLive(*Find(at_start, "", "v"), kNow + 99));
  EXPECT_FALSE(CellLive(*Find(at_start, "", "v"), kNow + 100));

  Partition expired = p;
  Compact(&expired, kNow + 100);
  const Cell* c = Find(expired, "", "v");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->tombstone);  // still shadows an older value seen later
  Partition older = OneCell("", "v", Live("older", 5));
  MergeInto(&older, expired);
  Compact(&older, kNow + 100);
  EXPECT_TRUE(Find(older, "", "v")->tombstone);

  // Kept however old unless the caller purges (a write whose read found every replica agreeing):
  // then gone once made before the purge horizon, and only then.
  const int64_t later = kNow + 100 + kTombstoneGraceS + 1;
  Compact(&expired, later);
  EXPECT_FALSE(expired.rows.empty());
  EXPECT_FALSE(HasTombstonesBefore(expired, kNow + 100));
  Compact(&expired, later, kNow + 100);
  EXPECT_FALSE(expired.rows.empty()) << "made at the horizon, not before it";
  EXPECT_TRUE(HasTombstonesBefore(expired, later - kTombstoneGraceS));
  Compact(&expired, later, later - kTombstoneGraceS);
  EXPECT_TRUE(expired.rows.empty());
}

TEST(PartitionCompact, CollectionElementsMergeAndCollectionDeletionShadows) {
  // Two writers add different elements concurrently: both survive the merge.
  Partition a = OneCell("", "tags", Live("", 10), "a");
  Partition b = OneCell("", "tags", Live("", 11), "b");
  Partition m = Merge(a, b);
  Compact(&m, kNow);
  EXPECT_NE(Find(m, "", "tags", "a"), nullptr);
  EXPECT_NE(Find(m, "", "tags", "b"), nullptr);

  // An overwrite (`tags = {...}`) deletes the collection at ts-1: elements written before go,
  // elements written at the same time as the overwrite stay.
  Partition overwrite = OneCell("", "tags", Tomb(19));
  overwrite.rows[""].cells[{"tags", "c"}] = Live("", 20);
  MergeInto(&m, overwrite);
  Compact(&m, kNow);
  EXPECT_EQ(Find(m, "", "tags", "a"), nullptr);
  EXPECT_EQ(Find(m, "", "tags", "b"), nullptr);
  EXPECT_NE(Find(m, "", "tags", "c"), nullptr);
}

TEST(PartitionLww, PicksTheVersionWithTheNewestWrite) {
  Partition a = OneCell("", "v", Live("a", 10));
  MergeInto(&a, OneCell("", "w", Live("a", 40)));
  Partition b = OneCell("", "v", Live("b", 30));
  EXPECT_EQ(PickNewest({a, b}), 0u);
  EXPECT_EQ(PickNewest({b, a}), 1u);
  Partition deleted;
  deleted.deletion = Deletion{50, kNow};
  EXPECT_EQ(PickNewest({a, deleted, b}), 1u);
  // Ties are deterministic whatever the order.
  Partition c = OneCell("", "v", Live("c", 40));
  EXPECT_EQ(PickNewest({a, c}) == 0 ? EncodePartition(a) : EncodePartition(c),
            PickNewest({c, a}) == 0 ? EncodePartition(c) : EncodePartition(a));
}

}  // namespace
}  // namespace ringkv::cql
