// End-to-end: kvbench against a real kvnode on 127.0.0.1. A load writes every key once, and the
// read workloads that follow find every one of them, closed loop and open loop; the JSON carries
// the fields the comparison script relies on.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "node/testing/node_process.h"

namespace ringkv::testing {
namespace {

class KvbenchE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("kvbench");
    NodeProcessOptions options;
    options.data_dir = dir_ + "/n1";
    options.sync = "periodic";
    node_ = std::make_unique<NodeProcess>(options);
    const Status s = node_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void TearDown() override {
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs kvbench with --format json; returns its object (empty on failure, with the reason
  // recorded as a test failure).
  nlohmann::json Kvbench(std::vector<std::string> args) {
    std::vector<std::string> argv = {RINGKV_KVBENCH_PATH, "--hosts", node_->address(),
                                     "--format", "json", "--progress-s", "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = RunCommand(argv, "", std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    auto j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    if (j.is_discarded()) return nlohmann::json::object();
    for (const char* field : {"workload", "ops", "ops_per_s", "errors", "latency_us"}) {
      EXPECT_TRUE(j.contains(field)) << field << " in " << r.out;
    }
    return j;
  }

  std::string dir_;
  std::unique_ptr<NodeProcess> node_;
};

TEST_F(KvbenchE2eTest, LoadThenEveryReadFindsItsKey) {
  auto load = Kvbench({"--workload", "load", "--ops", "2000", "--keys", "2000", "--clients", "8"});
  EXPECT_EQ(load.value("workload", ""), "load");
  EXPECT_EQ(load.value("ops", 0), 2000);
  EXPECT_EQ(load.value("errors", -1), 0);
  EXPECT_GT(load.value("ops_per_s", 0.0), 0.0);
  const auto& lat = load["latency_us"];
  for (const char* p : {"p50", "p99", "p999", "max"}) ASSERT_TRUE(lat.contains(p)) << p;
  EXPECT_GT(lat["p50"].get<double>(), 0.0);
  EXPECT_LE(lat["p50"].get<double>(), lat["p99"].get<double>());
  EXPECT_LE(lat["p99"].get<double>(), lat["p999"].get<double>());
  EXPECT_LE(lat["p999"].get<double>(), lat["max"].get<double>());

  auto read = Kvbench({"--workload", "c", "--ops", "2000", "--keys", "2000", "--clients", "4",
                       "--pipeline", "4"});
  EXPECT_EQ(read.value("ops", 0), 2000);
  EXPECT_EQ(read.value("errors", -1), 0);
  EXPECT_EQ(read.value("reads", 0), 2000);
  EXPECT_EQ(read.value("reads_missing", -1), 0);

  // Open loop at a modest rate, zipfian keys: still every key found.
  auto open = Kvbench({"--workload", "c", "--ops", "500", "--keys", "2000", "--rate", "2000",
                       "--distribution", "zipfian"});
  EXPECT_EQ(open.value("ops", 0), 500);
  EXPECT_EQ(open.value("reads_missing", -1), 0);
  EXPECT_EQ(open.value("rate", 0.0), 2000.0);
}

TEST_F(KvbenchE2eTest, ReadModifyWriteAndMixedWorkloadsRunClean) {
  auto load = Kvbench({"--workload", "load", "--keys", "500"});
  EXPECT_EQ(load.value("ops", 0), 500);  // load defaults to one pass over the keys
  for (const char* w : {"a", "b", "f", "readhot"}) {
    auto r = Kvbench({"--workload", w, "--ops", "400", "--keys", "500", "--clients", "2"});
    EXPECT_EQ(r.value("ops", 0), 400) << w;
    EXPECT_EQ(r.value("errors", -1), 0) << w;
    EXPECT_EQ(r.value("reads_missing", -1), 0) << w;
  }
}

TEST_F(KvbenchE2eTest, UnknownWorkloadIsAUsageError) {
  const CommandResult r = RunCommand(
      {RINGKV_KVBENCH_PATH, "--hosts", node_->address(), "--workload", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("readhot"), std::string::npos) << r.err;  // lists the workloads
}

}  // namespace
}  // namespace ringkv::testing
