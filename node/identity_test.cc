// OpenIdentity: when a start keeps the node's actor and when it takes a new one (identity.h).
#include "node/identity.h"

#include <gtest/gtest.h>

#include "storage/memory_storage.h"

namespace ringkv {
namespace {

constexpr uint64_t kHost = 0xabcdef0123456789ULL;

NodeIdentity Open(MemoryStorage* disk, SyncMode mode) {
  auto id = OpenIdentity(disk, kHost, mode);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return id.value();
}

TEST(IdentityTest, FirstStartTakesTheFreshHostIdAndRecordsTheRun) {
  MemoryStorage disk;
  const NodeIdentity id = Open(&disk, SyncMode::kBatch);
  EXPECT_EQ(id.host_id, kHost);
  EXPECT_EQ(id.epoch, 1u);
  EXPECT_FALSE(id.recovered_unclean);
  EXPECT_FALSE(id.new_actor);
  EXPECT_EQ(disk.GetMeta("identity").value(), "abcdef0123456789 1 0 batch");
}

TEST(IdentityTest, CleanRestartKeepsTheActorInEveryMode) {
  for (SyncMode mode : {SyncMode::kAlways, SyncMode::kBatch, SyncMode::kPeriodic}) {
    MemoryStorage disk;
    const NodeIdentity first = Open(&disk, mode);
    ASSERT_TRUE(CloseIdentity(&disk, first).ok());
    const NodeIdentity second = Open(&disk, mode);
    EXPECT_EQ(second.actor, first.actor) << SyncModeName(mode);
    EXPECT_EQ(second.epoch, first.epoch);
    EXPECT_FALSE(second.recovered_unclean);
    EXPECT_FALSE(second.new_actor);
  }
}

// Under always and batch a write is exposed only once fsynced, so a crash loses no exposed dot.
TEST(IdentityTest, UncleanRestartAfterAlwaysOrBatchKeepsTheActor) {
  for (SyncMode mode : {SyncMode::kAlways, SyncMode::kBatch}) {
    MemoryStorage disk;
    const NodeIdentity first = Open(&disk, mode);
    // No CloseIdentity: the process died. Many times over: the actor never changes.
    for (int crash = 0; crash < 100; ++crash) {
      const NodeIdentity next = Open(&disk, mode);
      ASSERT_EQ(next.actor, first.actor) << SyncModeName(mode) << " after crash " << crash;
      EXPECT_EQ(next.host_id, kHost);
      EXPECT_TRUE(next.recovered_unclean);
      EXPECT_FALSE(next.new_actor);
      EXPECT_EQ(next.last_sync_mode, mode);
    }
  }
}

// Before a cleanup erases objects: a new actor, recorded, which both a restart and a crash keep.
TEST(IdentityTest, RenewedActorIsNewAndOutlivesRestarts) {
  MemoryStorage disk;
  NodeIdentity id = Open(&disk, SyncMode::kBatch);
  const uint64_t first = id.actor;
  ASSERT_TRUE(RenewActor(&disk, &id).ok());
  EXPECT_NE(id.actor, first);
  EXPECT_EQ(id.epoch, 2u);
  EXPECT_EQ(disk.GetMeta("identity").value(), "abcdef0123456789 2 0 batch");
  const NodeIdentity after_crash = Open(&disk, SyncMode::kBatch);
  EXPECT_EQ(after_crash.actor, id.actor);
  ASSERT_TRUE(CloseIdentity(&disk, after_crash).ok());
  EXPECT_EQ(Open(&disk, SyncMode::kBatch).actor, id.actor);
}

// Under periodic an acknowledged write may not be on disk yet: after a crash, a new actor.
TEST(IdentityTest, UncleanRestartAfterPeriodicTakesANewActor) {
  MemoryStorage disk;
  const NodeIdentity first = Open(&disk, SyncMode::kPeriodic);
  const NodeIdentity second = Open(&disk, SyncMode::kBatch);
  EXPECT_TRUE(second.recovered_unclean);
  EXPECT_TRUE(second.new_actor);
  EXPECT_EQ(second.last_sync_mode, SyncMode::kPeriodic);
  EXPECT_EQ(second.epoch, first.epoch + 1);
  EXPECT_NE(second.actor, first.actor);
  EXPECT_EQ(second.host_id, first.host_id);
  // What decides is the mode of the run that crashed, not the next one: the batch run that
  // followed crashes too, and its successor (periodic) keeps its actor.
  const NodeIdentity third = Open(&disk, SyncMode::kPeriodic);
  EXPECT_TRUE(third.recovered_unclean);
  EXPECT_FALSE(third.new_actor);
  EXPECT_EQ(third.actor, second.actor);
  // ... and that periodic run's crash costs an actor again.
  const NodeIdentity fourth = Open(&disk, SyncMode::kPeriodic);
  EXPECT_TRUE(fourth.new_actor);
  EXPECT_EQ(fourth.epoch, third.epoch + 1);
  EXPECT_NE(fourth.actor, third.actor);
}

// Records written before the sync mode was recorded: "%llx %llu %d".
TEST(IdentityTest, ReadsTheOldRecordFormat) {
  {
    MemoryStorage disk;  // an old node shut down cleanly: the actor of epoch 7 is kept
    ASSERT_TRUE(disk.PutMeta("identity", "00000000000000ff 7 1").ok());
    const NodeIdentity id = Open(&disk, SyncMode::kBatch);
    EXPECT_EQ(id.host_id, 0xffu);
    EXPECT_EQ(id.epoch, 7u);
    EXPECT_FALSE(id.recovered_unclean);
    EXPECT_FALSE(id.new_actor);
    // Rewritten in the new format, with this run's mode.
    EXPECT_EQ(disk.GetMeta("identity").value(), "00000000000000ff 7 0 batch");
  }
  {
    MemoryStorage disk;  // an old node crashed: its mode is unknown, so assume periodic
    ASSERT_TRUE(disk.PutMeta("identity", "00000000000000ff 7 0").ok());
    const NodeIdentity id = Open(&disk, SyncMode::kBatch);
    EXPECT_TRUE(id.recovered_unclean);
    EXPECT_TRUE(id.new_actor);
    EXPECT_EQ(id.last_sync_mode, SyncMode::kPeriodic);
    EXPECT_EQ(id.epoch, 8u);
  }
  {
    // The same epoch gives the same actor, whichever format it was read from.
    MemoryStorage old_disk, new_disk;
    ASSERT_TRUE(old_disk.PutMeta("identity", "00000000000000ff 7 1").ok());
    ASSERT_TRUE(new_disk.PutMeta("identity", "00000000000000ff 7 1 always").ok());
    EXPECT_EQ(Open(&old_disk, SyncMode::kBatch).actor, Open(&new_disk, SyncMode::kBatch).actor);
  }
}

TEST(IdentityTest, RefusesAnUnreadableRecord) {
  for (const char* bad : {"", "zz", "00ff 7", "00ff 7 2 batch", "00ff 7 0 sometimes"}) {
    MemoryStorage disk;
    ASSERT_TRUE(disk.PutMeta("identity", bad).ok());
    auto id = OpenIdentity(&disk, kHost, SyncMode::kBatch);
    ASSERT_FALSE(id.ok()) << "'" << bad << "'";
    EXPECT_EQ(id.status().code(), Code::kCorruption);
    EXPECT_EQ(disk.GetMeta("identity").value(), bad) << "a refused record is left as it was";
  }
}

}  // namespace
}  // namespace ringkv
