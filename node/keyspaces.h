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
  // Wall clock of its creation (0: always existed). A drop later than this removes it; a creation
  // later than a drop brings the name back (last writer wins, so every node converges).
  int64_t created_us = 0;
  // Sloppy quorum by default for its writes (node/coordinator.h): when replicas of a key are down,
  // the next healthy nodes clockwise past its preference list take the write as a hint for them,
  // and count toward W. A request may ask for either mode (RequestOptions::quorum).
  bool sloppy = false;
};

class KeyspaceCatalog {
 public:
  KeyspaceCatalog();

  // An empty name means the default keyspace.
  Result<KeyspaceDef> Find(std::string_view name) const;
  // Names are 1-48 characters of [A-Za-z0-9_]; factors 1..kReplicationFactorMax.
  static Status ValidateName(std::string_view name);
  // A keyspace that exists already must have the same factor and quorum mode.
  Status Create(std::string_view name, uint32_t replication_factor, int64_t created_us = 0,
                bool sloppy = false);
  // Raises a known keyspace's creation time (a later creation of the same definition).
  void Touch(std::string_view name, int64_t created_us);
  // Removes a keyspace and remembers when. The default keyspace cannot be dropped.
  Status Drop(std::string_view name, int64_t dropped_us);
  // Remembers a drop of a keyspace this node does not hold (it missed it, or learnt it late).
  void RecordDropped(std::string_view name, int64_t dropped_us);
  // When `name` was last dropped; 0: never.
  int64_t DroppedAt(std::string_view name) const;

  const std::map<std::string, KeyspaceDef, std::less<>>& all() const { return keyspaces_; }
  const std::map<std::string, int64_t, std::less<>>& dropped() const { return dropped_; }

  // A short hex digest of the sorted (name, replication factor, quorum mode) triples: equal on every node that
  // holds the same keyspaces, whatever the order it learnt them in.
  std::string SchemaVersion() const;

 private:
  std::map<std::string, KeyspaceDef, std::less<>> keyspaces_;
  std::map<std::string, int64_t, std::less<>> dropped_;  // bounded by the names ever created
};

}  // namespace ringkv

#endif  // RINGKV_NODE_KEYSPACES_H_
