// The client follows the cluster (issue 10): it learns joins and departures from ring answers,
// takes a request refused UNAVAILABLE once more to another node (any number of times when the node
// said it is not ready), never retries a timeout, and routes a key whose replicas it cannot reach
// to other nodes, which can coordinate or forward. Fake nodes on 127.0.0.1 (client/fake_cluster.h);
// nothing sleeps: waits are polls with a deadline.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "client/fake_cluster.h"
#include "client/ring_snapshot.h"
#include "client/router.h"
#include "common/token.h"
#include "ring/ring.h"
#include "ringkv/client.h"

namespace ringkv {
namespace {

using fake::AnsweredBy;
using fake::FakeCluster;
using fake::KeyWithPrimary;
using fake::OptionsFor;
using fake::kTokenA;
using fake::kTokenB;
using fake::kTokenC;
using Mode = FakeCluster::Mode;
using namespace std::chrono_literals;


// Calls `probe` until it returns true or 10 s pass; returns whether it did.
bool PollUntil(const std::function<bool()>& probe) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
  }
  return false;
}

// A token between a's and b's, where a node joining at kTokenD takes over from b.
constexpr int64_t kTokenD = -(int64_t{1} << 61);
std::string KeyOwnedByD() {
  for (int i = 0;; ++i) {
    std::string key = "dkey" + std::to_string(i);
    const int64_t token = TokenOf(key);
    if (token > kTokenA && token <= kTokenD) return key;
  }
}

// ---- Retry on UNAVAILABLE ----

TEST(UnavailableRetryTest, RetriedOnceOnAnotherNode) {
  FakeCluster cluster;
  cluster.SetMode('a', Mode::kUnavailable);
  cluster.SetMode('b', Mode::kUnavailable);
  Client client(OptionsFor({cluster.address('c')}));
  const std::string key = KeyWithPrimary('a');  // replicas a, b, c

  // a refuses, b (the next replica) refuses too: that is the answer, c is never asked.
  auto got = client.Get(key);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(got.error().needed(), 2u);
  EXPECT_EQ(got.error().alive(), 1u);
  EXPECT_EQ(cluster.Requests(), (std::vector<int>{1, 1, 0}));

  // Once b sees enough, the retry succeeds there, for a write too: nothing was written on a.
  cluster.SetMode('b', Mode::kAnswer);
  EXPECT_EQ(AnsweredBy(client.Get(key)), "b");
  auto put = client.Put(key, "v");
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(put->context, "ctx@b");
  EXPECT_EQ(cluster.Requests(), (std::vector<int>{3, 3, 0}));
}

TEST(UnavailableRetryTest, NotRetriedWithoutAnotherNode) {
  FakeCluster cluster;
  cluster.SetMode('c', Mode::kUnavailable);
  auto options = OptionsFor({cluster.address('c')});
  options.token_aware = false;  // only the contact point c
  Client client(options);
  auto got = client.Get(KeyWithPrimary('a'));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(cluster.Requests(), (std::vector<int>{0, 0, 1}));
}

TEST(UnavailableRetryTest, RetryGoesToTheOtherSideOfAPartition) {
  // a and b are cut off from c and d: a's ring says c and d are down, and a and b see too few
  // replicas; the client reaches every node.
  FakeCluster cluster;
  cluster.Add('d', {kTokenC + (int64_t{1} << 61)});
  cluster.SetMode('a', Mode::kUnavailable);
  cluster.SetMode('b', Mode::kUnavailable);
  cluster.SetUp('c', false);
  cluster.SetUp('d', false);
  Client client(OptionsFor({cluster.address('a')}));
  // Replicas a, b, c: not b, which sees what a sees, but c, which a does not see.
  EXPECT_EQ(AnsweredBy(client.Get(KeyWithPrimary('a'))), "c");
  EXPECT_EQ(cluster.Requests(), (std::vector<int>{1, 0, 1, 0}));
}

