// HintedHandoff on node n1 of a three-node ring, over a transport that holds every delivery until
// the test answers it, manual timers and clock, and a MemoryHintStore whose writes land when the
// test says. Each test walks one rule of node/hinted_handoff.h; the randomized coverage is the
// simulator's hinted-replication check (sim/checker.h).
#include "node/hinted_handoff.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "node/manual_timers.h"
#include "node/unused_peers.h"
#include "storage/memory_hint_store.h"

namespace ringkv {
namespace {

class HeldPeers final : public UnusedPeers {
 public:
  struct Call {
    std::string peer, key;
    WriteDone done;
  };
  void ReplicaWrite(const std::string& peer, std::string_view, std::string_view key,
                    const VersionedObject&, int64_t, WriteDone done) override {
    calls.push_back(Call{peer, std::string(key), std::move(done)});
  }
  // Answers every held call with `s`, in order.
  void AnswerAll(Status s) {
    auto held = std::move(calls);
    calls.clear();
    for (auto& c : held) c.done(s);
  }
  std::vector<Call> calls;
};

class TestPlacement final : public Placement {
 public:
  TestPlacement() {
    auto ring = Ring::Build({Member{"n1", {-100}}, Member{"n2", {0}}, Member{"n3", {100}}});
    EXPECT_TRUE(ring.ok());
    ring_ = std::move(ring).value();
  }
  const std::string& self() const override { return self_; }
  std::vector<std::string> PreferenceList(Token, size_t) const override { return {"n1", "n2", "n3"}; }
  bool IsUp(const std::string& node) const override { return down.count(node) == 0; }
  const Ring& ring() const override { return ring_; }
  std::set<std::string> down;

 private:
  std::string self_ = "n1";
  Ring ring_;
};

VersionedObject Object(const std::string& value) {
  VersionedObject o;
  Sibling s;
  s.value = value;
  EXPECT_TRUE(o.ApplyWrite({}, 1, s, 0).ok());
  return o;
}

class HintedHandoffTest : public ::testing::Test {
 protected:
  void Make(HintedHandoffOptions options = {}) {
    handoff_ = std::make_unique<HintedHandoff>(&store_, &peers_, &placement_, &timers_, &clock_,
                                               nullptr, options);
  }
  // Stores a hint and lets the store make it durable; returns the outcome.
  Status StoreOne(const std::string& target, const std::string& key) {
    std::optional<Status> out;
    handoff_->Store(target, "ks", key, Object("v-" + key), [&](Status s) { out = s; });
    store_.RunCompletions();
    EXPECT_TRUE(out.has_value());
    return out.value_or(Status::Internal("no completion"));
  }

