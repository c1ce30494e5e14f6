// RandomMember: a cluster member for unit tests, with 8 random tokens seeded by its name (so a
// test's ring is the same at every run).
//
// Thread safety: a pure function.
#ifndef RINGKV_NODE_RANDOM_MEMBER_H_
#define RINGKV_NODE_RANDOM_MEMBER_H_

#include <functional>
#include <string>

#include "node/cluster_view.h"
#include "ring/tokens.h"

namespace ringkv {

inline MemberInfo RandomMember(const std::string& name,
                               gossip::MemberStatus status = gossip::MemberStatus::kNormal,
                               const std::string& address = "127.0.0.1:7000") {
  const uint64_t seed = std::hash<std::string>{}(name);
  auto tokens = RandomTokens(Ring(), name, 8, seed);
  return MemberInfo{name, address, seed, tokens.ok() ? tokens.value() : std::vector<Token>{},
                    status};
}

}  // namespace ringkv

#endif  // RINGKV_NODE_RANDOM_MEMBER_H_
