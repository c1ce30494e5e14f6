// Client tests against fake nodes (client/fake_node.h) on 127.0.0.1. Nothing sleeps: tests wait on
// futures, callbacks and the fake node's inbox, each with a generous deadline, and the timeouts
// under test are the client's own.
#include "ringkv/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client/address.h"
#include "client/fake_cluster.h"
#include "client/fake_node.h"
#include "client/ring_snapshot.h"
#include "client/router.h"
#include "common/limits.h"
#include "common/token.h"
#include "ring/ring.h"

namespace ringkv {
namespace {

using fake::FakeNode;
using fake::FakeRequest;
using fake::Inbox;
using namespace std::chrono_literals;
using ConnPtr = std::shared_ptr<FakeNode::Conn>;

// Long enough never to be what a test measures; short enough that a hang fails rather than stalls.
constexpr auto kWait = 10s;

#define ASSERT_READY(future) ASSERT_EQ((future).wait_for(kWait), std::future_status::ready)

ClientOptions OptionsFor(std::vector<std::string> contacts) {
  ClientOptions options;
  options.contact_points = std::move(contacts);
  options.request_timeout = 5s;
  options.connect_timeout = 2s;
  return options;
}

// A node that answers everything at once: gets with "v1", puts with "ctx:<value>".
FakeNode::Handler Answering(Inbox* inbox = nullptr) {
  return [inbox](const ConnPtr& conn, const FakeRequest& r) {
    if (inbox != nullptr) inbox->Add(conn, r);
    switch (r.kind) {
      case wire::Frame::GET: conn->Send(fake::GetResultFrame(r.id, {"v1"})); break;
      case wire::Frame::PUT: conn->Send(fake::PutResultFrame(r.id, "ctx:" + r.value)); break;
      case wire::Frame::DEL: conn->Send(fake::DelResultFrame(r.id)); break;
      case wire::Frame::INFO: conn->Send(fake::InfoResultFrame(r.id, "fake")); break;
      default: break;
    }
  };
}

// A node that records requests and answers none.
FakeNode::Handler Silent(Inbox* inbox) {
  return [inbox](const ConnPtr& conn, const FakeRequest& r) { inbox->Add(conn, r); };
}

TEST(ClientTest, RoundTripCarriesEveryField) {
  Inbox inbox;
  FakeNode node(Answering(&inbox));
  Client client(OptionsFor({node.address()}));

  WriteOptions w;
  w.keyspace = "docs";
  w.context = "c0";
  w.ttl_s = 30;
  w.consistency = Consistency::kQuorum;
  w.w = 2;
  auto put = client.Put("k", std::string("v\0x", 3), w);
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(put->context, "ctx:" + std::string("v\0x", 3));
  EXPECT_EQ(put->siblings, 1u);

  ReadOptions r;
  r.consistency = Consistency::kAll;
  r.r = 3;
  auto got = client.Get("k", r);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  ASSERT_TRUE(got->found);
  ASSERT_EQ(got->siblings.size(), 1u);
  EXPECT_EQ(got->siblings[0].value, "v1");
  EXPECT_EQ(got->siblings[0].actor, 7u);
  EXPECT_EQ(got->siblings[0].counter, 1u);
  EXPECT_EQ(got->context, "ctx");

  auto del = client.Del("k", w);
  EXPECT_TRUE(del.ok()) << del.error().ToString();
  auto info = client.Info();
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_EQ(info->node_name, "fake");
  EXPECT_EQ(info->uptime_s, 42u);

  ASSERT_TRUE(inbox.WaitFor(4));
  auto requests = inbox.Take();
  const FakeRequest& p = requests[0].second;
  EXPECT_EQ(p.kind, wire::Frame::PUT);
  EXPECT_EQ(p.keyspace, "docs");
  EXPECT_EQ(p.key, "k");
  EXPECT_EQ(p.value, std::string("v\0x", 3));
  EXPECT_EQ(p.context, "c0");
  EXPECT_EQ(p.ttl_s, 30u);
  EXPECT_EQ(p.consistency, wire::Consistency::QUORUM);
  EXPECT_EQ(p.w, 2);
  // The node is given a little less than the client's deadline, so its own timeout answer wins.
  EXPECT_GT(p.timeout_ms, 4000u);
  EXPECT_LT(p.timeout_ms, 5000u);
  EXPECT_NE(p.id, 0u);
  const FakeRequest& g = requests[1].second;
  EXPECT_EQ(g.kind, wire::Frame::GET);
  EXPECT_EQ(g.consistency, wire::Consistency::ALL);
  EXPECT_EQ(g.r, 3);
  EXPECT_EQ(requests[2].second.kind, wire::Frame::DEL);
  EXPECT_EQ(requests[2].second.context, "c0");
  EXPECT_EQ(requests[3].second.kind, wire::Frame::INFO);
  // One connection carried them all.
  EXPECT_EQ(node.connections(), 1);
}

TEST(ClientTest, MissingKeyIsNotAnError) {
  FakeNode node([](const ConnPtr& conn, const FakeRequest& r) {
    conn->Send(fake::GetResultFrame(r.id, {}, "empty-ctx"));
  });
  Client client(OptionsFor({node.address()}));
  auto got = client.Get("nope");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_FALSE(got->found);
  EXPECT_TRUE(got->siblings.empty());
  EXPECT_EQ(got->context, "empty-ctx");
}

TEST(ClientTest, SiblingsAreAllReturned) {
  FakeNode node([](const ConnPtr& conn, const FakeRequest& r) {
    conn->Send(fake::GetResultFrame(r.id, {"a", "b", "c"}));
  });
  Client client(OptionsFor({node.address()}));
  auto got = client.Get("k");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->siblings.size(), 3u);
  EXPECT_EQ(got->siblings[2].value, "c");
  EXPECT_EQ(got->siblings[2].counter, 3u);
}

TEST(ClientTest, AnswersLargerThanARequestAreRead) {
  // Two concurrent writes of large values come back together in one answer.
  const std::string a(12 << 20, 'a'), b(12 << 20, 'b');
  FakeNode node([&](const ConnPtr& conn, const FakeRequest& r) {
    conn->Send(fake::GetResultFrame(r.id, {a, b}));
  });
  Client client(OptionsFor({node.address()}));
  auto got = client.Get("k");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  ASSERT_EQ(got->siblings.size(), 2u);
  EXPECT_TRUE(got->siblings[0].value == a);
  EXPECT_TRUE(got->siblings[1].value == b);
}

TEST(ClientTest, OutOfOrderResponsesMatchedById) {
  Inbox inbox;
  FakeNode node(Silent(&inbox));
  Client client(OptionsFor({node.address()}));
  const std::vector<std::string> keys = {"a", "b", "c", "d"};
  std::vector<std::future<Expected<GetResult>>> futures;
  for (const auto& key : keys) futures.push_back(client.GetAsync(key));
  ASSERT_TRUE(inbox.WaitFor(keys.size()));
  auto requests = inbox.Take();
  // Answer last first; each answer's value names the key it was asked for.
  for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
    it->first->Send(fake::GetResultFrame(it->second.id, {"value-of-" + it->second.key}));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_READY(futures[i]);
    auto got = futures[i].get();
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    ASSERT_EQ(got->siblings.size(), 1u);
    EXPECT_EQ(got->siblings[0].value, "value-of-" + keys[i]);
  }
  EXPECT_EQ(node.connections(), 1);
}

