// KvService over MemoryStorage and a ManualClock: the single-node request semantics, with the test
// deciding when writes become durable.
#include "node/kv_service.h"

#include <gtest/gtest.h>

#include <optional>

#include "common/limits.h"
#include "storage/memory_storage.h"

namespace ringkv {
namespace {

constexpr uint64_t kActor = 0xa1;

class KvServiceTest : public ::testing::Test {
 protected:
  KvServiceTest() : service_(&storage_, &clock_, kActor) {}

  // Issues a put and lets it become durable; returns its result.
  Result<WriteReply> Put(std::string_view key, std::string_view value, std::string_view ctx = "",
                         uint32_t ttl_s = 0) {
    std::optional<Result<WriteReply>> out;
    service_.Put("", key, value, ctx, ttl_s, [&](Result<WriteReply> r) { out = std::move(r); });
    storage_.RunCompletions();
    EXPECT_TRUE(out.has_value());
    return std::move(*out);
  }
  Result<WriteReply> Del(std::string_view key, std::string_view ctx = "") {
    std::optional<Result<WriteReply>> out;
    service_.Del("", key, ctx, [&](Result<WriteReply> r) { out = std::move(r); });
    storage_.RunCompletions();
    EXPECT_TRUE(out.has_value());
    return std::move(*out);
  }
  ReadReply Get(std::string_view key) {
    std::optional<Result<ReadReply>> out;
    service_.Get("", key, [&](Result<ReadReply> r) { out = std::move(r); });
    EXPECT_TRUE(out.has_value()) << "a read of an idle key answers at once";
    EXPECT_TRUE(out->ok()) << out->status().ToString();
    return out->value();
  }
  static std::vector<std::string> Values(const ReadReply& r) {
    std::vector<std::string> v;
    for (const auto& s : r.siblings) v.push_back(s.value);
    return v;
  }

