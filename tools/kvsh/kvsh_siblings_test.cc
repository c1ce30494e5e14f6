// kvsh end to end: siblings made by a partition in time, shown by SELECT. A real three-node
// cluster (127.0.0.1, RF 3); every statement goes through the kvsh binary with -e.
//
//   1. n2, n3 down: n1 alone takes d1 at ONE (status 'kept').
//   2. n1 down, n2 and n3 back: n2 takes d1 at ONE (status 'filtered'), not having seen 'kept'.
//   3. n1 back: a read at ALL sees both versions. A 'siblings' table shows two rows with the
//      [sibling] column 1/2, 2/2 and a warning; a 'merge' table shows one row, and TRACING notes
//      the merge. The next UPDATE (a read-modify-write with the read's context) resolves them.
//
// How the partition is made: by killing (SIGKILL) and restarting nodes, not SIGSTOP/SIGCONT.
// A paused process's kernel still accepts its peers' messages into its socket buffers, and a
// replica does not drop a request whose deadline has passed, so on SIGCONT the paused side would
// apply the write made during the partition before the second write happens: the second write
// would then see the first and no siblings would form. Requests routed to a paused node also wait
// for their timeout and leave writes in doubt that land later. A killed node refuses connections
// at once and receives nothing, so each side really writes without the other.
//
// Every wait polls with a deadline; only this test's own node processes are killed (by PID, via
// NodeProcess).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "node/testing/node_process.h"
#include "node/testing/test_cluster.h"

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kWaitTimeout{30'000};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// node/testing's TestCluster in a directory of its own, kept when the test failed.
class SiblingsCluster {
 public:
  SiblingsCluster() : dir_(TempDir("kvsh-siblings")) {
    TestClusterOptions options;
    options.nodes = 3;
    options.dir = dir_;
    cluster_ = std::make_unique<TestCluster>(std::move(options));
  }
  ~SiblingsCluster() {
    cluster_.reset();  // SIGKILLs this test's own nodes still running, before their data goes
    if (!keep_) std::filesystem::remove_all(dir_);
  }
  void keep() { keep_ = true; }

  Status Start() { return cluster_->Start(); }
  NodeProcess& node(size_t i) { return cluster_->node(i); }
  size_t size() const { return cluster_->size(); }
  std::string Logs() const { return cluster_->Logs(); }

 private:
  std::string dir_;
  bool keep_ = false;
  std::unique_ptr<TestCluster> cluster_;
};

class KvshSiblingsTest : public ::testing::Test {
 protected:
  // kvsh against node `i` running `script` with -e. A short timeout: a request sent to a node
  // that is down fails fast anyway; the polls retry.
  CommandResult Kvsh(size_t i, const std::string& script) {
    return RunCommand({RINGKV_KVSH_PATH, cluster_.node(i).address(), "--timeout-ms", "3000", "-e",
                       script},
                      "", milliseconds(60'000));
  }
  // Polls `script` through node `i` until kvsh exits 0; returns the last result.
  CommandResult KvshUntilOk(size_t i, const std::string& script) {
    CommandResult r;
    PollUntil(kWaitTimeout, [&] {
      r = Kvsh(i, script);
      return r.exit_code == 0;
    });
    return r;
  }
  // Every node's ring holds all three nodes, up (`kvctl status` from each: three UN rows), and
  // every node coordinates a write at ALL. The ring check matters: a node restarted while another
  // was down does not know the down one until it hears from it, and until then ALL means its
  // smaller ring's replicas only.
  bool WaitAllUp() {
    return PollUntil(kWaitTimeout, [&] {
      for (size_t i = 0; i < cluster_.size(); ++i) {
        CommandResult st = RunCommand({NodeProcess::KvctlPath(), "--host",
                                       cluster_.node(i).address(), "--timeout-ms", "3000",
                                       "status"});
        if (st.exit_code != 0) return false;
        size_t up = 0, down = 0;
        for (const auto& line : Lines(st.out)) {
          const size_t at = line.find_first_not_of(' ');
          if (at == std::string::npos) continue;
          if (line.compare(at, 3, "UN ") == 0) ++up;
          if (line.compare(at, 3, "DN ") == 0) ++down;
        }
        if (up != cluster_.size() || down != 0) return false;
        if (Kvsh(i, "CONSISTENCY ALL; INSERT INTO ks.probe (k, v) VALUES ('probe', 'x');")
                .exit_code != 0) {
          return false;
        }
      }
      return true;
    });
  }

  SiblingsCluster cluster_;
};

TEST_F(KvshSiblingsTest, PartitionMakesSiblingsThatSelectShowsAndUpdateResolves) {
  Status s = cluster_.Start();
  ASSERT_TRUE(s.ok()) << s.ToString() << cluster_.Logs();

  // 1. Schema, created once every node is up (CREATE is retried until the cluster has formed).
  CommandResult schema = KvshUntilOk(
      0,
      "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', "
      "'replication_factor': 3};"
      "CREATE TABLE IF NOT EXISTS ks.probe (k text PRIMARY KEY, v text);"
      "CREATE TABLE IF NOT EXISTS ks.docs (doc_id text PRIMARY KEY, status text, score double) "
      "WITH conflict_mode = 'siblings';"
      "CREATE TABLE IF NOT EXISTS ks.docs_merged (doc_id text PRIMARY KEY, status text, "
      "score double) WITH conflict_mode = 'merge';");
  ASSERT_EQ(schema.exit_code, 0) << schema.err << schema.out << cluster_.Logs();
  ASSERT_TRUE(WaitAllUp()) << cluster_.Logs();

  // 2a. n2 and n3 down: n1 alone takes 'kept'.
  cluster_.node(1).Kill();
  cluster_.node(2).Kill();
  CommandResult w1 = KvshUntilOk(
      0,
      "CONSISTENCY ONE;"
      "INSERT INTO ks.docs (doc_id, status, score) VALUES ('d1', 'kept', 0.9);"
      "INSERT INTO ks.docs_merged (doc_id, status, score) VALUES ('d1', 'kept', 0.9);");
  ASSERT_EQ(w1.exit_code, 0) << w1.err << cluster_.Logs();

  // 2b. n1 down, n2 and n3 back: n2 takes 'filtered' without having seen 'kept'.
  cluster_.node(0).Kill();
  ASSERT_TRUE(cluster_.node(1).Start().ok()) << cluster_.Logs();
  ASSERT_TRUE(cluster_.node(2).Start().ok()) << cluster_.Logs();
  CommandResult w2 = KvshUntilOk(
      1,
      "CONSISTENCY ONE;"
      "UPDATE ks.docs SET status = 'filtered' WHERE doc_id = 'd1';"
      "UPDATE ks.docs_merged SET status = 'filtered' WHERE doc_id = 'd1';");
  ASSERT_EQ(w2.exit_code, 0) << w2.err << cluster_.Logs();

  // 2c. Heal: n1 back, every node up again.
  ASSERT_TRUE(cluster_.node(0).Start().ok()) << cluster_.Logs();
  ASSERT_TRUE(WaitAllUp()) << cluster_.Logs();

  // 3. A read at ALL sees both versions: two rows, marked 1/2 and 2/2, and the warning.
  CommandResult sib =
      KvshUntilOk(0, "CONSISTENCY ALL; SELECT * FROM ks.docs WHERE doc_id = 'd1';");
  ASSERT_EQ(sib.exit_code, 0) << sib.err << cluster_.Logs();
  const auto lines = Lines(sib.out);
  ASSERT_FALSE(lines.empty()) << sib.out;
  ASSERT_TRUE(lines.size() >= 2) << sib.out;
  // The header (after "Consistency level set to ALL." and a blank line) leads with [sibling].
  std::string header;
  for (const auto& l : lines) {
    if (l.find("doc_id") != std::string::npos) {
      header = l;
      break;
    }
  }
  EXPECT_EQ(header.find(" [sibling] |"), 0u) << sib.out;
  std::set<std::string> statuses;
  size_t sibling_rows = 0;
  for (const auto& l : lines) {
    const bool first = l.find(" 1/2 ") == 0, second = l.find(" 2/2 ") == 0;
    if (!first && !second) continue;
    ++sibling_rows;
    EXPECT_NE(l.find("| d1 "), std::string::npos) << l;
    if (l.find("| kept ") != std::string::npos) statuses.insert("kept");
    if (l.find("| filtered ") != std::string::npos) statuses.insert("filtered");
  }
  EXPECT_EQ(sibling_rows, 2u) << sib.out;
  EXPECT_EQ(Count(sib.out, " 1/2 "), 1u) << sib.out;
  EXPECT_EQ(Count(sib.out, " 2/2 "), 1u) << sib.out;
  EXPECT_EQ(statuses, (std::set<std::string>{"kept", "filtered"})) << sib.out;
  EXPECT_NE(sib.out.find("(2 rows)"), std::string::npos) << sib.out;
  EXPECT_NE(sib.out.find("\nWarnings :\npartition 'd1' has 2 siblings\n"), std::string::npos)
      << sib.out;

  // The merge table: one row, the cell merge (status from the later write, score from n1's),
  // and with TRACING ON the note that siblings were merged.
  CommandResult merged = KvshUntilOk(
      0, "CONSISTENCY ALL; TRACING ON; SELECT * FROM ks.docs_merged WHERE doc_id = 'd1';");
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_NE(merged.out.find("(1 rows)"), std::string::npos) << merged.out;
  EXPECT_EQ(merged.out.find("[sibling]"), std::string::npos) << merged.out;
  EXPECT_EQ(merged.out.find("| kept "), std::string::npos) << merged.out;
  EXPECT_NE(merged.out.find("| filtered "), std::string::npos) << merged.out;
  EXPECT_NE(merged.out.find("0.9"), std::string::npos) << merged.out;
  EXPECT_NE(merged.out.find("merged 2 siblings"), std::string::npos) << merged.out;

  // An UPDATE through kvsh resolves the siblings: it applies on their merge with the read's
  // context; the next SELECT shows one row and no warning.
  CommandResult fix = KvshUntilOk(
      2, "CONSISTENCY ALL; UPDATE ks.docs SET status = 'reviewed' WHERE doc_id = 'd1';");
  ASSERT_EQ(fix.exit_code, 0) << fix.err;
  CommandResult after =
      KvshUntilOk(0, "CONSISTENCY ALL; SELECT * FROM ks.docs WHERE doc_id = 'd1';");
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_NE(after.out.find("(1 rows)"), std::string::npos) << after.out;
  EXPECT_EQ(after.out.find("[sibling]"), std::string::npos) << after.out;
  EXPECT_EQ(after.out.find("Warnings"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("| reviewed "), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("0.9"), std::string::npos) << after.out;

  if (HasFailure()) cluster_.keep();
}

}  // namespace
}  // namespace ringkv::testing
