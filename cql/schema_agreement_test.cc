// SchemaDisagreement: when the members a contact point sees agree on a schema holding a keyspace.
// (AwaitSchemaAgreement against real nodes: session_test's CreatedKeyspaceIsWritableThroughEvery
// NodeAtOnce.)
#include "cql/schema_agreement.h"

#include <gtest/gtest.h>

namespace ringkv::cql {
namespace {

RingInfo Ring(const std::string& self, std::vector<std::pair<std::string, bool>> members,
              std::vector<std::string> keyspaces) {
  RingInfo ring;
  ring.self = self;
  for (const auto& [name, up] : members) {
    RingMemberInfo m;
    m.name = name;
    m.address = "127.0.0.1:" + std::to_string(7000 + (name.back() - '0'));
    m.up = up;
    ring.members.push_back(m);
  }
  for (const auto& k : keyspaces) ring.keyspaces.push_back(KeyspaceInfo{k, 3});
  return ring;
}

Expected<NodeInfo> Version(const std::string& v) {
  NodeInfo info;
  info.schema_version = v;
  return info;
}

TEST(SchemaAgreementTest, AgreeWhenEveryUpMemberHasTheContactPointsVersion) {
  const RingInfo ring = Ring("n1", {{"n1", true}, {"n2", true}, {"n3", true}}, {"default", "ks"});
  std::map<std::string, Expected<NodeInfo>> infos;
  infos.emplace("n1", Version("aa"));
  infos.emplace("n2", Version("aa"));
  infos.emplace("n3", Version("aa"));
  EXPECT_TRUE(SchemaDisagreement(ring, infos, "ks").empty());
}

TEST(SchemaAgreementTest, NamesTheMembersThatLagOrDoNotAnswer) {
  const RingInfo ring = Ring("n1", {{"n1", true}, {"n2", true}, {"n3", true}}, {"default", "ks"});
  std::map<std::string, Expected<NodeInfo>> infos;
  infos.emplace("n1", Version("aa"));
  infos.emplace("n2", Version("bb"));
  infos.emplace("n3", Error(ErrorCode::kDisconnected, "connection refused"));
  const auto lines = SchemaDisagreement(ring, infos, "ks");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "n2 (127.0.0.1:7002) has schema version bb, the contact point n1 has aa");
  EXPECT_NE(lines[1].find("n3 (127.0.0.1:7003) did not answer"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("connection refused"), std::string::npos) << lines[1];
}

TEST(SchemaAgreementTest, MembersTheContactPointSeesDownAreNotWaitedFor) {
  const RingInfo ring = Ring("n1", {{"n1", true}, {"n2", true}, {"n3", false}}, {"ks"});
  const auto asked = MembersToAsk(ring);
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0]->name, "n1");
  EXPECT_EQ(asked[1]->name, "n2");
  std::map<std::string, Expected<NodeInfo>> infos;
  infos.emplace("n1", Version("aa"));
  infos.emplace("n2", Version("aa"));
  EXPECT_TRUE(SchemaDisagreement(ring, infos, "ks").empty());
  // The contact point is asked even if its ring does not mark it up.
  const RingInfo self_down = Ring("n1", {{"n1", false}, {"n2", true}}, {"ks"});
  EXPECT_EQ(MembersToAsk(self_down).size(), 2u);
  // Nor is a member that left the cluster, though its entry may still say it is up.
  RingInfo one_left = Ring("n1", {{"n1", true}, {"n2", true}, {"n3", true}}, {"ks"});
  one_left.members[2].status = "LEFT";
  ASSERT_EQ(MembersToAsk(one_left).size(), 2u);
  EXPECT_EQ(MembersToAsk(one_left)[1]->name, "n2");
}

TEST(SchemaAgreementTest, TheContactPointMustHoldTheKeyspaceAndAnswer) {
  const RingInfo without = Ring("n1", {{"n1", true}, {"n2", true}}, {"default"});
  std::map<std::string, Expected<NodeInfo>> infos;
  infos.emplace("n1", Version("aa"));
  infos.emplace("n2", Version("aa"));
  auto lines = SchemaDisagreement(without, infos, "ks");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "n1 (the contact point) does not hold the keyspace");

  const RingInfo with = Ring("n1", {{"n1", true}, {"n2", true}}, {"ks"});
  std::map<std::string, Expected<NodeInfo>> silent;
  silent.emplace("n1", Error(ErrorCode::kTimeout, "no answer"));
  silent.emplace("n2", Version("aa"));
  lines = SchemaDisagreement(with, silent, "ks");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "n1 (the contact point) did not report its schema version");
}

}  // namespace
}  // namespace ringkv::cql
