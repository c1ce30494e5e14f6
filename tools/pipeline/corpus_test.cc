#include "tools/pipeline/corpus.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tools/pipeline/minhash.h"

namespace ringkv::pipeline {
namespace {

// The dedup stage's rule, in memory: a doc sharing a band key with an earlier doc is a duplicate.
std::map<std::string, std::string> FindDuplicates(const std::vector<DocRecord>& docs) {
  std::map<std::string, std::string> first_in_band, dup_of;
  for (const auto& d : docs) {
    std::string earliest;
    for (const auto& band : d.minhash_bands) {
      auto it = first_in_band.find(band);
      if (it != first_in_band.end() && (earliest.empty() || it->second < earliest)) {
        earliest = it->second;
      }
      first_in_band.emplace(band, d.doc_id);
    }
    if (!earliest.empty()) dup_of[d.doc_id] = earliest;
  }
  return dup_of;
}

TEST(CorpusTest, DeterministicFromTheSeed) {
  CorpusOptions o;
  o.docs = 200;
  auto a = Generate(o), b = Generate(o);
  ASSERT_EQ(a.size(), 200u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(ToJson(a[i]), ToJson(b[i]));
  o.seed = 7;
  auto c = Generate(o);
  EXPECT_NE(ToJson(a[5]), ToJson(c[5]));
}

TEST(CorpusTest, PlantedNearDuplicatesAreExactlyWhatLshFinds) {
  for (uint64_t seed : {42, 1, 2, 3}) {
    for (int docs : {300, 2000}) {
      CorpusOptions o;
      o.docs = docs;
      o.seed = seed;
      auto corpus = Generate(o);
      auto found = FindDuplicates(corpus);
      size_t planted = 0;
      for (const auto& d : corpus) {
        if (d.planted_dup_of.empty()) {
          EXPECT_EQ(found.count(d.doc_id), 0u) << "seed " << seed << ": false positive " << d.doc_id;
          continue;
        }
        ++planted;
        ASSERT_EQ(found.count(d.doc_id), 1u) << "seed " << seed << ": missed " << d.doc_id;
        EXPECT_EQ(found[d.doc_id], d.planted_dup_of);
      }
      EXPECT_GT(planted, static_cast<size_t>(docs) / 25) << "seed " << seed;
    }
  }
}

TEST(CorpusTest, EveryQualityRuleHasDocumentsToFilter) {
  CorpusOptions o;
  auto corpus = Generate(o);
  std::map<std::string, int> count;
  for (const auto& d : corpus) {
    if (!d.planted_dup_of.empty()) continue;
    if (d.quality.at("words") < 50) ++count["too_short"];
    else if (d.quality.at("symbol_ratio") > 0.10) ++count["symbols"];
    else if (d.quality.at("perplexity") > 400) ++count["perplexity"];
    else if (d.lang_score < 0.65) ++count["lang_score"];
    else ++count["kept"];
  }
  for (const char* reason : {"too_short", "symbols", "perplexity", "lang_score"}) {
    EXPECT_GT(count[reason], 20) << reason;
  }
  EXPECT_GT(count["kept"], 1200);
}

TEST(MinHashTest, SimilarSetsShareBandsAndDifferentOnesDoNot) {
  std::vector<std::string> a, b, c;
  for (int i = 0; i < 200; ++i) {
    a.push_back("w" + std::to_string(i));
    c.push_back("x" + std::to_string(i));
  }
  b = a;
  b[100] = "changed";
  auto ka = BandKeys(MinHash(Shingles(a), 32), 8, 4);
  auto kb = BandKeys(MinHash(Shingles(b), 32), 8, 4);
  auto kc = BandKeys(MinHash(Shingles(c), 32), 8, 4);
  int ab = 0, ac = 0;
  for (int i = 0; i < 8; ++i) {
    ab += ka[i] == kb[i];
    ac += ka[i] == kc[i];
  }
  EXPECT_GE(ab, 4);
  EXPECT_EQ(ac, 0);
}

}  // namespace
}  // namespace ringkv::pipeline
