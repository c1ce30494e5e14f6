// Membership and ClusterView over a scripted MembershipTransport and manual timers.
#include "node/membership.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
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
    now_us_ += delta_us;
    while (true) {
      auto due = tasks_.end();
      for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
        if (it->second.first <= now_us_ && (due == tasks_.end() || it->second.first < due->second.first)) due = it;
      }
      if (due == tasks_.end()) return;
      auto fn = std::move(due->second.second);
      tasks_.erase(due);
      fn();
    }
  }

 private:
  int64_t now_us_ = 0;
  TimerId next_ = 1;
  std::map<TimerId, std::pair<int64_t, std::function<void()>>> tasks_;
};

// Answers FetchRing from a table of address -> answer; an address missing from the table is down.
class FakeTransport final : public MembershipTransport {
 public:
  void FetchRing(const std::string& address, int64_t, std::function<void(Result<RingAnswer>)> done) override {
    ++fetches[address];
    auto it = answers.find(address);
    if (it == answers.end()) return done(Status::Unavailable("refused", 0, 0));
    done(it->second);
  }
  void PushKeyspace(const std::string& address, const KeyspaceDef& ks, int64_t,
                    std::function<void(Status)> done) override {
    pushed.emplace_back(address, ks.name);
    done(Status::Ok());
  }
  void PushDrop(const std::string& address, const std::string& ks, int64_t, int64_t,
                std::function<void(Status)> done) override {
    drops.emplace_back(address, ks);
    done(Status::Ok());
  }
  std::vector<std::pair<std::string, std::string>> drops;
  std::map<std::string, RingAnswer> answers;
  std::map<std::string, int> fetches;
  std::vector<std::pair<std::string, std::string>> pushed;
};

MemberInfo Member(const std::string& name, int port, std::vector<Token> tokens) {
  return MemberInfo{name, "127.0.0.1:" + std::to_string(port), std::hash<std::string>{}(name),
                    std::move(tokens)};
}

class MembershipTest : public ::testing::Test {
 protected:
  MembershipTest()
      : log_("n1", LogLevel::kError, &clock_),
        view_(Member("n1", 7001, {-100, 100})),
        membership_(&view_, &keyspaces_, &transport_, &timers_, &log_, Options(),
                    [this](const MemberInfo& m) { learnt_.push_back(m.name); },
                    [this](const KeyspaceDef& ks) { persisted_.push_back(ks.name); }) {}

  static MembershipOptions Options() {
    MembershipOptions o;
    o.seeds = {"127.0.0.1:7001", "127.0.0.1:7002"};  // its own address among them
    return o;
  }

  ManualClock clock_;
  Logger log_;
  ClusterView view_;
  KeyspaceCatalog keyspaces_;
  FakeTransport transport_;
  ManualTimers timers_;
  std::vector<std::string> learnt_, persisted_;
  Membership membership_;
};

TEST_F(MembershipTest, LearnsMembersTransitivelyAndNeverAsksItself) {
  // n2 (a seed) knows n3, which is not a seed.
  RingAnswer from_n2{"n2", {{Member("n2", 7002, {-50, 50}), true}, {Member("n3", 7003, {0, 200}), true}}, {}, {}};
  transport_.answers["127.0.0.1:7002"] = from_n2;
  transport_.answers["127.0.0.1:7003"] = RingAnswer{"n3", {{Member("n3", 7003, {0, 200}), true}}, {}, {}};
  membership_.Start();
  EXPECT_EQ(view_.node_count(), 3u);
  EXPECT_TRUE(view_.IsUp("n2"));
  EXPECT_FALSE(view_.IsUp("n3")) << "n3 has not answered this node yet";
  EXPECT_EQ(transport_.fetches.count("127.0.0.1:7001"), 0u) << "a node never asks itself";
  timers_.Advance(1'000'000);
  EXPECT_TRUE(view_.IsUp("n3"));
  EXPECT_NE(std::find(learnt_.begin(), learnt_.end(), "n3"), learnt_.end())
      << "the peer transport is told where n3 is";
  EXPECT_EQ(view_.PreferenceList(TokenOf("k"), 3).size(), 3u);
}

