// The coordinator's operations (ReadOp, WriteOp, ForwardOp) on node n1 of a three-replica key,
// over a transport that holds every call until the test answers it, manual timers and a
// MemoryStorage whose writes land when the test says: each test walks one path of a state
// machine. The randomized coverage of the same code is sim/sim_test.
#include "node/coordinator.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>

#include "node/hinted_handoff.h"
#include "node/manual_timers.h"
#include "storage/memory_hint_store.h"

#include "storage/memory_storage.h"

namespace ringkv {
namespace {

// Holds each call; the test answers it by index.
class HeldPeers final : public PeerTransport {
 public:
  struct Call {
    std::string kind, peer;
    WriteDone write_done;
    ReadDone read_done;
    ForwardDone forward_done;
    std::string owner;  // a fallback write: the replica it stands in for
    VersionedObject object;  // a replica write's
  };
  void ReplicaWrite(const std::string& peer, std::string_view, std::string_view,
                    const VersionedObject& object, int64_t, WriteDone done) override {
    calls.push_back(Call{"write", peer, std::move(done), nullptr, nullptr, {}, object});
  }
  void ReplicaRead(const std::string& peer, std::string_view, std::string_view, int64_t,
                   ReadDone done) override {
    calls.push_back(Call{"read", peer, nullptr, std::move(done), nullptr, {}, {}});
  }
  void FallbackWrite(const std::string& peer, const std::string& owner, std::string_view,
                     std::string_view, const VersionedObject&, int64_t, WriteDone done) override {
    calls.push_back(Call{"fallback", peer, std::move(done), nullptr, nullptr, owner, {}});
  }
  void ForwardWrite(const std::string& peer, const ForwardedWrite&, int64_t,
                    ForwardDone done) override {
    calls.push_back(Call{"forward", peer, nullptr, nullptr, std::move(done), {}, {}});
  }
  void ReplicaScan(const std::string&, const ScanSpec&, int64_t, ScanDone done) override {
    done(Status::Internal("not used"));
  }
  // The calls of one kind, as "peer" strings in order.
  std::vector<std::string> Peers(const std::string& kind) const {
    std::vector<std::string> out;
    for (const auto& c : calls) {
      if (c.kind == kind) out.push_back(c.peer);
    }
    return out;
  }
  std::vector<Call> calls;
};

class FixedPlacement final : public Placement {
 public:
  explicit FixedPlacement(std::string self) : self_(std::move(self)) {}
  const std::string& self() const override { return self_; }
  // Every key's walk clockwise is `walk`; its first n are the preference list.
  std::vector<std::string> PreferenceList(Token, size_t n) const override {
    return {walk.begin(), walk.begin() + static_cast<ptrdiff_t>(std::min(n, walk.size()))};
  }
  std::vector<std::string> walk = {"n1", "n2", "n3"};
  bool IsUp(const std::string& node) const override { return down.count(node) == 0; }
  std::vector<std::string> PendingReplicas(Token, size_t) const override { return pending; }
  const Ring& ring() const override { return ring_; }
  bool MembershipSettled() const override { return settled; }
  std::set<std::string> down;  // believed down by the failure detector
  std::vector<std::string> pending;  // gaining every key (a join or decommission in flight)
  bool settled = true;         // false: the node does not know its whole ring yet

 private:
  std::string self_;
  Ring ring_;
};

ReplicaReadReply Found(const VersionedObject& object) { return ReplicaReadReply{true, object}; }
ReplicaReadReply NotFound() { return ReplicaReadReply{}; }

class CoordinatorTest : public ::testing::Test {
 protected:
  explicit CoordinatorTest(bool blocking_read_repair = false, std::string self = "n1",
                           bool read_repair = true)
      : service_(&storage_, &clock_, 0xa1, KvServiceOptions{}, &keyspaces_),
        placement_(std::move(self)),
        coordinator_(&service_, &peers_, &placement_, &timers_, &clock_, &keyspaces_,
                     CoordinatorOptions{2000, blocking_read_repair, read_repair}) {}

