// kvsh end to end: the real binary against a real three-node cluster (127.0.0.1, --seeds naming
// all three), through -e, -f, piped stdin, COPY TO / FROM, DESCRIBE, errors and their exit codes,
// and interactively in tmux on a private server socket (prompts, continuation, history, tab
// completion, Ctrl-C, TRACING, PAGING's ---MORE---, EXIT).
//
// One cluster for the whole suite: starting three nodes costs more than all the tests.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "node/testing/node_process.h"
#include "node/testing/test_cluster.h"
#include "ringkv/client.h"
#include "tools/kvsh/csv.h"

namespace ringkv::testing {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kScreenTimeout{15'000};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// The CSV records of an export, sorted, for comparing two tables' contents.
std::vector<std::string> SortedRecords(const std::string& csv) {
  std::istringstream in(csv);
  kvsh::CsvReader reader(in, {});
  std::vector<kvsh::CsvField> fields;
  std::vector<std::string> out;
  while (reader.Next(&fields) == kvsh::CsvReader::Status::kRecord) {
    std::string record;
    for (const auto& f : fields) record += (f.quoted ? "q:" : "u:") + f.text + "\x1f";
    out.push_back(record);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The suite's cluster: node/testing's TestCluster (three nodes, formed when Start returns) and
// the directory the tests write their files to.
class Cluster {
 public:
  explicit Cluster(std::string dir) : dir_(std::move(dir)), cluster_(Options(dir_)) {}

  Status Start() { return cluster_.Start(); }
  bool WaitFormed() { return cluster_.WaitFormed(); }
  std::string address(size_t i) { return cluster_.node(i).address(); }
  std::string Logs() const { return cluster_.Logs(); }
  const std::string& dir() const { return dir_; }

 private:
  static TestClusterOptions Options(const std::string& dir) {
    TestClusterOptions options;
    options.nodes = 3;
    options.dir = dir;
    return options;
  }

  std::string dir_;
  TestCluster cluster_;
};

class KvshE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster(TempDir("kvsh"));
    std::filesystem::create_directories(cluster_->dir());
    Status s = cluster_->Start();
    if (!s.ok()) {
      setup_error_ = s.ToString() + cluster_->Logs();
      return;
    }
    if (!cluster_->WaitFormed()) {
      setup_error_ = "the cluster did not form" + cluster_->Logs();
      return;
    }
    // Schema and data every test may use.
    CommandResult r = Kvsh(
        {"-e",
         "CREATE KEYSPACE IF NOT EXISTS p WITH replication = {'class': 'SimpleStrategy', "
         "'replication_factor': 3};"
         "CREATE TABLE IF NOT EXISTS p.docs (doc_id text PRIMARY KEY, lang text, score double, "
         "n int, tags list<text>);"});
    if (r.exit_code != 0) setup_error_ = "schema: " + r.err + r.out;
  }
  static void TearDownTestSuite() {
    const std::string dir = cluster_->dir();
    delete cluster_;
    cluster_ = nullptr;
    if (setup_error_.empty()) std::filesystem::remove_all(dir);
  }
  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
  }