  MemoryStorage storage_;
  ManualClock clock_;
  KvService service_;
};

TEST_F(KvServiceTest, PutThenGetReturnsValueAndContext) {
  auto put = Put("doc:1", "hello");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->siblings, 1u);
  auto got = Get("doc:1");
  EXPECT_TRUE(got.found);
  EXPECT_EQ(Values(got), std::vector<std::string>{"hello"});
  EXPECT_EQ(got.siblings[0].dot, (Dot{kActor, 1}));
  EXPECT_EQ(got.siblings[0].timestamp_us, clock_.NowUs());
  EXPECT_EQ(got.context, put->context);
}

TEST_F(KvServiceTest, MissingKeyIsNotFound) {
  auto got = Get("nope");
  EXPECT_FALSE(got.found);
  EXPECT_TRUE(got.siblings.empty());
}

TEST_F(KvServiceTest, BlindWritesBecomeSiblingsAndContextCollapsesThem) {
  ASSERT_TRUE(Put("k", "a").ok());
  auto second = Put("k", "b");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->siblings, 2u);
  auto got = Get("k");
  EXPECT_EQ(Values(got), (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(Put("k", "merged", got.context).ok());
  EXPECT_EQ(Values(Get("k")), std::vector<std::string>{"merged"});
}

TEST_F(KvServiceTest, ReadWaitsForThePendingWriteOfItsKey) {
  std::optional<Result<WriteReply>> put;
  service_.Put("", "k", "v", "", 0, [&](Result<WriteReply> r) { put = std::move(r); });
  std::optional<Result<ReadReply>> read;
  service_.Get("", "k", [&](Result<ReadReply> r) { read = std::move(r); });
  bool other_answered = false;
  service_.Get("", "other", [&](Result<ReadReply>) { other_answered = true; });
  EXPECT_FALSE(put.has_value());
  EXPECT_FALSE(read.has_value()) << "a read must not see a write that is not durable";
  EXPECT_TRUE(other_answered) << "other keys are not held up";
  storage_.RunCompletions();
  ASSERT_TRUE(put.has_value() && read.has_value());
  EXPECT_EQ(Values(read->value()), std::vector<std::string>{"v"});
}

TEST_F(KvServiceTest, QueuedWritesToOneKeyApplyInOrderEachOnTheLast) {
  auto first = Put("k", "v1");
  std::vector<std::string> answered;
  // Both carry the context of v1: the second supersedes v1 too, and must not lose "v2".
  service_.Put("", "k", "v2", first->context, 0, [&](Result<WriteReply> r) {
    ASSERT_TRUE(r.ok());
    answered.push_back("v2");
  });
  service_.Put("", "k", "v3", first->context, 0, [&](Result<WriteReply> r) {
    ASSERT_TRUE(r.ok());
    answered.push_back("v3");
  });
  while (storage_.RunCompletions() > 0) {
  }
  EXPECT_EQ(answered, (std::vector<std::string>{"v2", "v3"}));
  EXPECT_EQ(Values(Get("k")), (std::vector<std::string>{"v2", "v3"}));
}

TEST_F(KvServiceTest, TtlValuesReadAsAbsentAfterExpiry) {
  ASSERT_TRUE(Put("k", "short", "", 10).ok());
  clock_.AdvanceUs(9'999'999);
  EXPECT_TRUE(Get("k").found);
  clock_.AdvanceUs(1);
  EXPECT_FALSE(Get("k").found);
}

TEST_F(KvServiceTest, BlindDeleteRemovesEverythingSeen) {
  ASSERT_TRUE(Put("k", "a").ok());
  ASSERT_TRUE(Put("k", "b").ok());
  ASSERT_TRUE(Del("k").ok());
  auto got = Get("k");
  EXPECT_FALSE(got.found);
  EXPECT_FALSE(got.context.empty()) << "a deleted key still has a causal history";
}

TEST_F(KvServiceTest, DeleteWithStaleContextKeepsTheWriteItDidNotSee) {
  auto seen = Put("k", "a");
  ASSERT_TRUE(Put("k", "concurrent").ok());
  ASSERT_TRUE(Del("k", seen->context).ok());
  EXPECT_EQ(Values(Get("k")), std::vector<std::string>{"concurrent"});
}

TEST_F(KvServiceTest, FailedWriteIsNotAcknowledgedNorVisible) {
  ASSERT_TRUE(Put("k", "kept").ok());
  storage_.FailWrites(1);
  auto failed = Put("k", "lost", Get("k").context);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kIoError);
  EXPECT_EQ(Values(Get("k")), std::vector<std::string>{"kept"});
  ASSERT_TRUE(Put("k", "after", Get("k").context).ok());
  EXPECT_EQ(Values(Get("k")), std::vector<std::string>{"after"});
}

TEST_F(KvServiceTest, RejectsBadInputWithClearErrors) {
  auto expect_invalid = [&](Result<WriteReply> r, std::string_view needle) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  };
  expect_invalid(Put(std::string(kKeyBytesMax + 1, 'k'), "v"), "exceeds the maximum");
  expect_invalid(Put("", "v"), "empty key");
  expect_invalid(Put("k", std::string(kValueBytesMaxDefault + 1, 'v')), "exceeds the maximum");
  expect_invalid(Put("k", "v", "\x07garbage"), "malformed context");
  expect_invalid(Put("k", "v", "", kTtlSecondsMax + 1), "ttl");
  std::optional<Result<ReadReply>> read;
  service_.Get("nosuchks", "k", [&](Result<ReadReply> r) { read = std::move(r); });
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->status().code(), Code::kInvalidArgument);
  EXPECT_EQ(storage_.pending(), 0u) << "nothing bad reaches storage";
}

TEST_F(KvServiceTest, SiblingLimitRejectsTheWriteAndKeepsTheObject) {
  for (size_t i = 0; i < kSiblingsMax; ++i) ASSERT_TRUE(Put("hot", std::to_string(i)).ok());
  auto over = Put("hot", "one too many");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), Code::kTooManySiblings);
  auto got = Get("hot");
  EXPECT_EQ(got.siblings.size(), kSiblingsMax);
  ASSERT_TRUE(Put("hot", "resolved", got.context).ok());
  EXPECT_EQ(Values(Get("hot")), std::vector<std::string>{"resolved"});
}