TEST(ClientTest, ReadTimesOut) {
  Inbox inbox;
  FakeNode node(Silent(&inbox));
  Client client(OptionsFor({node.address()}));
  ReadOptions r;
  r.timeout = 200ms;
  auto got = client.Get("k", r);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), ErrorCode::kTimeout);
  EXPECT_FALSE(got.error().in_doubt());
  ASSERT_TRUE(inbox.WaitFor(1));
  const FakeRequest req = inbox.Take()[0].second;
  EXPECT_GT(req.timeout_ms, 0u);
  EXPECT_LT(req.timeout_ms, 200u);
}

TEST(ClientTest, WriteTimesOutInDoubt) {
  Inbox inbox;
  FakeNode node(Silent(&inbox));
  Client client(OptionsFor({node.address()}));
  WriteOptions w;
  w.timeout = 200ms;
  auto put = client.Put("k", "v", w);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code(), ErrorCode::kTimeout);
  EXPECT_TRUE(put.error().in_doubt());
  auto del = client.Del("k", w);
  ASSERT_FALSE(del.ok());
  EXPECT_EQ(del.error().code(), ErrorCode::kTimeout);
  EXPECT_TRUE(del.error().in_doubt());
  EXPECT_NE(del.error().ToString().find("in doubt"), std::string::npos);
}

TEST(ClientTest, WriteInDoubtWhenConnectionDropsAfterSend) {
  FakeNode node([](const ConnPtr& conn, const FakeRequest&) { conn->Close(); });
  auto options = OptionsFor({node.address()});
  options.request_timeout = 60s;  // the answer must come from the drop, not the deadline
  Client client(options);
  auto future = client.PutAsync("k", "v");
  ASSERT_READY(future);
  auto put = future.get();
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code(), ErrorCode::kTimeout);
  EXPECT_TRUE(put.error().in_doubt());
  // Not sent again: a second copy could be applied twice.
  EXPECT_EQ(node.requests(), 1);
}