  static CommandResult Kvsh(std::vector<std::string> args, const std::string& stdin_data = "",
                            size_t node = 0) {
    std::vector<std::string> argv = {RINGKV_KVSH_PATH, cluster_->address(node), "--timeout-ms",
                                     "5000"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, stdin_data, milliseconds(60'000));
  }
  std::string Path(const std::string& name) { return cluster_->dir() + "/" + name; }

  static Cluster* cluster_;
  static std::string setup_error_;
};

Cluster* KvshE2eTest::cluster_ = nullptr;
std::string KvshE2eTest::setup_error_;

TEST_F(KvshE2eTest, StatementsAndShellCommandsWithExecute) {
  CommandResult w = Kvsh({"-k", "p", "-e",
                          "INSERT INTO docs (doc_id, lang, score, n) VALUES ('d1', 'en', 0.5, 7);"
                          "INSERT INTO docs (doc_id, lang) VALUES ('d2', 'fr');"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(w.out, "");  // statements without rows print nothing

  CommandResult r = Kvsh({"-e", "SELECT doc_id, lang, score, n FROM p.docs WHERE doc_id = 'd1';"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(" doc_id | lang | score | n "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" d1     | en   |   0.5 | 7 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(1 rows)"), std::string::npos) << r.out;

  CommandResult nulls = Kvsh({"-e", "SELECT doc_id, score FROM p.docs WHERE doc_id = 'd2';"});
  EXPECT_NE(nulls.out.find(" d2     |  null "), std::string::npos) << nulls.out;

  CommandResult c = Kvsh({"--consistency", "ONE", "-e",
                          "CONSISTENCY\nCONSISTENCY ALL\nCONSISTENCY;"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out,
            "Current consistency level is ONE.\nConsistency level set to ALL.\n"
            "Current consistency level is ALL.\n");

  CommandResult t = Kvsh({"-k", "p", "-e", "TRACING ON\nSELECT * FROM docs WHERE doc_id = 'd1';"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("Now Tracing is enabled"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("Tracing session:"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("replicas answered:"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("source_elapsed"), std::string::npos) << t.out;

  CommandResult x = Kvsh({"-k", "p", "-e",
                          "EXPAND ON\nSELECT doc_id, lang FROM docs WHERE doc_id = 'd1';"});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  EXPECT_NE(x.out.find("@ Row 1\n"), std::string::npos) << x.out;
  EXPECT_NE(x.out.find(" doc_id | d1\n"), std::string::npos) << x.out;

  CommandResult h = Kvsh({"-e", "HELP\nHELP COPY"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  EXPECT_NE(h.out.find("Documented shell commands:"), std::string::npos);
  EXPECT_NE(h.out.find("MAXBATCHSIZE"), std::string::npos);
}

TEST_F(KvshE2eTest, Describe) {
  CommandResult d = Kvsh({"-k", "p", "-e", "DESCRIBE KEYSPACES\nDESCRIBE TABLES\nDESCRIBE TABLE docs"
                                           "\nDESC KEYSPACE p"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_NE(d.out.find("p"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("docs"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("CREATE TABLE"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("CREATE KEYSPACE"), std::string::npos) << d.out;
}

TEST_F(KvshE2eTest, ErrorsPointAtTheTokenAndExitWith2) {
  CommandResult s = Kvsh({"-e", "SELECT * FORM p.docs;"});
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_EQ(s.err.rfind("SyntaxException: line 1:9 ", 0), 0u) << s.err;
  EXPECT_NE(s.err.find("\nSELECT * FORM p.docs\n         ^~~~\n"), std::string::npos) << s.err;

  CommandResult i = Kvsh({"-e", "SELECT nope FROM p.docs; SELECT * FROM p.docs;"});
  EXPECT_EQ(i.exit_code, 2);
  EXPECT_EQ(i.err.rfind("InvalidRequest: Error from server: code=2200 [Invalid query] message=\"",
                        0),
            0u)
      << i.err;
  EXPECT_EQ(i.out, "");  // -e stopped at the first error

  // -f goes on past an error and names the file and line.
  const std::string file = Path("errors.cql");
  WriteFile(file,
            "USE p;\n"
            "INSERT INTO docs (doc_id, lang) VALUES ('f1', 'de');\n"
            "SELECT * FROM docs WHERE\n  doc_id = 'f1' FORM;\n"
            "INSERT INTO docs (doc_id, lang) VALUES ('f2', 'it');\n");
  CommandResult f = Kvsh({"-f", file});
  EXPECT_EQ(f.exit_code, 2);
  EXPECT_EQ(f.err.rfind(file + ":4:SyntaxException: line 2:", 0), 0u) << f.err;
  CommandResult after = Kvsh({"-e", "SELECT lang FROM p.docs WHERE doc_id = 'f2';"});
  EXPECT_NE(after.out.find(" it "), std::string::npos) << after.out << after.err;

  CommandResult bad = Kvsh({"-e", "CONSISTENCY MOST"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "Improper CONSISTENCY command.\n");
}

TEST_F(KvshE2eTest, PipedStdinRunsWithoutPrompts) {
  CommandResult r = Kvsh({}, "USE p;\nINSERT INTO docs (doc_id, lang) VALUES ('s1', 'nl');\n"
                             "SELECT doc_id, lang FROM docs\n WHERE doc_id = 's1';\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("kvsh"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" s1     | nl   "), std::string::npos) << r.out;
  CommandResult e = Kvsh({}, "USE p;\nSELECT * FROM nothere;\n");
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_EQ(e.err.rfind("<stdin>:2:InvalidRequest", 0), 0u) << e.err;
}

TEST_F(KvshE2eTest, ConnectionErrorExits1) {
  // A port nothing listens on: 1 is privileged and never bound by the tests.
  CommandResult r = RunCommand({RINGKV_KVSH_PATH, "127.0.0.1:1", "-e", "SELECT * FROM p.docs;"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("Connection error: ('Unable to connect to any servers', {'127.0.0.1:1'", 0),
            0u)
      << r.err;
}

TEST_F(KvshE2eTest, CopyToThenFromIntoAnotherTableKeepsEveryRow) {
  std::string script =
      "USE p;\nCREATE TABLE IF NOT EXISTS src (k text PRIMARY KEY, v text, n bigint, d double, "
      "tags list<text>);\nCREATE TABLE IF NOT EXISTS dst (k text PRIMARY KEY, v text, n bigint, "
      "d double, tags list<text>);\n";
  for (int i = 0; i < 120; ++i) {
    const char* v = i % 4 == 0 ? "'plain'" : i % 4 == 1 ? "'a, comma'" : i % 4 == 2
                                                                              ? "'say \"hi\"'"
                                                                              : "'two\nlines'";
    if (i % 10 == 9) v = "null";
    script += fmt::format(
        "INSERT INTO src (k, v, n, d, tags) VALUES ('k{}', {}, {}, {}, ['x', 'it''s']);\n", i, v,
        i * 1000003LL, i / 3.0);
  }
  CommandResult fill = Kvsh({}, script);
  ASSERT_EQ(fill.exit_code, 0) << fill.err;

  const std::string out1 = Path("src.csv"), out2 = Path("dst.csv");
  CommandResult to = Kvsh({"-k", "p", "-e",
                           fmt::format("COPY src TO '{}' WITH HEADER = true AND CONCURRENCY = 3 "
                                       "AND PAGESIZE = 7;",
                                       out1)});
  ASSERT_EQ(to.exit_code, 0) << to.err;
  EXPECT_NE(to.out.find("120 rows exported to 1 files in "), std::string::npos) << to.out;

  CommandResult from = Kvsh({"-k", "p", "-e",
                             fmt::format("COPY dst FROM '{}' WITH HEADER = true AND "
                                         "MAXBATCHSIZE = 10 AND CONCURRENCY = 2;",
                                         out1)});
  ASSERT_EQ(from.exit_code, 0) << from.err;
  EXPECT_NE(from.out.find("120 rows imported from 1 files in "), std::string::npos) << from.out;
  EXPECT_NE(from.out.find("(0 skipped)."), std::string::npos) << from.out;

  CommandResult back = Kvsh({"-k", "p", "-e",
                             fmt::format("COPY dst TO '{}' WITH HEADER = true;", out2)});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  const auto a = SortedRecords(ReadFile(out1));
  const auto b = SortedRecords(ReadFile(out2));
  EXPECT_EQ(a.size(), 121u);
  EXPECT_EQ(a, b);

  // Bad rows are skipped, counted and written to ERRFILE.
  const std::string bad = Path("bad.csv"), errfile = Path("bad.err");
  WriteFile(bad, "k,n\nb1,1\nb2,notanumber\nb3,3\n");
  CommandResult partial = Kvsh({"-k", "p", "-e",
                                fmt::format("COPY dst (k, n) FROM '{}' WITH HEADER = true AND "
                                            "ERRFILE = '{}';",
                                            bad, errfile)});
  EXPECT_EQ(partial.exit_code, 0) << partial.err;
  EXPECT_NE(partial.out.find("2 rows imported from 1 files in "), std::string::npos)
      << partial.out;
  EXPECT_NE(partial.out.find("(1 skipped)."), std::string::npos) << partial.out;
  EXPECT_EQ(ReadFile(errfile), "b2,notanumber\n");
}

// ---- interactive, in tmux ----

// RunCommand spawns without a PATH search.
std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

class Tmux {
 public:
  explicit Tmux(std::string tmux)
      : tmux_(std::move(tmux)), socket_(fmt::format("kvsh-test-{}", ::getpid())) {}
  // Ends only this test's own tmux server (its private socket).
  // Its socket file outlives the server; remove it too (default socket directory only).
  ~Tmux() {
    RunCommand({tmux_, "-L", socket_, "kill-server"});
    if (std::getenv("TMUX_TMPDIR") == nullptr) {
      std::error_code ignored;
      std::filesystem::remove(fmt::format("/tmp/tmux-{}/{}", ::getuid(), socket_), ignored);
    }
  }

  bool Start(const std::string& command) {
    return RunCommand({tmux_, "-L", socket_, "-f", "/dev/null", "new-session", "-d", "-x", "160",
                       "-y", "50", "-s", "kvsh", command})
               .exit_code == 0;
  }
  void Keys(std::vector<std::string> keys) {
    std::vector<std::string> argv = {tmux_, "-L", socket_, "send-keys", "-t", "kvsh"};
    argv.insert(argv.end(), keys.begin(), keys.end());
    RunCommand(argv);
  }
  void Literal(std::string text) {
    // tmux takes an argument ending in ';' as a command separator; "\\;" is a literal ';'.
    if (!text.empty() && text.back() == ';') text.insert(text.size() - 1, "\\");
    RunCommand({tmux_, "-L", socket_, "send-keys", "-t", "kvsh", "-l", text});
  }
  // Lines as tmux shows them: trailing spaces (of a prompt, say) are not kept.
  std::string Screen() {
    return RunCommand({tmux_, "-L", socket_, "capture-pane", "-p", "-S", "-2000", "-t", "kvsh"})
        .out;
  }
  // Polls until `pred(screen)`; returns the last screen seen.
  bool WaitFor(const std::function<bool(const std::string&)>& pred, std::string* screen) {
    return PollUntil(kScreenTimeout, [&] {
      *screen = Screen();
      return pred(*screen);
    });
  }
  bool WaitForText(const std::string& text, std::string* screen, size_t count = 1) {
    return WaitFor(
        [&](const std::string& s) {
          size_t n = 0;
          for (size_t p = s.find(text); p != std::string::npos; p = s.find(text, p + 1)) ++n;
          return n >= count;
        },
        screen);
  }
  bool SessionGone() {
    return PollUntil(kScreenTimeout, [&] {
      return RunCommand({tmux_, "-L", socket_, "has-session", "-t", "kvsh"}).exit_code != 0;
    });
  }

 private:
  std::string tmux_;
  std::string socket_;
};

TEST_F(KvshE2eTest, InteractiveInTmux) {
  const std::string tmux_path = FindInPath("tmux");
  if (tmux_path.empty()) GTEST_SKIP() << "tmux is not installed";
  std::string fill = "USE p;\n";
  for (int i = 0; i < 5; ++i) {
    fill += fmt::format("INSERT INTO docs (doc_id, lang) VALUES ('page{}', 'xx');\n", i);
  }
  ASSERT_EQ(Kvsh({}, fill).exit_code, 0);

  const std::string history = Path("history");
  Tmux tmux(tmux_path);
  ASSERT_TRUE(tmux.Start(fmt::format("env KVSH_HISTORY={} TERM=xterm {} {} -k p", history,
                                     RINGKV_KVSH_PATH, cluster_->address(0))));
  std::string screen;
  ASSERT_TRUE(tmux.WaitForText("kvsh:p>", &screen)) << screen;
  EXPECT_NE(screen.find("Use HELP for help."), std::string::npos) << screen;

  // A statement over two lines: the continuation prompt, then the result.
  tmux.Literal("SELECT doc_id, lang FROM docs");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("\n   ...", &screen)) << screen;
  tmux.Literal("WHERE doc_id = 'page1';");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("(1 rows)", &screen)) << screen;

  // Up recalls the statement (as one line); Enter runs it again.
  tmux.Keys({"Up"});
  ASSERT_TRUE(tmux.WaitForText("kvsh:p> SELECT doc_id, lang FROM docs WHERE doc_id = 'page1';",
                               &screen))
      << screen;
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("(1 rows)", &screen, 2)) << screen;

  // Tab completes a table name; Ctrl-C abandons the line.
  tmux.Literal("SELECT * FROM do");
  tmux.Keys({"Tab"});
  ASSERT_TRUE(tmux.WaitForText("kvsh:p> SELECT * FROM docs\n", &screen)) << screen;
  tmux.Keys({"C-c"});
  tmux.Literal("CONSISTENCY");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("Current consistency level is QUORUM.", &screen)) << screen;

  // TRACING ON shows the trace after the rows.
  tmux.Literal("TRACING ON");
  tmux.Keys({"Enter"});
  tmux.Literal("SELECT lang FROM docs WHERE doc_id = 'page2';");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("Tracing session:", &screen)) << screen;
  tmux.Literal("TRACING OFF");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("Disabled Tracing.", &screen)) << screen;

  // PAGING 2: ---MORE--- between pages, Enter for more.
  tmux.Literal("PAGING 2");
  tmux.Keys({"Enter"});
  tmux.Literal("SELECT doc_id FROM docs;");
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("---MORE---", &screen)) << screen;
  tmux.Keys({"Enter"});
  ASSERT_TRUE(tmux.WaitForText("---MORE---", &screen, 2)) << screen;
  tmux.Keys({"C-c"});
  ASSERT_TRUE(tmux.WaitForText("(4 rows)", &screen)) << screen;

  tmux.Literal("EXIT");
  tmux.Keys({"Enter"});
  EXPECT_TRUE(tmux.SessionGone()) << tmux.Screen();
  // libedit writes its history file with strvis escapes (a space is \040): look for a word.
  EXPECT_NE(ReadFile(history).find("'page1'"), std::string::npos) << ReadFile(history);
}

}  // namespace
}  // namespace ringkv::testing
