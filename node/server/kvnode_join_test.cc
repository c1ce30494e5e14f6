// A node joining a running cluster (issue 10's defect, as a test): a 3-node cluster (N = 3), a
// fourth node started with --seeds naming only n1, and QUORUM writes sent through the new node
// while it joins. Every acknowledged write must be visible to QUORUM reads through every other
// node (before gossip, the joiner placed writes on a ring only it believed in, and some were then
// missing). The join then completes: the node streams its ranges and turns NORMAL, and every key
// still reads at ALL through every node. Every wait polls a deadline.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "node/testing/test_cluster.h"
#include "ringkv/client.h"

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<Client> ClientOf(const std::string& contact) {
  ClientOptions o;
  o.contact_points = {contact};
  o.token_aware = false;  // every request goes to (and is coordinated or forwarded by) `contact`
  o.request_timeout = milliseconds(5'000);
  return std::make_unique<Client>(o);
}

bool PollUntil(std::chrono::seconds limit, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(100));  // polling interval, not a wait for an event
  }
  return done();
}

TEST(KvnodeJoinTest, WritesThroughAJoiningNodeAreSeenEverywhereAndTheJoinCompletes) {
  const std::string dir = TempDir("join");
  TestClusterOptions options;
  options.nodes = 3;
  options.dir = dir;
  TestCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok()) << cluster.Logs();
  ASSERT_TRUE(cluster.WaitFormed()) << cluster.Logs();

  NodeProcessOptions joiner_options;
  joiner_options.name = "n4";
  joiner_options.data_dir = dir + "/n4";
  joiner_options.extra_args = {"--seeds", cluster.node(0).address()};
  NodeProcess joiner(joiner_options);
  ASSERT_TRUE(joiner.Start().ok()) << joiner.log();

  auto through_joiner = ClientOf(joiner.address());
  std::vector<std::string> acked;
  for (int i = 0; i < 600; ++i) {
    const std::string key = fmt::format("doc-{:04d}", i);
    WriteOptions w;
    w.consistency = Consistency::kQuorum;
    auto r = through_joiner->Put(key, "v-" + key, w);
    if (r.ok()) acked.push_back(key);
  }
  ASSERT_GE(acked.size(), 500u) << "a joining node coordinates on the cluster's ring\n"
                                << joiner.log();
  for (size_t n = 0; n < 3; ++n) {
    auto reader = ClientOf(cluster.node(n).address());
    size_t missing = 0;
    for (const auto& key : acked) {
      ReadOptions r;
      r.consistency = Consistency::kQuorum;
      auto got = reader->Get(key, r);
      if (!got.ok() || !got->found || got->siblings.at(0).value != "v-" + key) ++missing;
    }
    EXPECT_EQ(missing, 0u) << "acknowledged writes missing from QUORUM reads through n" << n + 1;
  }

  ASSERT_TRUE(PollUntil(std::chrono::seconds(60), [&] {
    return joiner.log().find("now NORMAL") != std::string::npos;
  })) << joiner.log();
  std::smatch m;
  const std::string log = joiner.log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex("streamed ([0-9]+) key")));
  EXPECT_GT(std::stoul(m[1]), 0u) << "the joiner streamed its ranges";
  for (size_t n = 0; n < 4; ++n) {
    auto reader = ClientOf(n < 3 ? cluster.node(n).address() : joiner.address());
    size_t missing = 0;
    for (const auto& key : acked) {
      ReadOptions r;
      r.consistency = Consistency::kAll;
      auto got = reader->Get(key, r);
      if (!got.ok() || !got->found) ++missing;
    }
    EXPECT_EQ(missing, 0u) << "keys missing from ALL reads through node " << n + 1;
  }
  EXPECT_EQ(joiner.Terminate(), 0);
}

}  // namespace
}  // namespace ringkv::testing