TEST(UnavailableRetryTest, RetryFindsTheOtherSideBeyondTheRoute) {
  // A 3|2 split: a, d and e are cut off from b and c, and the contact a's ring says b and c are
  // down. A key of a's has replicas a, b, c: a, d and e each see one of them, too few. The first
  // route (retries + 1 = 3 endpoints) is a, d, e, healthy nodes only; the retry must still go to
  // b, which sees b and c.
  FakeCluster cluster;
  cluster.Add('d', {kTokenC + (int64_t{1} << 61)});
  cluster.Add('e', {kTokenC + (int64_t{1} << 61) + (int64_t{1} << 60)});
  for (char n : {'a', 'd', 'e'}) cluster.SetMode(n, Mode::kUnavailable);
  cluster.SetUp('b', false);
  cluster.SetUp('c', false);
  Client client(OptionsFor({cluster.address('a')}));
  EXPECT_EQ(AnsweredBy(client.Get(KeyWithPrimary('a'))), "b");
  auto put = client.Put(KeyWithPrimary('a'), "v");
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(put->context, "ctx@b");
  EXPECT_EQ(cluster.Requests(), (std::vector<int>{2, 2, 0, 0, 0}));
}

TEST(UnavailableRetryTest, NotRetriedOnNodesTheClientCannotReach) {
  FakeCluster cluster;
  cluster.SetMode('c', Mode::kUnavailable);
  Client client(OptionsFor({cluster.address('c')}));
  ASSERT_TRUE(client.Ring().ok());
  cluster.Kill('a');
  cluster.Kill('b');
  // The first get finds a and b unreachable (and c refuses it); from then on the client
  // avoids them, so c's refusal is the answer at once.
  auto first = client.Get(KeyWithPrimary('a'));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code(), ErrorCode::kUnavailable) << first.error().ToString();
  auto put = client.Put(KeyWithPrimary('a'), "v");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(put.error().message().find("then: "), std::string::npos) << put.error().ToString();
  EXPECT_EQ(cluster.node('c').requests(), 2);
}

TEST(UnavailableRetryTest, RefusalIsTheAnswerWhenNoOtherNodeCanBeReached) {
  FakeCluster cluster;
  cluster.SetMode('a', Mode::kUnavailable);
  Client client(OptionsFor({cluster.address('a')}));
  ASSERT_TRUE(client.Ring().ok());
  cluster.Kill('b');  // the ring still says b and c are up
  cluster.Kill('c');
  auto put = client.Put(KeyWithPrimary('a'), "v");
  ASSERT_FALSE(put.ok());
  // Not Disconnected: a's refusal says more, and nothing was written.
  EXPECT_EQ(put.error().code(), ErrorCode::kUnavailable) << put.error().ToString();
  EXPECT_EQ(put.error().needed(), 2u);
  EXPECT_EQ(put.error().alive(), 1u);
  EXPECT_FALSE(put.error().in_doubt());
  EXPECT_NE(put.error().message().find("then: "), std::string::npos) << put.error().ToString();
}

TEST(UnavailableRetryTest, TimeoutIsNeverRetried) {
  FakeCluster cluster;
  cluster.SetMode('a', Mode::kSilent);
  auto options = OptionsFor({cluster.address('c')});
  options.request_timeout = 300ms;
  Client client(options);
  const std::string key = KeyWithPrimary('a');
  auto put = client.Put(key, "v");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code(), ErrorCode::kTimeout);
  EXPECT_TRUE(put.error().in_doubt());
  auto got = client.Get(key);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), ErrorCode::kTimeout);
  EXPECT_EQ(cluster.Requests(), (std::vector<int>{2, 0, 0}));
}

TEST(UnavailableRetryTest, NotReadyNodeIsPassedOverAndAvoided) {
  FakeCluster cluster;
  cluster.SetMode('a', Mode::kNotReady);
  cluster.SetMode('b', Mode::kNotReady);
  Client client(OptionsFor({cluster.address('c')}));
  const std::string key = KeyWithPrimary('a');
  // Two nodes not ready: unlike a plain UNAVAILABLE, the request goes on to the third.
  EXPECT_EQ(AnsweredBy(client.Get(key)), "c");
  auto put = client.Put(key, "v");
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(put->context, "ctx@c");
  // The nodes that said they are not ready are tried after the others for a moment, so the put
  // went straight to c.
  EXPECT_EQ(cluster.Requests(), (std::vector<int>{1, 1, 2}));

  // Nobody ready: the node's own words reach the caller.
  cluster.SetMode('c', Mode::kNotReady);
  auto refused = client.Get(KeyWithPrimary('c'));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(refused.error().message().rfind("not ready: ", 0), 0u) << refused.error().ToString();
}

