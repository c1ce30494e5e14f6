// MinHash signatures over word 3-shingles and their LSH band keys (Broder 1997; the banding of
// Leskovec, Rajaraman and Ullman, "Mining of Massive Datasets", ch. 3). Two documents with
// Jaccard similarity J share at least one band key with probability 1 - (1 - J^r)^b for b bands
// of r rows; with 8 x 4, J = 0.9 collides 99.96% of the time and J = 0.3 under 7%.
//
// Thread safety: pure functions.
#ifndef RINGKV_TOOLS_PIPELINE_MINHASH_H_
#define RINGKV_TOOLS_PIPELINE_MINHASH_H_

#include <cstdint>
#include <string>
#include <vector>

namespace ringkv::pipeline {

// Hashes of the word 3-shingles of `words` (fewer than 3 words: one shingle of them all).
std::vector<uint64_t> Shingles(const std::vector<std::string>& words);
// `hashes` minimum values, hash function k being a seeded mix of the shingle hash.
std::vector<uint64_t> MinHash(const std::vector<uint64_t>& shingles, int hashes);
// One key per band: "b<band>:<16 hex digits>" from `rows` consecutive signature values.
std::vector<std::string> BandKeys(const std::vector<uint64_t>& signature, int bands, int rows);

uint64_t Mix64(uint64_t x);  // splitmix64's finaliser
uint64_t HashBytes(const std::string& s);  // FNV-1a, then Mix64

}  // namespace ringkv::pipeline

#endif  // RINGKV_TOOLS_PIPELINE_MINHASH_H_