  MemoryHintStore store_;
  HeldPeers peers_;
  TestPlacement placement_;
  ManualTimers timers_;
  ManualClock clock_;
  std::unique_ptr<HintedHandoff> handoff_;
};

TEST_F(HintedHandoffTest, ReplaysOldestFirstOnceUpAndDeletesOnlyWhatWasAcknowledged) {
  HintedHandoffOptions o;
  o.batch_hints_max = 2;
  Make(o);
  placement_.down = {"n3"};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(StoreOne("n3", "k" + std::to_string(i)).ok());
  EXPECT_EQ(handoff_->stats().stored, 3u);
  handoff_->Tick();
  EXPECT_TRUE(peers_.calls.empty()) << "n3 is down: nothing is sent";
  placement_.down.clear();
  handoff_->Tick();
  ASSERT_EQ(peers_.calls.size(), 2u);  // one batch in flight per target
  EXPECT_EQ(peers_.calls[0].key, "k0");
  EXPECT_EQ(peers_.calls[1].key, "k1");
  handoff_->Tick();
  EXPECT_EQ(peers_.calls.size(), 2u) << "a second batch while the first is out";
  // One delivered, one failed: only the delivered one goes, and the next batch waits for a tick.
  auto held = std::move(peers_.calls);
  peers_.calls.clear();
  held[0].done(Status::Ok());
  held[1].done(Status::Timeout("lost", true));
  EXPECT_TRUE(peers_.calls.empty());
  EXPECT_EQ(handoff_->stats().pending, 2u);
  EXPECT_EQ(handoff_->stats().delivered, 1u);
  EXPECT_EQ(handoff_->stats().delivery_failures, 1u);
  handoff_->Tick();
  ASSERT_EQ(peers_.calls.size(), 2u);
  EXPECT_EQ(peers_.calls[0].key, "k1");
  // A batch fully delivered: the next goes at once.
  peers_.AnswerAll(Status::Ok());
  EXPECT_TRUE(peers_.calls.empty());
  EXPECT_EQ(handoff_->stats().pending, 0u);
  EXPECT_EQ(handoff_->stats().delivered, 3u);
}

TEST_F(HintedHandoffTest, HintsOlderThanTheGracePeriodAreDroppedNotDelivered) {
  HintedHandoffOptions o;
  o.gc_grace_s = 60;
  Make(o);
  ASSERT_TRUE(StoreOne("n3", "old").ok());
  clock_.AdvanceUs(61'000'000);
  ASSERT_TRUE(StoreOne("n3", "new").ok());
  handoff_->Tick();
  ASSERT_EQ(peers_.calls.size(), 1u);
  EXPECT_EQ(peers_.calls[0].key, "new");
  EXPECT_EQ(handoff_->stats().dropped_expired, 1u);
}

TEST_F(HintedHandoffTest, NoHintsForANodeDownPastTheWindow) {
  HintedHandoffOptions o;
  o.max_hint_window_s = 10;
  Make(o);
  placement_.down = {"n3"};
  handoff_->Tick();  // first seen down
  clock_.AdvanceUs(5'000'000);
  ASSERT_TRUE(StoreOne("n3", "a").ok());
  clock_.AdvanceUs(6'000'000);
  EXPECT_EQ(StoreOne("n3", "b").code(), Code::kUnavailable);
  EXPECT_EQ(StoreOne("n3", "c").code(), Code::kUnavailable);
  EXPECT_EQ(handoff_->stats().dropped_window, 2u);
  EXPECT_EQ(handoff_->stats().needs_repair, 1u) << "once per down period";
  // Back up: a new down period starts from scratch.
  placement_.down.clear();
  handoff_->Tick();
  peers_.AnswerAll(Status::Ok());
  placement_.down = {"n3"};
  EXPECT_TRUE(StoreOne("n3", "d").ok());
}

TEST_F(HintedHandoffTest, CapsPerTargetAndInTotalDropAndCount) {
  HintedHandoffOptions o;
  Make(o);
  ASSERT_TRUE(StoreOne("n2", "x").ok());
  const uint64_t one = handoff_->stats().pending_bytes;
  o.max_hints_bytes_per_target = 2 * one + one / 2;
  o.max_hints_bytes = 4 * one + one / 2;
  Make(o);
  ASSERT_TRUE(StoreOne("n2", "y").ok());
  EXPECT_EQ(StoreOne("n2", "z").code(), Code::kOverloaded) << "n2's cap";
  ASSERT_TRUE(StoreOne("n3", "a").ok());
  ASSERT_TRUE(StoreOne("n3", "b").ok());
  EXPECT_EQ(StoreOne("n3", "c").code(), Code::kOverloaded) << "the total cap";
  EXPECT_EQ(handoff_->stats().dropped_cap, 2u);
  EXPECT_EQ(handoff_->stats().pending, 4u);
}

TEST_F(HintedHandoffTest, HintsForANonMemberAreDroppedAndCounted) {
  Make();
  EXPECT_EQ(StoreOne("gone", "k").code(), Code::kInvalidArgument);
  EXPECT_EQ(handoff_->stats().dropped_not_member, 1u);
  // Hints already stored for a node that then left the ring are dropped by the tick.
  std::optional<Status> s;
  store_.Add(Hint{0, "left", "ks", "k", Object("v"), clock_.NowUs(), 0}, [&](Status st) { s = st; });
  store_.RunCompletions();
  handoff_->Tick();
  EXPECT_EQ(handoff_->stats().dropped_not_member, 2u);
  EXPECT_EQ(handoff_->stats().pending, 0u);
  EXPECT_TRUE(peers_.calls.empty());
}

// A hint for a node that has left since carries a write its ranges' new owners may lack
// (membership sim, partitions, seed 7017): it goes to every current replica of its key, and only
// once each acknowledged is it deleted.
TEST_F(HintedHandoffTest, HintsForADepartedNodeGoToTheKeysCurrentReplicas) {
  HintedHandoffOptions o;
  std::vector<std::string> applied;
  o.replication_factor = [](std::string_view ks) { return ks == "ks" ? 3u : 0u; };
  o.apply_locally = [&applied](std::string_view, std::string_view key, const VersionedObject&,
                               std::function<void(Status)> done) {
    applied.emplace_back(key);
    done(Status::Ok());
  };
  Make(o);
  std::optional<Status> s;
  store_.Add(Hint{0, "left", "ks", "k", Object("v"), clock_.NowUs(), 0}, [&](Status st) { s = st; });
  store_.Add(Hint{0, "left", "gone_ks", "g", Object("v"), clock_.NowUs(), 0}, [&](Status) {});
  store_.RunCompletions();
  placement_.down = {"n3"};
  handoff_->Tick();
  EXPECT_EQ(applied, (std::vector<std::string>{"k"})) << "n1's own copy, merged here";
  ASSERT_EQ(peers_.calls.size(), 1u) << "n2; n3 is down";
  EXPECT_EQ(peers_.calls[0].peer, "n2");
  peers_.AnswerAll(Status::Ok());
  EXPECT_EQ(handoff_->stats().rehomed, 0u) << "n3 has not got it";
  EXPECT_EQ(handoff_->stats().dropped_no_keyspace, 1u);
  EXPECT_EQ(handoff_->stats().pending, 1u);
  placement_.down.clear();
  handoff_->Tick();
  ASSERT_EQ(peers_.calls.size(), 2u);
  peers_.AnswerAll(Status::Ok());
  EXPECT_EQ(handoff_->stats().rehomed, 1u);
  EXPECT_EQ(handoff_->stats().pending, 0u);
  EXPECT_EQ(handoff_->stats().dropped_not_member, 0u);
}

TEST_F(HintedHandoffTest, HintsOfADroppedKeyspaceAreDroppedNotDelivered) {
  HintedHandoffOptions o;
  o.keyspace_exists = [](std::string_view ks) { return ks != "gone"; };
  Make(o);
  std::optional<Status> s;
  handoff_->Store("n3", "gone", "k", Object("v"), [&](Status st) { s = st; });
  store_.RunCompletions();
  ASSERT_TRUE(StoreOne("n3", "kept").ok());
  handoff_->Tick();
  ASSERT_EQ(peers_.calls.size(), 1u);
  EXPECT_EQ(peers_.calls[0].key, "kept");
  EXPECT_EQ(handoff_->stats().dropped_no_keyspace, 1u);
}

TEST_F(HintedHandoffTest, ReplayIsThrottledByTheTokenBuckets) {
  HintedHandoffOptions o;
  o.throughput_kb_per_s = 1;  // 1024 bytes a second, a full bucket to start
  o.total_throughput_kb_per_s = 100;
  o.batch_hints_max = 1;
  Make(o);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(StoreOne("n3", "k" + std::to_string(i)).ok());
  const uint64_t bytes_each = handoff_->stats().pending_bytes / 40;
  // Delivers everything sent (a delivered batch sends the next at once); returns how many.
  auto deliver = [&] {
    size_t n = 0;
    while (!peers_.calls.empty()) {
      n += peers_.calls.size();
      peers_.AnswerAll(Status::Ok());
    }
    return n;
  };
  size_t sent = 0;
  for (int tick = 0; tick < 10; ++tick) {  // no time passes: only the first bucketful goes
    handoff_->Tick();
    sent += deliver();
  }
  EXPECT_LE(sent, 1024 / bytes_each + 1);
  EXPECT_GE(sent, 1024 / bytes_each);
  clock_.AdvanceUs(1'000'000);  // one more second's worth
  handoff_->Tick();
  const size_t later = deliver();
  EXPECT_LE(later, 1024 / bytes_each + 1);
  EXPECT_GT(later, 0u);
}

TEST_F(HintedHandoffTest, CallbacksAfterDestructionDoNothing) {
  Make();
  ASSERT_TRUE(StoreOne("n3", "k").ok());
  handoff_->Tick();
  ASSERT_EQ(peers_.calls.size(), 1u);
  std::optional<Status> late;
  handoff_->Store("n2", "ks", "k2", Object("v"), [&](Status s) { late = s; });
  handoff_.reset();
  peers_.AnswerAll(Status::Ok());
  store_.RunCompletions();
  EXPECT_FALSE(late.has_value());
  EXPECT_EQ(timers_.live(), 0u);
}

}  // namespace
}  // namespace ringkv
