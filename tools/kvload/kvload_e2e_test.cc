// kvload end to end: the binary against a real three-node cluster (test_cluster.h). Files with
// good and bad rows load their good rows (read back through a Session), the bad ones land in the
// error file with their line numbers and reasons, and the exit status says which happened;
// loading again changes nothing; a cluster that cannot be reached is exit 3; usage errors are 2.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cql/session.h"
#include "tools/kvload/test_cluster.h"

namespace ringkv::kvload {
namespace {

using ringkv::testing::CommandResult;
using ringkv::testing::RunCommand;
using ringkv::testing::ToolTestCluster;

class KvloadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new ToolTestCluster("kvload");
    Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString() << cluster_->Logs();
    client_ = cluster_->NewClient().release();
    cql::Session session(*client_);
    for (const char* cql :
         {"CREATE KEYSPACE IF NOT EXISTS ld WITH replication = {'class': 'SimpleStrategy', "
          "'replication_factor': 3}",
          "CREATE TABLE IF NOT EXISTS ld.docs (doc_id text PRIMARY KEY, lang text, score double, "
          "shard int, bands list<text>, quality map<text, double>, updated timestamp)"}) {
      auto r = session.Execute(cql);
      ASSERT_TRUE(r.ok()) << cql << ": " << r.error().ToString();
    }
  }
  static void TearDownTestSuite() {
    delete client_;
    delete cluster_;
  }
  void SetUp() override {
    ASSERT_NE(client_, nullptr);
    dir_ = ringkv::testing::TempDir("kvload-files");
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (HasFailure()) cluster_->keep();
    else std::filesystem::remove_all(dir_);
  }

