// GossipNet and the wire sizes under the gossip scale benchmark: the byte formula, replay from a
// seed, and the delay model's bounds.
#include "sim/gossip_net.h"

#include <gtest/gtest.h>

#include "sim/gossip_probes.h"
#include "sim/gossip_wire_size.h"

namespace ringkv::sim {
namespace {

TEST(GossipWireSize, CountsEveryFieldOnce) {
  gossip::Digest d{"n1", 5, 6, 7, 8};
  EXPECT_EQ(WireBytes(d), 2u + 2 + 4 * 8);
  gossip::Endpoint e;
  e.name = "n1";
  e.state.address = "127.0.0.9:700";  // 13 bytes
  e.state.tokens = {1, 2, 3};
  // name, generation/version/heartbeat, address, host id, status, tokens, load, schema
  EXPECT_EQ(WireBytes(e), (2u + 2) + 24 + (2 + 13) + 8 + 1 + (4 + 3 * 8) + 16);
  EXPECT_EQ(WireBytes(e), e.name.size() + e.state.address.size() + 8 * 3 + 57);  // the header's
  gossip::Syn syn{"n1", {d, d}};
  EXPECT_EQ(WireBytes(syn), 5u + (2 + 2) + 4 + 2 * WireBytes(d));
  gossip::Ack ack{{e}, {d}, {}};
  EXPECT_EQ(WireBytes(ack), 5u + (4 + WireBytes(e)) + (4 + WireBytes(d)) + 4);
  gossip::Ack2 ack2{"n1", {}, {d, d, d}};
  EXPECT_EQ(WireBytes(ack2), 5u + 4 + 4 + (4 + 3 * WireBytes(d)));
}

struct Snapshot {
  std::vector<uint64_t> bytes;
  std::vector<uint64_t> heartbeats;  // node 0's view
  bool operator==(const Snapshot&) const = default;
};

Snapshot RunTwelveNodes(uint64_t seed) {
  GossipNetOptions options;
  options.seed = seed;
  GossipNet net(options);
  net.AddConverged(12);
  net.RunUntil(8'000'000);
  Snapshot s;
  for (const auto& t : net.traffic()) s.bytes.push_back(t.bytes_sent + t.bytes_received);
  for (const auto& [name, e] : net.node(0).endpoints()) s.heartbeats.push_back(e.heartbeat);
  return s;
}

TEST(GossipNet, ARunReplaysFromItsSeed) {
  EXPECT_EQ(RunTwelveNodes(7), RunTwelveNodes(7));
  EXPECT_NE(RunTwelveNodes(7).bytes, RunTwelveNodes(8).bytes);
}

TEST(GossipNet, EveryNodeTicksOncePerIntervalAndMessagesTakeTheirDelay) {
  GossipNetOptions options;
  options.delay_min_us = 5'000;
  options.delay_max_us = 9'000;
  options.tick_jitter_us = 0;  // so ten intervals hold exactly ten ticks
  GossipNet net(options);
  net.AddConverged(4);
  const size_t joiner = net.AddJoiner();
  ASSERT_TRUE(net.RunUntil(1'100'000, [&] { return net.first_tick_us(joiner) >= 0; }));
  const int64_t first = net.first_tick_us(joiner);
  // Its Syn reaches a seed after 5-9 ms, which answers with every member; the Ack takes 5-9 ms.
  Watch knows_all(&net, [](gossip::Gossiper& g) { return g.endpoints().size() == 5; });
  net.on_view_changed = [&](size_t i) { knows_all.Recheck(i); };
  net.RunUntil(first + 9'999);  // before the earliest Ack
  EXPECT_EQ(net.node(joiner).endpoints().size(), 1u);
  net.RunUntil(first + 18'000);
  EXPECT_EQ(net.node(joiner).endpoints().size(), 5u);
  // Ten more intervals: each node ticked ten times more, so its own heartbeat rose by ten.
  const uint64_t before = net.node(2).self_endpoint().heartbeat;
  net.RunUntil(net.now_us() + 10'000'000);
  EXPECT_EQ(net.node(2).self_endpoint().heartbeat, before + 10);
  EXPECT_EQ(knows_all.count(), 5u);
}

}  // namespace
}  // namespace ringkv::sim
