#include "tools/pipeline/minhash.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace ringkv::pipeline {

uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HashBytes(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return Mix64(h);
}

std::vector<uint64_t> Shingles(const std::vector<std::string>& words) {
  std::vector<uint64_t> out;
  if (words.size() < 3) {
    std::string all;
    for (const auto& w : words) all += w + " ";
    out.push_back(HashBytes(all));
    return out;
  }
  for (size_t i = 0; i + 2 < words.size(); ++i) {
    out.push_back(HashBytes(words[i] + " " + words[i + 1] + " " + words[i + 2]));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<uint64_t> MinHash(const std::vector<uint64_t>& shingles, int hashes) {
  std::vector<uint64_t> sig(static_cast<size_t>(hashes), std::numeric_limits<uint64_t>::max());
  for (uint64_t s : shingles) {
    for (int k = 0; k < hashes; ++k) {
      uint64_t h = Mix64(s ^ Mix64(static_cast<uint64_t>(k) + 1));
      sig[static_cast<size_t>(k)] = std::min(sig[static_cast<size_t>(k)], h);
    }
  }
  return sig;
}

std::vector<std::string> BandKeys(const std::vector<uint64_t>& signature, int bands, int rows) {
  std::vector<std::string> keys;
  for (int b = 0; b < bands; ++b) {
    uint64_t h = static_cast<uint64_t>(b) * 0x9e3779b97f4a7c15ULL;
    for (int r = 0; r < rows; ++r) {
      size_t i = static_cast<size_t>(b * rows + r);
      if (i < signature.size()) h = Mix64(h ^ signature[i]);
    }
    keys.push_back(fmt::format("b{}:{:016x}", b, h));
  }
  return keys;
}

}  // namespace ringkv::pipeline