  // Stores `value` on n1 only and returns the stored object.
  VersionedObject StoreLocally(std::string_view value) {
    std::optional<Result<WriteReply>> out;
    service_.Put("", "k", value, "", 0, [&](Result<WriteReply> r) { out = std::move(r); });
    storage_.RunCompletions();
    EXPECT_TRUE(out && out->ok());
    return out->value().object;
  }
  void Get(const RequestOptions& options = {}) {
    coordinator_.Get("", "k", options, [this](Result<ReadReply> r) { read_ = std::move(r); });
  }
  void Put(const RequestOptions& options = {}) {
    coordinator_.Put("", "k", "v", "", 0, options, false,
                     [this](Result<WriteReply> r) { write_ = std::move(r); });
  }
  // Answers the i-th held call.
  void AnswerRead(size_t i, Result<ReplicaReadReply> r) { peers_.calls.at(i).read_done(r); }
  void AnswerWrite(size_t i, Status s) { peers_.calls.at(i).write_done(s); }

  MemoryStorage storage_;
  ManualClock clock_;
  KeyspaceCatalog keyspaces_;
  KvService service_;
  HeldPeers peers_;
  ManualTimers timers_;
  FixedPlacement placement_;
  Coordinator coordinator_;
  std::optional<Result<ReadReply>> read_;
  std::optional<Result<WriteReply>> write_;
};

// kvnode --read-repair off: replicas that diverge stay so (for anti-entropy's tests).
class NoReadRepairTest : public CoordinatorTest {
 protected:
  NoReadRepairTest() : CoordinatorTest(false, "n1", /*read_repair=*/false) {}
};

TEST_F(NoReadRepairTest, AStaleReplicaIsNotRepaired) {
  StoreLocally("v1");
  Get();
  AnswerRead(0, NotFound());
  AnswerRead(1, NotFound());
  ASSERT_TRUE(read_ && read_->ok());
  EXPECT_TRUE(peers_.Peers("write").empty());
  EXPECT_EQ(coordinator_.stats().read_repairs, 0u);
}

TEST_F(CoordinatorTest, ReadAnswersAtRAndRepairsOnceEveryReplicaAnswered) {
  StoreLocally("v1");
  Get();  // QUORUM: n1 answers at once, from its own storage
  ASSERT_EQ(peers_.Peers("read"), (std::vector<std::string>{"n2", "n3"}));
  AnswerRead(0, NotFound());
  ASSERT_TRUE(read_ && read_->ok());
  EXPECT_EQ(read_->value().siblings.size(), 1u);
  EXPECT_TRUE(peers_.Peers("write").empty()) << "n3 has not answered: no repair yet";
  AnswerRead(1, NotFound());
  EXPECT_EQ(peers_.Peers("write"), (std::vector<std::string>{"n2", "n3"}));
  EXPECT_EQ(coordinator_.stats().read_repairs, 2u);
  EXPECT_EQ(timers_.live(), 0u);
}

TEST_F(CoordinatorTest, NodeWithoutASettledRingSaysItIsNotReady) {
  placement_.settled = false;
  Get();
  ASSERT_TRUE(read_.has_value());
  ASSERT_FALSE(read_->ok());
  EXPECT_EQ(read_->status().code(), Code::kUnavailable);
  EXPECT_EQ(read_->status().message().rfind("not ready: node n1 ", 0), 0u)
      << read_->status().ToString();
  EXPECT_EQ(read_->status().needed(), 2u);
  EXPECT_EQ(read_->status().alive(), 0u);
  Put();
  ASSERT_TRUE(write_.has_value());
  ASSERT_FALSE(write_->ok());
  EXPECT_EQ(write_->status().message().rfind("not ready: ", 0), 0u);
  std::optional<Status> scanned;
  coordinator_.Scan(ScanSpec{}, RequestOptions{},
                    [&](Result<ScanReply> r) { scanned = r.status(); });
  ASSERT_TRUE(scanned.has_value());
  EXPECT_EQ(scanned->message().rfind("not ready: ", 0), 0u) << scanned->ToString();
  EXPECT_TRUE(peers_.calls.empty()) << "nothing is sent on a ring that is not settled";
  EXPECT_EQ(coordinator_.stats().unavailable, 3u);

  // Settled: served, and a refusal for too few replicas does not say "not ready".
  placement_.settled = true;
  placement_.down = {"n2", "n3"};
  Get();
  ASSERT_FALSE(read_->ok());
  EXPECT_EQ(read_->status().code(), Code::kUnavailable);
  EXPECT_EQ(read_->status().message().find("not ready"), std::string::npos);
  EXPECT_EQ(read_->status().alive(), 1u);
}

TEST_F(CoordinatorTest, TracedReadHoldsItsAnswerUntilTheRepairIsDecided) {
  const VersionedObject stored = StoreLocally("v1");
  RequestOptions traced;
  traced.trace = true;
  Get(traced);
  AnswerRead(0, Found(stored));
  EXPECT_FALSE(read_) << "R answers are in, but n3 may still need repair";
  AnswerRead(1, NotFound());
  ASSERT_TRUE(read_ && read_->ok());
  const auto& events = read_->value().trace->events;
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2].activity.rfind("read repair sent to n3", 0), 0u);
  EXPECT_EQ(events.back().activity, "answered: 1 live sibling(s)");
}