TEST(UnavailableRetryTest, UnavailableRefreshesTheRing) {
  FakeCluster cluster;
  cluster.SetMode('a', Mode::kUnavailable);
  auto options = OptionsFor({cluster.address('c')});
  options.ring_refresh_interval = 1h;  // only the UNAVAILABLE can cause a second fetch
  Client client(options);
  EXPECT_EQ(AnsweredBy(client.Get(KeyWithPrimary('a'))), "b");
  EXPECT_TRUE(cluster.WaitForRingRequests(2));
}

// A node that has not settled its ring answers `ring` with only the members it heard of so far,
// marked unsettled: the client takes it only when it has no ring, asks again soon, and otherwise
// keeps the ring it has.
TEST(UnsettledRingTest, TakenOnlyWithoutARingAndReplacedSoon) {
  FakeCluster cluster;
  cluster.SetMode('c', Mode::kNotReady);
  auto options = OptionsFor({cluster.address('c')});
  options.ring_refresh_interval = 1h;  // only the unsettled answer can make it ask again soon
  Client client(options);
  auto partial = client.Ring();
  ASSERT_TRUE(partial.ok()) << partial.error().ToString();
  EXPECT_FALSE(partial->settled);
  EXPECT_EQ(partial->members.size(), 1u);
  cluster.SetMode('c', Mode::kAnswer);
  const std::string key = KeyWithPrimary('a');
  EXPECT_TRUE(PollUntil([&] {
    auto endpoints = client.Endpoints(key);
    return endpoints.ok() && endpoints->size() == 3;
  }));

  // Now every node is unsettled (restarted at once, say): the client keeps its three members.
  for (char n : {'a', 'b', 'c'}) cluster.SetMode(n, Mode::kNotReady);
  auto refused = client.Ring();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(refused.error().message().rfind("not ready: ", 0), 0u) << refused.error().ToString();
  auto endpoints = client.Endpoints(key);
  ASSERT_TRUE(endpoints.ok());
  EXPECT_EQ(endpoints->size(), 3u);
}

// ---- Routing past unreachable replicas ----

TEST(FallbackRouteTest, KeyWhoseReplicasAreUnreachableGoesToAnotherNode) {
  FakeCluster cluster;
  cluster.Add('d', {kTokenC + (int64_t{1} << 61)});  // after c: a key of a's has a, b, c
  const std::string key = KeyWithPrimary('a');
  Client client(OptionsFor({cluster.address('d')}));
  ASSERT_TRUE(client.Ring().ok());
  cluster.Kill('a');
  cluster.Kill('b');
  cluster.Kill('c');
  // The first request learns, one refused connection at a time, that a, b and c are gone (and
  // may run out of attempts doing so); from then on d, which can coordinate, is tried first.
  (void)client.Get(key);
  EXPECT_TRUE(PollUntil([&] { return AnsweredBy(client.Get(key)) == "d"; }));
  auto put = client.Put(key, "v");
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(put->context, "ctx@d");
}

TEST(FallbackRouteTest, ReplicasTheContactSeesDownAreTriedLast) {
  FakeCluster cluster;
  cluster.Add('d', {kTokenC + (int64_t{1} << 61)});
  for (char n : {'a', 'b', 'c'}) cluster.SetUp(n, false);
  Client client(OptionsFor({cluster.address('d')}));
  EXPECT_EQ(AnsweredBy(client.Get(KeyWithPrimary('a'))), "d");
  EXPECT_EQ(cluster.Requests(), (std::vector<int>{0, 0, 0, 1}));
}

// ---- Membership changes ----