TEST(ClientTest, ReadRetriedAfterConnectionDrop) {
  std::atomic<int> seen{0};
  FakeNode node([&](const ConnPtr& conn, const FakeRequest& r) {
    if (seen++ == 0) {
      conn->Close();
    } else {
      conn->Send(fake::GetResultFrame(r.id, {"second try"}));
    }
  });
  Client client(OptionsFor({node.address()}));
  auto got = client.Get("k");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->siblings[0].value, "second try");
  EXPECT_EQ(node.connections(), 2);
}

TEST(ClientTest, FailsOverWhenFirstContactRefuses) {
  FakeNode node(Answering());
  const std::string dead = "127.0.0.1:" + std::to_string(fake::RefusedPort());
  Client client(OptionsFor({dead, node.address()}));
  auto got = client.Get("k");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  // A put may move on too: the refused connection never carried it.
  auto put = client.Put("k", "v");
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(node.requests(), 2);
}

TEST(ClientTest, PutFailsOverWhenFirstContactRefuses) {
  FakeNode node(Answering());
  const std::string dead = "127.0.0.1:" + std::to_string(fake::RefusedPort());
  Client client(OptionsFor({dead, node.address()}));
  auto put = client.Put("k", "v");
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  EXPECT_EQ(node.requests(), 1);
}

TEST(ClientTest, NoReachableNodeIsDisconnectedNotInDoubt) {
  const std::string a = "127.0.0.1:" + std::to_string(fake::RefusedPort());
  const std::string b = "127.0.0.1:" + std::to_string(fake::RefusedPort());
  Client client(OptionsFor({a, b}));
  auto got = client.Get("k");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), ErrorCode::kDisconnected);
  auto put = client.Put("k", "v");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code(), ErrorCode::kDisconnected);
  EXPECT_FALSE(put.error().in_doubt());
}

TEST(ClientTest, HandshakeThatNeverCompletesHitsConnectTimeout) {
  // The kernel completes the TCP handshake for a listening socket nobody accepts from, so the
  // connect succeeds and the hello is never answered.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor mute(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  auto options = OptionsFor({"127.0.0.1:" + std::to_string(mute.local_endpoint().port())});
  options.connect_timeout = 200ms;
  options.retries = 0;
  Client client(options);
  auto put = client.Put("k", "v");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code(), ErrorCode::kDisconnected) << put.error().ToString();
  EXPECT_FALSE(put.error().in_doubt());
}

TEST(ClientTest, OverloadedReadRetriedElsewhereButWriteIsNot) {
  FakeNode busy([](const ConnPtr& conn, const FakeRequest& r) {
    conn->Send(fake::ErrorFrame(r.id, wire::ErrorCode::OVERLOADED, "busy"));
  });
  FakeNode idle(Answering());
  Client client(OptionsFor({busy.address(), idle.address()}));
  auto got = client.Get("k");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(busy.requests(), 1);
  EXPECT_EQ(idle.requests(), 1);
  auto put = client.Put("k", "v");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code(), ErrorCode::kOverloaded);
  EXPECT_EQ(idle.requests(), 1);
}

TEST(ClientTest, NodeErrorsKeepTheirDetail) {
  FakeNode node([](const ConnPtr& conn, const FakeRequest& r) {
    switch (r.kind) {
      case wire::Frame::GET:
        conn->Send(fake::ErrorFrame(r.id, wire::ErrorCode::UNAVAILABLE, "too few", 2, 1));
        break;
      case wire::Frame::PUT:
        conn->Send(fake::ErrorFrame(r.id, wire::ErrorCode::TIMEOUT, "1 of 2 acks", 0, 0, true));
        break;
      default:
        conn->Send(fake::ErrorFrame(r.id, wire::ErrorCode::IO_ERROR, "disk full"));
        break;
    }
  });
  Client client(OptionsFor({node.address()}));
  auto got = client.Get("k");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(got.error().needed(), 2u);
  EXPECT_EQ(got.error().alive(), 1u);
  EXPECT_EQ(got.error().ToString(), "Unavailable: too few (needed 2, alive 1)");
  auto put = client.Put("k", "v");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code(), ErrorCode::kTimeout);
  EXPECT_TRUE(put.error().in_doubt());
  auto del = client.Del("k");
  ASSERT_FALSE(del.ok());
  EXPECT_EQ(del.error().code(), ErrorCode::kIoError);
}

