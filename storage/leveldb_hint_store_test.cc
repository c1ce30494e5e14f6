// Both HintStore engines against one contract: durable before the completion, oldest first,
// remove / truncate, per-target stats, corrupt records skipped and counted, and (LevelDB) hints and
// their order surviving a reopen.
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <random>
#include <unistd.h>

#include "storage/leveldb_hint_store.h"
#include "storage/memory_hint_store.h"

namespace ringkv {
namespace {

Hint MakeHint(const std::string& target, const std::string& key, const std::string& value,
              int64_t at_us) {
  Hint h;
  h.target = target;
  h.keyspace = "ks";
  h.key = key;
  h.stored_at_us = at_us;
  Sibling s;
  s.value = value;
  s.timestamp_us = at_us;
  EXPECT_TRUE(h.object.ApplyWrite({}, 7, s, at_us).ok());
  return h;
}

TEST(HintRecordTest, RoundTripsAndRejectsDamage) {
  Hint h = MakeHint("n3", "k", "v", 123456789);
  const std::string rec = EncodeHintRecord(h);
  Hint back;
  ASSERT_TRUE(DecodeHintRecord(rec, &back).ok());
  EXPECT_EQ(back.keyspace, "ks");
  EXPECT_EQ(back.key, "k");
  EXPECT_EQ(back.stored_at_us, 123456789);
  EXPECT_EQ(back.bytes, rec.size());
  ASSERT_EQ(back.object.siblings().size(), 1u);
  EXPECT_EQ(back.object.siblings()[0].value, "v");
  for (size_t i = 0; i < rec.size(); ++i) {
    std::string bad = rec;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    EXPECT_EQ(DecodeHintRecord(bad, &back).code(), Code::kCorruption) << "byte " << i;
  }
  EXPECT_EQ(DecodeHintRecord(rec.substr(0, rec.size() - 1), &back).code(), Code::kCorruption);
  EXPECT_EQ(DecodeHintRecord("", &back).code(), Code::kCorruption);
}

TEST(MemoryHintStoreTest, DurableOnlyAfterCompletionAndLostInCrash) {
  MemoryHintStore store;
  int done = 0;
  store.Add(MakeHint("n3", "a", "1", 10), [&](Status s) { done += s.ok(); });
  EXPECT_EQ(store.Stats()["n3"].count, 1u);  // counted from the call on
  EXPECT_TRUE(store.Oldest("n3", 10, 1 << 20).empty());  // not durable yet
  store.RunCompletions();
  EXPECT_EQ(done, 1);
  store.Add(MakeHint("n3", "b", "2", 20), [&](Status) { ++done; });
  store.LosePending();
  EXPECT_EQ(done, 1);  // its completion never runs
  auto hints = store.Oldest("n3", 10, 1 << 20);
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_EQ(hints[0].key, "a");
  EXPECT_EQ(store.Stats()["n3"].count, 1u);
}

TEST(MemoryHintStoreTest, FailedWriteIsNotStored) {
  MemoryHintStore store;
  Status got;
  store.FailWrites(1);
  store.Add(MakeHint("n3", "a", "1", 10), [&](Status s) { got = s; });
  store.RunCompletions();
  EXPECT_EQ(got.code(), Code::kIoError);
  EXPECT_TRUE(store.Stats().empty());
}

// The shared contract, run on a store whose completions the fixture drives.
class Driver {
 public:
  virtual ~Driver() = default;
  virtual HintStore* store() = 0;
  virtual void Settle() = 0;  // runs every pending completion
  virtual void Corrupt(const std::string& target, uint64_t id) = 0;
};

void CheckContract(Driver* d) {
  HintStore* s = d->store();
  int ok = 0;
  for (int i = 0; i < 5; ++i) {
    s->Add(MakeHint("n3", "k" + std::to_string(i), "v", 100 + i), [&](Status st) { ok += st.ok(); });
  }
  s->Add(MakeHint("n2", "x", "v", 50), [&](Status st) { ok += st.ok(); });
  d->Settle();
  EXPECT_EQ(ok, 6);
  auto stats = s->Stats();
  EXPECT_EQ(stats["n3"].count, 5u);
  EXPECT_EQ(stats["n3"].oldest_stored_at_us, 100);
  EXPECT_EQ(stats["n2"].count, 1u);
  auto hints = s->Oldest("n3", 3, 1 << 20);
  ASSERT_EQ(hints.size(), 3u);
  EXPECT_EQ(hints[0].key, "k0");
  EXPECT_EQ(hints[2].key, "k2");
  EXPECT_EQ(s->Oldest("n3", 10, 1).size(), 1u);  // the byte bound, but at least one
  ASSERT_TRUE(s->Remove("n3", hints[0].id).ok());
  ASSERT_TRUE(s->Remove("n3", hints[0].id).ok());  // absent: a no-op
  EXPECT_EQ(s->Stats()["n3"].count, 4u);
  EXPECT_EQ(s->Stats()["n3"].oldest_stored_at_us, 101);
  d->Corrupt("n3", hints[1].id);
  hints = s->Oldest("n3", 10, 1 << 20);
  ASSERT_EQ(hints.size(), 3u);
  EXPECT_EQ(hints[0].key, "k2");
  EXPECT_EQ(s->corrupt_skipped(), 1u);
  auto truncated = s->Truncate("n3");
  ASSERT_TRUE(truncated.ok());
  EXPECT_EQ(truncated.value(), 3u);
  d->Settle();
  EXPECT_TRUE(s->Oldest("n3", 10, 1 << 20).empty());
  EXPECT_EQ(s->Stats().count("n3"), 0u);
  EXPECT_EQ(s->Stats()["n2"].count, 1u);
}

class MemoryDriver : public Driver {
 public:
  HintStore* store() override { return &store_; }
  void Settle() override { store_.RunCompletions(); }
  void Corrupt(const std::string& target, uint64_t id) override { store_.CorruptForTest(target, id); }
  MemoryHintStore store_;
};

TEST(MemoryHintStoreTest, Contract) {
  MemoryDriver d;
  CheckContract(&d);
}

// Posted completions wait in a queue the test thread runs, as the node's loop would.
class Loop {
 public:
  Poster poster() {
    return [this](std::function<void()> task) {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    };
  }
  // Runs posted tasks until `until` holds or 30 s pass.
  bool RunUntil(const std::function<bool()>& until) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!until()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::vector<std::function<void()>> tasks;
      {
        std::lock_guard lock(mu_);
        tasks.swap(tasks_);
      }
      for (auto& t : tasks) t();
      if (tasks.empty()) std::this_thread::yield();
    }
    return true;
  }

