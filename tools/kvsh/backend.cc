#include "tools/kvsh/backend.h"

#include <algorithm>
#include <limits>

namespace ringkv::kvsh {

std::vector<TokenRange> RangesFromTokens(std::vector<int64_t> tokens) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  std::vector<TokenRange> out;
  int64_t prev = kMin;
  for (int64_t t : tokens) {
    if (t == kMin) continue;  // (kMin, kMin] is empty
    out.push_back({prev, t});
    prev = t;
  }
  if (prev != kMax) out.push_back({prev, kMax});
  return out;
}

}  // namespace ringkv::kvsh
