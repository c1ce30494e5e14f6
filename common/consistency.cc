#include "common/consistency.h"

#include <algorithm>
#include <cctype>

namespace ringkv {

std::string_view ConsistencyName(Consistency c) {
  switch (c) {
    case Consistency::kDefault: return "DEFAULT";
    case Consistency::kOne: return "ONE";
    case Consistency::kTwo: return "TWO";
    case Consistency::kThree: return "THREE";
    case Consistency::kQuorum: return "QUORUM";
    case Consistency::kAll: return "ALL";
    case Consistency::kAny: return "ANY";
  }
  return "?";
}

bool ParseConsistency(std::string_view name, Consistency* out) {
  for (auto c : {Consistency::kOne, Consistency::kTwo, Consistency::kThree, Consistency::kQuorum,
                 Consistency::kAll, Consistency::kAny}) {
    const auto n = ConsistencyName(c);
    if (name.size() == n.size() &&
        std::equal(name.begin(), name.end(), n.begin(),
                   [](char a, char b) { return std::toupper(static_cast<unsigned char>(a)) == b; })) {
      *out = c;
      return true;
    }
  }
  return false;
}

size_t RequiredReplicas(Consistency c, uint8_t explicit_count, size_t n) {
  if (explicit_count > 0) return explicit_count;
  switch (c) {
    case Consistency::kOne:
    case Consistency::kAny: return 1;
    case Consistency::kTwo: return 2;
    case Consistency::kThree: return 3;
    case Consistency::kAll: return n;
    case Consistency::kDefault:
    case Consistency::kQuorum: return n / 2 + 1;
  }
  return n;
}

}  // namespace ringkv