TEST_F(MembershipTest, FailedExchangeMarksThePeerDownAndAnAnswerUpAgain) {
  transport_.answers["127.0.0.1:7002"] = RingAnswer{"n2", {{Member("n2", 7002, {-50, 50}), true}}, {}, {}};
  membership_.Start();
  ASSERT_TRUE(view_.IsUp("n2"));
  transport_.answers.erase("127.0.0.1:7002");
  timers_.Advance(1'000'000);
  EXPECT_FALSE(view_.IsUp("n2"));
  EXPECT_EQ(view_.node_count(), 2u) << "a down member stays on the ring";
  transport_.answers["127.0.0.1:7002"] = RingAnswer{"n2", {{Member("n2", 7002, {-50, 50}), true}}, {}, {}};
  timers_.Advance(1'000'000);
  EXPECT_TRUE(view_.IsUp("n2"));
}

TEST_F(MembershipTest, NoReplicasUntilEverySeedHasAnswered) {
  // Nothing answers yet: the node knows only itself, so it must not place keys.
  EXPECT_FALSE(view_.settled());
  membership_.Start();
  auto list = view_.PreferenceList(TokenOf("k"), 3);
  ASSERT_EQ(list.size(), 3u) << "as many replicas as asked, so quorums count them";
  for (const auto& node : list) EXPECT_FALSE(view_.IsUp(node)) << node;
  // The seed answers: settled, and the preference list is the real one.
  transport_.answers["127.0.0.1:7002"] = RingAnswer{"n2", {{Member("n2", 7002, {-50, 50}), true}}, {}, {}};
  timers_.Advance(1'000'000);
  EXPECT_TRUE(view_.settled());
  list = view_.PreferenceList(TokenOf("k"), 3);
  EXPECT_EQ(std::set<std::string>(list.begin(), list.end()), (std::set<std::string>{"n1", "n2"}));
}

TEST_F(MembershipTest, SettlesWithoutASeedThatNeverAnswers) {
  membership_.Start();
  timers_.Advance(9'000'000);
  EXPECT_FALSE(view_.settled());
  timers_.Advance(1'100'000);
  EXPECT_TRUE(view_.settled()) << "a dead seed must not keep the node from serving";
  EXPECT_EQ(view_.PreferenceList(TokenOf("k"), 3), std::vector<std::string>{"n1"});
}

TEST_F(MembershipTest, ASeedThatIsDownButKnownToAnotherMemberDoesNotDelayServing) {
  // n1 restarts while seed n2 is down.
  MembershipOptions o;
  o.seeds = {"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"};
  ClusterView view(Member("n1", 7001, {-100, 100}));
  FakeTransport transport;
  ManualTimers timers;
  KeyspaceCatalog keyspaces;
  Membership m(&view, &keyspaces, &transport, &timers, &log_, o, [](const MemberInfo&) {},
               [](const KeyspaceDef&) {});
  // n2 is down; n3 answers and knows n2's tokens.
  transport.answers["127.0.0.1:7003"] =
      RingAnswer{"n3", {{Member("n3", 7003, {0, 200}), true}, {Member("n2", 7002, {-50, 50}), false}}, {}, {}};
  m.Start();
  EXPECT_TRUE(view.settled()) << "n2's tokens are known from n3: the ring is whole";
  EXPECT_EQ(view.node_count(), 3u);
}

TEST(ClusterViewSettleTest, ANodeWithoutSeedsServesAtOnce) {
  ClusterView view(Member("solo", 7009, {1}));
  EXPECT_TRUE(view.settled());
  EXPECT_EQ(view.PreferenceList(TokenOf("k"), 3), std::vector<std::string>{"solo"});
}