  std::string Write(const std::string& name, const std::string& contents) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  CommandResult Kvload(std::vector<std::string> args) {
    std::vector<std::string> argv = {RINGKV_KVLOAD_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, "", std::chrono::milliseconds(60'000));
  }

  std::vector<nlohmann::json> ErrorEntries(const std::string& path) {
    std::vector<nlohmann::json> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  // doc_id -> "lang|score|shard|bands|quality" for every row of ld.docs whose id starts with
  // `prefix`, read with a full scan through a Session.
  std::map<std::string, std::string> Table(const std::string& prefix) {
    cql::Session session(*client_);
    auto r = session.Execute("SELECT doc_id, lang, score, shard, bands, quality FROM ld.docs");
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
    std::map<std::string, std::string> out;
    if (!r.ok()) return out;
    for (const auto& row : r->rows) {
      std::string id = row[0]->ToDisplay();
      if (id.rfind(prefix, 0) != 0) continue;
      std::string line;
      for (size_t i = 1; i < row.size(); ++i) {
        line += (i > 1 ? "|" : "") + (row[i] ? row[i]->ToDisplay() : std::string("null"));
      }
      out[id] = line;
    }
    return out;
  }

  static ToolTestCluster* cluster_;
  static Client* client_;
  std::string dir_;
};

ToolTestCluster* KvloadTest::cluster_ = nullptr;
Client* KvloadTest::client_ = nullptr;

constexpr char kJsonl[] =
    R"({"doc_id":"j1","lang":"en","score":0.91,"shard":3,"bands":["b0:aa","b1:bb"],"quality":{"words":812,"symbol_ratio":0.02}})"
    "\n"
    R"({"doc_id":"j2","lang":"de","score":0.5,"shard":"seven"})"  // line 2: wrong type
    "\n"
    R"({"doc_id":"j3","lang":"fr","score":1,"updated":"2026-11-24 10:00:00"})"
    "\n"
    R"({"lang":"en","score":0.3})"  // line 4: no key
    "\n"
    "\n"  // line 5: blank, skipped
    R"({"doc_id":"j4","lang": )"  // line 6: malformed
    "\n"
    R"({"doc_id":"j5","colour":"red"})"  // line 7: unknown column
    "\n"
    R"({"doc_id":"j6","lang":null,"bands":[]})"
    "\n";

TEST_F(KvloadTest, JsonlLoadsGoodRowsAndReportsBadOnesWithLineNumbers) {
  std::string file = Write("docs.jsonl", kJsonl);
  std::string errors = dir_ + "/docs.errors.jsonl";
  auto r = Kvload({"--host", cluster_->hosts(), "-k", "ld", "-t", "docs", "--errors", errors,
                   "--batch-size", "2", "--concurrency", "2", file});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("loaded 3 rows, 4 bad rows (see " + errors + ")"), std::string::npos)
      << r.out;

  auto entries = ErrorEntries(errors);
  ASSERT_EQ(entries.size(), 4u);
  std::map<int, std::string> reasons;
  for (const auto& e : entries) {
    EXPECT_EQ(e["file"], file);
    reasons[e["line"].get<int>()] = e["reason"].get<std::string>();
  }
  EXPECT_NE(reasons[2].find("shard"), std::string::npos) << reasons[2];
  EXPECT_EQ(reasons[4], "missing key column 'doc_id'");
  EXPECT_EQ(reasons[6], "malformed JSON");
  EXPECT_EQ(reasons[7], "unknown column 'colour'");
  EXPECT_EQ(entries[0]["row"].is_object() || entries[0]["row"].is_string(), true);

  auto table = Table("j");
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table["j1"], "en|0.91|3|['b0:aa', 'b1:bb']|{'symbol_ratio': 0.02, 'words': 812}");
  EXPECT_EQ(table["j3"], "fr|1|null|null|null");
  EXPECT_EQ(table["j6"], "null|null|null|null|null");

  // Idempotent: the same file again gives the same table and the same report.
  auto again = Kvload({"--host", cluster_->hosts(), "-k", "ld", "-t", "docs", "--errors", errors,
                       "--batch-size", "3", file});
  EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
  EXPECT_NE(again.out.find("loaded 3 rows, 4 bad rows"), std::string::npos) << again.out;
  EXPECT_EQ(ErrorEntries(errors).size(), 4u);  // replaced, not appended to
  EXPECT_EQ(Table("j"), table);

  // --ignore-unknown takes j5 without its unknown field.
  auto lenient = Kvload({"--host", cluster_->hosts(), "-k", "ld", "-t", "docs", "--errors", errors,
                         "--ignore-unknown", "--output", "json", file});
  EXPECT_EQ(lenient.exit_code, 1) << lenient.out << lenient.err;
  auto summary = nlohmann::json::parse(lenient.out);
  EXPECT_EQ(summary["rows_loaded"], 4);
  EXPECT_EQ(summary["rows_bad"], 3);
  EXPECT_EQ(Table("j").count("j5"), 1u);
}

TEST_F(KvloadTest, CsvWithQuotedFieldsCollectionsAndBadRows) {
  std::string file = Write("rows.csv",
                           "doc_id,lang,score,shard,bands,quality\n"
                           "c1,en,0.75,1,\"['x', 'y']\",\"{'words': 100.0}\"\n"
                           "c2,\"de, at\",0.5,,,\n"
                           "c3,en,high,2,,\n"            // line 4: wrong type
                           ",en,0.1,2,,\n"               // line 5: no key
                           "c4,\"multi\nline\",0.2,4,,\n"  // lines 6-7: one record
                           "c5,en,0.3\n");               // line 8: too few fields
  std::string errors = dir_ + "/rows.errors.jsonl";
  auto r = Kvload({"--host", cluster_->hosts(), "-k", "ld", "-t", "docs", "--errors", errors, file});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("loaded 3 rows, 3 bad rows"), std::string::npos) << r.out;
  std::set<int> lines;
  for (const auto& e : ErrorEntries(errors)) lines.insert(e["line"].get<int>());
  EXPECT_EQ(lines, (std::set<int>{4, 5, 8}));
  auto table = Table("c");
  EXPECT_EQ(table["c1"], "en|0.75|1|['x', 'y']|{'words': 100}");
  EXPECT_EQ(table["c2"], "de, at|0.5|null|null|null");
  EXPECT_EQ(table["c4"], "multi\nline|0.2|4|null|null");
  EXPECT_EQ(table.size(), 3u);

