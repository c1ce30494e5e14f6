// Tombstone collection (node/tombstone_gc.h) among three in-process replicas: a dead object is
// kept while another replica is down or holds anything else of its key, and collected once every
// other replica holds the same object or nothing; the node takes a new actor before erasing an
// object whose clock names its own; and anti-entropy does not copy a collected tombstone back.
#include "node/tombstone_gc.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <optional>

#include "aae/version_hash.h"
#include "node/direct_replicas.h"

namespace ringkv {
namespace {

constexpr int64_t kGraceS = 10;
constexpr int64_t kSecond = 1'000'000;

TEST(DeadPastGraceTest, EverySiblingDeadAndTheLastPastTheGracePeriod) {
  const int64_t now = 1'000 * kSecond, grace = kGraceS * kSecond;
  auto object = [](std::vector<Sibling> siblings) {
    VersionVector clock;
    uint64_t actor = 1;
    for (auto& s : siblings) {
      clock.Set(actor, 1);
      s.dot = Dot{actor++, 1};
    }
    auto o = VersionedObject::FromParts(std::move(clock), std::move(siblings));
    EXPECT_TRUE(o.ok());
    return o.ok() ? o.value() : VersionedObject{};
  };
  Sibling old_tombstone{"", {}, now - 20 * kSecond, true, 0};
  Sibling new_tombstone{"", {}, now - 5 * kSecond, true, 0};
  Sibling expired{"v", {}, now - 60 * kSecond, false, now - 15 * kSecond};
  Sibling expiring{"v", {}, now - 60 * kSecond, false, now - 5 * kSecond};
  Sibling live{"v", {}, now - 60 * kSecond, false, 0};
  EXPECT_TRUE(DeadPastGrace(object({old_tombstone}), now, grace));
  EXPECT_TRUE(DeadPastGrace(object({old_tombstone, expired}), now, grace));
  EXPECT_FALSE(DeadPastGrace(object({new_tombstone}), now, grace)) << "within the grace period";
  EXPECT_FALSE(DeadPastGrace(object({old_tombstone, new_tombstone}), now, grace)) << "the last";
  EXPECT_FALSE(DeadPastGrace(object({expiring}), now, grace));
  EXPECT_FALSE(DeadPastGrace(object({old_tombstone, live}), now, grace)) << "a live sibling";
  EXPECT_FALSE(DeadPastGrace(VersionedObject{}, now, grace));
}

class TombstoneGcTest : public ::testing::Test {
 protected:
  TombstoneGcTest()
      : n1_("n1", 1, &dir_, &timers_, &clock_, Options()),
        n2_("n2", 2, &dir_, &timers_, &clock_, Options()),
        n3_("n3", 3, &dir_, &timers_, &clock_, Options()) {}
  static AntiEntropyOptions Options() {
    AntiEntropyOptions o{0, 1000, {}};
    o.gc_grace_s = kGraceS;
    return o;
  }

  void Walk(DirectReplica& r) {
    r.gc.Walk();
    for (int i = 0; i < 10'000 && r.gc.walking(); ++i) {
      for (auto* each : {&n1_, &n2_, &n3_}) each->storage.RunCompletions();
      timers_.FireAll();
    }
    ASSERT_FALSE(r.gc.walking());
  }

