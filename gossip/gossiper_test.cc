#include "gossip/gossiper.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>
#include <memory>
#include <random>
#include <set>

namespace ringkv::gossip {
namespace {

// A tiny synchronous network of gossipers: each round every running node ticks (at a jittered
// time within the round), and its exchanges complete at once unless the link is cut or the
// target is stopped.
class Net {
 public:
  explicit Net(size_t n, uint64_t seed = 1) : rng_(seed) {
    for (size_t i = 0; i < n; ++i) Add(i);
    seeds_ = {Address(0)};
  }
  static std::string Name(size_t i) { return fmt::format("n{}", i); }
  static std::string Address(size_t i) { return fmt::format("127.0.0.1:{}", 7000 + i); }
  void Add(size_t i, int64_t generation = 1) {
    MemberState s;
    s.address = Address(i);
    s.host_id = 1000 + i;
    s.tokens = {static_cast<Token>(i * 100 + 1)};
    nodes_[Name(i)] = std::make_unique<Gossiper>(Name(i), generation, s, 77 + i, GossipOptions{});
    by_address_[Address(i)] = Name(i);
    running_.insert(Name(i));
  }
  Gossiper& node(size_t i) { return *nodes_.at(Name(i)); }
  void Stop(size_t i) { running_.erase(Name(i)); }
  void Cut(size_t a, size_t b) { cut_.insert({Name(a), Name(b)}), cut_.insert({Name(b), Name(a)}); }
  // Runs rounds until `until_us`; `skip` delays a node's ticks (a pause) while it returns true.
  void RunUntil(int64_t until_us, std::function<bool(const std::string&, int64_t)> skip = {}) {
    while (now_us_ < until_us) {
      now_us_ += 1'000'000;
      std::uniform_int_distribution<int64_t> jitter(0, 50'000);
      for (auto& [name, g] : nodes_) {
        if (running_.count(name) == 0) continue;
        const int64_t t = now_us_ + jitter(rng_);
        if (skip && skip(name, t)) continue;
        auto round = g->Tick(t, seeds_);
        for (const auto& address : round.addresses) {
          const std::string& to = by_address_.at(address);
          if (running_.count(to) == 0 || cut_.count({name, to}) > 0) continue;
          if (skip && skip(to, t)) continue;  // paused: it does not answer either
          Ack ack = nodes_.at(to)->OnSyn(round.syn, t);
          Ack2 ack2 = g->OnAck(ack, t);
          nodes_.at(to)->OnAck2(ack2, t);
        }
        for (auto& e : g->TakeEvents()) events_[name].push_back({t, e});
      }
    }
  }
  int64_t now() const { return now_us_; }
  std::map<std::string, std::vector<std::pair<int64_t, Event>>> events_;
  std::vector<std::string> seeds_;

 private:
  std::mt19937_64 rng_;
  std::map<std::string, std::unique_ptr<Gossiper>> nodes_;
  std::map<std::string, std::string> by_address_;
  std::set<std::string> running_;
  std::set<std::pair<std::string, std::string>> cut_;
  int64_t now_us_ = 0;
};

bool KnowsAll(Net& net, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (net.node(i).endpoints().size() != n) return false;
  }
  return true;
}

TEST(Gossiper, EveryNodeLearnsEveryMemberThroughOneSeed) {
  Net net(5);
  net.RunUntil(10'000'000);
  ASSERT_TRUE(KnowsAll(net, 5));
  for (size_t i = 0; i < 5; ++i) {
    for (size_t j = 0; j < 5; ++j) {
      EXPECT_EQ(net.node(i).endpoints().at(Net::Name(j)).state,
                net.node(j).self_endpoint().state);
      EXPECT_TRUE(net.node(i).IsAlive(Net::Name(j)));
    }
  }
}

TEST(Gossiper, NodesThatAllListEachOtherAsSeedsFormOneClusterNotIslands) {
  Net net(6, 11);
  net.seeds_.clear();
  for (size_t i = 0; i < 6; ++i) net.seeds_.push_back(Net::Address(i));
  net.RunUntil(10'000'000);
  EXPECT_TRUE(KnowsAll(net, 6));
}

TEST(Gossiper, AStateChangeReachesAHundredNodesInLogarithmicRounds) {
  Net net(100, 3);
  net.RunUntil(40'000'000);
  ASSERT_TRUE(KnowsAll(net, 100));
  MemberState s = net.node(42).self_endpoint().state;
  s.status = MemberStatus::kLeaving;
  net.node(42).SetState(s);
  int rounds = 0;
  auto all_know = [&] {
    for (size_t i = 0; i < 100; ++i) {
      if (net.node(i).endpoints().at("n42").state.status != MemberStatus::kLeaving) return false;
    }
    return true;
  };
  while (!all_know() && rounds < 60) {
    net.RunUntil(net.now() + 1'000'000);
    ++rounds;
  }
  // Push-pull with one peer a round spreads in about log2(n) + ln(n) rounds: ~12 for 100.
  EXPECT_LE(rounds, 20);
}

int64_t DetectionUs(Net& net, size_t n, size_t victim, int64_t stopped_at) {
  int64_t worst = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i == victim) continue;
    int64_t at = -1;
    for (const auto& [t, e] : net.events_[Net::Name(i)]) {
      if (e.kind == Event::Kind::kDead && e.name == Net::Name(victim) && t > stopped_at) at = t;
    }
    if (at < 0) return -1;
    worst = std::max(worst, at - stopped_at);
  }
  return worst;
}

