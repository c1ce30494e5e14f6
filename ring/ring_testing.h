// Helpers for the ring's tests only: seeds, random clusters, and a brute-force preference list that
// shares no code with Ring, to check Ring against.
#ifndef RINGKV_RING_RING_TESTING_H_
#define RINGKV_RING_RING_TESTING_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/token.h"
#include "ring/ring.h"
#include "ring/token_range.h"

namespace ringkv::testing {

// The base seed of the randomized tests: RINGKV_TEST_SEED if set, else a fixed one, so every run is
// the same unless asked otherwise. Tests SCOPED_TRACE it, so every failure prints the seed to
// replay.
inline uint64_t BaseSeed() {
  const char* env = std::getenv("RINGKV_TEST_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 0) : 0x5eed2024ULL;
}

inline std::string SeedTrace(uint64_t seed) {
  return "seed " + std::to_string(seed) +
         " (replay: RINGKV_TEST_SEED=" + std::to_string(BaseSeed()) + ")";
}

// Uniform in [lo, hi], from the engine's raw output only (distributions differ between libraries).
inline uint64_t Uniform(std::mt19937_64& rng, uint64_t lo, uint64_t hi) {
  return lo + rng() % (hi - lo + 1);
}

inline std::string NodeName(size_t i) { return "node-" + std::to_string(i); }

// `nodes` members named node-<first>.. with `vnodes` distinct random tokens each, none kTokenMin.
inline std::vector<Member> RandomMembers(std::mt19937_64& rng, size_t nodes, size_t vnodes,
                                         size_t first = 0) {
  std::vector<Member> members;
  std::vector<Token> used;
  for (size_t i = 0; i < nodes; ++i) {
    Member m{NodeName(first + i), {}};
    while (m.tokens.size() < vnodes) {
      const Token t = static_cast<Token>(rng());
      if (t == kTokenMin || std::find(used.begin(), used.end(), t) != used.end()) continue;
      used.push_back(t);
      m.tokens.push_back(t);
    }
    members.push_back(std::move(m));
  }
  return members;
}

inline Ring MustBuild(std::vector<Member> members) {
  Result<Ring> ring = Ring::Build(std::move(members));
  EXPECT_TRUE(ring.ok()) << ring.status().ToString();
  return std::move(ring).value();
}

// A key token for probing: mostly a real key's Murmur3 token, sometimes an edge: the ring's
// extremes, a vnode's own token (a range's inclusive end) or its neighbours.
inline Token ProbeToken(std::mt19937_64& rng, const Ring& ring) {
  switch (rng() % 8) {
    case 0:
      return kTokenMax;
    case 1:
      return kTokenMin + 1;
    case 2:
    case 3: {
      if (ring.empty()) return kTokenMax;
      const Token t = ring.vnodes()[rng() % ring.token_count()].token;
      const int delta = static_cast<int>(rng() % 3) - 1;  // t - 1, t, t + 1, kept off kTokenMin
      if (delta < 0 && t > kTokenMin + 1) return t - 1;
      if (delta > 0 && t < kTokenMax) return t + 1;
      return t;
    }
    default:
      return TokenOf("key-" + std::to_string(rng()));
  }
}

// The preference list straight from the definition, sharing nothing with Ring: every (token, node)
// sorted once; a lookup scans linearly to the first token >= the key's (or the smallest) and
// collects distinct nodes.
class NaiveRing {
 public:
  explicit NaiveRing(const std::vector<Member>& members) {
    for (const Member& m : members) {
      for (Token t : m.tokens) all_.emplace_back(t, m.name);
    }
    std::sort(all_.begin(), all_.end());
  }

  std::vector<std::string> PreferenceList(Token key, size_t n) const {
    std::vector<std::string> out;
    if (all_.empty()) return out;
    size_t start = 0;
    while (start < all_.size() && all_[start].first < key) ++start;
    if (start == all_.size()) start = 0;
    for (size_t step = 0; step < all_.size() && out.size() < n; ++step) {
      const std::string& node = all_[(start + step) % all_.size()].second;
      if (std::find(out.begin(), out.end(), node) == out.end()) out.push_back(node);
    }
    return out;
  }

 private:
  std::vector<std::pair<Token, std::string>> all_;
};

}  // namespace ringkv::testing

#endif  // RINGKV_RING_RING_TESTING_H_