TEST(KvServiceObjectBoundTest, SiblingsPastTheObjectByteBoundAreRefused) {
  MemoryStorage storage;
  ManualClock clock;
  KvServiceOptions options;
  options.object_bytes_max = 10'000;
  KvService service(&storage, &clock, kActor, options);
  auto put = [&](std::string value) {
    std::optional<Result<WriteReply>> out;
    service.Put("", "big", value, "", 0, [&](Result<WriteReply> r) { out = std::move(r); });
    storage.RunCompletions();
    return std::move(*out);
  };
  ASSERT_TRUE(put(std::string(4000, 'a')).ok());
  ASSERT_TRUE(put(std::string(4000, 'b')).ok());
  auto third = put(std::string(4000, 'c'));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), Code::kTooManySiblings);
  EXPECT_NE(third.status().message().find("max 10000"), std::string::npos)
      << third.status().message();
}

TEST_F(KvServiceTest, ReplicaWriteMergesAndSkipsWritesThatChangeNothing) {
  ASSERT_TRUE(Put("k", "local").ok());
  VersionedObject remote;
  Sibling s;
  s.value = "remote";
  ASSERT_TRUE(remote.ApplyWrite({}, /*actor=*/0xb2, s, clock_.NowUs()).ok());
  std::optional<Status> done;
  service_.ReplicaWrite("", "k", remote, [&](Status st) { done = st; });
  storage_.RunCompletions();
  ASSERT_TRUE(done.has_value() && done->ok());
  EXPECT_EQ(Values(Get("k")), (std::vector<std::string>{"local", "remote"}));

  done.reset();
  service_.ReplicaWrite("", "k", remote, [&](Status st) { done = st; });
  EXPECT_TRUE(done.has_value()) << "a merge that changes nothing answers without a write";
  EXPECT_EQ(storage_.pending(), 0u);
}

// Two replicas that each took 60 blind writes merge into 120 siblings: past the write limit, but
// a replica sync must still store it (and read it back), or the replicas could never converge.
TEST_F(KvServiceTest, ReplicaMergePastTheWriteSiblingLimitIsStoredAndReadable) {
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(Put("wide", "local" + std::to_string(i)).ok());
  VersionedObject remote;
  for (int i = 0; i < 60; ++i) {
    Sibling s;
    s.value = "remote" + std::to_string(i);
    ASSERT_TRUE(remote.ApplyWrite({}, /*actor=*/0xb2, s, clock_.NowUs()).ok());
  }
  std::optional<Status> done;
  service_.ReplicaWrite("", "wide", remote, [&](Status st) { done = st; });
  storage_.RunCompletions();
  ASSERT_TRUE(done.has_value() && done->ok()) << done->ToString();
  auto got = Get("wide");
  EXPECT_EQ(got.siblings.size(), 120u);
  auto blind = Put("wide", "one more");
  EXPECT_EQ(blind.status().code(), Code::kTooManySiblings) << "new writes are still refused";
  ASSERT_TRUE(Put("wide", "resolved", got.context).ok()) << "a resolving write is not";
  EXPECT_EQ(Values(Get("wide")), std::vector<std::string>{"resolved"});
}

TEST_F(KvServiceTest, LongQueueBehindOneWriteDoesNotRecurse) {
  service_.Put("", "k", "v", "", 0, [](Result<WriteReply>) {});
  size_t answered = 0;
  for (int i = 0; i < 200'000; ++i) {
    service_.Get("", "k", [&](Result<ReadReply> r) { answered += r.ok() && r->found; });
  }
  storage_.RunCompletions();
  EXPECT_EQ(answered, 200'000u);
}

}  // namespace
}  // namespace ringkv
