// The client's token-aware routing against fake nodes (client/fake_cluster.h), the ring it
// reports, and the Router on its own, without a network.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "client/address.h"
#include "client/fake_cluster.h"
#include "client/fake_node.h"
#include "client/ring_snapshot.h"
#include "client/router.h"
#include "common/token.h"
#include "ring/ring.h"
#include "ringkv/client.h"

namespace ringkv {
namespace {

using fake::Answering;
using fake::FakeNode;
using fake::FakeRequest;
using fake::OptionsFor;
using namespace std::chrono_literals;

// ---- Token-aware routing ----

using fake::FakeMember;
using fake::FakeRing;

using fake::AnsweredBy;
using fake::FakeCluster;
using fake::KeyWithPrimary;
using fake::kTokenA;
using fake::kTokenB;
using fake::kTokenC;

TEST(RoutingTest, EachKeyGoesToItsPrimaryReplica) {
  FakeCluster cluster;
  // Only c is a contact point: without the ring, everything would go there.
  Client client(OptionsFor({cluster.address('c')}));
  for (char primary : {'a', 'b', 'c'}) {
    const std::string key = KeyWithPrimary(primary);
    EXPECT_EQ(AnsweredBy(client.Get(key)), std::string(1, primary)) << key;
    auto put = client.Put(key, "v");
    ASSERT_TRUE(put.ok()) << put.error().ToString();
    EXPECT_EQ(put->context, std::string("ctx@") + primary);
    ASSERT_TRUE(client.Del(key).ok());
  }
  EXPECT_EQ(cluster.Requests(), (std::vector<int>{3, 3, 3}));
  // The keyspace does not move the primary, only the failover order.
  ReadOptions pairs;
  pairs.keyspace = "pairs";
  EXPECT_EQ(AnsweredBy(client.Get(KeyWithPrimary('a'), pairs)), "a");
  // One ring fetch, from the contact point, before the first request.
  EXPECT_EQ(cluster.ring_requests(), 1);
  EXPECT_EQ(cluster.node('c').ring_requests(), 1);
}

TEST(RoutingTest, MembersAreConnectedOnlyWhenUsed) {
  FakeCluster cluster;
  Client client(OptionsFor({cluster.address('c')}));
  ASSERT_TRUE(client.Ring().ok());
  EXPECT_EQ(cluster.node('a').connections(), 0);
  EXPECT_EQ(cluster.node('b').connections(), 0);
  EXPECT_EQ(AnsweredBy(client.Get(KeyWithPrimary('b'))), "b");
  EXPECT_EQ(cluster.node('a').connections(), 0);
  EXPECT_EQ(cluster.node('b').connections(), 1);
}

TEST(RoutingTest, FailsOverToTheNextReplicaWhenThePrimaryRefuses) {
  FakeCluster cluster;
  cluster.Kill('a');  // the ring still lists it, at a port where nothing listens
  Client client(OptionsFor({cluster.address('c')}));
  const std::string key = KeyWithPrimary('a');
  // Clockwise from a comes b.
  EXPECT_EQ(AnsweredBy(client.Get(key)), "b");
  // A put may move on too: the refused connection never carried it.
  auto put = client.Put(key, "v");
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(put->context, "ctx@b");
  ASSERT_TRUE(cluster.inbox('b').WaitFor(2));
  EXPECT_EQ(cluster.node('c').requests(), 0);
}

TEST(RoutingTest, ANodeTheRingSaysIsDownIsNotTriedFirst) {
  FakeCluster cluster;
  cluster.SetUp('a', false);
  Client client(OptionsFor({cluster.address('c')}));
  EXPECT_EQ(AnsweredBy(client.Get(KeyWithPrimary('a'))), "b");
  EXPECT_EQ(cluster.node('a').connections(), 0);
}

TEST(RoutingTest, RingIsRefreshedAfterANodeFails) {
  FakeCluster cluster;
  auto options = OptionsFor({cluster.address('b')});
  options.ring_refresh_interval = 1h;  // no periodic refresh: only the failure can cause one
  Client client(options);
  const std::string key = KeyWithPrimary('a');
  EXPECT_EQ(AnsweredBy(client.Get(key)), "a");
  const std::string old_address = cluster.address('a');
  EXPECT_EQ(cluster.ring_requests(), 1);

  // a restarts elsewhere; the client sees its connection drop and asks the ring again.
  cluster.Move('a');
  ASSERT_NE(cluster.address('a'), old_address);
  ASSERT_TRUE(cluster.WaitForRingRequests(2));
  // The answer is installed on the client's thread shortly after the node sent it; until then a
  // get may still fail over to b. Only the refreshed ring knows a's new address.
  bool reached = false;
  for (int i = 0; i < 100 && !reached; ++i) reached = AnsweredBy(client.Get(key)) == "a";
  EXPECT_TRUE(reached);
  EXPECT_EQ(cluster.ring_requests(), 2);
}

TEST(RoutingTest, EmptyRingRoutesByTheContactPoints) {
  FakeNode first(Answering()), second(Answering());  // both answer `ring` with no members
  Client client(OptionsFor({first.address(), second.address()}));
  for (char primary : {'a', 'b', 'c'}) {
    auto got = client.Get(KeyWithPrimary(primary));
    ASSERT_TRUE(got.ok()) << got.error().ToString();
  }
  EXPECT_EQ(first.requests(), 3);
  EXPECT_EQ(second.requests(), 0);
  auto endpoints = client.Endpoints("k");
  ASSERT_FALSE(endpoints.ok());
  EXPECT_EQ(endpoints.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(endpoints.error().needed(), 3u);
  EXPECT_EQ(endpoints.error().alive(), 0u);
}

TEST(RoutingTest, NodeWithoutTheRingRequestServesAsContactPoint) {
  FakeNode::Options options;
  options.ring_unsupported = true;  // drops the connection on `ring`, as older nodes do
  FakeNode node(options, Answering());
  Client client(OptionsFor({node.address()}));
  auto got = client.Get("k");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  const int asked = node.ring_requests();
  EXPECT_GE(asked, 1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.Put("k" + std::to_string(i), "v").ok());
  // Never asked again: each time would drop the requests sharing the connection.
  EXPECT_EQ(node.ring_requests(), asked);
  EXPECT_EQ(node.requests(), 4);
  auto ring = client.Ring();
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.error().code(), ErrorCode::kProtocol);
}

TEST(RoutingTest, TokenAwarenessCanBeTurnedOff) {
  FakeCluster cluster;
  auto options = OptionsFor({cluster.address('c')});
  options.token_aware = false;
  Client client(options);
  EXPECT_EQ(AnsweredBy(client.Get(KeyWithPrimary('a'))), "c");
  EXPECT_EQ(cluster.ring_requests(), 0);
}

TEST(RingTest, ReportsMembersOwnershipAndKeyspaces) {
  FakeCluster cluster;
  Client client(OptionsFor({cluster.address('b')}));
  auto ring = client.Ring();
  ASSERT_TRUE(ring.ok()) << ring.error().ToString();
  EXPECT_EQ(ring->self, "b");
  EXPECT_EQ(ring->keyspace, "default");
  EXPECT_EQ(ring->replication_factor, 3u);
  ASSERT_EQ(ring->members.size(), 3u);
  EXPECT_EQ(ring->members[0].name, "a");
  EXPECT_EQ(ring->members[0].address, cluster.address('a'));
  EXPECT_EQ(ring->members[0].tokens, (std::vector<int64_t>{kTokenA}));
  EXPECT_EQ(ring->members[0].host_id, uint64_t{'a'});
  EXPECT_TRUE(ring->members[0].up);
  // Three replicas of every key on three nodes: each holds everything.
  for (const auto& m : ring->members) EXPECT_NEAR(m.ownership, 1.0, 1e-9) << m.name;
  ASSERT_EQ(ring->keyspaces.size(), 2u);
  EXPECT_EQ(ring->keyspaces[1].name, "pairs");
  EXPECT_EQ(ring->keyspaces[1].replication_factor, 2u);

  // At factor 2: a owns half the ring (from c's token round to its own) and is second for c's
  // quarter; b owns a quarter and is second for a's half; c owns a quarter and is second for b's.
  auto pairs = client.Ring("pairs");
  ASSERT_TRUE(pairs.ok()) << pairs.error().ToString();
  EXPECT_EQ(pairs->replication_factor, 2u);
  EXPECT_NEAR(pairs->members[0].ownership, 0.75, 1e-9);
  EXPECT_NEAR(pairs->members[1].ownership, 0.75, 1e-9);
  EXPECT_NEAR(pairs->members[2].ownership, 0.50, 1e-9);

  auto unknown = client.Ring("nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kInvalidArgument);
}

TEST(RingTest, EndpointsAreThePreferenceList) {
  FakeCluster cluster;
  Client client(OptionsFor({cluster.address('a')}));
  using Names = std::vector<std::string>;
  auto all = client.Endpoints(KeyWithPrimary('b'));
  ASSERT_TRUE(all.ok()) << all.error().ToString();
  EXPECT_EQ(all.value(), (Names{"b", "c", "a"}));
  auto ca = client.Endpoints(KeyWithPrimary('c'), "pairs");
  ASSERT_TRUE(ca.ok());
  EXPECT_EQ(ca.value(), (Names{"c", "a"}));
  auto ab = client.Endpoints(KeyWithPrimary('a'), "pairs");
  ASSERT_TRUE(ab.ok());
  EXPECT_EQ(ab.value(), (Names{"a", "b"}));
  // The ring fetched for the first answer served the others.
  EXPECT_EQ(cluster.ring_requests(), 1);

  auto unknown = client.Endpoints("k", "nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kInvalidArgument);
  auto empty = client.Endpoints("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalidArgument);
}

TEST(RingTest, CreateKeyspaceCarriesItsFieldsAndIsRoutedBy) {
  FakeCluster cluster;
  Client client(OptionsFor({cluster.address('c')}));
  auto created = client.CreateKeyspace("docs", 1, /*if_not_exists=*/true);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_TRUE(created.value());
  ASSERT_TRUE(cluster.inbox('c').WaitFor(1));
  const FakeRequest r = cluster.inbox('c').Take()[0].second;
  EXPECT_EQ(r.kind, wire::Frame::CREATE_KEYSPACE);
  EXPECT_EQ(r.keyspace, "docs");
  EXPECT_EQ(r.replication_factor, 1u);
  EXPECT_TRUE(r.if_not_exists);
  EXPECT_FALSE(r.propagated);

  // The cluster now lists it; a client whose ring predates it asks again rather than fail.
  ASSERT_TRUE(client.Endpoints("k").ok());
  cluster.AddKeyspace("docs", 1);
  auto endpoints = client.Endpoints(KeyWithPrimary('b'), "docs");
  ASSERT_TRUE(endpoints.ok()) << endpoints.error().ToString();
  EXPECT_EQ(endpoints.value(), (std::vector<std::string>{"b"}));

  auto bad = client.CreateKeyspace("docs", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  auto unnamed = client.CreateKeyspace("", 3);
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(unnamed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(cluster.node('c').requests(), 1);
}

TEST(RingTest, InvalidRingIsRefusedAndRequestsStillServed) {
  FakeNode::Options options;
  options.ring = [] {
    FakeRing ring;
    ring.members = {{"x", "127.0.0.1:1", {5}, true, 1, ""}, {"y", "127.0.0.1:2", {5}, true, 2, ""}};
    return ring;  // two nodes claim one token
  };
  FakeNode node(options, Answering());
  Client client(OptionsFor({node.address()}));
  auto ring = client.Ring();
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.error().code(), ErrorCode::kProtocol);
  auto got = client.Get("k");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(node.requests(), 1);
}

// ---- Router, without a network ----

using client_internal::HostPort;
using client_internal::RingSnapshot;
using client_internal::Router;

HostPort Local(uint16_t port) { return HostPort{"127.0.0.1", port}; }

// Nodes a, b, c on ports 1, 2, 3 with FakeCluster's tokens; `down` are marked down.
std::shared_ptr<const RingSnapshot> Snapshot(const std::string& down = "") {
  auto s = std::make_shared<RingSnapshot>();
  const int64_t tokens[] = {kTokenA, kTokenB, kTokenC};
  std::vector<Member> members;
  for (uint16_t i = 0; i < 3; ++i) {
    RingSnapshot::Member m;
    m.name = std::string(1, static_cast<char>('a' + i));
    m.address = Local(static_cast<uint16_t>(i + 1)).ToString();
    m.endpoint = Local(static_cast<uint16_t>(i + 1));
    m.tokens = {tokens[i]};
    m.up = down.find(m.name) == std::string::npos;
    members.push_back(Member{m.name, m.tokens});
    s->members.push_back(std::move(m));
    s->member_of_node.push_back(i);
  }
  s->ring = std::move(ringkv::Ring::Build(std::move(members))).value();
  s->replication_factors = {{"default", 3}, {"pairs", 2}};
  return s;
}

std::vector<uint32_t> Ports(const Router& router, const std::vector<uint32_t>& route) {
  std::vector<uint32_t> out;
  for (uint32_t e : route) out.push_back(router.address(e).port);
  return out;
}

TEST(RouterTest, RoutesHealthyReplicasFirstThenTheRestThenContacts) {
  using P = std::vector<uint32_t>;
  const auto now = Router::Clock::now();
  Router router({Local(9), Local(2)});                                        // 2 is also b
  EXPECT_EQ(Ports(router, router.KeyRoute(kTokenA, "", 8, now)), (P{9, 2}));  // no ring yet
  router.Install(Snapshot());
  EXPECT_EQ(router.size(), 4u);  // b's address is the contact point's
  EXPECT_EQ(Ports(router, router.KeyRoute(kTokenA, "", 8, now)), (P{1, 2, 3, 9}));
  EXPECT_EQ(Ports(router, router.KeyRoute(kTokenA + 1, "", 8, now)), (P{2, 3, 1, 9}));
  EXPECT_EQ(Ports(router, router.KeyRoute(kTokenA, "", 2, now)), (P{1, 2}));

  router.Install(Snapshot("a"));
  EXPECT_EQ(Ports(router, router.KeyRoute(kTokenA, "", 8, now)), (P{2, 3, 1, 9}));
  // At factor 2 the replicas of a's keys are a and b; c, healthy, comes before a, down.
  EXPECT_EQ(Ports(router, router.KeyRoute(kTokenA, "pairs", 8, now)), (P{2, 3, 1, 9}));
  router.Install(Snapshot("ab"));
  EXPECT_EQ(Ports(router, router.KeyRoute(kTokenA, "pairs", 8, now)), (P{3, 1, 2, 9}));
}

TEST(RouterTest, AFailedConnectionIsSuspectedForAWhile) {
  using P = std::vector<uint32_t>;
  const auto now = Router::Clock::now();
  Router router({Local(1), Local(2)});
  router.Install(Snapshot());
  router.OnConnectionFailed(0, now);  // a, also the first contact point
  EXPECT_EQ(Ports(router, router.KeyRoute(kTokenA, "", 8, now)), (P{2, 3, 1}));
  EXPECT_EQ(Ports(router, router.ContactRoute(false, 8, now)), (P{2, 1}));
  EXPECT_EQ(Ports(router, router.ContactRoute(true, 8, now)), (P{2, 1, 3}));
  const auto later = now + Router::kSuspectFor;
  EXPECT_EQ(Ports(router, router.KeyRoute(kTokenA, "", 8, later)), (P{1, 2, 3}));
  // The contact point tried first stays the one that last worked.
  EXPECT_EQ(Ports(router, router.ContactRoute(false, 8, later)), (P{2, 1}));
  router.OnConnectionFailed(0, now);
  router.OnConnected(0);
  EXPECT_EQ(Ports(router, router.KeyRoute(kTokenA, "", 8, now)), (P{1, 2, 3}));
}

TEST(RouterTest, UnroutableMembersAreSkipped) {
  using P = std::vector<uint32_t>;
  auto snapshot = std::const_pointer_cast<RingSnapshot>(Snapshot());
  snapshot->members[0].endpoint.reset();  // a advertised 0.0.0.0
  Router router({Local(9)});
  router.Install(snapshot);
  EXPECT_EQ(Ports(router, router.KeyRoute(kTokenA, "", 8, Router::Clock::now())), (P{2, 3, 9}));
}

}  // namespace
}  // namespace ringkv