// With at most 2 in flight, a node that answers only once it holds 2 requests sees exactly 2 at a
// time: fewer would hang (and fail the wait), more would show in max_held.
void ExpectInFlightLimitOfTwo(uint32_t client_max, uint32_t node_max) {
  std::mutex mu;
  std::vector<std::pair<ConnPtr, uint64_t>> held;
  size_t max_held = 0;
  FakeNode::Options node_options;
  node_options.in_flight_max = node_max;
  FakeNode node(node_options, [&](const ConnPtr& conn, const FakeRequest& r) {
    std::lock_guard lock(mu);
    held.emplace_back(conn, r.id);
    max_held = std::max(max_held, held.size());
    if (held.size() == 2) {
      for (auto& [c, id] : held) c->Send(fake::GetResultFrame(id, {"v"}));
      held.clear();
    }
  });
  auto options = OptionsFor({node.address()});
  options.in_flight_max = client_max;
  Client client(options);
  std::vector<std::future<Expected<GetResult>>> futures;
  for (int i = 0; i < 6; ++i) futures.push_back(client.GetAsync("k" + std::to_string(i)));
  for (auto& f : futures) {
    ASSERT_READY(f);
    EXPECT_TRUE(f.get().ok());
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(max_held, 2u);
}

TEST(ClientTest, InFlightLimitOfTheClient) { ExpectInFlightLimitOfTwo(2, 128); }
TEST(ClientTest, InFlightLimitOfTheNode) { ExpectInFlightLimitOfTwo(128, 2); }

TEST(ClientTest, AbandonedSlotsRecycleTheConnection) {
  std::atomic<int> seen{0};
  FakeNode node([&](const ConnPtr& conn, const FakeRequest& r) {
    if (seen++ > 0) conn->Send(fake::GetResultFrame(r.id, {"v"}));  // the first is never answered
  });
  auto options = OptionsFor({node.address()});
  options.in_flight_max = 1;
  Client client(options);
  ReadOptions r;
  r.timeout = 200ms;
  auto first = client.Get("k", r);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code(), ErrorCode::kTimeout);
  // The only slot is held by the unanswered request, so the client starts a new connection
  // rather than queue behind it forever.
  auto second = client.Get("k");
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_EQ(node.connections(), 2);
}

TEST(ClientTest, DestroyingTheClientCancelsEverythingPending) {
  Inbox inbox;
  FakeNode node(Silent(&inbox));
  auto client = std::make_unique<Client>(OptionsFor({node.address()}));
  Client* raw = client.get();

  std::vector<std::future<Expected<GetResult>>> gets;
  std::vector<std::future<Expected<PutResult>>> puts;
  for (int i = 0; i < 3; ++i) gets.push_back(client->GetAsync("g" + std::to_string(i)));
  for (int i = 0; i < 2; ++i) puts.push_back(client->PutAsync("p" + std::to_string(i), "v"));
  constexpr int kCallbacks = 3;
  std::atomic<int> calls[kCallbacks] = {};
  std::atomic<int> cancelled{0};
  for (int i = 0; i < kCallbacks; ++i) {
    client->DelAsync("d", {}, [&, i](Expected<DelResult> result) {
      ++calls[i];
      if (!result.ok() && result.error().code() == ErrorCode::kCancelled) ++cancelled;
    });
  }
  // A callback that starts another request while the client shuts down: the new one is
  // cancelled too, before the destructor returns.
  std::atomic<int> chained{0};
  client->GetAsync("chain", {}, [&](Expected<GetResult> result) {
    EXPECT_EQ(result.error().code(), ErrorCode::kCancelled);
    raw->GetAsync("chained", {}, [&](Expected<GetResult> again) {
      EXPECT_EQ(again.error().code(), ErrorCode::kCancelled);
      ++chained;
    });
  });
  ASSERT_TRUE(inbox.WaitFor(9));  // all of them are in flight, not merely queued
  client.reset();

  for (auto& f : gets) {
    ASSERT_EQ(f.wait_for(0s), std::future_status::ready);
    auto r = f.get();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kCancelled);
  }
  for (auto& f : puts) {
    ASSERT_EQ(f.wait_for(0s), std::future_status::ready);
    auto r = f.get();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kCancelled);
  }
  for (auto& c : calls) EXPECT_EQ(c.load(), 1);
  EXPECT_EQ(cancelled.load(), kCallbacks);
  EXPECT_EQ(chained.load(), 1);
}