  ManualClock clock_;
  ManualTimers timers_;
  ReplicaDirectory dir_;
  DirectReplica n1_, n2_, n3_;
};

TEST_F(TombstoneGcTest, KeptUntilEveryOtherReplicaHoldsTheSameOrNothing) {
  // "gone": written everywhere, deleted on n1 and n2 only (n3 missed the delete).
  const VersionedObject value = n1_.Put("gone", "v");
  n2_.Store("gone", value);
  n3_.Store("gone", value);
  const VersionedObject tombstone = n1_.Del("gone");
  n2_.Store("gone", tombstone);
  const VersionedObject live = n1_.Put("live", "v");
  n2_.Store("live", live);
  n3_.Store("live", live);
  Walk(n1_);
  EXPECT_EQ(n1_.gc.stats().dead, 0u) << "within the grace period";
  clock_.AdvanceUs(kGraceS * kSecond + kSecond / 2);
  Walk(n1_);
  EXPECT_EQ(n1_.gc.stats().dead, 0u) << "past the grace period, not past a delivery in flight";
  clock_.AdvanceUs(kSecond);
  const VersionedObject fresh = n1_.Del("fresh");  // deleted now: within the grace period
  n2_.Store("fresh", fresh);
  n3_.Store("fresh", fresh);

  n1_.view.SetAlive("n3", false);
  Walk(n1_);
  EXPECT_EQ(n1_.gc.stats().dead, 1u);
  EXPECT_EQ(n1_.gc.stats().kept, 1u) << "n3 is down";
  n1_.view.SetAlive("n3", true);
  Walk(n1_);
  EXPECT_EQ(n1_.gc.stats().kept, 2u) << "n3 holds the deleted value";
  EXPECT_EQ(n1_.gc.stats().collected, 0u);
  EXPECT_EQ(n1_.Contents().count("gone"), 1u);

  n3_.Store("gone", tombstone);  // as anti-entropy does
  Walk(n1_);
  EXPECT_EQ(n1_.gc.stats().collected, 1u);
  EXPECT_EQ(n1_.Contents().count("gone"), 0u);
  EXPECT_EQ(n1_.Contents().count("live"), 1u);
  EXPECT_EQ(n1_.Contents().count("fresh"), 1u);
  EXPECT_EQ(n1_.renewals, 1) << "the tombstone's clock named n1's actor";
  // n2: n1 holds nothing, n3 the same tombstone. n2 never coordinated the key: no new actor.
  Walk(n2_);
  EXPECT_EQ(n2_.gc.stats().collected, 1u);
  EXPECT_EQ(n2_.renewals, 0);
  Walk(n3_);
  EXPECT_EQ(n3_.gc.stats().collected, 1u);
  for (auto* r : {&n1_, &n2_, &n3_}) {
    EXPECT_EQ(r->Contents().count("gone"), 0u) << r->view.self();
  }
  // A new write after collection: a fresh dot, which no replica's old clock covers.
  const VersionedObject again = n1_.Put("gone", "v");
  EXPECT_FALSE(tombstone.clock().Descends(again.clock()));
}

TEST_F(TombstoneGcTest, AnotherTombstoneOnAReplicaKeepsIt) {
  const VersionedObject value = n1_.Put("k", "v");
  for (auto* r : {&n2_, &n3_}) r->Store("k", value);
  n2_.Store("k", n1_.Del("k"));
  n3_.Del("k");  // concurrent with n1's: n3 never saw it
  clock_.AdvanceUs((kGraceS + 2) * kSecond);
  Walk(n1_);
  EXPECT_EQ(n1_.gc.stats().kept, 1u);
  EXPECT_EQ(n1_.Contents().count("k"), 1u);
}

TEST_F(TombstoneGcTest, EraseIfUnchangedLeavesAChangedObject) {
  const VersionedObject tombstone = n1_.Del("k");
  std::optional<Result<bool>> erased;
  n1_.service.EraseIfUnchanged("", "k", VersionHash(tombstone) + 1,
                               [&](Result<bool> r) { erased = r; });
  n1_.storage.RunCompletions();
  ASSERT_TRUE(erased && erased->ok());
  EXPECT_FALSE(erased->value());
  EXPECT_EQ(n1_.Contents().count("k"), 1u);
  n1_.service.EraseIfUnchanged("", "k", VersionHash(tombstone), [&](Result<bool> r) { erased = r; });
  n1_.storage.RunCompletions();
  ASSERT_TRUE(erased->ok());
  EXPECT_TRUE(erased->value());
  EXPECT_EQ(n1_.Contents().count("k"), 0u);
}

TEST_F(TombstoneGcTest, AntiEntropyDoesNotCopyACollectedTombstoneBack) {
  // "old": a tombstone past the grace period on n2, collected on n1. "new": one within it,
  // missing on n1: copied as any difference is.
  n2_.Del("old");
  clock_.AdvanceUs((kGraceS + 1) * kSecond);
  n2_.Del("new");
  n1_.view.SetAlive("n3", false);
  n1_.trees.Refresh();
  n2_.trees.Refresh();
  for (int i = 0; i < 100; ++i) timers_.FireAll();
  n1_.RunRepair(&timers_, {&n2_});
  EXPECT_EQ(n1_.anti_entropy.report().keys_differing, 2u);
  EXPECT_EQ(n1_.Contents().count("old"), 0u);
  EXPECT_EQ(n1_.Contents().count("new"), 1u);
}

}  // namespace
}  // namespace ringkv