TEST_F(CoordinatorTest, ReadOutOfReachIsUnavailableUnlessAReplicaTimedOut) {
  RequestOptions all;
  all.consistency = Consistency::kAll;
  Get(all);
  AnswerRead(0, Status::Unavailable("no connection", 0, 0));
  ASSERT_TRUE(read_);
  EXPECT_EQ(read_->status().code(), Code::kUnavailable);
  EXPECT_EQ(read_->status().needed(), 3u);
  EXPECT_EQ(read_->status().alive(), 2u);

  read_.reset();
  Get(all);
  AnswerRead(2, Status::Timeout("no answer", false));
  ASSERT_TRUE(read_);
  EXPECT_EQ(read_->status().code(), Code::kTimeout);
  EXPECT_FALSE(read_->status().in_doubt());
}

TEST_F(CoordinatorTest, ReadDeadlineWhileGatheringTimesOutAndGivesUpOnTheRest) {
  StoreLocally("v1");
  RequestOptions all;
  all.consistency = Consistency::kAll;
  Get(all);
  timers_.FireAll();
  ASSERT_TRUE(read_);
  EXPECT_EQ(read_->status().ToString(), "Timeout: 1 of 3 replicas answered by the deadline");
  AnswerRead(0, NotFound());  // late: the repair was decided at the deadline
  EXPECT_TRUE(peers_.Peers("write").empty());
  EXPECT_EQ(coordinator_.stats().timeouts, 1u);
}

class BlockingRepairTest : public CoordinatorTest {
 protected:
  BlockingRepairTest() : CoordinatorTest(/*blocking_read_repair=*/true) {}
};

TEST_F(BlockingRepairTest, AnswersOnceTheStaleReplicaHoldsTheMerge) {
  StoreLocally("v1");
  Get();
  AnswerRead(0, NotFound());
  ASSERT_EQ(peers_.Peers("write"), std::vector<std::string>{"n2"});
  EXPECT_FALSE(read_);
  AnswerWrite(2, Status::Ok());
  ASSERT_TRUE(read_ && read_->ok());
  AnswerRead(1, NotFound());  // the third replica: repaired after the answer
  EXPECT_EQ(peers_.Peers("write"), (std::vector<std::string>{"n2", "n3"}));
}

TEST_F(BlockingRepairTest, AFailedRepairWriteIsATimeout) {
  StoreLocally("v1");
  Get();
  AnswerRead(0, NotFound());
  AnswerWrite(2, Status::Unavailable("no connection", 0, 0));
  ASSERT_TRUE(read_);
  EXPECT_EQ(read_->status().ToString(), "Timeout: read repair before answering did not complete");
}