 private:
  std::mutex mu_;
  std::vector<std::function<void()>> tasks_;
};

class LevelDbHintStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ringkv-hint-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::random_device{}()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<LevelDbHintStore> Open() {
    auto s = LevelDbHintStore::Open(dir_.string(), loop_.poster());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::filesystem::path dir_;
  Loop loop_;
};

class LevelDbDriver : public Driver {
 public:
  LevelDbDriver(LevelDbHintStore* store, Loop* loop) : store_(store), loop_(loop) {}
  HintStore* store() override { return store_; }
  void Settle() override {
    // Adds complete through the loop; an empty probe add marks the writer's progress.
    bool probe = false;
    store_->Add(MakeHint("probe", "p", "p", 1), [&](Status) { probe = true; });
    ASSERT_TRUE(loop_->RunUntil([&] { return probe; }));
    (void)store_->Truncate("probe");
  }
  void Corrupt(const std::string& target, uint64_t id) override {
    ASSERT_TRUE(store_->PutRawForTest(target, id, "garbage").ok());
  }
  LevelDbHintStore* store_;
  Loop* loop_;
};

TEST_F(LevelDbHintStoreTest, Contract) {
  auto store = Open();
  ASSERT_TRUE(store);
  LevelDbDriver d(store.get(), &loop_);
  CheckContract(&d);
}

TEST_F(LevelDbHintStoreTest, SurvivesReopenInOrderAndSkipsCorruptRecords) {
  uint64_t removed_id = 0;
  {
    auto store = Open();
    ASSERT_TRUE(store);
    int ok = 0;
    for (int i = 0; i < 100; ++i) {
      store->Add(MakeHint("n3", "k" + std::to_string(i), "v", 1000 + i),
                 [&](Status s) { ok += s.ok(); });
    }
    ASSERT_TRUE(loop_.RunUntil([&] { return ok == 100; }));
    removed_id = store->Oldest("n3", 1, 1 << 20).at(0).id;
    ASSERT_TRUE(store->Remove("n3", removed_id).ok());
    ASSERT_TRUE(store->PutRawForTest("n3", 5000, "not a record").ok());
  }
  auto store = Open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->corrupt_skipped(), 1u);
  EXPECT_EQ(store->Stats()["n3"].count, 99u);
  auto hints = store->Oldest("n3", 1000, 1 << 30);
  ASSERT_EQ(hints.size(), 99u);
  for (size_t i = 0; i < hints.size(); ++i) EXPECT_EQ(hints[i].key, "k" + std::to_string(i + 1));
  // New ids continue past every stored one, the corrupt one's included.
  bool done = false;
  store->Add(MakeHint("n3", "new", "v", 1), [&](Status) { done = true; });
  ASSERT_TRUE(loop_.RunUntil([&] { return done; }));
  hints = store->Oldest("n3", 1000, 1 << 30);
  ASSERT_EQ(hints.size(), 100u);
  EXPECT_EQ(hints.back().key, "new");
  EXPECT_GT(hints.back().id, 5000u);
}

}  // namespace
}  // namespace ringkv
