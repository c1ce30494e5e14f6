// Membership and ClusterView over a scripted MembershipTransport and manual timers.
#include "node/membership.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace ringkv {
namespace {

class ManualTimers final : public Timers {
 public:
  TimerId After(int64_t delay_us, std::function<void()> fn) override {
    tasks_[next_] = {now_us_ + delay_us, std::move(fn)};
    return next_++;
  }
  void Cancel(TimerId id) override { tasks_.erase(id); }
  // Runs every task due by now + delta_us, in time order.
  void Advance(int64_t delta_us) {
    const int64_t end = now_us_ + delta_us;
    while (true) {
      auto due = tasks_.end();
      for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
        if (it->second.first <= end && (due == tasks_.end() || it->second.first < due->second.first)) due = it;
      }
      if (due == tasks_.end()) break;
      now_us_ = std::max(now_us_, due->second.first);  // the clock reads each task's own time
      auto fn = std::move(due->second.second);
      tasks_.erase(due);
      fn();
    }
    now_us_ = end;
  }

 private:
  int64_t now_us_ = 1'000'000;
  TimerId next_ = 1;

 public:
  int64_t now_us() const { return now_us_; }

 private:
  std::map<TimerId, std::pair<int64_t, std::function<void()>>> tasks_;
};

class TimersClock final : public Clock {
 public:
  explicit TimersClock(const ManualTimers* timers) : timers_(timers) {}
  int64_t NowUs() const override { return 1'700'000'000'000'000 + timers_->now_us(); }
  int64_t MonoUs() const override { return timers_->now_us(); }

 private:
  const ManualTimers* timers_;
};

MemberInfo Member(const std::string& name, int port, std::vector<Token> tokens,
                  gossip::MemberStatus status = gossip::MemberStatus::kNormal) {
  return MemberInfo{name, "127.0.0.1:" + std::to_string(port), std::hash<std::string>{}(name),
                    std::move(tokens), status};
}

// Nodes whose membership exchanges are delivered at once, in memory, unless the target is down.
class Net {
 public:
  struct Node;
  class Transport final : public MembershipTransport {
   public:
    Transport(Net* net, Node* self) : net_(net), self_(self) {}
    void GossipSyn(const std::string& address, const gossip::Syn& syn, int64_t,
                   std::function<void(Result<gossip::Ack>)> done) override {
      Node* to = At(address);
      if (to == nullptr) return done(Status::Unavailable("refused", 0, 0));
      done(to->membership->OnSyn(syn));
    }
    void GossipAck2(const std::string& address, const gossip::Ack2& ack2, int64_t,
                    std::function<void(Status)> done) override {
      Node* to = At(address);
      if (to == nullptr) return done(Status::Unavailable("refused", 0, 0));
      to->membership->OnAck2(ack2);
      done(Status::Ok());
    }
    void FetchRing(const std::string& address, int64_t,
                   std::function<void(Result<RingAnswer>)> done) override {
      Node* to = At(address);
      if (to == nullptr) return done(Status::Unavailable("refused", 0, 0));
      done(to->membership->Answer());
    }
   private:
    Node* At(const std::string& address) { return self_->up ? net_->At(address) : nullptr; }
    Net* net_;
    Node* self_;
  };
  struct Node {
    MemberInfo info;
    std::unique_ptr<Logger> log;
    std::unique_ptr<ClusterView> view;
    KeyspaceCatalog keyspaces;
    std::unique_ptr<Transport> transport;
    std::unique_ptr<Membership> membership;
    bool up = true;
  };

  Net() : clock_(&timers_) {}
  Node& Add(const MemberInfo& info, std::vector<std::string> seeds) {
    auto node = std::make_unique<Node>();
    node->info = info;
    node->log = std::make_unique<Logger>(info.name, LogLevel::kError, &clock_);
    node->view = std::make_unique<ClusterView>(info);
    node->transport = std::make_unique<Transport>(this, node.get());
    MembershipOptions options;
    options.seeds = std::move(seeds);
    options.rng_seed = std::hash<std::string>{}(info.name);
    Membership::Callbacks callbacks;
    callbacks.on_member = [](const MemberInfo&) {};
    callbacks.on_keyspace = [](const KeyspaceDef&) {};
    node->membership = std::make_unique<Membership>(node->view.get(), &node->keyspaces,
                                                    node->transport.get(), &timers_, &clock_,
                                                    node->log.get(), options, callbacks);
    nodes_.push_back(std::move(node));
    return *nodes_.back();
  }
  Node* At(const std::string& address) {
    for (auto& n : nodes_) {
      if (n->info.address == address) return n->up ? n.get() : nullptr;
    }
    return nullptr;
  }
  Node& node(size_t i) { return *nodes_[i]; }
  ManualTimers& timers() { return timers_; }

