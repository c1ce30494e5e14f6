// Tombstone collection on real processes (issue 12), with a one-second grace period: a key
// deleted while one replica was away stays deleted after it returns. The tombstones are kept
// while the replica is down and while it still holds the deleted values; once anti-entropy
// brought it the tombstones, every replica collects them, and neither the values nor the
// tombstones come back. The same for a CQL table's deleted cell, whose tombstone lives inside
// the partition: a write drops it only once every replica holds the same version. Read repair and
// hints are off, so only anti-entropy carries the deletes. Every wait is a poll with a deadline.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cql/session.h"
#include "node/testing/admin_calls.h"
#include "node/testing/test_cluster.h"
#include "ringkv/client.h"

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;

constexpr int kKeys = 40, kDeleted = 20;

// Three nodes whose replicas may diverge (read repair and hints off, anti-entropy only on
// `kvctl repair`), collecting tombstones every second with a grace period of one.
class KvnodeTombstoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestClusterOptions options;
    options.nodes = 3;
    options.dir = TempDir("tombstones");
    options.extra_args = {"--http", "127.0.0.1:{port}", "--read-repair", "false",
                          "--hinted-handoff", "false", "--anti-entropy-interval-s", "0",
                          "--gc-grace-s", "1", "--gc-interval-s", "1"};
    cluster_ = std::make_unique<TestCluster>(options);
    ASSERT_TRUE(cluster_->Start().ok()) << cluster_->Logs();
  }
  // A client of node i alone.
  ClientOptions Through(size_t i) const {
    ClientOptions co;
    co.contact_points = {cluster_->node(i).address()};
    co.token_aware = false;
    co.request_timeout = milliseconds(5'000);
    return co;
  }
  // Repairs through node 0 until a repair runs without a failed exchange.
  void Repair() {
    CommandResult repair;
    ASSERT_TRUE(PollUntil(milliseconds(30'000), [&] {
      repair = Kvctl(cluster_->node(0).address(), {"repair"});
      return repair.exit_code == 0;
    })) << repair.out << repair.err << cluster_->Logs();
  }

  std::unique_ptr<TestCluster> cluster_;
};

bool HasNote(const cql::ResultSet& rs, const std::string& part) {
  for (const auto& n : rs.notes) {
    if (n.find(part) != std::string::npos) return true;
  }
  return false;
}

double Sum(TestCluster* c, const std::vector<size_t>& nodes, const std::string& sample) {
  double sum = 0;
  for (size_t i : nodes) sum += Metric(c->ExtraPort(i), sample);
  return sum;
}

TEST_F(KvnodeTombstoneTest, ADeleteAReplicaMissedStaysDeletedAcrossCollection) {
  TestCluster& cluster = *cluster_;
  TestCluster* c = cluster_.get();
  const std::string n1 = cluster.node(0).address();
  Client client(Through(0));
  WriteOptions all;
  all.consistency = Consistency::kAll;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(client.Put(fmt::format("doc-{:02d}", i), "v1", all).ok());
  }
  // n3 away: the deletes reach n1 and n2 only.
  ASSERT_EQ(cluster.node(2).Terminate(), 0);
  WriteOptions quorum;
  quorum.consistency = Consistency::kQuorum;
  for (int i = 0; i < kDeleted; ++i) {
    ASSERT_TRUE(client.Del(fmt::format("doc-{:02d}", i), quorum).ok());
  }

  // Past the grace period the walks find the tombstones dead, and keep them: n3 is down.
  ASSERT_TRUE(PollUntil(milliseconds(30'000), [&] {
    return Sum(c, {0, 1}, "ringkv_tombstones_kept_total") >= 2 * kDeleted;
  })) << cluster.Logs();
  EXPECT_EQ(Sum(c, {0, 1}, "ringkv_tombstones_collected_total"), 0);

  // Back, n3 still holds the deleted values: kept again.
  ASSERT_TRUE(cluster.node(2).Start().ok()) << cluster.node(2).log();
  ASSERT_TRUE(cluster.WaitFormed()) << cluster.Logs();
  const double kept = Sum(c, {0, 1}, "ringkv_tombstones_kept_total");
  ASSERT_TRUE(PollUntil(milliseconds(30'000), [&] {
    return Sum(c, {0, 1}, "ringkv_tombstones_kept_total") >= kept + 2 * kDeleted;
  })) << cluster.Logs();
  EXPECT_EQ(Sum(c, {0, 1}, "ringkv_tombstones_collected_total"), 0);
  EXPECT_EQ(Dump(cluster.node(2).address(), "doc-").count("doc-05 1 0"), 1u)
      << "read repair and hints are off: n3 missed the delete";

  // Anti-entropy brings n3 the tombstones; then every replica collects them.
  Repair();
  std::set<std::string> expected;
  for (int i = kDeleted; i < kKeys; ++i) expected.insert(fmt::format("doc-{:02d} 1 0", i));
  ASSERT_TRUE(PollUntil(milliseconds(30'000), [&] {
    for (size_t i = 0; i < 3; ++i) {
      if (Dump(cluster.node(i).address(), "doc-") != expected) return false;
    }
    return true;
  })) << cluster.Logs();
  EXPECT_EQ(Sum(c, {0, 1, 2}, "ringkv_tombstones_collected_total"), 3 * kDeleted);

  // Nothing comes back: a repair finds nothing to copy, and every node reads the deletes as
  // deleted and the rest as written.
  const CommandResult repair = Kvctl(n1, {"--format", "json", "repair"});
  ASSERT_EQ(repair.exit_code, 0) << repair.out << repair.err;
  EXPECT_EQ(nlohmann::json::parse(repair.out)["keys"].get<size_t>(), 0u) << repair.out;
  for (size_t n = 0; n < 3; ++n) {
    EXPECT_EQ(Dump(cluster.node(n).address(), "doc-"), expected) << n;
    Client reader(Through(n));
    ReadOptions read_all;
    read_all.consistency = Consistency::kAll;
    for (int i = 0; i < kKeys; ++i) {
      auto got = reader.Get(fmt::format("doc-{:02d}", i), read_all);
      ASSERT_TRUE(got.ok()) << got.error().ToString();
      if (i < kDeleted) {
        EXPECT_TRUE(got->siblings.empty()) << "doc-" << i << " through node " << n;
      } else {
        ASSERT_EQ(got->siblings.size(), 1u) << i;
        EXPECT_EQ(got->siblings[0].value, "v1");
      }
    }
  }
}

