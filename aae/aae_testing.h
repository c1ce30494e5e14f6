// Helpers for anti-entropy's tests and benchmark only: key sets as a model of a replica's range, a
// replica that answers exchange requests from its model and its tree, and an exchange run to its
// end in one process (the node will move the same messages over the peer transport).
#ifndef RINGKV_AAE_AAE_TESTING_H_
#define RINGKV_AAE_AAE_TESTING_H_

#include <cassert>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "aae/exchange.h"
#include "aae/messages.h"
#include "aae/tictac_tree.h"

namespace ringkv::aae_testing {

// A replica's range as a model: key -> version hash.
using KeyMap = std::map<std::string, uint64_t>;

// "doc-000000000042": 16 bytes, like a pipeline's document ids.
inline std::string DocKey(const char* prefix, uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s-%012llu", prefix, static_cast<unsigned long long>(n));
  return buf;
}

// m distinct keys with random version hashes.
inline KeyMap RandomKeys(size_t m, std::mt19937_64& rng) {
  KeyMap keys;
  for (size_t i = 0; i < m; ++i) keys.emplace_hint(keys.end(), DocKey("doc", i), rng());
  return keys;
}

// A copy of `base` that differs from it in exactly k keys, chosen at random: about a third missing,
// a third extra, the rest at another version hash. REQUIRES: k <= base.size().
inline KeyMap Diverge(const KeyMap& base, size_t k, std::mt19937_64& rng) {
  assert(k <= base.size());
  std::vector<const std::string*> all;
  all.reserve(base.size());
  for (const auto& [key, version] : base) all.push_back(&key);
  // Fisher-Yates from the engine's raw output, so a seed replays the same with any library.
  for (size_t i = all.size(); i > 1; --i) std::swap(all[i - 1], all[rng() % i]);
  KeyMap out = base;
  const size_t missing = k / 3, extra = k / 3;
  for (size_t i = 0; i < missing; ++i) out.erase(*all[i]);
  for (size_t i = 0; i < extra; ++i) out.emplace(DocKey("new", i), rng());
  for (size_t i = missing; i < k - extra; ++i) out[*all[i]] = base.at(*all[i]) + 1 + rng() % 1000;
  return out;
}

// What an exchange between a and b must find, from the models alone.
inline std::vector<KeyDiff> ExpectedDiffs(const KeyMap& a, const KeyMap& b) {
  std::vector<KeyDiff> out;
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() || j != b.end()) {
    if (j == b.end() || (i != a.end() && i->first < j->first)) {
      out.push_back({i->first, i->second, std::nullopt});
      ++i;
    } else if (i == a.end() || j->first < i->first) {
      out.push_back({j->first, std::nullopt, j->second});
      ++j;
    } else {
      if (i->second != j->second) out.push_back({i->first, i->second, j->second});
      ++i;
      ++j;
    }
  }
  return out;
}

// REQUIRES: range holds every key's token (TokenRange{}: the whole ring).
inline TictacTree TreeOf(const KeyMap& keys, TreeShape shape, TokenRange range = {}) {
  TictacTree tree(shape, range);
  for (const auto& [key, version] : keys) tree.Apply(key, std::nullopt, version);
  return tree;
}

// A replica of one range: its data and the tree kept beside it.
struct Replica {
  // REQUIRES: range holds every key's token.
  Replica(KeyMap k, TreeShape shape, TokenRange range = {})
      : keys(std::move(k)), tree(TreeOf(keys, shape, range)) {}

  // The answer the node will give: tree requests from the tree, keys requests by a scan (of the
  // whole model: the node scans only KeysRequestTokens).
  Result<AaeAnswer> Answer(const AaeRequest& request) const {
    const auto* keys_request = std::get_if<KeysRequest>(&request);
    if (keys_request == nullptr) return AnswerFromTree(tree, request);
    if (Status s = ValidateRequest(tree.shape(), request); !s.ok()) return s;
    KeysAnswerBuilder builder(tree.shape(), tree.range(), *keys_request);
    for (const auto& [key, version] : keys) builder.Add(key, version);
    return AaeAnswer{builder.Take()};
  }

  KeyMap keys;
  TictacTree tree;
};

// Runs an exchange between a and b to its end: a refusal by either replica aborts it.
inline Exchange RunExchange(const Replica& a, const Replica& b, ExchangeOptions options = {}) {
  Exchange exchange(a.tree.shape(), a.tree.range(), options);
  while (!exchange.finished()) {
    Result<AaeAnswer> answer_a = a.Answer(exchange.request());
    Result<AaeAnswer> answer_b = b.Answer(exchange.request());
    if (!answer_a.ok()) {
      exchange.Abort(answer_a.status());
    } else if (!answer_b.ok()) {
      exchange.Abort(answer_b.status());
    } else {
      exchange.OnAnswers(answer_a.value(), answer_b.value());
    }
  }
  return exchange;
}

}  // namespace ringkv::aae_testing

#endif  // RINGKV_AAE_AAE_TESTING_H_