TEST(MembershipTest, JoinedNodeBecomesAReplicaOnceNormal) {
  FakeCluster cluster;
  auto options = OptionsFor({cluster.address('c')});
  options.ring_refresh_interval = 20ms;
  Client client(options);
  const std::string key = KeyOwnedByD();
  EXPECT_EQ(AnsweredBy(client.Get(key)), "b");

  // Joining: known, but not yet a replica.
  cluster.Add('d', {kTokenD}, "JOINING");
  const int rings = cluster.ring_requests();
  EXPECT_TRUE(PollUntil([&] {
    (void)client.Get(key);
    return cluster.ring_requests() >= rings + 2;  // a fetch that surely began after the join
  }));
  auto ring = client.Ring();
  ASSERT_TRUE(ring.ok());
  ASSERT_EQ(ring->members.size(), 4u);
  EXPECT_EQ(ring->members[3].status, "JOINING");
  EXPECT_EQ(ring->members[3].ownership, 0.0);
  EXPECT_EQ(AnsweredBy(client.Get(key)), "b");
  EXPECT_EQ(cluster.node('d').requests(), 0);

  // Normal: d owns the key now, and the client follows without being told.
  cluster.SetStatus('d', "NORMAL");
  EXPECT_TRUE(PollUntil([&] { return AnsweredBy(client.Get(key)) == "d"; }));
  auto endpoints = client.Endpoints(key);
  ASSERT_TRUE(endpoints.ok());
  EXPECT_EQ(endpoints.value(), (std::vector<std::string>{"d", "b", "c"}));
}

TEST(MembershipTest, DepartedOrVanishedNodeStopsBeingUsed) {
  for (const bool vanish : {false, true}) {
    FakeCluster cluster;
    cluster.Add('d', {kTokenD});
    auto options = OptionsFor({cluster.address('c')});
    options.ring_refresh_interval = 20ms;
    Client client(options);
    const std::string key = KeyOwnedByD();
    EXPECT_EQ(AnsweredBy(client.Get(key)), "d");

    if (vanish) {
      cluster.Forget('d');
    } else {
      cluster.SetStatus('d', "LEFT");
    }
    EXPECT_TRUE(PollUntil([&] { return AnsweredBy(client.Get(key)) == "b"; })) << vanish;
    const int used = cluster.node('d').requests();
    for (int i = 0; i < 20; ++i) ASSERT_EQ(AnsweredBy(client.Get(key)), "b");
    ASSERT_TRUE(client.Put(key, "v").ok());
    EXPECT_EQ(cluster.node('d').requests(), used) << vanish;
  }
}

// ---- Router, without a network ----

using client_internal::HostPort;
using client_internal::MemberStatus;
using client_internal::RingSnapshot;
using client_internal::Router;

HostPort Local(uint16_t port) { return HostPort{"127.0.0.1", port}; }

// Members a..e on ports 1..5, tokens ascending from a; `down` are marked down, `status` gives
// each member's status by position ('N', 'J', 'L' leaving, 'X' left).
std::shared_ptr<const RingSnapshot> FiveNodes(const std::string& down = "",
                                              const std::string& status = "NNNNN") {
  auto s = std::make_shared<RingSnapshot>();
  std::vector<Member> members;
  for (uint16_t i = 0; i < 5; ++i) {
    RingSnapshot::Member m;
    m.name = std::string(1, static_cast<char>('a' + i));
    m.address = Local(static_cast<uint16_t>(i + 1)).ToString();
    m.endpoint = Local(static_cast<uint16_t>(i + 1));
    m.tokens = {int64_t{i} * 1000};
    m.up = down.find(m.name) == std::string::npos;
    m.status = status[i] == 'J'   ? MemberStatus::kJoining
               : status[i] == 'L' ? MemberStatus::kLeaving
               : status[i] == 'X' ? MemberStatus::kLeft
                                  : MemberStatus::kNormal;
    s->members.push_back(std::move(m));
  }
  for (uint32_t i = 0; i < 5; ++i) {
    if (s->members[i].owner()) {
      members.push_back(Member{s->members[i].name, s->members[i].tokens});
      s->member_of_node.push_back(i);
    }
  }
  s->ring = std::move(ringkv::Ring::Build(std::move(members))).value();
  s->replication_factors = {{"default", 3}};
  return s;
}

using P = std::vector<uint32_t>;
std::vector<uint32_t> Ports(const Router& router, const std::vector<uint32_t>& route) {
  std::vector<uint32_t> out;
  for (uint32_t e : route) out.push_back(router.address(e).port);
  return out;
}

