// Membership changes on real processes (issue 10), every wait a poll with a deadline:
//   - a 3-node cluster grows to 4 (a join) and shrinks back to 3 (`kvctl decommission`, after
//     which the process exits 0) while a writer writes at QUORUM; after the join and `kvctl
//     cleanup` on the old nodes, a dump of each node's storage shows every key on exactly its N
//     owners; afterwards every acknowledged key reads at ALL;
//   - removenode of a SIGKILLed node brings every key back to N live copies: once the survivors
//     restored its ranges, two of the three are stopped and the third alone answers every key;
//   - failure detection: a SIGKILLed node is seen down by the others within the stated bound
//     (docs/operations.md: under 5 s; the test allows 10), and a 500 ms SIGSTOP convicts no one.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "node/testing/read_checks.h"
#include "node/testing/test_cluster.h"
#include "ringkv/client.h"

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<Client> ClientOf(std::vector<std::string> contacts) {
  ClientOptions o;
  o.contact_points = std::move(contacts);
  o.token_aware = false;
  o.request_timeout = milliseconds(5'000);
  return std::make_unique<Client>(o);
}

CommandResult Kvctl(const std::string& host, std::vector<std::string> args) {
  std::vector<std::string> argv = {NodeProcess::KvctlPath(), "--host", host};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, "", std::chrono::milliseconds(120'000));
}

// `name`'s `field` ("up": the detector and the transport; "alive": the detector alone) in `host`'s
// gossipinfo; nullopt when the node did not answer.
std::optional<bool> SeenUp(const std::string& host, const std::string& name,
                           const char* field = "up") {
  auto r = Kvctl(host, {"--format", "json", "gossipinfo"});
  if (r.exit_code != 0) return std::nullopt;
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  if (json.is_discarded()) return std::nullopt;
  for (const auto& m : json["members"]) {
    if (m["name"] == name) return m[field].get<bool>();
  }
  return std::nullopt;
}

// Which nodes hold each key in their own storage (`kvctl dump` on each); nullopt if one failed.
std::optional<std::map<std::string, std::set<std::string>>> Holders(
    const std::vector<std::pair<std::string, std::string>>& nodes) {  // name, address
  std::map<std::string, std::set<std::string>> holders;
  for (const auto& [name, address] : nodes) {
    auto r = Kvctl(address, {"--format", "json", "dump"});
    if (r.exit_code != 0) return std::nullopt;
    auto json = nlohmann::json::parse(r.out, nullptr, false);
    if (json.is_discarded()) return std::nullopt;
    for (const auto& o : json["objects"]) holders[o["key"].get<std::string>()].insert(name);
  }
  return holders;
}

// Keys held by a node that is not one of their replicas, or acknowledged keys missing from one of
// their replicas, as text ("" when every key is on exactly its owners).
std::string OwnershipErrors(Client* client, const std::vector<std::string>& acked,
                            const std::map<std::string, std::set<std::string>>& holders) {
  std::string errors;
  std::set<std::string> acked_set(acked.begin(), acked.end());
  for (const auto& [key, on] : holders) {
    auto owners = client->Endpoints(key);
    if (!owners.ok()) return "no endpoints: " + owners.error().ToString();
    std::set<std::string> expected(owners->begin(), owners->end());
    for (const auto& node : on) {
      if (expected.count(node) == 0) errors += fmt::format("{} orphan on {}; ", key, node);
    }
    if (acked_set.count(key) > 0 && on != expected) {
      errors += fmt::format("{} on {} nodes, owners {}; ", key, on.size(), expected.size());
    }
  }
  for (const auto& key : acked) {
    if (holders.count(key) == 0) errors += fmt::format("{} held nowhere; ", key);
  }
  return errors.substr(0, 2000);
}

class KvnodeMembershipTest : public ::testing::Test {
 protected:
  void Start(size_t nodes) {
    dir_ = TempDir("membership");
    TestClusterOptions options;
    options.nodes = nodes;
    options.dir = dir_;
    cluster_ = std::make_unique<TestCluster>(options);
    ASSERT_TRUE(cluster_->Start().ok()) << cluster_->Logs();
    ASSERT_TRUE(cluster_->WaitFormed()) << cluster_->Logs();
  }
  std::string dir_;
  std::unique_ptr<TestCluster> cluster_;
};

TEST_F(KvnodeMembershipTest, GrowsToFourAndShrinksBackToThreeUnderQuorumWrites) {
  Start(3);
  std::vector<std::string> old_nodes;
  for (size_t i = 0; i < 3; ++i) old_nodes.push_back(cluster_->node(i).address());
  std::atomic<bool> stop{false}, pause{false}, paused{false};
  std::mutex mu;
  std::vector<std::string> acked;
  std::thread writer([&] {
    auto client = ClientOf(old_nodes);
    for (int i = 0; i < 20'000 && !stop; ++i) {  // bounded in count and by `stop`
      if (pause) {
        paused = true;
        pause.wait(true);  // until the test clears it (and notifies)
        paused = false;
      }
      const std::string key = fmt::format("feature-{:05d}", i);
      WriteOptions w;
      w.consistency = Consistency::kQuorum;
      if (client->Put(key, "v" + key, w).ok()) {
        std::lock_guard lock(mu);
        acked.push_back(key);
      }
    }
  });
  // However the test ends (a failed ASSERT returns early), the writer stops and is joined.
  struct StopWriter {
    std::atomic<bool>& stop;
    std::atomic<bool>& pause;
    std::thread& writer;
    ~StopWriter() {
      stop = true;
      pause = false;
      pause.notify_all();
      if (writer.joinable()) writer.join();
    }
  } stop_writer{stop, pause, writer};
  NodeProcessOptions n4;
  n4.name = "n4";
  n4.data_dir = dir_ + "/n4";
  n4.extra_args = {"--seeds", old_nodes[0]};
  NodeProcess joiner(n4);
  ASSERT_TRUE(joiner.Start().ok()) << joiner.log();
  EXPECT_TRUE(PollUntil(milliseconds(60'000), [&] {
    return joiner.log().find("now NORMAL") != std::string::npos;
  })) << joiner.log();
  // Every node derives the same ring from what it heard: one digest, four nodes.
  EXPECT_TRUE(PollUntil(milliseconds(10'000), [&] {
    std::set<std::string> digests;
    for (const auto& host : {old_nodes[0], old_nodes[1], old_nodes[2], joiner.address()}) {
      auto r = Kvctl(host, {"--format", "json", "gossipinfo"});
      const auto info = nlohmann::json::parse(r.out, nullptr, false);
      if (info.is_discarded() || info["ring_nodes"] != 4) return false;
      digests.insert(info["ring_digest"].get<std::string>());
    }
    return digests.size() == 1;
  }));
  // The old nodes lost ranges to n4 and still hold those copies until `kvctl cleanup`. With the
  // writer paused (so no write is half-way), each cleans up, and then every key is on exactly its
  // owners.
  pause = true;
  ASSERT_TRUE(PollUntil(milliseconds(10'000), [&] { return paused.load(); }));
  std::vector<std::pair<std::string, std::string>> four = {
      {"n1", old_nodes[0]}, {"n2", old_nodes[1]}, {"n3", old_nodes[2]}, {"n4", joiner.address()}};
  auto ring_client = ClientOf({old_nodes[0]});
  std::vector<std::string> acked_now;
  {
    std::lock_guard lock(mu);
    acked_now = acked;
  }
  auto before = Holders(four);
  ASSERT_TRUE(before.has_value());
  EXPECT_NE(OwnershipErrors(ring_client.get(), acked_now, *before).find("orphan"),
            std::string::npos)
      << "n1..n3 each held every key before n4 joined, so orphans are left";
  for (size_t i = 0; i < 3; ++i) {
    auto cleaned = Kvctl(old_nodes[i], {"cleanup"});
    EXPECT_EQ(cleaned.exit_code, 0) << cleaned.out << cleaned.err;
    EXPECT_NE(cleaned.out.find("cleanup done"), std::string::npos) << cleaned.out;
  }
  std::string errors = "not checked";
  EXPECT_TRUE(PollUntil(milliseconds(20'000), [&] {
    auto after = Holders(four);
    errors = after ? OwnershipErrors(ring_client.get(), acked_now, *after) : "a dump failed";
    return errors.empty();
  })) << errors;
  pause = false;
  pause.notify_all();
  auto decommission = Kvctl(joiner.address(), {"decommission"});
  EXPECT_EQ(decommission.exit_code, 0) << decommission.out << decommission.err << joiner.log();
  EXPECT_NE(decommission.out.find("decommissioned"), std::string::npos) << decommission.out;
  EXPECT_EQ(joiner.Terminate(milliseconds(30'000)), 0) << "it exits 0 once it left\n"
                                                       << joiner.log();
  stop = true;
  writer.join();
  ASSERT_GT(acked.size(), 100u);
  // Back to three nodes with N=3: n4's pushes left every key on all three (checked on storage,
  // before a read could repair anything).
  std::vector<std::pair<std::string, std::string>> three(four.begin(), four.begin() + 3);
  EXPECT_TRUE(PollUntil(milliseconds(20'000), [&] {
    auto after = Holders(three);
    errors = after ? OwnershipErrors(ring_client.get(), acked, *after) : "a dump failed";
    return errors.empty();
  })) << errors;
  auto reader = ClientOf({old_nodes[1]});
  EXPECT_EQ(Missing(reader.get(), acked, Consistency::kAll), 0u)
      << "of " << acked.size() << " acknowledged keys";
  auto status = Kvctl(old_nodes[0], {"--format", "json", "gossipinfo"});
  EXPECT_NE(status.out.find("\"LEFT\""), std::string::npos) << status.out;
  // It refuses to come back on the same data.
  NodeProcess again(n4);
  EXPECT_FALSE(again.Start().ok());
}

TEST_F(KvnodeMembershipTest, RemovenodeOfAKilledNodeRestoresEveryKeyToNCopies) {
  Start(4);
  auto client = ClientOf({cluster_->node(0).address()});
  std::vector<std::string> keys;
  for (int i = 0; i < 400; ++i) {
    const std::string key = fmt::format("doc-{:04d}", i);
    WriteOptions w;
    w.consistency = Consistency::kAll;
    ASSERT_TRUE(client->Put(key, "v" + key, w).ok());
    keys.push_back(key);
  }
  cluster_->node(3).Kill();
  const std::string n1 = cluster_->node(0).address();
  // removenode wants the failure detector's verdict, not just a lost connection.
  ASSERT_TRUE(PollUntil(milliseconds(15'000), [&] { return SeenUp(n1, "n4", "alive") == false; }));
  auto removed = Kvctl(n1, {"removenode", "n4"});
  ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  // Every survivor hears of the removal through gossip, then copies what it gained from the
  // others; wait until all have heard and report their streams done.
  ASSERT_TRUE(PollUntil(milliseconds(60'000), [&] {
    for (size_t i = 0; i < 3; ++i) {
      auto g = Kvctl(cluster_->node(i).address(), {"--format", "json", "gossipinfo"});
      if (g.exit_code != 0) return false;
      bool heard = false;
      const auto info = nlohmann::json::parse(g.out, nullptr, false);
      for (const auto& m : info["members"]) {
        heard = heard || (m["name"] == "n4" && m["status"] == "REMOVED");
      }
      if (!heard) return false;
    }
    for (size_t i = 0; i < 3; ++i) {
      auto r = Kvctl(cluster_->node(i).address(), {"--format", "json", "netstats"});
      if (r.exit_code != 0) return false;
      auto json = nlohmann::json::parse(r.out, nullptr, false);
      for (const auto& s : json["streams"]) {
        if (s["what"] == "removenode n4" && s["state"] != "done") return false;
      }
    }
    return true;
  }));
  EXPECT_NE(removed.out.find("REMOVED"), std::string::npos);
  // Now n3 alone must hold every key: its replicas are n1, n2, n3.
  EXPECT_EQ(cluster_->node(0).Terminate(), 0);
  EXPECT_EQ(cluster_->node(1).Terminate(), 0);
  auto lone = ClientOf({cluster_->node(2).address()});
  EXPECT_EQ(Missing(lone.get(), keys, Consistency::kOne), 0u) << cluster_->Logs();
}

TEST_F(KvnodeMembershipTest, AKilledNodeIsSeenDownQuicklyAndAPausedOneNotAtAll) {
  Start(3);
  const std::string n1 = cluster_->node(0).address(), n2 = cluster_->node(1).address();
  // A 500 ms pause: nobody convicts it.
  ASSERT_EQ(::kill(cluster_->node(2).pid(), SIGSTOP), 0);
  std::this_thread::sleep_for(milliseconds(500));  // the fault itself: a pause of this length
  ASSERT_EQ(::kill(cluster_->node(2).pid(), SIGCONT), 0);
  // Give the detector the time it would need to convict (several seconds), then look.
  const auto watch_until = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  while (std::chrono::steady_clock::now() < watch_until) {
    EXPECT_NE(SeenUp(n1, "n3"), false);
    EXPECT_NE(SeenUp(n2, "n3"), false);
  }
  EXPECT_EQ(cluster_->node(0).log().find("peer n3 is down"), std::string::npos);
  EXPECT_EQ(cluster_->node(1).log().find("peer n3 is down"), std::string::npos);
  // SIGKILL: seen down by both within the bound.
  const auto killed = std::chrono::steady_clock::now();
  cluster_->node(2).Kill();
  ASSERT_TRUE(PollUntil(milliseconds(20'000), [&] {
    return SeenUp(n1, "n3") == false && SeenUp(n2, "n3") == false;
  }));
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed);
  // The failure detector alone (no lost connection counted), too.
  ASSERT_TRUE(PollUntil(milliseconds(20'000), [&] {
    return SeenUp(n1, "n3", "alive") == false && SeenUp(n2, "n3", "alive") == false;
  }));
  const auto fd_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed);
  EXPECT_LT(seconds.count(), 10.0);
  EXPECT_LT(fd_seconds.count(), 10.0);
  std::printf("SIGKILLed node seen down by both others after %.2f s (failure detector alone: "
              "%.2f s)\n", seconds.count(), fd_seconds.count());
}

// --broadcast-address is what the node tells others (its ring answer), apart from --listen; a
// malformed one is refused at start.
TEST(KvnodeBroadcastAddressTest, TheRingAnswerCarriesItAndABadOneIsRefused) {
  const std::string dir = TempDir("broadcast");
  NodeProcessOptions o;
  o.name = "n1";
  o.data_dir = dir + "/n1";
  o.extra_args = {"--broadcast-address", "127.0.0.1:7777"};
  NodeProcess node(o);
  ASSERT_TRUE(node.Start().ok()) << node.log();
  auto ring = Kvctl(node.address(), {"--format", "json", "ring"});
  EXPECT_NE(ring.out.find("127.0.0.1:7777"), std::string::npos) << ring.out;
  EXPECT_EQ(node.Terminate(), 0);
  auto bad = RunCommand({NodeProcess::KvnodePath(), "--name", "n2", "--data", dir + "/n2",
                         "--listen", "127.0.0.1:0", "--broadcast-address", "no-port"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--broadcast-address 'no-port' is not HOST:PORT"), std::string::npos)
      << bad.err;
}

}  // namespace
}  // namespace ringkv::testing