TEST_F(CoordinatorTest, WriteAnswersAtW) {
  Put();
  storage_.RunCompletions();  // the local write lands: the fan-out starts
  ASSERT_EQ(peers_.Peers("write"), (std::vector<std::string>{"n2", "n3"}));
  EXPECT_FALSE(write_);
  AnswerWrite(1, Status::Ok());
  ASSERT_TRUE(write_ && write_->ok());
  AnswerWrite(0, Status::Unavailable("late", 0, 0));  // after the answer: changes nothing
  EXPECT_EQ(coordinator_.stats().timeouts, 0u);
}

TEST_F(CoordinatorTest, WriteWithWOutOfReachIsInDoubt) {
  Put();
  storage_.RunCompletions();
  AnswerWrite(0, Status::Unavailable("no connection", 0, 0));
  EXPECT_FALSE(write_);
  AnswerWrite(1, Status::Overloaded("busy"));
  ASSERT_TRUE(write_);
  EXPECT_TRUE(write_->status().in_doubt());
  EXPECT_EQ(write_->status().message(),
            "only 1 of 2 replicas acknowledged the write (2 failed); it may have been applied");
}

// A pending replica's failed send is tried again, often after the answer: the retry must carry
// the stored object, not what the answer left of the moved reply (it sent an empty object, so a
// gainer that lost the first message never got the key: sim/README.md, membership mode).
TEST_F(CoordinatorTest, APendingReplicaRetriedAfterTheAnswerGetsTheStoredObject) {
  placement_.pending = {"n4"};
  Put();
  storage_.RunCompletions();
  ASSERT_EQ(peers_.Peers("write"), (std::vector<std::string>{"n2", "n3", "n4"}));
  AnswerWrite(0, Status::Ok());
  AnswerWrite(1, Status::Ok());
  ASSERT_TRUE(write_ && write_->ok());
  AnswerWrite(2, Status::Timeout("no answer", true));  // n4's first attempt
  ASSERT_EQ(peers_.Peers("write"), (std::vector<std::string>{"n2", "n3", "n4", "n4"}));
  EXPECT_FALSE(peers_.calls[3].object.siblings().empty());
  EXPECT_EQ(peers_.calls[3].object, peers_.calls[2].object);
}

// While a range moves, a write needs W + pending acknowledgements from the replicas and the
// pending replicas together (Cassandra's rule): W from the current replicas alone could all sit
// on nodes that lose the range, and a QUORUM read after the move would miss it (membership sim,
// partitions, seed 7002).
TEST_F(CoordinatorTest, WhileARangeMovesAWriteNeedsWPlusPendingAcknowledgements) {
  placement_.pending = {"n4"};
  Put();  // QUORUM: 2, plus 1 for n4
  storage_.RunCompletions();
  ASSERT_EQ(peers_.Peers("write"), (std::vector<std::string>{"n2", "n3", "n4"}));
  AnswerWrite(0, Status::Ok());
  EXPECT_FALSE(write_) << "n1 and n2 are two of the three needed";
  AnswerWrite(2, Status::Ok());
  ASSERT_TRUE(write_ && write_->ok()) << write_->status().ToString();

  // The pending replica's acknowledgement counts like a replica's, and its failure like one's.
  write_.reset();
  peers_.calls.clear();
  Put();
  storage_.RunCompletions();
  AnswerWrite(0, Status::IoError("disk full"));
  AnswerWrite(1, Status::IoError("disk full"));
  for (size_t attempt = 2; attempt < 5; ++attempt) {
    AnswerWrite(attempt, Status::Timeout("no answer", true));
  }
  ASSERT_TRUE(write_);
  EXPECT_TRUE(write_->status().in_doubt()) << write_->status().ToString();
  EXPECT_NE(write_->status().message().find("only 1 of 3"), std::string::npos)
      << write_->status().ToString();

  // Too few up among replicas and pending replicas: UNAVAILABLE at once, counting n4.
  write_.reset();
  placement_.down = {"n3", "n4"};
  Put();
  ASSERT_TRUE(write_);
  EXPECT_EQ(write_->status().code(), Code::kUnavailable);
  EXPECT_EQ(write_->status().needed(), 3u);
  EXPECT_EQ(write_->status().alive(), 2u);
  EXPECT_NE(write_->status().message().find("1 pending replica"), std::string::npos)
      << write_->status().ToString();
}

