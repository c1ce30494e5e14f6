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
#include "common/limits.h"

namespace ringkv {
namespace {

using fake::FakeNode;
using fake::FakeRequest;
using fake::Inbox;
using namespace std::chrono_literals;
using ConnPtr = std::shared_ptr<FakeNode::Conn>;
using fake::Answering;  // a node that answers everything at once
using fake::OptionsFor;

// Long enough never to be what a test measures; short enough that a hang fails rather than stalls.
constexpr auto kWait = 10s;

#define ASSERT_READY(future) ASSERT_EQ((future).wait_for(kWait), std::future_status::ready)

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
