// kvnode --anti-entropy false on real processes: n3 runs without anti-entropy beside n1 and n2,
// which keep it. n3 still coordinates and stores writes; `kvctl repair`, `merkle` and
// `fingerprint` through n3 fail and say anti-entropy is off on n3; a repair through n1 cannot
// compare with n3 and its report says why (n3 refuses the exchange). Every wait is a poll with a
// deadline.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "node/testing/test_cluster.h"
#include "ringkv/client.h"

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;

CommandResult Kvctl(const std::string& host, std::vector<std::string> args) {
  std::vector<std::string> argv = {NodeProcess::KvctlPath(), "--host", host};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, "", milliseconds(60'000));
}

TEST(KvnodeAntiEntropyOffTest, AnOffNodeServesWritesAndRefusesRepairsClearly) {
  TestClusterOptions options;
  options.nodes = 3;
  options.dir = TempDir("anti-entropy-off");
  options.extra_args = {"--read-repair", "false", "--hinted-handoff", "false",
                        "--anti-entropy-interval-s", "0"};
  options.node_args = {{}, {}, {"--anti-entropy", "false"}};
  TestCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok()) << cluster.Logs();
  const std::string n1 = cluster.node(0).address(), n3 = cluster.node(2).address();

  // n3 coordinates writes every replica acknowledges, n3's own store included.
  ClientOptions co;
  co.contact_points = {n3};
  co.token_aware = false;
  co.request_timeout = milliseconds(5'000);
  Client client(co);
  WriteOptions all;
  all.consistency = Consistency::kAll;
  for (int i = 0; i < 50; ++i) {
    auto put = client.Put(fmt::format("off-{:02d}", i), "v1", all);
    ASSERT_TRUE(put.ok()) << put.error().ToString();
  }
  ReadOptions read_all;
  read_all.consistency = Consistency::kAll;
  auto read = client.Get("off-07", read_all);
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  ASSERT_EQ(read->siblings.size(), 1u);
  EXPECT_EQ(read->siblings[0].value, "v1");

  for (const std::string command : {"repair", "merkle", "fingerprint"}) {
    auto r = Kvctl(n3, {command});
    EXPECT_NE(r.exit_code, 0) << command << ": " << r.out;
    EXPECT_NE(r.err.find("anti-entropy is off on n3"), std::string::npos) << command << ": " << r.err;
  }
  auto netstats = Kvctl(n3, {"netstats"});
  EXPECT_EQ(netstats.exit_code, 0) << netstats.err;

  // n1's repair: its exchanges with n3 are refused by n3 (once n1's own trees are built; a
  // run before that is refused "not ready", and a run can also end on an n2 exchange whose trees
  // are still building: both are retried).
  std::string last;
  ASSERT_TRUE(PollUntil(milliseconds(30'000), [&] {
    auto r = Kvctl(n1, {"--format", "json", "repair"});
    last = r.out + r.err;
    const auto report = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')), nullptr, false);
    if (report.is_discarded() || !report.contains("last_error")) return false;
    if (report["last_error"].get<std::string>().find("anti-entropy is off on n3") ==
        std::string::npos) {
      return false;
    }
    EXPECT_NE(r.exit_code, 0) << last;
    EXPECT_GE(report["failures"].get<uint64_t>(), 1u) << last;
    return true;
  })) << last << cluster.Logs();
}

}  // namespace
}  // namespace ringkv::testing
