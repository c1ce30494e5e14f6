#include "tools/kvsh/shell.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tools/kvsh/fake_backend.h"

namespace ringkv::kvsh {
namespace {

cql::ResultSet Rows(int first, int count) {
  cql::ResultSet r;
  r.columns = {{"k", cql::Type::Scalar(cql::Kind::kInt)},
               {"v", cql::Type::Scalar(cql::Kind::kText)}};
  for (int i = first; i < first + count; ++i) {
    r.rows.push_back({cql::Value::Int(i), std::nullopt});
  }
  return r;
}

class ShellTest : public ::testing::Test {
 protected:
  Shell MakeShell(bool interactive) {
    ShellOptions options;
    options.interactive = interactive;
    options.now_ms = [] { return int64_t{0}; };
    return Shell(backend_, options, out_, err_);
  }
  FakeBackend backend_;
  std::ostringstream out_, err_;
};

TEST_F(ShellTest, ScriptPrintsTableAndRowCount) {
  backend_.answers["SELECT * FROM t"] = {Rows(1, 2)};
  Shell shell = MakeShell(false);
  EXPECT_EQ(shell.RunScript("SELECT * FROM t;", ""), 0);
  EXPECT_EQ(out_.str(),
            "\n k | v    \n---+------\n 1 | null \n 2 | null \n\n(2 rows)\n");
}

TEST_F(ShellTest, ScriptFetchesEveryPage) {
  backend_.answers["SELECT * FROM t"] = {Rows(1, 2), Rows(3, 1)};
  Shell shell = MakeShell(false);
  EXPECT_EQ(shell.RunScript("SELECT * FROM t;", ""), 0);
  EXPECT_NE(out_.str().find("(3 rows)"), std::string::npos) << out_.str();
}

TEST_F(ShellTest, StatementWithoutRowsPrintsNothing) {
  Shell shell = MakeShell(false);
  EXPECT_EQ(shell.RunScript("INSERT INTO t (k) VALUES (1);", ""), 0);
  EXPECT_EQ(out_.str(), "");
}

TEST_F(ShellTest, ExecuteStopsAtFirstErrorWithExitCode2) {
  backend_.answers["SELECT * FORM t"] = {
      cql::CqlError{cql::ErrorKind::kSyntax, "no viable alternative at input 'FORM'", 1, 10,
                    "FORM"}};
  Shell shell = MakeShell(false);
  EXPECT_EQ(shell.RunScript("SELECT * FORM t; INSERT INTO t (k) VALUES (1);", ""), 2);
  EXPECT_EQ(err_.str(),
            "SyntaxException: line 1:9 no viable alternative at input 'FORM'\n"
            "SELECT * FORM t\n         ^~~~\n");
  ASSERT_EQ(backend_.calls.size(), 1u);  // the INSERT never ran
}

TEST_F(ShellTest, FileGoesOnPastErrorsAndNamesFileAndLine) {
  backend_.answers["SELECT x FROM t"] = {
      cql::CqlError{cql::ErrorKind::kInvalid, "Undefined column name x", 1, 8, "x"}};
  Shell shell = MakeShell(false);
  EXPECT_EQ(shell.RunScript("INSERT INTO t (k) VALUES (1);\n\nSELECT x FROM t;\nTRUNCATE t;\n",
                            "f.cql"),
            2);
  EXPECT_EQ(err_.str().rfind("f.cql:3:InvalidRequest: Error from server: code=2200", 0), 0u)
      << err_.str();
  ASSERT_EQ(backend_.calls.size(), 3u);
  EXPECT_EQ(backend_.calls[2].statement, "TRUNCATE t");
}

TEST_F(ShellTest, ShellCommandsNeedNoSemicolon) {
  Shell shell = MakeShell(false);
  EXPECT_EQ(shell.RunScript("CONSISTENCY ONE\nCONSISTENCY\nTRACING ON\nEXPAND ON;\n", "x"), 0);
  EXPECT_EQ(out_.str(),
            "Consistency level set to ONE.\nCurrent consistency level is ONE.\n"
            "Now Tracing is enabled\nNow Expanded output is enabled\n");
  EXPECT_EQ(backend_.consistency_, Consistency::kOne);
  EXPECT_TRUE(backend_.tracing_);
  EXPECT_TRUE(backend_.calls.empty());
}

TEST_F(ShellTest, ImproperCommandIsAnError) {
  Shell shell = MakeShell(false);
  EXPECT_EQ(shell.RunScript("CONSISTENCY SOME", ""), 2);
  EXPECT_EQ(err_.str(), "Improper CONSISTENCY command.\n");
}

TEST_F(ShellTest, ExpandedOutput) {
  backend_.answers["SELECT * FROM t"] = {Rows(7, 1)};
  Shell shell = MakeShell(false);
  EXPECT_EQ(shell.RunScript("EXPAND ON\nSELECT * FROM t;", ""), 0);
  EXPECT_NE(out_.str().find("\n@ Row 1\n---+------\n k | 7\n v | null\n\n(1 rows)\n"),
            std::string::npos)
      << out_.str();
}

TEST_F(ShellTest, SiblingsGetALeadingColumnAndAWarning) {
  cql::ResultSet r = Rows(1, 2);
  r.sibling_of_row = {1, 2};
  r.siblings_of_row = {2, 2};
  r.warnings = {"partition 1 has 2 siblings"};
  backend_.answers["SELECT * FROM t"] = {r};
  Shell shell = MakeShell(false);
  EXPECT_EQ(shell.RunScript("SELECT * FROM t;", ""), 0);
  const std::string s = out_.str();
  EXPECT_NE(s.find("Warnings :\npartition 1 has 2 siblings\n"), std::string::npos) << s;
  EXPECT_NE(s.find(" [sibling] | k | v    "), std::string::npos) << s;
  EXPECT_NE(s.find(" 1/2       | 1 | null "), std::string::npos) << s;
  EXPECT_NE(s.find(" 2/2       | 2 | null "), std::string::npos) << s;
}

TEST_F(ShellTest, TracingPrintsTheTraceAfterTheResult) {
  cql::ResultSet r = Rows(1, 1);
  TraceInfo t;
  t.coordinator = "n1";
  t.replicas_asked = {"n1", "n2"};
  t.replicas_answered = {"n1", "n2"};
  r.traces = {t};
  r.notes = {"merged 2 siblings"};
  backend_.answers["SELECT * FROM t"] = {r};
  backend_.tracing_ = true;
  Shell shell = MakeShell(false);
  EXPECT_EQ(shell.RunScript("SELECT * FROM t;", ""), 0);
  const std::string s = out_.str();
  EXPECT_LT(s.find("(1 rows)"), s.find("Tracing session:")) << s;
  EXPECT_NE(s.find("merged 2 siblings"), std::string::npos) << s;
}

TEST_F(ShellTest, InteractivePromptsContinuationAndHistory) {
  backend_.answers["SELECT *\nFROM t"] = {Rows(1, 1)};
  cql::ResultSet use;
  use.keyspace_changed = "ks";
  backend_.answers["USE ks"] = {use};
  ScriptedLineReader reader({"USE ks;", "SELECT *", "FROM t;", "half a", "\x03", "EXIT"});
  Shell shell = MakeShell(true);
  EXPECT_EQ(shell.RunInteractive(reader), 0);
  EXPECT_EQ(reader.prompts(), (std::vector<std::string>{"kvsh> ", "kvsh:ks> ", "   ... ",
                                                        "kvsh:ks> ", "   ... ", "kvsh:ks> "}));
  EXPECT_EQ(reader.history(),
            (std::vector<std::string>{"USE ks;", "SELECT *\nFROM t;", "EXIT"}));
  EXPECT_NE(out_.str().find("(1 rows)"), std::string::npos);
  EXPECT_TRUE(shell.exit_requested());
}

TEST_F(ShellTest, InteractivePagingAsksForMore) {
  backend_.answers["SELECT * FROM t"] = {Rows(1, 2), Rows(3, 2), Rows(5, 1)};
  ScriptedLineReader reader({"PAGING 2", "SELECT * FROM t;", "", ""});
  Shell shell = MakeShell(true);
  EXPECT_EQ(shell.RunInteractive(reader), 0);
  const auto& p = reader.prompts();
  EXPECT_EQ(std::count(p.begin(), p.end(), "---MORE---"), 2);
  ASSERT_GE(backend_.calls.size(), 3u);
  EXPECT_EQ(backend_.calls[0].options.page_size, 2u);
  EXPECT_EQ(backend_.calls[1].options.paging_state, "1");
  EXPECT_NE(out_.str().find("(5 rows)"), std::string::npos) << out_.str();
}

TEST_F(ShellTest, PagingStopsWhenTheUserLeaves) {
  backend_.answers["SELECT * FROM t"] = {Rows(1, 2), Rows(3, 2)};
  ScriptedLineReader reader({"PAGING 2", "SELECT * FROM t;"});  // then EOF at ---MORE---
  Shell shell = MakeShell(true);
  EXPECT_EQ(shell.RunInteractive(reader), 0);
  EXPECT_EQ(backend_.calls.size(), 1u);
  EXPECT_NE(out_.str().find("(2 rows)"), std::string::npos) << out_.str();
}

TEST_F(ShellTest, DescribeKeyspacesAndTables) {
  backend_.tables = {{"a", {"t1", "t2"}}, {"b", {}}};
  Shell shell = MakeShell(false);
  EXPECT_EQ(shell.RunScript("DESCRIBE KEYSPACES\nDESCRIBE TABLES\n", ""), 0);
  EXPECT_EQ(out_.str(), "\na  b\n\n\nKeyspace a\n----------\nt1  t2\n\nKeyspace b\n----------\n\n\n");
}

TEST_F(ShellTest, SourceRunsAFile) {
  const std::string path = ::testing::TempDir() + "/kvsh_source_test.cql";
  {
    std::ofstream f(path);
    f << "CONSISTENCY ALL\nINSERT INTO t (k) VALUES (1);\n";
  }
  Shell shell = MakeShell(false);
  EXPECT_EQ(shell.RunScript("SOURCE '" + path + "'", ""), 0);
  EXPECT_EQ(backend_.consistency_, Consistency::kAll);
  ASSERT_EQ(backend_.calls.size(), 1u);
  EXPECT_EQ(shell.RunScript("SOURCE '/nonexistent/x.cql'", ""), 2);
}

TEST_F(ShellTest, HelpListsTopics) {
  Shell shell = MakeShell(false);
  EXPECT_EQ(shell.RunScript("HELP\nHELP CONSISTENCY\n", ""), 0);
  EXPECT_NE(out_.str().find("Documented shell commands:"), std::string::npos);
  EXPECT_NE(out_.str().find("CONSISTENCY [ONE"), std::string::npos);
}

}  // namespace
}  // namespace ringkv::kvsh