TEST(ClientTest, DestroyingTheClientWhileConnectingCancels) {
  // Requests still waiting for a connection (the mute listener never answers the hello).
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor mute(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  auto client = std::make_unique<Client>(
      OptionsFor({"127.0.0.1:" + std::to_string(mute.local_endpoint().port())}));
  auto get = client->GetAsync("k");
  auto put = client->PutAsync("k", "v");
  client.reset();
  ASSERT_EQ(get.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(get.get().error().code(), ErrorCode::kCancelled);
  ASSERT_EQ(put.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(put.get().error().code(), ErrorCode::kCancelled);
}

TEST(ClientTest, OversizedRequestsFailLocally) {
  FakeNode node(Answering());
  Client client(OptionsFor({node.address()}));
  const std::string big_key(kKeyBytesMax + 1, 'k');
  const std::string big_value(kValueBytesMaxDefault + 1, 'v');

  auto empty = client.Get("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalidArgument);
  auto get = client.Get(big_key);
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.error().code(), ErrorCode::kInvalidArgument);
  auto put = client.Put("k", big_value);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(put.error().message().find("value"), std::string::npos);
  WriteOptions w;
  w.context = std::string(kContextBytesMax + 1, 'c');
  auto del = client.Del("k", w);
  ASSERT_FALSE(del.ok());
  EXPECT_EQ(del.error().code(), ErrorCode::kInvalidArgument);

  // Callbacks get validation errors too, exactly once.
  std::promise<ErrorCode> code;
  client.PutAsync(big_key, "v", {}, [&](Expected<PutResult> r) { code.set_value(r.error().code()); });
  auto f = code.get_future();
  ASSERT_READY(f);
  EXPECT_EQ(f.get(), ErrorCode::kInvalidArgument);

  EXPECT_EQ(node.connections(), 0);
  // The limits themselves are allowed.
  auto at_limit = client.Put(std::string(kKeyBytesMax, 'k'), std::string(kValueBytesMaxDefault, 'v'));
  EXPECT_TRUE(at_limit.ok()) << at_limit.error().ToString();
}

TEST(ClientTest, RefusedHandshakeIsReported) {
  FakeNode::Options options;
  options.refuse_handshake = wire::ErrorCode::UNAUTHORIZED;
  FakeNode node(options, Answering());
  Client client(OptionsFor({node.address()}));
  auto got = client.Get("k");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), ErrorCode::kUnauthorized) << got.error().ToString();
}

TEST(ClientTest, NodeOfAnotherClusterIsRejected) {
  FakeNode node(Answering());  // cluster "test"
  auto options = OptionsFor({node.address()});
  options.cluster_name = "prod";
  Client client(options);
  auto got = client.Get("k");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), ErrorCode::kUnauthorized);
  EXPECT_EQ(node.requests(), 0);
}

TEST(ClientTest, InvalidOptionsFailRequests) {
  Client none(ClientOptions{});
  auto a = none.Get("k");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code(), ErrorCode::kInvalidArgument);
  Client bad(OptionsFor({"localhost"}));
  auto b = bad.Get("k");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code(), ErrorCode::kInvalidArgument);
  auto options = OptionsFor({"127.0.0.1:7000"});
  options.ring_refresh_interval = 0ms;
  Client never(options);
  auto c = never.Get("k");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::kInvalidArgument);
}

TEST(ClientTest, SynchronousCallFromACallbackIsRefused) {
  FakeNode node(Answering());
  Client client(OptionsFor({node.address()}));
  std::promise<ErrorCode> code;
  client.GetAsync("k", {}, [&](Expected<GetResult>) {
    auto nested = client.Get("k");
    code.set_value(nested.ok() ? ErrorCode::kInternal : nested.error().code());
  });
  auto f = code.get_future();
  ASSERT_READY(f);
  EXPECT_EQ(f.get(), ErrorCode::kInvalidArgument);
}

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

TEST(ErrorTest, ToStringNamesCodeAndDetail) {
  EXPECT_EQ(Error(ErrorCode::kTimeout, "slow").set_in_doubt(true).ToString(),
            "Timeout: slow (in doubt: the write may have been applied)");
  EXPECT_EQ(Error(ErrorCode::kDisconnected, "").ToString(), "Disconnected");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kTooManySiblings), "TooManySiblings");
}

TEST(AddressTest, ParsesHostPort) {
  using client_internal::ParseHostPort;
  auto v4 = ParseHostPort("127.0.0.1:7000");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 7000);
  auto v6 = ParseHostPort("[::1]:7001");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->ToString(), "[::1]:7001");
  for (const char* bad : {"host", "host:", ":7000", "h:0", "h:70000", "h:12x", "::1:7000", "[::1]"}) {
    EXPECT_FALSE(ParseHostPort(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace ringkv