 private:
  ManualTimers timers_;
  TimersClock clock_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

const std::vector<std::string> kSeeds = {"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"};

TEST(MembershipTest, FoundingMembersSettleOnOneRingAndSeeEachOtherUp) {
  Net net;
  net.Add(Member("n1", 7001, {-100, 100}), kSeeds);
  net.Add(Member("n2", 7002, {-50, 50}), kSeeds);
  net.Add(Member("n3", 7003, {0, 200}), kSeeds);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(net.node(i).view->settled()) << "it has not heard of its seeds yet";
    EXPECT_FALSE(net.node(i).membership->Answer().settled) << "its ring answer says so";
    net.node(i).membership->Start();
  }
  net.timers().Advance(3'000'000);
  for (size_t i = 0; i < 3; ++i) {
    const auto& view = *net.node(i).view;
    EXPECT_TRUE(view.settled());
    EXPECT_TRUE(net.node(i).membership->Answer().settled);
    EXPECT_EQ(view.node_count(), 3u);
    EXPECT_EQ(view.ring().Digest(), net.node(0).view->ring().Digest());
    for (const char* name : {"n1", "n2", "n3"}) EXPECT_TRUE(view.IsUp(name)) << name;
  }
}

TEST(MembershipTest, ADeadMemberIsSeenDownAndAReturningOneUp) {
  Net net;
  for (int i = 1; i <= 3; ++i) {
    net.Add(Member("n" + std::to_string(i), 7000 + i, {i * 10, i * 100}), kSeeds);
  }
  for (size_t i = 0; i < 3; ++i) net.node(i).membership->Start();
  net.timers().Advance(5'000'000);
  net.node(2).up = false;  // it neither answers nor reaches anyone
  net.timers().Advance(6'000'000);
  EXPECT_FALSE(net.node(0).view->IsUp("n3"));
  EXPECT_FALSE(net.node(1).view->IsUp("n3"));
  EXPECT_EQ(net.node(0).view->node_count(), 3u) << "a dead member still owns its ranges";
  net.node(2).up = true;
  net.timers().Advance(3'000'000);
  EXPECT_TRUE(net.node(0).view->IsUp("n3"));
}

TEST(MembershipTest, ANodeThatMissedAKeyspaceLearnsItThroughGossip) {
  Net net;
  for (int i = 1; i <= 3; ++i) {
    net.Add(Member("n" + std::to_string(i), 7000 + i, {i * 10, i * 100}), kSeeds);
  }
  for (size_t i = 0; i < 3; ++i) net.node(i).membership->Start();
  net.timers().Advance(3'000'000);
  net.node(2).up = false;
  bool created = false;
  ASSERT_TRUE(net.node(0).membership->CreateKeyspace(KeyspaceDef{"features", 3, 100}, false,
                                                      false, &created).ok());
  EXPECT_TRUE(net.node(1).keyspaces.Find("features").ok())
      << "gossiped at once to live members, which pulled it";
  EXPECT_FALSE(net.node(2).keyspaces.Find("features").ok());
  // n3 is unreachable but not yet convicted: a create waits for it (schema agreement).
  std::optional<bool> agreed;
  net.node(0).membership->WhenSchemaAgrees(5000, [&](bool a) { agreed = a; });
  EXPECT_FALSE(agreed.has_value());
  net.node(2).up = true;
  net.timers().Advance(4'000'000);
  EXPECT_TRUE(net.node(2).keyspaces.Find("features").ok())
      << "its schema version differed from its peers', so it pulled their catalog";
  EXPECT_EQ(agreed, true);
  bool dropped = false;
  net.node(2).up = false;
  ASSERT_TRUE(net.node(1).membership->DropKeyspace("features", false, 200, false, &dropped).ok());
  net.node(2).up = true;
  net.timers().Advance(4'000'000);
  EXPECT_FALSE(net.node(2).keyspaces.Find("features").ok()) << "and the drop too";
  // A member that never learns (cut off, yet believed up): agreement times out.
  net.node(2).up = false;
  agreed.reset();
  ASSERT_TRUE(net.node(1).membership->CreateKeyspace(KeyspaceDef{"other", 3, 300}, false, false,
                                                      &created).ok());
  net.node(1).membership->WhenSchemaAgrees(500, [&](bool a) { agreed = a; });
  EXPECT_FALSE(agreed.has_value());
  net.timers().Advance(600'000);
  EXPECT_EQ(agreed, false);
}

TEST(MembershipTest, RemovenodeOfADeadMemberReachesEveryNode) {
  Net net;
  for (int i = 1; i <= 4; ++i) {
    net.Add(Member("n" + std::to_string(i), 7000 + i, {i * 10, i * 100}), kSeeds);
  }
  for (size_t i = 0; i < 4; ++i) net.node(i).membership->Start();
  net.timers().Advance(3'000'000);
  net.node(3).up = false;
  EXPECT_FALSE(net.node(0).membership->Remove("n4").ok()) << "not yet convicted";
  net.timers().Advance(8'000'000);
  ASSERT_TRUE(net.node(0).membership->Remove("n4").ok());
  net.timers().Advance(3'000'000);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(net.node(i).view->members().at("n4").status, gossip::MemberStatus::kRemoved) << i;
    EXPECT_EQ(net.node(i).view->node_count(), 3u);
  }
}

TEST(ClusterViewTest, AJoiningMemberIsAPendingReplicaUntilItIsNormal) {
  ClusterView view(Member("n1", 7001, {-100, 100}));
  ASSERT_TRUE(view.Learn(Member("n2", 7002, {-50, 50})).ok());
  ASSERT_TRUE(view.Learn(Member("n3", 7003, {0}, gossip::MemberStatus::kJoining)).ok());
  EXPECT_EQ(view.node_count(), 2u) << "a joining node serves nothing yet";
  EXPECT_EQ(view.future_ring().node_count(), 3u);
  EXPECT_EQ(view.Moving(), std::vector<std::string>{"n3"});
  // Factor 1: n3 takes (-50, 0] from n2 (who owned (-50, 50]).
  EXPECT_EQ(view.PreferenceList(-10, 1), std::vector<std::string>{"n2"});
  EXPECT_EQ(view.PendingReplicas(-10, 1), std::vector<std::string>{"n3"});
  EXPECT_TRUE(view.PendingReplicas(60, 1).empty());
  ASSERT_TRUE(view.Learn(Member("n3", 7003, {0})).ok());
  EXPECT_EQ(view.PreferenceList(-10, 1), std::vector<std::string>{"n3"});
  EXPECT_TRUE(view.PendingReplicas(-10, 1).empty());
  EXPECT_TRUE(view.Moving().empty());
}

TEST(ClusterViewTest, RefusesCollidingTokensAndAnImpostorOfItself) {
  ClusterView view(Member("n1", 7001, {-100, 100}));
  EXPECT_FALSE(view.Learn(Member("n2", 7002, {100})).ok()) << "token 100 is n1's";
  EXPECT_FALSE(view.Learn(Member("n2", 7002, {100}, gossip::MemberStatus::kJoining)).ok())
      << "a joining node may not take it either";
  EXPECT_EQ(view.node_count(), 1u);
  MemberInfo impostor = Member("n1", 7009, {5});
  impostor.host_id ^= 1;
  EXPECT_FALSE(view.Learn(impostor).ok());
  auto learnt = view.Learn(Member("n2", 7002, {0}));
  ASSERT_TRUE(learnt.ok());
  EXPECT_TRUE(learnt.value());
  EXPECT_FALSE(view.Learn(Member("n2", 7002, {0})).value()) << "nothing new";
  EXPECT_TRUE(view.IsUp("n1")) << "a node is always up to itself";
  EXPECT_TRUE(view.IsUp("n2"));
  view.SetUp("n2", false);  // the transport lost it
  EXPECT_FALSE(view.IsUp("n2"));
  view.SetUp("n2", true);
  view.SetAlive("n2", false);  // the failure detector convicts it
  EXPECT_FALSE(view.IsUp("n2"));
}

}  // namespace
}  // namespace ringkv
