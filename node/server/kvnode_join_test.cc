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
#include <vector>

#include "common/token.h"
#include "node/testing/read_checks.h"
#include "node/testing/test_cluster.h"
#include "ring/ring.h"
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

// A running 3-node cluster (N = 3), and the options of a fourth node, n4, that joins it through
// n1 alone.
class KvnodeJoinTest : public ::testing::Test {
 protected:
  void StartCluster(std::string_view tag) {
    dir_ = TempDir(tag);
    TestClusterOptions options;
    options.nodes = 3;
    options.dir = dir_;
    cluster_ = std::make_unique<TestCluster>(options);
    ASSERT_TRUE(cluster_->Start().ok()) << cluster_->Logs();
    ASSERT_TRUE(cluster_->WaitFormed()) << cluster_->Logs();
  }
  NodeProcessOptions JoinerOptions(std::vector<std::string> extra_args = {}) const {
    NodeProcessOptions o;
    o.name = "n4";
    o.data_dir = dir_ + "/n4";
    o.extra_args = {"--seeds", cluster_->node(0).address()};
    o.extra_args.insert(o.extra_args.end(), extra_args.begin(), extra_args.end());
    return o;
  }
  bool WaitNormal(NodeProcess* joiner, std::chrono::seconds limit) {
    return PollUntil(limit,
                     [&] { return joiner->log().find("now NORMAL") != std::string::npos; });
  }
  std::string dir_;
  std::unique_ptr<TestCluster> cluster_;
};

TEST_F(KvnodeJoinTest, WritesThroughAJoiningNodeAreSeenEverywhereAndTheJoinCompletes) {
  StartCluster("join");
  TestCluster& cluster = *cluster_;
  NodeProcess joiner(JoinerOptions());
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
    EXPECT_EQ(Missing(reader.get(), acked, Consistency::kQuorum,
                      [](const std::string& key) { return "v-" + key; }),
              0u)
        << "acknowledged writes missing from QUORUM reads through n" << n + 1;
  }

  ASSERT_TRUE(WaitNormal(&joiner, std::chrono::seconds(60))) << joiner.log();
  std::smatch m;
  const std::string log = joiner.log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex("streamed ([0-9]+) key")));
  EXPECT_GT(std::stoul(m[1]), 0u) << "the joiner streamed its ranges";
  for (size_t n = 0; n < 4; ++n) {
    auto reader = ClientOf(n < 3 ? cluster.node(n).address() : joiner.address());
    EXPECT_EQ(Missing(reader.get(), acked, Consistency::kAll), 0u)
        << "keys missing from ALL reads through node " << n + 1;
  }
  EXPECT_EQ(joiner.Terminate(), 0);
}

// The joiner SIGKILLed while it streams (throttled so the stream takes seconds), then started
// again: it resumes with the ranges it had not finished, turns NORMAL, and then holds every key
// it replicates: with the three old nodes stopped, it alone answers each of them at ONE.
TEST_F(KvnodeJoinTest, AJoinerKilledHalfwayThroughItsStreamResumesAndLosesNothing) {
  StartCluster("join-resume");
  TestCluster& cluster = *cluster_;
  auto writer = ClientOf(cluster.node(0).address());
  const std::string value(1000, 'x');
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = fmt::format("doc-{:05d}", i);
    WriteOptions w;
    w.consistency = Consistency::kAll;
    ASSERT_TRUE(writer->Put(key, value, w).ok());
    keys.push_back(key);
  }
  NodeProcess joiner(JoinerOptions({"--stream-throughput-mb-per-s", "0.3"}));
  ASSERT_TRUE(joiner.Start().ok()) << joiner.log();
  // Kill it once it has finished some ranges but not all.
  ASSERT_TRUE(PollUntil(std::chrono::seconds(60), [&] {
    auto r = RunCommand({NodeProcess::KvctlPath(), "--host", joiner.address(), "--format", "json",
                         "netstats"});
    return r.out.find("\"what\":\"join\"") != std::string::npos &&
           r.out.find("\"ranges_done\":0,") == std::string::npos &&
           r.out.find("\"state\":\"streaming\"") != std::string::npos;
  })) << joiner.log();
  joiner.Kill();
  ASSERT_TRUE(joiner.Start().ok()) << joiner.log();
  ASSERT_TRUE(WaitNormal(&joiner, std::chrono::seconds(120))) << joiner.log();
  // The second run's plan: "join: R range(s) to stream (D done by an earlier run)".
  const std::string log = joiner.log();
  const std::regex plan("\\(([0-9]+) done by an earlier run\\)");
  std::vector<unsigned long> done_before;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), plan); it != std::sregex_iterator();
       ++it) {
    done_before.push_back(std::stoul((*it)[1]));
  }
  ASSERT_EQ(done_before.size(), 2u) << log;
  EXPECT_GT(done_before[1], 0u) << "the second run skipped what the first had streamed";

  // Which keys n4 replicates, from the ring the cluster answers.
  auto ring_info = ClientOf(joiner.address())->Ring();
  ASSERT_TRUE(ring_info.ok());
  std::vector<Member> members;
  for (const auto& member : ring_info->members) members.push_back({member.name, member.tokens});
  auto ring = Ring::Build(members);
  ASSERT_TRUE(ring.ok());
  ASSERT_EQ(ring->node_count(), 4u);
  std::vector<std::string> mine;
  for (const auto& key : keys) {
    auto replicas = ring->PreferenceList(TokenOf(key), 3);
    if (std::find(replicas.begin(), replicas.end(), "n4") != replicas.end()) mine.push_back(key);
  }
  ASSERT_GT(mine.size(), keys.size() / 2);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(cluster.node(i).Terminate(), 0);
  auto lone = ClientOf(joiner.address());
  EXPECT_EQ(Missing(lone.get(), mine, Consistency::kOne), 0u)
      << "of " << mine.size() << " keys n4 replicates\n" << joiner.log();
}

}  // namespace
}  // namespace ringkv::testing