TEST_F(KvnodeTombstoneTest, ACqlCellDeletedWhileAReplicaWasAwayStaysDeleted) {
  TestCluster& cluster = *cluster_;
  Client client(Through(0));
  cql::Session session(client);
  session.set_tombstone_grace_s(1);
  auto run = [&](const std::string& statement) {
    auto r = session.Execute(statement);
    EXPECT_TRUE(r.ok()) << statement << ": " << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : cql::ResultSet{};
  };
  run("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
      "'replication_factor': 3}");
  run("CREATE TABLE ks.docs (id text PRIMARY KEY, lang text, stage text)");
  session.set_consistency(Consistency::kAll);
  run("INSERT INTO ks.docs (id, lang, stage) VALUES ('d1', 'en', 'raw')");
  // n3 away: the cell's deletion reaches n1 and n2 only.
  ASSERT_EQ(cluster.node(2).Terminate(), 0);
  session.set_consistency(Consistency::kQuorum);
  run("DELETE lang FROM ks.docs WHERE id = 'd1'");

  // Past the grace period a write keeps the tombstone: n3 is down, then holds the old version.
  auto write_until = [&](const std::string& note) {
    int i = 0;
    return PollUntil(milliseconds(30'000), [&] {
      return HasNote(run(fmt::format("UPDATE ks.docs SET stage = 's{}' WHERE id = 'd1'", ++i)),
                     note);
    });
  };
  ASSERT_TRUE(write_until("kept, not every replica")) << cluster.Logs();
  ASSERT_TRUE(cluster.node(2).Start().ok()) << cluster.node(2).log();
  ASSERT_TRUE(cluster.WaitFormed()) << cluster.Logs();
  ASSERT_TRUE(write_until("kept, not every replica")) << cluster.Logs();

  // Anti-entropy brings n3 the versions it missed; then a write drops the tombstone.
  Repair();
  ASSERT_TRUE(write_until("dropped, every replica")) << cluster.Logs();

  // The cell stays deleted, read from any one replica alone.
  for (size_t n = 0; n < 3; ++n) {
    Client reader(Through(n));
    cql::Session one(reader);
    one.set_consistency(Consistency::kOne);
    auto rows = one.Execute("SELECT lang, stage FROM ks.docs WHERE id = 'd1'");
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    ASSERT_EQ(rows->rows.size(), 1u) << n;
    EXPECT_FALSE(rows->rows[0][0].has_value()) << "lang came back through node " << n;
    EXPECT_TRUE(rows->rows[0][1].has_value());
  }
}

}  // namespace
}  // namespace ringkv::testing