TEST_F(MembershipTest, KeyspacesSpreadThroughRingAnswersAndCreation) {
  transport_.answers["127.0.0.1:7002"] =
      RingAnswer{"n2", {{Member("n2", 7002, {-50, 50}), true}}, {KeyspaceDef{"pipeline", 2, 0}}, {}};
  membership_.Start();
  auto ks = keyspaces_.Find("pipeline");
  ASSERT_TRUE(ks.ok());
  EXPECT_EQ(ks->replication_factor, 2u);
  EXPECT_EQ(persisted_, std::vector<std::string>{"pipeline"});

  bool created = false;
  ASSERT_TRUE(membership_.CreateKeyspace(KeyspaceDef{"features", 3, 100}, false, false, &created).ok());
  EXPECT_TRUE(created);
  EXPECT_EQ(transport_.pushed,
            (std::vector<std::pair<std::string, std::string>>{{"127.0.0.1:7002", "features"}}));
  EXPECT_FALSE(membership_.CreateKeyspace(KeyspaceDef{"features", 3, 100}, false, false, &created).ok())
      << "exists, and IF NOT EXISTS was not given";
  EXPECT_TRUE(membership_.CreateKeyspace(KeyspaceDef{"features", 3, 100}, true, false, &created).ok());
  EXPECT_FALSE(created);
  EXPECT_FALSE(membership_.CreateKeyspace(KeyspaceDef{"features", 5, 100}, true, false, &created).ok())
      << "a different factor is an error even with IF NOT EXISTS";

  // Dropping: gone here, pushed to the others, and a peer that missed the drop cannot bring the
  // keyspace back through its ring answer; a later creation can.
  std::vector<std::string> dropped_names;
  membership_.SetDropCallback(
      [&](const std::string& name, int64_t) { dropped_names.push_back(name); });
  bool dropped = false;
  const std::string before = keyspaces_.SchemaVersion();
  ASSERT_TRUE(membership_.DropKeyspace("features", false, 200, false, &dropped).ok());
  EXPECT_TRUE(dropped);
  EXPECT_FALSE(keyspaces_.Find("features").ok());
  EXPECT_NE(keyspaces_.SchemaVersion(), before);
  EXPECT_EQ(dropped_names, std::vector<std::string>{"features"});
  EXPECT_EQ(transport_.drops.size(), 1u);
  membership_.LearnKeyspace(KeyspaceDef{"features", 3, 100});
  EXPECT_FALSE(keyspaces_.Find("features").ok()) << "an older definition must not resurrect it";
  EXPECT_FALSE(membership_.DropKeyspace("features", false, 300, false, &dropped).ok())
      << "no such keyspace, and IF EXISTS was not given";
  EXPECT_TRUE(membership_.DropKeyspace("features", true, 300, false, &dropped).ok());
  EXPECT_FALSE(dropped);
  EXPECT_FALSE(membership_.DropKeyspace("default", true, 300, false, &dropped).ok());
  membership_.LearnKeyspace(KeyspaceDef{"features", 3, 400});
  EXPECT_TRUE(keyspaces_.Find("features").ok()) << "created again after the drop";
}

TEST(ClusterViewTest, RefusesCollidingTokensAndAnImpostorOfItself) {
  ClusterView view(Member("n1", 7001, {-100, 100}));
  EXPECT_FALSE(view.Learn(Member("n2", 7002, {100})).ok()) << "token 100 is n1's";
  EXPECT_EQ(view.node_count(), 1u);
  MemberInfo impostor = Member("n1", 7009, {5});
  impostor.host_id ^= 1;
  EXPECT_FALSE(view.Learn(impostor).ok());
  auto learnt = view.Learn(Member("n2", 7002, {0}));
  ASSERT_TRUE(learnt.ok());
  EXPECT_TRUE(learnt.value());
  EXPECT_FALSE(view.Learn(Member("n2", 7002, {0})).value()) << "nothing new";
  EXPECT_TRUE(view.IsUp("n1")) << "a node is always up to itself";
  EXPECT_FALSE(view.IsUp("n2"));
}

}  // namespace
}  // namespace ringkv
