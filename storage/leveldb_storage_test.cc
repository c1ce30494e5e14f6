#include "storage/leveldb_storage.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>

#include "storage/object_codec.h"

namespace ringkv {
namespace {

// Completions run on the writer thread here (the test has no event loop); the test waits for them.
// One posted task may run several completions (a group), so the completions are what is counted.
class Completions {
 public:
  Poster poster() {
    return [](std::function<void()> task) { task(); };
  }
  // A write completion that expects success and counts itself.
  std::function<void(Status)> ExpectOk() {
    return [this](Status s) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      std::lock_guard lock(mu_);
      ++done_;
      cv_.notify_all();
    };
  }
  void WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(30), [&] { return done_ >= n; }))
        << "only " << done_ << " of " << n << " writes completed";
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t done_ = 0;
};

class LevelDbStorageTest : public ::testing::TestWithParam<SyncMode> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ringkv-leveldb-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::random_device{}()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<LevelDbStorage> Open(Completions* c) {
    LevelDbOptions options;
    options.path = dir_.string();
    options.sync_mode = GetParam();
    options.sync_period_ms = 50;
    auto s = LevelDbStorage::Open(options, c->poster());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }

  static ObjectWrite Make(std::string_view key, std::string_view value) {
    VersionedObject object;
    Sibling s;
    s.value.assign(value);
    EXPECT_TRUE(object.ApplyWrite({}, 7, s, 1).ok());
    return ObjectWrite{EncodeStorageKey("default", TokenOf(key), key), EncodeObject(object), true};
  }

  std::filesystem::path dir_;
};

TEST_P(LevelDbStorageTest, WritesSurviveReopenAndScanInTokenOrder) {
  constexpr int kKeys = 300;
  {
    Completions c;
    auto db = Open(&c);
    for (int i = 0; i < kKeys; ++i) {
      std::vector<ObjectWrite> w;
      w.push_back(Make("key" + std::to_string(i), "value" + std::to_string(i)));
      db->Write(std::move(w), c.ExpectOk());
    }
    c.WaitFor(kKeys);
    EXPECT_EQ(db->Stats().objects_approx, static_cast<uint64_t>(kKeys));
  }
  Completions c;
  auto db = Open(&c);
  EXPECT_EQ(db->Stats().objects_approx, static_cast<uint64_t>(kKeys)) << "counted again at open";
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = "key" + std::to_string(i);
    auto got = db->Get(EncodeStorageKey("default", TokenOf(key), key));
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(got->siblings().at(0).value, "value" + std::to_string(i));
  }
  std::vector<Token> tokens;
  ASSERT_TRUE(db->Scan("default", std::numeric_limits<Token>::min(),
                       std::numeric_limits<Token>::max(),
                       [&](std::string_view key, Token t, const VersionedObject&) {
                         EXPECT_EQ(t, TokenOf(key));
                         tokens.push_back(t);
                         return true;
                       })
                  .ok());
  ASSERT_EQ(tokens.size(), static_cast<size_t>(kKeys));
  EXPECT_TRUE(std::is_sorted(tokens.begin(), tokens.end()));

  // A sub-range holds exactly the tokens inside it.
  const Token lo = tokens[kKeys / 4], hi = tokens[3 * kKeys / 4];
  size_t in_range = 0;
  ASSERT_TRUE(db->Scan("default", lo, hi, [&](std::string_view, Token t, const VersionedObject&) {
                  EXPECT_TRUE(t > lo && t <= hi);
                  ++in_range;
                  return true;
                }).ok());
  EXPECT_EQ(in_range, static_cast<size_t>(3 * kKeys / 4 - kKeys / 4));
}

TEST_P(LevelDbStorageTest, MetaRecordsAreOutsideTheObjectSpace) {
  Completions c;
  auto db = Open(&c);
  ASSERT_TRUE(db->PutMeta("identity", "abc").ok());
  EXPECT_EQ(db->GetMeta("identity").value(), "abc");
  EXPECT_EQ(db->GetMeta("missing").status().code(), Code::kNotFound);
  size_t objects = 0;
  ASSERT_TRUE(db->Scan("default", std::numeric_limits<Token>::min(),
                       std::numeric_limits<Token>::max(),
                       [&](std::string_view, Token, const VersionedObject&) {
                         ++objects;
                         return true;
                       }).ok());
  EXPECT_EQ(objects, 0u);
}

TEST_P(LevelDbStorageTest, SecondOpenOfTheSameDirectorySaysItIsInUse) {
  Completions c;
  auto db = Open(&c);
  LevelDbOptions options;
  options.path = dir_.string();
  auto second = LevelDbStorage::Open(options, c.poster());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("in use by another process"), std::string::npos)
      << second.status().message();
}

INSTANTIATE_TEST_SUITE_P(SyncModes, LevelDbStorageTest,
                         ::testing::Values(SyncMode::kAlways, SyncMode::kBatch,
                                           SyncMode::kPeriodic),
                         [](const auto& info) { return std::string(SyncModeName(info.param)); });

// Group commit: many writes queued at once share fsyncs. Under kAlways each write has its own.
TEST(LevelDbGroupCommitTest, BatchModeSharesFsyncsAlwaysModeDoesNot) {
  for (SyncMode mode : {SyncMode::kBatch, SyncMode::kAlways}) {
    auto dir = std::filesystem::temp_directory_path() /
               ("ringkv-group-" + std::to_string(::getpid()) + std::string(SyncModeName(mode)));
    std::filesystem::remove_all(dir);
    Completions c;
    LevelDbOptions options;
    options.path = dir.string();
    options.sync_mode = mode;
    auto db = LevelDbStorage::Open(options, c.poster());
    ASSERT_TRUE(db.ok());
    constexpr int kWrites = 200;
    for (int i = 0; i < kWrites; ++i) {
      VersionedObject o;
      Sibling s;
      s.value = "v";
      ASSERT_TRUE(o.ApplyWrite({}, 1, s, 1).ok());
      std::vector<ObjectWrite> w;
      const std::string key = "k" + std::to_string(i);
      w.push_back({EncodeStorageKey("default", TokenOf(key), key), EncodeObject(o), true});
      db.value()->Write(std::move(w), c.ExpectOk());
    }
    c.WaitFor(kWrites);
    const uint64_t fsyncs = db.value()->Stats().fsyncs;
    if (mode == SyncMode::kAlways) {
      EXPECT_EQ(fsyncs, static_cast<uint64_t>(kWrites));
    } else {
      // 200 writes queued far faster than one fsync: they cannot each have had their own.
      EXPECT_LT(fsyncs, static_cast<uint64_t>(kWrites) / 2) << "group commit did not group";
      EXPECT_GE(fsyncs, 1u);
    }
    db.value().reset();
    std::filesystem::remove_all(dir);
  }
}

}  // namespace
}  // namespace ringkv
