// End-to-end range scans on a real three-node cluster (keyspace "default", N = 3): 2000 keys in
// two CQL-style "tables" (keys "a\0..." and "b\0..."), written at ALL, then scanned through the
// client library in small pages.
//
// What the tests hold Client::Scan to:
//   - a whole-ring scan of one prefix, page by page, returns each of its keys exactly once, in
//     strictly increasing (token, key) order, and nothing else;
//   - a range (start, end] returns exactly the keys whose token lies in it; the wrapping range
//     (end, start] exactly the others;
//   - with one node SIGKILLed, QUORUM still returns every key, ALL fails with UNAVAILABLE.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "node/testing/test_cluster.h"
#include "ringkv/client.h"

namespace ringkv::testing {
namespace {

constexpr int kKeysPerTable = 1000;

std::string Key(char table, int i) { return fmt::format("{}{}row:{}", table, '\0', i); }

class KvnodeScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("scan");
    TestClusterOptions options;
    options.dir = dir_;
    cluster_ = std::make_unique<TestCluster>(options);
    Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString() << cluster_->Logs();
    ClientOptions client_options;
    client_options.contact_points = cluster_->Addresses();
    client_options.request_timeout = std::chrono::milliseconds(10'000);
    client_ = std::make_unique<Client>(client_options);
    // Written at ALL, in batches of concurrent puts: every replica holds every key.
    WriteOptions all;
    all.consistency = Consistency::kAll;
    for (char table : {'a', 'b'}) {
      for (int start = 0; start < kKeysPerTable; start += 100) {
        std::vector<std::future<Expected<PutResult>>> batch;
        for (int i = start; i < start + 100; ++i) {
          batch.push_back(client_->PutAsync(Key(table, i), fmt::format("v{}", i), all));
        }
        for (auto& f : batch) {
          auto r = f.get();
          ASSERT_TRUE(r.ok()) << r.error().ToString();
        }
      }
    }
  }
  void TearDown() override {
    client_.reset();
    cluster_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Every page of a scan, following `more`; fails the test on an error.
  Expected<std::vector<ScanEntry>> ScanAll(ScanOptions options, size_t* pages = nullptr) {
    std::vector<ScanEntry> out;
    for (int guard = 0; guard < 10'000; ++guard) {
      auto page = client_->Scan(options);
      if (!page.ok()) return page.error();
      if (pages != nullptr) ++*pages;
      EXPECT_LE(page->entries.size(), options.limit == 0 ? 1000u : options.limit);
      for (auto& e : page->entries) out.push_back(std::move(e));
      if (!page->more || page->entries.empty()) return out;
      options.has_after = true;
      options.after_token = out.back().token;
      options.after_key = out.back().key;
    }
    return Error(ErrorCode::kInternal, "scan did not end");
  }

  std::string dir_;
  std::unique_ptr<TestCluster> cluster_;
  std::unique_ptr<Client> client_;
};

TEST_F(KvnodeScanTest, WholeRingInPagesReturnsEachKeyOnceInTokenOrder) {
  ScanOptions options;
  options.key_prefix = std::string("a") + '\0';
  options.limit = 137;
  size_t pages = 0;
  auto all = ScanAll(options, &pages);
  ASSERT_TRUE(all.ok()) << all.error().ToString() << cluster_->Logs();
  EXPECT_GE(pages, 1000u / 137);
  std::set<std::string> seen;
  for (size_t i = 0; i < all.value().size(); ++i) {
    const auto& e = all.value()[i];
    ASSERT_EQ(e.key.rfind(options.key_prefix, 0), 0u) << "a key outside the prefix";
    ASSERT_EQ(e.token, Client::TokenOf(e.key));
    ASSERT_TRUE(seen.insert(e.key).second) << "key returned twice";
    ASSERT_EQ(e.siblings.size(), 1u);
    if (i > 0) {
      const auto& p = all.value()[i - 1];
      ASSERT_TRUE(p.token < e.token || (p.token == e.token && p.key < e.key))
          << "out of (token, key) order at entry " << i;
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kKeysPerTable));
}

TEST_F(KvnodeScanTest, RangeScansReturnExactlyTheKeysInRange) {
  const int64_t start = -3'000'000'000'000'000'000;
  const int64_t end = 4'000'000'000'000'000'000;
  std::set<std::string> inside, outside;
  for (char table : {'a', 'b'}) {
    for (int i = 0; i < kKeysPerTable; ++i) {
      const std::string k = Key(table, i);
      const int64_t t = Client::TokenOf(k);
      (t > start && t <= end ? inside : outside).insert(k);
    }
  }
  ScanOptions options;
  options.start_token = start;
  options.end_token = end;
  options.limit = 250;
  auto got = ScanAll(options);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  std::set<std::string> got_keys;
  for (const auto& e : got.value()) {
    if (e.key.rfind("probe:", 0) == 0) continue;  // the cluster's formation probes
    EXPECT_TRUE(got_keys.insert(e.key).second);
  }
  EXPECT_EQ(got_keys, inside);

  // The wrapping complement: (end, start].
  options.start_token = end;
  options.end_token = start;
  got = ScanAll(options);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  got_keys.clear();
  for (const auto& e : got.value()) {
    if (e.key.rfind("probe:", 0) == 0) continue;
    EXPECT_TRUE(got_keys.insert(e.key).second);
  }
  EXPECT_EQ(got_keys, outside);
}

TEST_F(KvnodeScanTest, QuorumSurvivesOneNodeDownAllIsUnavailable) {
  cluster_->node(2).Kill();
  ScanOptions options;
  options.key_prefix = std::string("b") + '\0';
  options.limit = 300;
  options.consistency = Consistency::kQuorum;
  // The survivors notice the dead node within a membership round; until then a scan that asks it
  // fails over to the third replica, so QUORUM works throughout.
  auto got = ScanAll(options);
  ASSERT_TRUE(got.ok()) << got.error().ToString() << cluster_->Logs();
  std::set<std::string> keys;
  for (const auto& e : got.value()) keys.insert(e.key);
  EXPECT_EQ(keys.size(), static_cast<size_t>(kKeysPerTable));

  options.consistency = Consistency::kAll;
  // Once the failure detector has marked it down, ALL fails at once with UNAVAILABLE.
  Error last(ErrorCode::kInternal, "no attempt");
  ASSERT_TRUE(PollUntil(std::chrono::milliseconds(15'000), [&] {
    auto page = client_->Scan(options);
    if (page.ok()) return false;
    last = page.error();
    return page.error().code() == ErrorCode::kUnavailable;
  })) << last.ToString();
  EXPECT_EQ(last.needed(), 3u);
  EXPECT_EQ(last.alive(), 2u);
}

}  // namespace
}  // namespace ringkv::testing