TEST_F(CoordinatorTest, DeadlineDuringTheLocalWriteIsInDoubtAndTheWriteStillSpreads) {
  Put();
  timers_.FireAll();
  ASSERT_TRUE(write_);
  EXPECT_TRUE(write_->status().in_doubt());
  EXPECT_TRUE(peers_.calls.empty());
  storage_.RunCompletions();
  EXPECT_EQ(peers_.Peers("write"), (std::vector<std::string>{"n2", "n3"}));
}

// Hinted handoff on: HintedHandoff sees the same failure detector, with n1..n3 as the ring's
// members.
class HintedWriteTest : public CoordinatorTest {
 protected:
  class HintPlacement final : public Placement {
   public:
    explicit HintPlacement(const FixedPlacement* base) : base_(base) {
      auto ring = Ring::Build({Member{"n1", {-100}}, Member{"n2", {0}}, Member{"n3", {100}}});
      EXPECT_TRUE(ring.ok());
      ring_ = std::move(ring).value();
    }
    const std::string& self() const override { return base_->self(); }
    std::vector<std::string> PreferenceList(Token t, size_t n) const override {
      return base_->PreferenceList(t, n);
    }
    bool IsUp(const std::string& node) const override { return base_->IsUp(node); }
    const Ring& ring() const override { return ring_; }
    bool IsMember(const std::string& node) const override {  // a joiner's too, as ClusterView
      return ring_.Contains(node) || std::count(base_->pending.begin(), base_->pending.end(), node);
    }

   private:
    const FixedPlacement* base_;
    Ring ring_;
  };

  explicit HintedWriteTest(std::string self = "n1")
      : CoordinatorTest(false, std::move(self)),
        hint_placement_(&placement_),
        handoff_(&hint_store_, &peers_, &hint_placement_, &timers_, &clock_, nullptr) {
    coordinator_.SetHintedHandoff(&handoff_);
  }
  uint64_t PendingFor(const std::string& target) {
    auto all = hint_store_.Stats();
    return all.count(target) ? all[target].count : 0;
  }

  MemoryHintStore hint_store_;
  HintPlacement hint_placement_;
  HintedHandoff handoff_;
};

TEST_F(HintedWriteTest, AReplicaThatFailsAfterTheAnswerGetsAHint) {
  Put();
  storage_.RunCompletions();
  AnswerWrite(1, Status::Ok());  // n3: W = 2 reached
  ASSERT_TRUE(write_ && write_->ok());
  AnswerWrite(0, Status::Timeout("no answer", true));  // n2, after the answer
  EXPECT_EQ(PendingFor("n2"), 1u);
  hint_store_.RunCompletions();
  EXPECT_EQ(handoff_.stats().stored, 1u);
  EXPECT_EQ(PendingFor("n3"), 0u);
}

// A joiner down or cut off misses the write; if its stream already passed the key (or its killed
// join resumes past it) only a hint brings it (sim/membership_sim_test KilledJoiner, seed 8005).
TEST_F(HintedWriteTest, APendingReplicaThatFailsEveryAttemptGetsAHint) {
  placement_.pending = {"n4"};
  Put();
  storage_.RunCompletions();
  AnswerWrite(0, Status::Ok());
  AnswerWrite(1, Status::Ok());
  ASSERT_TRUE(write_ && write_->ok());
  for (size_t attempt = 2; attempt < 5; ++attempt) {
    ASSERT_EQ(peers_.calls.at(attempt).peer, "n4");
    EXPECT_EQ(PendingFor("n4"), 0u) << "not while attempts are left";
    AnswerWrite(attempt, Status::Timeout("no answer", true));
  }
  EXPECT_EQ(peers_.calls.size(), 5u) << "three attempts";
  EXPECT_EQ(PendingFor("n4"), 1u);
}

