// AaeTrees: the trees follow the data (incremental updates equal a rebuild from storage, writes
// during the build included, a key busy when the scan met it too), they are rebuilt when the ring
// changes, and a replica's answers refuse what it cannot answer.
#include "node/aae_trees.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <utility>

#include "aae/version_hash.h"
#include "common/clock.h"
#include "node/manual_timers.h"
#include "node/random_member.h"
#include "storage/memory_storage.h"

namespace ringkv {
namespace {

// Storage that counts the objects its scans visit, for the trees; the rest goes to `base`.
class CountingStorage final : public Storage {
 public:
  explicit CountingStorage(Storage* base) : base_(base) {}
  Result<VersionedObject> Get(std::string_view storage_key) override {
    return base_->Get(storage_key);
  }
  void Write(std::vector<ObjectWrite> writes, std::function<void(Status)> done) override {
    base_->Write(std::move(writes), std::move(done));
  }
  Status Scan(std::string_view keyspace, Token from_exclusive, Token to_inclusive,
              const std::function<bool(std::string_view, Token, const VersionedObject&)>& fn)
      override {
    return base_->Scan(keyspace, from_exclusive, to_inclusive,
                       [&](std::string_view key, Token token, const VersionedObject& object) {
                         ++visited_;
                         return fn(key, token, object);
                       });
  }
  Result<std::string> GetMeta(std::string_view name) override { return base_->GetMeta(name); }
  Status PutMeta(std::string_view name, std::string_view value) override {
    return base_->PutMeta(name, value);
  }
  StorageStats Stats() override { return base_->Stats(); }
  void Drain() override { base_->Drain(); }

  // Objects visited by scans since the last call.
  uint64_t TakeVisited() { return std::exchange(visited_, 0); }

 private:
  Storage* const base_;
  uint64_t visited_ = 0;
};

class AaeTreesTest : public ::testing::Test {
 protected:
  AaeTreesTest()
      : view_(RandomMember("n1")),
        service_(&storage_, &clock_, /*actor=*/1, {}, &keyspaces_),
        log_("n1", LogLevel::kWarn, &clock_),
        trees_(&view_, &keyspaces_, &counting_, &service_, &timers_, &log_, Options()) {
    for (const char* name : {"n2", "n3", "n4"}) EXPECT_TRUE(view_.Learn(RandomMember(name)).ok());
    service_.set_observer(&trees_);
  }
  static AaeTreesOptions Options() {
    AaeTreesOptions o;
    o.shape = TreeShape{16, 16};
    o.build_page_objects = 100;
    return o;
  }
  void Put(const std::string& key, const std::string& value, bool complete = true) {
    service_.Put("", key, value, "", 0, [](Result<WriteReply> r) { ASSERT_TRUE(r.ok()); });
    if (complete) storage_.RunCompletions();
  }
  void BuildAll() {
    for (int i = 0; i < 1000 && !trees_.Ready(std::string(kDefaultKeyspace)); ++i) {
      timers_.FireAll();
    }
    ASSERT_TRUE(trees_.Ready(std::string(kDefaultKeyspace)));
  }
  // Every range's root against a tree built from scratch from storage.
  void ExpectTreesMatchStorage() {
    const auto ranges = trees_.Ranges(std::string(kDefaultKeyspace));
    ASSERT_FALSE(ranges.empty());
    for (const auto& r : ranges) {
      TictacTree expected(trees_.shape(), r.range);
      for (const TokenRange& part : r.range.Unwrap()) {
        ASSERT_TRUE(storage_
                        .Scan(kDefaultKeyspace, part.start, part.end,
                              [&](std::string_view key, Token, const VersionedObject& o) {
                                expected.Apply(key, std::nullopt, VersionHash(o));
                                return true;
                              })
                        .ok());
      }
      EXPECT_EQ(r.root, expected.root()) << "range (" << r.range.start << ", " << r.range.end
                                         << "]";
    }
  }

