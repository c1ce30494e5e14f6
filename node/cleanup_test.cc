// Cleanup (`kvctl cleanup`): it erases exactly the copies of keys the node no longer replicates,
// takes a new actor before the first erasure, refuses to run while the ring is in motion or a
// member is down, and stops when a movement starts under it.
#include "node/cleanup.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <set>

#include "common/clock.h"
#include "node/manual_timers.h"
#include "node/random_member.h"
#include "storage/memory_storage.h"

namespace ringkv {
namespace {

using gossip::MemberStatus;

class CleanupTest : public ::testing::Test {
 protected:
  CleanupTest()
      : view_(RandomMember("n1")),
        service_(&storage_, &clock_, /*actor=*/1, {}, &keyspaces_),
        log_("n1", LogLevel::kWarn, &clock_),
        cleanup_(&view_, &service_, &keyspaces_, &timers_, &clock_, &log_, [this] {
          ++renewals_;
          stored_at_renewal_ = Stored().size();
          service_.set_actor(service_.actor() + 1);
          return Status::Ok();
        }) {
    for (const char* name : {"n2", "n3", "n4"}) EXPECT_TRUE(view_.Learn(RandomMember(name)).ok());
  }

  void Write(size_t keys) {
    for (size_t i = 0; i < keys; ++i) {
      service_.Put("", fmt::format("doc-{:05d}", i), "v", "", 0,
                   [](Result<WriteReply> r) { ASSERT_TRUE(r.ok()); });
    }
    storage_.RunCompletions();
  }
  std::set<std::string> Stored() {
    std::set<std::string> keys;
    EXPECT_TRUE(storage_
                    .Scan(kDefaultKeyspace, std::numeric_limits<Token>::min(),
                          std::numeric_limits<Token>::max(),
                          [&](std::string_view key, Token, const VersionedObject&) {
                            keys.emplace(key);
                            return true;
                          })
                    .ok());
    return keys;
  }
  bool Owns(const std::string& key) {
    auto owners = view_.PreferenceList(TokenOf(key), kDefaultReplicationFactor);
    return std::find(owners.begin(), owners.end(), "n1") != owners.end();
  }
  // Runs pages until the cleanup ends (bounded).
  void RunToEnd() {
    for (int i = 0; i < 1000 && cleanup_.running(); ++i) {
      storage_.RunCompletions();
      timers_.FireAll();
    }
  }

  ManualClock clock_;
  MemoryStorage storage_;
  KeyspaceCatalog keyspaces_;
  ClusterView view_;
  KvService service_;
  ManualTimers timers_;
  Logger log_;
  Cleanup cleanup_;
  int renewals_ = 0;
  size_t stored_at_renewal_ = 0;
};

TEST_F(CleanupTest, ErasesExactlyTheKeysTheNodeDoesNotReplicate) {
  Write(2500);  // more than two pages
  const auto before = Stored();
  size_t owned = 0;
  for (const auto& k : before) owned += Owns(k) ? 1 : 0;
  ASSERT_GT(owned, 0u);
  ASSERT_LT(owned, before.size()) << "with 4 nodes and N=3, n1 owns about 3/4";
  ASSERT_TRUE(cleanup_.Start("").ok());
  RunToEnd();
  EXPECT_EQ(cleanup_.progress().state, "done");
  const auto after = Stored();
  EXPECT_EQ(after.size(), owned);
  for (const auto& k : after) EXPECT_TRUE(Owns(k)) << k;
  EXPECT_EQ(cleanup_.progress().keys, before.size() - owned);
  EXPECT_GT(cleanup_.progress().bytes, 0u);
  EXPECT_EQ(cleanup_.examined(), before.size());
  EXPECT_EQ(renewals_, 1);
  EXPECT_EQ(stored_at_renewal_, before.size()) << "a new actor before the first erasure";
  // Table figures follow the erasures.
  int64_t keys = 0;
  for (const auto& row : service_.table_stats().Rows()) keys += row.figures.keys;
  EXPECT_EQ(keys, static_cast<int64_t>(owned));
  // A second run finds nothing more to erase.
  ASSERT_TRUE(cleanup_.Start(std::string(kDefaultKeyspace)).ok());
  RunToEnd();
  EXPECT_EQ(cleanup_.progress().keys, 0u);
  EXPECT_EQ(Stored().size(), owned);
}

TEST_F(CleanupTest, RefusedWhileAMemberJoins) {
  Write(500);
  // n5 joins: n1 loses some ranges to it. Erasing now could race the movement's own copies.
  ASSERT_TRUE(view_.Learn(RandomMember("n5", MemberStatus::kJoining)).ok());
  const Status s = cleanup_.Start("");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("n5 is JOINING"), std::string::npos) << s.ToString();
  EXPECT_EQ(renewals_, 0);
  EXPECT_EQ(Stored().size(), 500u);
}

TEST_F(CleanupTest, RefusesWhileAMemberIsDownOrTheRingUnsettledOrTheKeyspaceUnknown) {
  Write(100);
  view_.SetAlive("n3", false);
  Status s = cleanup_.Start("");
  EXPECT_NE(s.message().find("n3 is down"), std::string::npos) << s.ToString();
  view_.SetAlive("n3", true);
  view_.set_settled(false);
  s = cleanup_.Start("");
  EXPECT_NE(s.message().find("not ready"), std::string::npos) << s.ToString();
  view_.set_settled(true);
  s = cleanup_.Start("no_such_keyspace");
  EXPECT_NE(s.message().find("no_such_keyspace"), std::string::npos) << s.ToString();
  EXPECT_EQ(renewals_, 0);
  EXPECT_EQ(Stored().size(), 100u);
}

TEST_F(CleanupTest, AMovementThatStartsUnderItStopsIt) {
  Write(2500);
  ASSERT_TRUE(cleanup_.Start("").ok());
  storage_.RunCompletions();  // the first page's erasures
  const size_t after_first_page = Stored().size();
  ASSERT_LT(after_first_page, 2500u);
  ASSERT_TRUE(view_.Learn(RandomMember("n2", MemberStatus::kLeaving)).ok());
  RunToEnd();
  EXPECT_FALSE(cleanup_.running());
  EXPECT_NE(cleanup_.progress().state.find("stopped: "), std::string::npos)
      << cleanup_.progress().state;
  EXPECT_EQ(Stored().size(), after_first_page) << "nothing erased after the movement started";
}

TEST_F(CleanupTest, AKeyWithAWriteInFlightIsKept) {
  Write(300);
  std::string busy;
  for (const auto& k : Stored()) {
    if (!Owns(k)) busy = k;
  }
  ASSERT_FALSE(busy.empty());
  service_.Put("", busy, "newer", "", 0, [](Result<WriteReply>) {});  // waits for its fsync
  ASSERT_TRUE(cleanup_.Start("").ok());
  RunToEnd();
  EXPECT_EQ(Stored().count(busy), 1u);
  for (const auto& k : Stored()) EXPECT_TRUE(Owns(k) || k == busy) << k;
}

}  // namespace
}  // namespace ringkv