TEST_F(HintedWriteTest, AReplicaBelievedDownIsHintedNotSent) {
  placement_.down = {"n3"};
  Put();
  storage_.RunCompletions();
  EXPECT_EQ(peers_.Peers("write"), (std::vector<std::string>{"n2"}));
  EXPECT_EQ(PendingFor("n3"), 1u) << "hinted as soon as the local write landed";
  AnswerWrite(0, Status::Ok());
  ASSERT_TRUE(write_ && write_->ok()) << "hints do not count toward W, nor hold up the answer";
  hint_store_.RunCompletions();
  EXPECT_EQ(handoff_.stats().stored, 1u);
}

TEST_F(HintedWriteTest, NoHintWhenTheLocalWriteFails) {
  placement_.down = {"n3"};
  storage_.FailWrites(1);
  Put();
  storage_.RunCompletions();
  ASSERT_TRUE(write_ && !write_->ok());
  EXPECT_FALSE(write_->status().in_doubt());
  EXPECT_TRUE(hint_store_.Stats().empty());
}

class HintedAnyTest : public HintedWriteTest {
 protected:
  HintedAnyTest() : HintedWriteTest("n9") {}
};

// ANY with every replica down, at a node outside the preference list: coordinated here, and
// answered only once a hint for every replica is durable.
TEST_F(HintedAnyTest, AnyWithEveryReplicaDownAnswersOnceTheHintsAreDurable) {
  placement_.down = {"n1", "n2", "n3"};
  RequestOptions one, any;
  one.consistency = Consistency::kOne;
  any.consistency = Consistency::kAny;
  Put(one);
  ASSERT_TRUE(write_ && !write_->ok());
  EXPECT_EQ(write_->status().code(), Code::kUnavailable);
  write_.reset();
  Put(any);
  storage_.RunCompletions();
  EXPECT_TRUE(peers_.calls.empty());
  EXPECT_FALSE(write_) << "not before the hints are durable";
  EXPECT_EQ(hint_store_.pending(), 3u);
  hint_store_.RunCompletions();
  ASSERT_TRUE(write_ && write_->ok()) << write_->status().ToString();
  EXPECT_EQ(handoff_.stats().stored, 3u);
}

TEST_F(HintedAnyTest, AnyWhoseHintsAllFailIsInDoubt) {
  placement_.down = {"n1", "n2", "n3"};
  RequestOptions any;
  any.consistency = Consistency::kAny;
  Put(any);
  storage_.RunCompletions();
  hint_store_.FailWrites(3);
  hint_store_.RunCompletions();
  ASSERT_TRUE(write_ && !write_->ok());
  EXPECT_TRUE(write_->status().in_doubt());
}

// Sloppy quorum: the ring walks n1..n5 clockwise from every key; n1..n3 are its replicas.
class SloppyWriteTest : public HintedWriteTest {
 protected:
  explicit SloppyWriteTest(std::string self = "n1") : HintedWriteTest(std::move(self)) {
    placement_.walk = {"n1", "n2", "n3", "n4", "n5", "n9"};
    sloppy_.quorum = QuorumMode::kSloppy;
  }
  void AnswerFallback(size_t i, Status s) {
    ASSERT_EQ(peers_.calls.at(i).kind, "fallback");
    peers_.calls.at(i).write_done(s);
  }
  std::vector<std::string> FallbackOwners() const {
    std::vector<std::string> out;
    for (const auto& c : peers_.calls) {
      if (c.kind == "fallback") out.push_back(c.peer + " for " + c.owner);
    }
    return out;
  }
  RequestOptions sloppy_;
};