  ManualClock clock_;
  MemoryStorage storage_;
  CountingStorage counting_{&storage_};
  KeyspaceCatalog keyspaces_;
  ClusterView view_;
  KvService service_;
  ManualTimers timers_;
  Logger log_;
  AaeTrees trees_;
};

TEST_F(AaeTreesTest, BuiltFromStorageThenKeptUpToDate) {
  for (int i = 0; i < 500; ++i) Put(fmt::format("doc-{}", i), "v1");
  trees_.Refresh();
  EXPECT_FALSE(trees_.Ready(std::string(kDefaultKeyspace))) << "built on the loop, page by page";
  BuildAll();
  ExpectTreesMatchStorage();
  // With 4 nodes and N = 3, n1 replicates some ranges only.
  EXPECT_LT(trees_.Ranges(std::string(kDefaultKeyspace)).size(), view_.ring().token_count());
  for (int i = 0; i < 500; i += 3) Put(fmt::format("doc-{}", i), "v2");  // overwrites
  for (int i = 500; i < 600; ++i) Put(fmt::format("doc-{}", i), "v1");   // new keys
  ExpectTreesMatchStorage();
  EXPECT_GT(trees_.memory_bytes(), 0u);
}

TEST_F(AaeTreesTest, WritesDuringTheBuildAndKeysBusyWhenScannedAreCounted) {
  for (int i = 0; i < 500; ++i) Put(fmt::format("doc-{}", i), "v1");
  // Writes in flight (not yet durable) when the build starts, completed between its pages.
  for (int i = 0; i < 500; i += 7) Put(fmt::format("doc-{}", i), "v2", /*complete=*/false);
  trees_.Refresh();
  for (int page = 0; !trees_.Ready(std::string(kDefaultKeyspace)) && page < 100; ++page) {
    timers_.FireAll();
    if (page == 1) storage_.RunCompletions();
    Put(fmt::format("during-{}", page), "v1");
    Put(fmt::format("doc-{}", page * 11), "v3");
  }
  storage_.RunCompletions();
  ASSERT_TRUE(trees_.Ready(std::string(kDefaultKeyspace)));
  ExpectTreesMatchStorage();
}

TEST_F(AaeTreesTest, ARingChangeRebuildsTheTrees) {
  for (int i = 0; i < 300; ++i) Put(fmt::format("doc-{}", i), "v1");
  trees_.Refresh();
  BuildAll();
  auto ends = [this] {
    std::vector<Token> out;
    for (const auto& r : trees_.Ranges(std::string(kDefaultKeyspace))) out.push_back(r.range.end);
    return out;
  };
  const auto before = ends();
  ASSERT_TRUE(view_.Learn(RandomMember("n5")).ok());
  Put("after-the-join", "v1");  // OnStored sees the new ring and starts a rebuild
  EXPECT_FALSE(trees_.Ready(std::string(kDefaultKeyspace)));
  BuildAll();
  EXPECT_NE(ends(), before) << "n5's tokens split some ranges";
  ExpectTreesMatchStorage();
}

TEST_F(AaeTreesTest, AnswersRefuseWhatTheyCannotAnswer) {
  for (int i = 0; i < 200; ++i) Put(fmt::format("doc-{}", i), "v1");
  trees_.Refresh();
  const std::string ks(kDefaultKeyspace);
  const auto none = trees_.Answer(ks, TokenRange{0, 1}, RootRequest{trees_.shape()});
  EXPECT_EQ(none.status().code(), Code::kUnavailable) << "not ready while building";
  BuildAll();
  const auto r = trees_.Ranges(ks).front();
  auto root = trees_.Answer(ks, r.range, RootRequest{trees_.shape()});
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(std::get<RootAnswer>(root.value()).root, r.root);
  EXPECT_EQ(trees_.Answer(ks, r.range, RootRequest{TreeShape{8, 8}}).status().code(),
            Code::kInvalidArgument)
      << "a tree of another shape";
  EXPECT_EQ(trees_.Answer(ks, TokenRange{r.range.start, r.range.end - 1},
                          RootRequest{trees_.shape()})
                .status()
                .code(),
            Code::kInvalidArgument)
      << "a range that is not one of this node's";
  EXPECT_EQ(trees_.Answer("nope", r.range, RootRequest{trees_.shape()}).status().code(),
            Code::kInvalidArgument);
  // The keys of every segment of the range: exactly its objects.
  KeysRequest all;
  for (uint32_t s = 0; s < trees_.shape().segments(); ++s) all.segments.push_back(s);
  auto keys = trees_.Answer(ks, r.range, all);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  size_t in_range = 0;
  for (int i = 0; i < 200; ++i) in_range += r.range.Contains(TokenOf(fmt::format("doc-{}", i)));
  EXPECT_EQ(std::get<KeysAnswer>(keys.value()).keys.size(), in_range);
}

// A keys answer reads only the requested segments' objects from storage, not the rest of the range
// (KeysRequestTokens' own test covers wrapping ranges).
TEST_F(AaeTreesTest, AKeysAnswerReadsOnlyTheRequestedSegments) {
  for (int i = 0; i < 3000; ++i) Put(fmt::format("doc-{}", i), "v1");
  trees_.Refresh();
  BuildAll();
  const std::string ks(kDefaultKeyspace);
  const TreeShape shape = trees_.shape();
  size_t asked_total = 0, range_total = 0;
  for (const auto& r : trees_.Ranges(ks)) {
    SCOPED_TRACE(r.range.ToString());
    // Segments 3..6, 40 and the last one: three runs.
    const KeysRequest request{{3, 4, 5, 6, 40, shape.segments() - 1}};
    size_t in_range = 0, in_segments = 0;
    for (int i = 0; i < 3000; ++i) {
      const Token token = TokenOf(fmt::format("doc-{}", i));
      if (!r.range.Contains(token)) continue;
      ++in_range;
      const uint32_t s = SegmentOf(shape, r.range, token);
      in_segments += std::binary_search(request.segments.begin(), request.segments.end(), s);
    }
    counting_.TakeVisited();
    auto keys = trees_.Answer(ks, r.range, request);
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    EXPECT_EQ(std::get<KeysAnswer>(keys.value()).keys.size(), in_segments);
    EXPECT_EQ(counting_.TakeVisited(), in_segments) << "of " << in_range << " in the range";
    asked_total += in_segments;
    range_total += in_range;
  }
  // 6 of 256 segments: a few percent of the keys, but some.
  EXPECT_GT(asked_total, 0u);
  EXPECT_LT(asked_total * 10, range_total);
}

}  // namespace
}  // namespace ringkv