  // Only good rows: exit 0 and no error file left behind.
  std::string good = Write("good.csv", "doc_id,lang\nc9,en\n");
  auto ok = Kvload({"--host", cluster_->hosts(), "-k", "ld", "-t", "docs", "--errors", errors, good});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("loaded 1 rows, 0 bad rows"), std::string::npos) << ok.out;
  EXPECT_FALSE(std::filesystem::exists(errors));
}

TEST_F(KvloadTest, UsageErrorsExitTwo) {
  std::string file = Write("x.jsonl", "{\"doc_id\":\"u1\"}\n");
  std::string hosts = cluster_->hosts();
  struct Case {
    std::vector<std::string> args;
    std::string says;
  } cases[] = {
      {{"--host", hosts, "-k", "ld", "-t", "docs"}, "files"},
      {{"--host", hosts, "-t", "docs", file}, "keyspace"},
      {{"--host", hosts, "-k", "ld", "-t", "docs", "--concurrency", "0", file}, "--concurrency"},
      {{"--host", hosts, "-k", "ld", "-t", "nosuch", file}, "nosuch"},
      {{"--host", hosts, "-k", "ld", "-t", "docs", Write("x.txt", "")}, "--format"},
      {{"--host", hosts, "-k", "ld", "-t", "docs", dir_ + "/missing.jsonl"}, "missing.jsonl"},
      {{"--host", hosts, "-k", "ld", "-t", "docs", Write("h.csv", "lang\nen\n")}, "doc_id"},
  };
  for (const auto& c : cases) {
    auto r = Kvload(c.args);
    EXPECT_EQ(r.exit_code, 2) << fmt::format("{}", fmt::join(c.args, " ")) << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
}

TEST_F(KvloadTest, NoClusterIsExitThreeWithAClearMessage) {
  std::string file = Write("d.jsonl", "{\"doc_id\":\"x1\"}\n");
  // A port nothing listens on: node 1's port plus 3 would be a neighbour's; a port below 1024
  // that a test cannot own is safest.
  auto r = Kvload({"--host", "127.0.0.1:9", "-k", "ld", "-t", "docs", "--timeout-ms", "1500",
                   "--retries", "1", file});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("cluster"), std::string::npos) << r.err;
}

TEST_F(KvloadTest, QuorumLostMidLoadIsExitThreeWithRowsInTheErrorFile) {
  std::string contents;
  for (int i = 0; i < 400; ++i) contents += fmt::format("{{\"doc_id\":\"q{}\",\"shard\":{}}}\n", i, i);
  std::string file = Write("q.jsonl", contents);
  std::string errors = dir_ + "/q.errors.jsonl";
  // The load runs at 100 rows/s; once its first rows are in, two of the three nodes die, so
  // every later write fails UNAVAILABLE at QUORUM.
  CommandResult r;
  std::thread load([&] {
    r = Kvload({"--host", cluster_->node(0).address(), "-k", "ld", "-t", "docs", "--errors",
                errors, "--retries", "1", "--timeout-ms", "2000", "--batch-size", "10", "--rate",
                "100", file});
  });
  cql::Session session(*client_);
  bool started = ringkv::testing::PollUntil(std::chrono::milliseconds(20'000), [&] {
    auto got = session.Execute("SELECT doc_id FROM ld.docs WHERE doc_id = 'q0'");
    return got.ok() && !got->rows.empty();
  });
  cluster_->node(1).Kill();
  cluster_->node(2).Kill();
  load.join();
  EXPECT_TRUE(started);
  ASSERT_TRUE(cluster_->node(1).Start().ok());
  ASSERT_TRUE(cluster_->node(2).Start().ok());
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("kvload: error: the cluster failed"), std::string::npos) << r.err;
  auto entries = ErrorEntries(errors);
  EXPECT_GE(entries.size(), 50u);  // at least the batch that failed
  for (const auto& e : entries) {
    EXPECT_EQ(e["reason"].get<std::string>().rfind("not loaded", 0), 0u) << e.dump();
  }
  EXPECT_NE(r.out.find("rows not loaded (see " + errors + ")"), std::string::npos) << r.out;
  EXPECT_TRUE(cluster_->WaitFormed()) << cluster_->Logs();
}

}  // namespace
}  // namespace ringkv::kvload