TEST_F(SloppyWriteTest, StrictIsUnavailableAtOnceWhereSloppyReachesWThroughStandIns) {
  placement_.down = {"n2", "n3"};
  Put();  // the default keyspace is strict
  ASSERT_TRUE(write_);
  EXPECT_EQ(write_->status().code(), Code::kUnavailable);
  EXPECT_TRUE(peers_.calls.empty());

  write_.reset();
  Put(sloppy_);
  storage_.RunCompletions();
  EXPECT_EQ(FallbackOwners(), (std::vector<std::string>{"n4 for n2", "n5 for n3"}));
  EXPECT_TRUE(peers_.Peers("write").empty()) << "nothing is sent to a replica believed down";
  EXPECT_FALSE(write_) << "n1 alone is not a quorum";
  AnswerFallback(0, Status::Ok());
  ASSERT_TRUE(write_ && write_->ok()) << write_->status().ToString();
  EXPECT_EQ(write_->value().fallback_acks, 1u);
  EXPECT_TRUE(hint_store_.Stats().empty()) << "n4 holds n2's hint; n5 may yet hold n3's";
  AnswerFallback(1, Status::Timeout("no answer", true));
  EXPECT_EQ(PendingFor("n3"), 1u) << "n5 failed: this node hints n3 itself";
  EXPECT_EQ(PendingFor("n2"), 0u);
}

TEST_F(SloppyWriteTest, AKeyspaceMadeSloppyIsSloppyUnlessTheRequestSaysStrict) {
  ASSERT_TRUE(keyspaces_.Create("feat", 3, 0, /*sloppy=*/true).ok());
  placement_.down = {"n3"};
  RequestOptions strict;
  strict.quorum = QuorumMode::kStrict;
  coordinator_.Put("feat", "k", "v", "", 0, strict, false,
                   [this](Result<WriteReply> r) { write_ = std::move(r); });
  storage_.RunCompletions();
  EXPECT_TRUE(FallbackOwners().empty());
  EXPECT_EQ(PendingFor("n3"), 1u) << "strict: a hint from here, as before";

  coordinator_.Put("feat", "k", "v", "", 0, RequestOptions{}, false,
                   [this](Result<WriteReply> r) { write_ = std::move(r); });
  storage_.RunCompletions();
  EXPECT_EQ(FallbackOwners(), std::vector<std::string>{"n4 for n3"});
  EXPECT_EQ(PendingFor("n3"), 1u) << "no second hint from here: n4 stands in";
}

TEST_F(SloppyWriteTest, StandInsAreOnlyNodesBelievedUpPastThePreferenceList) {
  placement_.down = {"n2", "n3", "n4", "n9"};
  RequestOptions all = sloppy_;
  all.consistency = Consistency::kAll;
  Put(all);
  ASSERT_TRUE(write_);
  EXPECT_EQ(write_->status().code(), Code::kUnavailable);
  EXPECT_EQ(write_->status().alive(), 2u) << "n1, and n5 standing in for n2";
  write_.reset();
  Put(sloppy_);
  storage_.RunCompletions();
  EXPECT_EQ(FallbackOwners(), std::vector<std::string>{"n5 for n2"});
  EXPECT_EQ(PendingFor("n3"), 1u) << "no stand-in left for n3: hinted from here";
  AnswerFallback(0, Status::Ok());
  ASSERT_TRUE(write_ && write_->ok());
}

TEST_F(SloppyWriteTest, AReplicaThatFailsBeforeTheAnswerIsStoodInForBySpare) {
  // n2 and n3 believed up: nothing planned past the list, but n4 and n5 are spares.
  Put(sloppy_);
  storage_.RunCompletions();
  ASSERT_EQ(peers_.Peers("write"), (std::vector<std::string>{"n2", "n3"}));
  AnswerWrite(0, Status::Unavailable("no connection", 0, 0));  // n2: dead, not yet detected
  EXPECT_EQ(FallbackOwners(), std::vector<std::string>{"n4 for n2"});
  EXPECT_EQ(PendingFor("n2"), 0u) << "n4 stands in: no hint from here";
  AnswerFallback(2, Status::Ok());
  ASSERT_TRUE(write_ && write_->ok()) << write_->status().ToString();
  EXPECT_EQ(write_->value().fallback_acks, 1u);
  AnswerWrite(1, Status::Unavailable("no connection", 0, 0));  // n3, after the answer: hinted here
  EXPECT_EQ(FallbackOwners(), std::vector<std::string>{"n4 for n2"});
  EXPECT_EQ(PendingFor("n3"), 1u);

  // Strict: the same failure is a hint from here and, W out of reach, in doubt.
  peers_.calls.clear();
  write_.reset();
  Put();
  storage_.RunCompletions();
  AnswerWrite(0, Status::Unavailable("no connection", 0, 0));
  AnswerWrite(1, Status::Unavailable("no connection", 0, 0));
  ASSERT_TRUE(write_ && !write_->ok());
  EXPECT_TRUE(write_->status().in_doubt());
  EXPECT_TRUE(FallbackOwners().empty());
}