// Judged once a round here (kvnode also judges between rounds, 4 times a second).
TEST(Gossiper, AStoppedNodeIsSeenDeadByEveryoneWithinSixSeconds) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Net net(5, seed);
    net.RunUntil(60'000'000);
    net.events_.clear();
    const int64_t stopped = net.now();
    net.Stop(3);
    net.RunUntil(stopped + 15'000'000);
    const int64_t detected = DetectionUs(net, 5, 3, stopped);
    ASSERT_GT(detected, 0) << "seed " << seed;
    EXPECT_LT(detected, 6'000'000) << "seed " << seed;
    EXPECT_GT(detected, 2'500'000) << "seed " << seed;
  }
}

TEST(Gossiper, AHalfSecondPauseConvictsNobody) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Net net(5, seed);
    net.RunUntil(60'000'000);
    net.events_.clear();
    // n2 stalls for 500 ms at a random moment in each of ten rounds: its ticks in that window
    // are skipped (a SIGSTOP: it neither beats nor answers).
    const int64_t start = net.now();
    net.RunUntil(start + 30'000'000, [&](const std::string& name, int64_t t) {
      return name == "n2" && (t - start) % 3'000'000 < 500'000;
    });
    for (const auto& [node, events] : net.events_) {
      for (const auto& [t, e] : events) {
        EXPECT_NE(e.kind, Event::Kind::kDead) << node << " convicted " << e.name << " seed " << seed;
      }
    }
  }
}

TEST(Gossiper, OneCutLinkMakesNobodyFlap) {
  Net net(3);
  net.RunUntil(20'000'000);
  net.events_.clear();
  net.Cut(0, 1);  // n0 and n1 cannot talk; both talk to n2
  net.RunUntil(net.now() + 120'000'000);
  for (const auto& [node, events] : net.events_) {
    for (const auto& [t, e] : events) EXPECT_NE(e.kind, Event::Kind::kDead) << node << " " << e.name;
  }
}

TEST(Gossiper, ARestartedNodesNewGenerationWinsOverItsOldState) {
  Net net(3);
  net.RunUntil(10'000'000);
  MemberState s = net.node(1).self_endpoint().state;
  for (int i = 0; i < 5; ++i) {
    s.load_bytes += 1;
    net.node(1).SetState(s);  // version 6 in generation 1
  }
  net.RunUntil(net.now() + 10'000'000);
  net.Add(1, /*generation=*/2);  // restarted: version 1 again, generation 2, no load
  net.RunUntil(net.now() + 10'000'000);
  EXPECT_EQ(net.node(0).endpoints().at("n1").generation, 2);
  EXPECT_EQ(net.node(0).endpoints().at("n1").state.load_bytes, 0u);
}

Endpoint Member(std::string name, uint64_t host_id, std::vector<Token> tokens) {
  Endpoint e;
  e.name = std::move(name);
  e.generation = 5;
  e.version = 1;
  e.heartbeat = 1;
  e.state.address = "127.0.0.9:7000";
  e.state.host_id = host_id;
  e.state.tokens = std::move(tokens);
  return e;
}

std::vector<Event> Refusals(Gossiper& g) {
  std::vector<Event> out;
  for (auto& e : g.TakeEvents()) {
    if (e.kind == Event::Kind::kRefused) out.push_back(e);
  }
  return out;
}

