#include "ring/tokens.h"

#include <algorithm>
#include <random>
#include <unordered_set>

#include <fmt/format.h>

#include "ring/balanced_allocator.h"

namespace ringkv {
namespace {

Status ValidateJoin(const Ring& ring, std::string_view node, uint32_t count) {
  if (node.empty() || node.size() > kNodeNameBytesMax) {
    return Status::InvalidArgument(
        fmt::format("node name must be 1 to {} bytes, not {}", kNodeNameBytesMax, node.size()));
  }
  if (ring.Contains(node)) {
    return Status::InvalidArgument(fmt::format("'{}' already holds tokens in the ring", node));
  }
  if (count == 0 || count > kTokensPerNodeMax) {
    return Status::InvalidArgument(
        fmt::format("token count must be 1 to {}, not {}", kTokensPerNodeMax, count));
  }
  if (ring.node_count() + 1 > kRingNodesMax || ring.token_count() + count > kRingTokensMax) {
    return Status::InvalidArgument(fmt::format(
        "a ring of {} nodes and {} tokens cannot take '{}' with {} more tokens (limits {} and {})",
        ring.node_count(), ring.token_count(), node, count, kRingNodesMax, kRingTokensMax));
  }
  return Status::Ok();
}

// Evenly spaced at a seeded offset: the best possible start, which the allocator then splits.
std::vector<Token> EvenTokens(uint32_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const uint64_t offset = rng();
  // 2^64 / count, rounded down, computed without 2^64: the spacing drifts by under one token a lap.
  const uint64_t step =
      count == 1 ? 0 : (~uint64_t{0} / count) + (~uint64_t{0} % count + 1) / count;
  std::vector<Token> tokens;
  for (uint32_t i = 0; i < count; ++i) {
    Token t = static_cast<Token>(offset + i * step);
    if (t == kTokenMin)
      t = kTokenMin + 1;  // the origin is no token; its neighbour is free (step > 1)
    tokens.push_back(t);
  }
  std::sort(tokens.begin(), tokens.end());
  return tokens;
}

}  // namespace

Result<std::vector<Token>> RandomTokens(const Ring& ring, std::string_view node, uint32_t count,
                                        uint64_t seed) {
  if (Status s = ValidateJoin(ring, node, count); !s.ok()) return s;
  std::unordered_set<Token> taken;
  for (const Ring::VNode& v : ring.vnodes()) taken.insert(v.token);
  // The engine's raw output only: std::mt19937_64 is specified bit for bit, distributions are not.
  std::mt19937_64 rng(seed);
  std::vector<Token> tokens;
  while (tokens.size() < count) {
    const Token t = static_cast<Token>(rng());
    if (t == kTokenMin || !taken.insert(t).second) continue;  // a 2^-64 event, but never twice
    tokens.push_back(t);
  }
  std::sort(tokens.begin(), tokens.end());
  return tokens;
}

Result<std::vector<Token>> AllocateTokens(const Ring& ring, std::string_view node,
                                          const AllocationOptions& options) {
  if (Status s = ValidateJoin(ring, node, options.tokens); !s.ok()) return s;
  if (options.replication_factor == 0) {
    return Status::InvalidArgument("the replication factor to balance for must be at least 1");
  }
  if (ring.empty()) return EvenTokens(options.tokens, options.seed);
  BalancedAllocator allocator(ring, options.tokens, options.replication_factor, options.seed);
  std::vector<Token> tokens = allocator.Run();
  std::sort(tokens.begin(), tokens.end());
  return tokens;
}

}  // namespace ringkv
