// What kvctl prints for the cluster-level commands (ring, getendpoints, keyspace list), in both
// formats. Pure functions of the client's answers, so that tests pin the output down without a
// node.
//
// Text is for people: tables aligned by kvctl_format.h's FormatTable, names and addresses
// C-escaped (they come from the network). json is for scripts: tokens are decimal strings and host
// ids hex strings, since JSON numbers lose 64-bit integers; fractions stay fractions.
//
// Thread safety: free functions on values.
#ifndef RINGKV_TOOLS_KVCTL_CLUSTER_FORMAT_H_
#define RINGKV_TOOLS_KVCTL_CLUSTER_FORMAT_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ringkv/client.h"

namespace ringkv::kvctl {

// A heading naming the keyspace ownership is computed at, then one row per member (address, node,
// status, token count, ownership). With `tokens`, then one row per token, ascending, naming its
// node: the ring as it is walked.
std::string RingText(const RingInfo& ring, bool tokens);
// {"self", "keyspace", "replication_factor", "members": [{"name", "address", "host_id", "status",
// "up", "tokens_count", "ownership", "tokens" (with `tokens`)}], "keyspaces": [...]}
nlohmann::json RingJson(const RingInfo& ring, bool tokens);

// The replicas of a key, primary first, with their address and status from `ring`.
std::string EndpointsText(const std::vector<std::string>& endpoints, const RingInfo& ring);
// {"key", "keyspace", "replication_factor", "token", "endpoints": [{"name", "address", "up"}]}
nlohmann::json EndpointsJson(std::string_view key, int64_t token,
                             const std::vector<std::string>& endpoints, const RingInfo& ring);

std::string KeyspacesText(const RingInfo& ring);
// {"keyspaces": [{"name", "replication_factor"}]}
nlohmann::json KeyspacesJson(const RingInfo& ring);

}  // namespace ringkv::kvctl

#endif  // RINGKV_TOOLS_KVCTL_CLUSTER_FORMAT_H_