// A node outside the preference list, with every replica down: it coordinates the write itself
// and is a stand-in too (its own hint store).
class SloppyNonReplicaTest : public SloppyWriteTest {
 protected:
  SloppyNonReplicaTest() : SloppyWriteTest("n9") {}
};

// Every replica believed up, but none reachable: the forward fails at each, and the write is
// coordinated here with stand-ins after all.
TEST_F(SloppyNonReplicaTest, UnreachableReplicasLeaveTheWriteToStandInsFromHere) {
  placement_.walk = {"n1", "n2", "n3", "n4", "n5"};
  Put(sloppy_);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(peers_.calls.at(i).kind, "forward");
    peers_.calls.at(i).forward_done(Status::Unavailable("no connection", 0, 0));
  }
  storage_.RunCompletions();  // the local write, which issues the dot
  EXPECT_EQ(FallbackOwners(), (std::vector<std::string>{"n4 for n1", "n5 for n2"}));
  AnswerFallback(3, Status::Ok());
  EXPECT_FALSE(write_);
  AnswerFallback(4, Status::Ok());
  ASSERT_TRUE(write_ && write_->ok()) << write_->status().ToString();
  EXPECT_EQ(write_->value().fallback_acks, 2u);
  EXPECT_EQ(PendingFor("n3"), 1u) << "no stand-in left for n3: hinted from here";
}

TEST_F(SloppyNonReplicaTest, EveryReplicaDownCoordinatesHereWithItselfAsAStandIn) {
  placement_.walk = {"n1", "n2", "n3", "n9", "n4"};
  placement_.down = {"n1", "n2", "n3"};
  Put(sloppy_);
  storage_.RunCompletions();
  EXPECT_TRUE(peers_.Peers("forward").empty());
  EXPECT_EQ(FallbackOwners(), std::vector<std::string>{"n4 for n2"}) << "n9 stands in for n1";
  EXPECT_EQ(PendingFor("n1"), 1u);
  EXPECT_FALSE(write_) << "n9's hint is not durable yet";
  hint_store_.RunCompletions();
  EXPECT_FALSE(write_) << "one stand-in of QUORUM's two";
  AnswerFallback(0, Status::Ok());
  ASSERT_TRUE(write_ && write_->ok()) << write_->status().ToString();
  EXPECT_EQ(write_->value().fallback_acks, 2u);
}

class ForwardTest : public CoordinatorTest {
 protected:
  ForwardTest() : CoordinatorTest(false, "n9") {}
};

TEST_F(ForwardTest, TriesTheNextReplicaOnlyWhenOneWasUnreachable) {
  Put();
  ASSERT_EQ(peers_.Peers("forward"), std::vector<std::string>{"n1"});
  peers_.calls[0].forward_done(Status::Unavailable("no connection", 0, 0));
  ASSERT_EQ(peers_.Peers("forward"), (std::vector<std::string>{"n1", "n2"}));
  peers_.calls[1].forward_done(Status::Timeout("no answer", true));
  ASSERT_TRUE(write_);
  EXPECT_EQ(write_->status().code(), Code::kTimeout) << "n2 may have applied it: not retried";
  EXPECT_EQ(peers_.Peers("forward").size(), 2u);
  EXPECT_EQ(coordinator_.stats().forwarded, 1u);
}

}  // namespace
}  // namespace ringkv
