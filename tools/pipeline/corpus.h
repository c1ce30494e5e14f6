// The synthetic web corpus of the pipeline demo: per-document records as a crawler's
// pre-processing would hand them to the store (doc id, url, language and its score, quality
// features, MinHash band keys), generated deterministically from a seed.
//
// The generator plants near-duplicates: a fraction of documents are copies of an earlier original
// with about 1% of their words changed, and record which (planted_dup_of), so the dedup stage can
// be checked against the truth. It also makes some documents short, symbol-heavy, of a high
// "perplexity" (rare words) or of an uncertain language, for the quality filter to find.
//
// Thread safety: Generate is a pure function of its options.
#ifndef RINGKV_TOOLS_PIPELINE_CORPUS_H_
#define RINGKV_TOOLS_PIPELINE_CORPUS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ringkv::pipeline {

struct CorpusOptions {
  int docs = 2000;            // 1..1,000,000
  uint64_t seed = 42;
  double dup_rate = 0.08;     // share of documents planted as near-duplicates
  int bands = 8;              // MinHash LSH: bands x rows hash functions
  int rows_per_band = 4;
};

struct DocRecord {
  std::string doc_id;         // "doc-000042": ids order as they were generated
  std::string url;
  std::string lang;
  double lang_score = 0;
  std::map<std::string, double> quality;  // words, symbol_ratio, perplexity, mean_word_len
  std::vector<std::string> minhash_bands;  // "b3:9f2c..." one per band
  std::string planted_dup_of;  // the original, if planted as a near-duplicate; else empty
};

std::vector<DocRecord> Generate(const CorpusOptions& options);

// The JSONL line kvload loads into pipeline.docs.
nlohmann::json ToJson(const DocRecord& doc);

}  // namespace ringkv::pipeline

#endif  // RINGKV_TOOLS_PIPELINE_CORPUS_H_
