// KeyspaceCatalog: the keyspaces a node knows and their replication factors. The default keyspace
// ("default", replication factor 3) always exists.
//
// Thread safety: none; owned by the node's loop.
#ifndef RINGKV_NODE_KEYSPACES_H_
#define RINGKV_NODE_KEYSPACES_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ringkv {

inline constexpr std::string_view kDefaultKeyspace = "default";
inline constexpr uint32_t kDefaultReplicationFactor = 3;
inline constexpr uint32_t kReplicationFactorMax = 15;

struct KeyspaceDef {
  std::string name;
  uint32_t replication_factor = kDefaultReplicationFactor;
};

class KeyspaceCatalog {
 public:
  KeyspaceCatalog();

  // An empty name means the default keyspace.
  Result<KeyspaceDef> Find(std::string_view name) const;
  // Names are 1-48 characters of [A-Za-z0-9_]; factors 1..kReplicationFactorMax.
  static Status ValidateName(std::string_view name);
  Status Create(std::string_view name, uint32_t replication_factor);
  const std::map<std::string, KeyspaceDef, std::less<>>& all() const { return keyspaces_; }

 private:
  std::map<std::string, KeyspaceDef, std::less<>> keyspaces_;
};

}  // namespace ringkv

#endif  // RINGKV_NODE_KEYSPACES_H_
