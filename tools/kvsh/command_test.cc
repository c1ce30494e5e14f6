#include "tools/kvsh/command.h"

#include <gtest/gtest.h>

namespace ringkv::kvsh {
namespace {

TEST(CommandTest, CqlIsNotACommand) {
  EXPECT_FALSE(ParseCommand("SELECT * FROM t;").is_command);
  EXPECT_FALSE(ParseCommand("  insert into t (a) values (1)").is_command);
  EXPECT_FALSE(ParseCommand("").is_command);
}

TEST(CommandTest, Consistency) {
  auto show = ParseCommand("consistency;");
  ASSERT_TRUE(show.command);
  EXPECT_EQ(show.command->kind, CommandKind::kConsistency);
  EXPECT_FALSE(show.command->level);
  auto set = ParseCommand("CONSISTENCY quorum");
  ASSERT_TRUE(set.command);
  EXPECT_EQ(*set.command->level, Consistency::kQuorum);
  auto bad = ParseCommand("CONSISTENCY SOME");
  EXPECT_TRUE(bad.is_command);
  EXPECT_FALSE(bad.command);
  EXPECT_EQ(bad.error.message, "Improper CONSISTENCY command.");
}

TEST(CommandTest, Toggles) {
  EXPECT_EQ(ParseCommand("TRACING ON").command->toggle, Toggle::kOn);
  EXPECT_EQ(ParseCommand("tracing off;").command->toggle, Toggle::kOff);
  EXPECT_EQ(ParseCommand("EXPAND").command->toggle, Toggle::kShow);
  auto paging = ParseCommand("PAGING 25");
  ASSERT_TRUE(paging.command);
  EXPECT_EQ(paging.command->page_size, 25u);
  EXPECT_FALSE(ParseCommand("PAGING 0").command);
  EXPECT_FALSE(ParseCommand("TRACING maybe").command);
}

TEST(CommandTest, Sloppy) {
  auto show = ParseCommand("SLOPPY;");
  ASSERT_TRUE(show.command);
  EXPECT_EQ(show.command->kind, CommandKind::kSloppy);
  EXPECT_FALSE(show.command->quorum);
  EXPECT_EQ(*ParseCommand("sloppy on").command->quorum, Quorum::kSloppy);
  EXPECT_EQ(*ParseCommand("SLOPPY OFF").command->quorum, Quorum::kStrict);
  EXPECT_EQ(*ParseCommand("SLOPPY default").command->quorum, Quorum::kDefault);
  auto bad = ParseCommand("SLOPPY MAYBE");
  EXPECT_TRUE(bad.is_command);
  EXPECT_FALSE(bad.command);
  EXPECT_EQ(bad.error.message, "Improper SLOPPY command: SLOPPY [ON | OFF | DEFAULT]");
}

TEST(CommandTest, Describe) {
  EXPECT_EQ(ParseCommand("DESCRIBE KEYSPACES").command->describe, DescribeWhat::kKeyspaces);
  EXPECT_EQ(ParseCommand("desc tables;").command->describe, DescribeWhat::kTables);
  auto ks = ParseCommand("DESCRIBE KEYSPACE Pipeline");
  EXPECT_EQ(ks.command->keyspace, "pipeline");
  auto t = ParseCommand("DESCRIBE TABLE p.\"Docs\"");
  ASSERT_TRUE(t.command);
  EXPECT_EQ(t.command->keyspace, "p");
  EXPECT_EQ(t.command->name, "Docs");
  EXPECT_FALSE(ParseCommand("DESCRIBE nonsense").command);
}

TEST(CommandTest, SourceHelpExit) {
  EXPECT_EQ(ParseCommand("SOURCE '/tmp/x.cql'").command->file, "/tmp/x.cql");
  EXPECT_FALSE(ParseCommand("SOURCE /tmp/x.cql").command);
  EXPECT_EQ(ParseCommand("help copy").command->topic, "COPY");
  EXPECT_EQ(ParseCommand("quit;").command->kind, CommandKind::kExit);
  EXPECT_EQ(ParseCommand("EXIT").command->kind, CommandKind::kExit);
}

TEST(CommandTest, Copy) {
  auto c = ParseCommand(
      "COPY ks.docs (doc_id, lang) TO '/tmp/d.csv' WITH HEADER = true AND DELIMITER = '|' "
      "AND PAGESIZE = 50;");
  ASSERT_TRUE(c.command) << c.error.message;
  const CopySpec& s = c.command->copy;
  EXPECT_EQ(s.keyspace, "ks");
  EXPECT_EQ(s.table, "docs");
  EXPECT_EQ(s.columns, (std::vector<std::string>{"doc_id", "lang"}));
  EXPECT_TRUE(s.to);
  EXPECT_EQ(s.file, "/tmp/d.csv");
  ASSERT_EQ(s.options.size(), 3u);
  EXPECT_EQ(s.options[0], (std::pair<std::string, std::string>{"HEADER", "true"}));
  EXPECT_EQ(s.options[1].second, "|");
  auto from = ParseCommand("copy docs from 'in.csv'");
  ASSERT_TRUE(from.command);
  EXPECT_FALSE(from.command->copy.to);
  EXPECT_TRUE(from.command->copy.keyspace.empty());
  EXPECT_FALSE(ParseCommand("COPY docs TO /tmp/x").command);
  EXPECT_FALSE(ParseCommand("COPY docs SIDEWAYS 'x'").command);
}

}  // namespace
}  // namespace ringkv::kvsh