TEST(FallbackRouterTest, EveryReplicaUnhealthyRoutesToOtherNodesFirst) {
  const auto now = Router::Clock::now();
  Router router({Local(9)});
  router.Install(FiveNodes());
  // Token 1 is b's (replicas b, c, d); three attempts fit only the replicas.
  EXPECT_EQ(Ports(router, router.KeyRoute(1, "", 3, now)), (P{2, 3, 4}));
  for (uint16_t port : {2, 3, 4}) {
    const auto route = router.AddressRoute(Local(port));
    router.OnConnectionFailed(route[0], now);
  }
  // Before: b, c, d again, each a refused connection. Now the nodes that can forward come first.
  EXPECT_EQ(Ports(router, router.KeyRoute(1, "", 3, now)), (P{5, 1, 2}));
  EXPECT_EQ(Ports(router, router.KeyRoute(1, "", 8, now)), (P{5, 1, 2, 3, 4, 9}));
  // The same when the ring says they are down.
  Router seen_down({Local(9)});
  seen_down.Install(FiveNodes("bcd"));
  EXPECT_EQ(Ports(seen_down, seen_down.KeyRoute(1, "", 3, now)), (P{5, 1, 2}));
}

TEST(FallbackRouterTest, JoiningMembersAreNotReplicasButCanCoordinate) {
  const auto now = Router::Clock::now();
  Router router({Local(9)});
  router.Install(FiveNodes("", "NJNLN"));  // b joining, d leaving
  // b's token is not a replica's: token 1 belongs to c, then d (leaving, still an owner), then e.
  EXPECT_EQ(Ports(router, router.KeyRoute(1, "", 8, now)), (P{3, 4, 5, 1, 2, 9}));
  // As a contact, b comes after the owners.
  EXPECT_EQ(Ports(router, router.ContactRoute(true, 8, now)), (P{9, 1, 3, 4, 5, 2}));
}

TEST(FallbackRouterTest, DepartedMembersAreNeverTried) {
  const auto now = Router::Clock::now();
  Router router({Local(2), Local(9)});     // b is a contact point
  router.Install(FiveNodes("", "NXNNN"));  // b left
  EXPECT_EQ(Ports(router, router.KeyRoute(1, "", 8, now)), (P{3, 4, 5, 1, 9}));
  EXPECT_EQ(Ports(router, router.ContactRoute(false, 8, now)), (P{9}));
  EXPECT_EQ(Ports(router, router.ContactRoute(true, 8, now)), (P{9, 1, 3, 4, 5}));
  // A contact point the cluster says left is still tried when it is all there is.
  Router alone({Local(2)});
  alone.Install(FiveNodes("", "NXNNN"));
  EXPECT_EQ(Ports(alone, alone.ContactRoute(false, 8, now)), (P{2}));
  // It came back (a node started again at its address): tried again.
  router.Install(FiveNodes());
  EXPECT_EQ(Ports(router, router.ContactRoute(false, 8, now)), (P{2, 9}));
}

TEST(FallbackRouterTest, NotReadyNodeIsTriedLastForAMoment) {
  const auto now = Router::Clock::now();
  Router router({Local(9)});
  router.Install(FiveNodes());
  router.OnNotReady(router.AddressRoute(Local(2))[0], now);
  EXPECT_EQ(Ports(router, router.KeyRoute(1, "", 3, now)), (P{3, 4, 5}));
  EXPECT_EQ(Ports(router, router.KeyRoute(1, "", 3, now + Router::kNotReadyFor)), (P{2, 3, 4}));
}

TEST(RingSnapshotTest, StatusIsParsedAndEmptyMeansNormal) {
  using client_internal::ParseMemberStatus;
  EXPECT_EQ(ParseMemberStatus(""), MemberStatus::kNormal);
  EXPECT_EQ(ParseMemberStatus("NORMAL"), MemberStatus::kNormal);
  EXPECT_EQ(ParseMemberStatus("JOINING"), MemberStatus::kJoining);
  EXPECT_EQ(ParseMemberStatus("LEAVING"), MemberStatus::kLeaving);
  EXPECT_EQ(ParseMemberStatus("LEFT"), MemberStatus::kLeft);
  EXPECT_EQ(ParseMemberStatus("REMOVED"), MemberStatus::kRemoved);
  EXPECT_EQ(ParseMemberStatus("MOVING"), MemberStatus::kNormal);  // from a newer node
}

}  // namespace
}  // namespace ringkv