TEST(Gossiper, RefusesMalformedAndConflictingStatesWithAReason) {
  MemberState s;
  s.address = "127.0.0.1:7000";
  s.host_id = 1;
  s.tokens = {10};
  Gossiper g("a", 1, s, 1, GossipOptions{});
  Ack ack;
  ack.states.push_back(Member("b", 2, {30, 20}));  // tokens out of order
  ack.states.push_back(Member("c", 1, {40}));      // host id 1 is a's
  ack.states.push_back(Member("a", 9, {50}));      // another node claims a's name
  ack.states.back().generation = 99;
  ack.states.push_back(Member(std::string(300, 'x'), 3, {60}));
  g.OnAck(ack, 1'000'000);
  auto refused = Refusals(g);
  ASSERT_EQ(refused.size(), 4u);
  EXPECT_NE(refused[0].detail.find("ascending"), std::string::npos);
  EXPECT_NE(refused[1].detail.find("host id"), std::string::npos);
  EXPECT_NE(refused[2].detail.find("this node's name"), std::string::npos);
  EXPECT_NE(refused[3].detail.find("name"), std::string::npos);
  EXPECT_EQ(g.endpoints().size(), 1u);
  EXPECT_EQ(g.self_endpoint().state, s);
}

TEST(Gossiper, ASecondNodeWithATakenNameLearnsItAndTheFirstKeepsIt) {
  Net net(3);
  net.RunUntil(10'000'000);
  // Another process named n1 (another host id) starts later and gossips with n2.
  MemberState s;
  s.address = "127.0.0.1:7999";
  s.host_id = 4242;
  s.tokens = {999};
  Gossiper impostor("n1", 50'000'000, s, 9, GossipOptions{});
  auto round = impostor.Tick(net.now(), {Net::Address(1)});
  Ack ack = net.node(1).OnSyn(round.syn, net.now());
  net.node(1).OnAck2(impostor.OnAck(ack, net.now()), net.now());
  bool taken = false;
  for (const auto& e : impostor.TakeEvents()) taken = taken || e.kind == Event::Kind::kSelfTaken;
  EXPECT_TRUE(taken);
  EXPECT_EQ(net.node(1).endpoints().at("n1").state.host_id, 1001u) << "the first one stays";
  EXPECT_EQ(net.node(1).endpoints().at("n1").state.address, Net::Address(1));
}

TEST(Gossiper, IgnoresOlderCopiesOfAMember) {
  MemberState s;
  s.address = "127.0.0.1:7000";
  s.host_id = 1;
  s.tokens = {10};
  Gossiper g("a", 1, s, 1, GossipOptions{});
  Ack fresh;
  fresh.states.push_back(Member("b", 2, {20}));
  fresh.states.back().version = 4;
  g.OnAck(fresh, 1'000'000);
  Ack old;
  old.states.push_back(Member("b", 2, {21}));  // version 1 in the same generation
  old.states.push_back(Member("b", 2, {22}));
  old.states.back().generation = 4;  // an older run
  g.OnAck(old, 2'000'000);
  EXPECT_EQ(g.endpoints().at("b").state.tokens, std::vector<Token>({20}));
  EXPECT_TRUE(Refusals(g).empty());
}

TEST(Gossiper, RemovenodesVerdictSpreadsAndTheRemovedNodeHearsIt) {
  Net net(4);
  net.RunUntil(10'000'000);
  net.Stop(3);
  net.RunUntil(net.now() + 10'000'000);
  ASSERT_FALSE(net.node(0).IsAlive("n3"));
  ASSERT_TRUE(net.node(0).MarkRemoved("n3").ok());
  EXPECT_FALSE(net.node(0).MarkRemoved("n3").ok());
  net.RunUntil(net.now() + 10'000'000);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(net.node(i).endpoints().at("n3").state.status, MemberStatus::kRemoved);
  }
  // n3 comes back with the same run (it was only cut off): it learns it was removed.
  net.events_.clear();
  Ack ack;
  ack.states.push_back(net.node(0).endpoints().at("n3"));
  net.node(3).OnAck(ack, net.now());
  auto events = net.node(3).TakeEvents();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, Event::Kind::kSelfRemoved);
}

TEST(Gossiper, ItsOwnStallIsNotBlamedOnOthers) {
  Net net(3);
  net.RunUntil(20'000'000);
  net.events_.clear();
  // n0's loop stalls for 10 s: it neither ticks nor hears anyone; the others keep going.
  const int64_t start = net.now();
  net.RunUntil(start + 10'000'000,
               [&](const std::string& name, int64_t) { return name == "n0"; });
  net.RunUntil(start + 12'000'000);
  for (const auto& [t, e] : net.events_["n0"]) EXPECT_NE(e.kind, Event::Kind::kDead) << e.name;
}

}  // namespace
}  // namespace ringkv::gossip
