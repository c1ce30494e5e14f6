#include "tools/kvsh/completion.h"

#include <gtest/gtest.h>

#include "tools/kvsh/fake_backend.h"

namespace ringkv::kvsh {
namespace {

using Words = std::vector<std::string>;

class CompletionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.tables = {{"pipeline", {"docs", "dedup", "shards"}}, {"other", {"t1"}}};
    backend_.columns["pipeline.docs"] = {{"doc_id", cql::Type::Scalar(cql::Kind::kText)},
                                         {"lang", cql::Type::Scalar(cql::Kind::kText)},
                                         {"score", cql::Type::Scalar(cql::Kind::kDouble)}};
    backend_.keyspace_ = "pipeline";
  }
  Words Complete(std::string_view text) { return CompletionCandidates(text, backend_); }
  FakeBackend backend_;
};

TEST_F(CompletionTest, StatementStart) {
  EXPECT_EQ(Complete("SEL"), Words{"SELECT"});
  EXPECT_EQ(Complete("sel"), Words{"select"});
  EXPECT_EQ(Complete("CO"), (Words{"CONSISTENCY", "COPY"}));
  EXPECT_EQ(Complete("tr"), (Words{"tracing", "truncate"}));
}

TEST_F(CompletionTest, TablesAfterFromAndKeyspaceQualified) {
  EXPECT_EQ(Complete("SELECT * FROM d"), (Words{"dedup", "docs"}));
  EXPECT_EQ(Complete("INSERT INTO sh"), Words{"shards"});
  EXPECT_EQ(Complete("SELECT * FROM other.t"), Words{"other.t1"});
  EXPECT_EQ(Complete("DESCRIBE TABLE do"), Words{"docs"});
  EXPECT_EQ(Complete("COPY do"), Words{"docs"});
}

TEST_F(CompletionTest, KeyspacesAfterUse) {
  EXPECT_EQ(Complete("USE p"), Words{"pipeline"});
  EXPECT_EQ(Complete("DESCRIBE KEYSPACE o"), Words{"other"});
}

TEST_F(CompletionTest, ColumnsOnceTheTableIsNamed) {
  EXPECT_EQ(Complete("SELECT * FROM docs WHERE do"), Words{"doc_id"});
  EXPECT_EQ(Complete("INSERT INTO docs (doc_id, la"), Words{"lang"});
  EXPECT_EQ(Complete("UPDATE docs SET sc"), Words{"score"});
  // Across lines of a multi-line statement.
  EXPECT_EQ(Complete("SELECT *\nFROM docs\nWHERE l"), (Words{"lang", "limit"}));
}

TEST_F(CompletionTest, ShellCommandArguments) {
  EXPECT_EQ(Complete("CONSISTENCY Q"), Words{"QUORUM"});
  EXPECT_EQ(Complete("consistency a"), (Words{"all", "any"}));
  EXPECT_EQ(Complete("TRACING O"), (Words{"OFF", "ON"}));
  EXPECT_EQ(Complete("DESCRIBE K"), (Words{"KEYSPACE", "KEYSPACES"}));
}

TEST_F(CompletionTest, PartialWord) {
  EXPECT_EQ(PartialWord("SELECT * FROM ks.do"), "ks.do");
  EXPECT_EQ(PartialWord("SELECT "), "");
}

}  // namespace
}  // namespace ringkv::kvsh
