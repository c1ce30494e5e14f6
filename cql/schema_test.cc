#include "cql/schema.h"

#include <gtest/gtest.h>

#include "cql/keys.h"
#include "cql/parser.h"

namespace ringkv::cql {
namespace {

TableSchema Parse(const char* create) {
  auto parsed = ParseStatement(create);
  EXPECT_TRUE(parsed.ok()) << parsed.error().ToString();
  return TableFromCreate(std::get<CreateTableStmt>(parsed->statement), "ks");
}

TEST(Schema, TableFromCreateOrdersKeysThenColumnsByName) {
  TableSchema t = Parse(
      "CREATE TABLE events (zeta text, doc_id text, seq int, alpha map<text, int>, "
      "PRIMARY KEY (doc_id, seq)) WITH CLUSTERING ORDER BY (seq DESC) AND conflict_mode = "
      "'siblings' AND default_time_to_live = 60");
  ASSERT_EQ(t.columns.size(), 4u);
  EXPECT_EQ(t.columns[0].name, "doc_id");
  EXPECT_EQ(t.columns[1].name, "seq");
  EXPECT_TRUE(t.columns[1].descending);
  EXPECT_EQ(t.columns[2].name, "alpha");
  EXPECT_EQ(t.columns[3].name, "zeta");
  EXPECT_EQ(t.partition_key_count, 1u);
  EXPECT_EQ(t.clustering_count, 1u);
  EXPECT_EQ(t.conflict_mode, ConflictMode::kSiblings);
  EXPECT_EQ(t.default_time_to_live_s, 60);

  auto back = TableSchema::FromJson(t.ToJson());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->ToJson(), t.ToJson());
  EXPECT_EQ(back->Describe(), t.Describe());
  EXPECT_NE(t.Describe().find("PRIMARY KEY (doc_id, seq)"), std::string::npos) << t.Describe();
  EXPECT_NE(t.Describe().find("CLUSTERING ORDER BY (seq DESC)"), std::string::npos);
  EXPECT_FALSE(TableSchema::FromJson("{}").has_value());
  EXPECT_FALSE(TableSchema::FromJson("not json").has_value());
}

TEST(Schema, DescribeReparses) {
  TableSchema t = Parse("CREATE TABLE docs (doc_id text PRIMARY KEY, score double)");
  auto again = ParseStatement(t.Describe());
  ASSERT_TRUE(again.ok()) << t.Describe() << "\n" << again.error().ToString();
  KeyspaceSchema k{"ks", "NetworkTopologyStrategy", 3, {{"dc1", "3"}}, true, true};
  auto ks = KeyspaceSchema::FromJson(k.ToJson());
  ASSERT_TRUE(ks.has_value());
  EXPECT_EQ(ks->Describe(), k.Describe());
  EXPECT_TRUE(ParseStatement(k.Describe()).ok()) << k.Describe();
  EXPECT_NE(k.Describe().find("AND sloppy_quorum = true"), std::string::npos) << k.Describe();
  EXPECT_FALSE(KeyspaceSchema::FromJson(R"({"name": "old", "replication": {"class":
      "SimpleStrategy", "replication_factor": 1}})")->sloppy_quorum);
}

TEST(Keys, RowKeysOrderAsTheClusteringOrder) {
  TableSchema t = Parse(
      "CREATE TABLE t (p text, a int, b text, v int, PRIMARY KEY (p, a, b)) "
      "WITH CLUSTERING ORDER BY (a DESC, b ASC)");
  const std::string k1 = RowKey(t, {Value::Int(5), Value::Text("x")});
  const std::string k2 = RowKey(t, {Value::Int(5), Value::Text("y")});
  const std::string k3 = RowKey(t, {Value::Int(-3), Value::Text("a")});
  EXPECT_LT(k1, k2);  // b ascending
  EXPECT_LT(k2, k3);  // a descending
  std::vector<Value> back;
  ASSERT_TRUE(DecodeRowKey(t, k3, &back));
  EXPECT_EQ(back[0], Value::Int(-3));
  EXPECT_EQ(back[1], Value::Text("a"));
  const std::string sk = StorageKey(t, {Value::Text("d\0x")});
  ASSERT_TRUE(DecodeStorageKey(t, sk, &back));
  EXPECT_EQ(back[0], Value::Text("d\0x"));
  EXPECT_EQ(sk.rfind(TableKeyPrefix("t"), 0), 0u);
  EXPECT_FALSE(DecodeStorageKey(t, "u" + sk.substr(1), &back));
}

}  // namespace
}  // namespace ringkv::cql
