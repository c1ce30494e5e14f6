// What `kvctl status` prints, in both formats: nodetool's table, as the one node kvctl asked sees
// the cluster. Pure functions of the client's answers, so that tests pin the output down without a
// node (tools/kvctl_format_test.cc).
//
// The view is the asked node's (RingInfo::self), not the client's: U/D is its failure detector's
// verdict (RingMemberInfo::up), the state letter its gossip status (N normal, J joining, L
// leaving); members that left or were removed are not listed. Only the load comes from each node
// itself ("?" when kvctl could not ask it), as nodetool's does.
//
// Thread safety: free functions on values.
#ifndef RINGKV_TOOLS_KVCTL_STATUS_FORMAT_H_
#define RINGKV_TOOLS_KVCTL_STATUS_FORMAT_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "ringkv/client.h"

namespace ringkv::kvctl {

// Each member's load as it reported it, by name; absent or nullopt: unknown.
using LoadByNode = std::map<std::string, std::optional<uint64_t>>;

// "UN", "DJ", ...: Up/Down, then Normal/Joining/Leaving.
std::string StatusCode(const RingMemberInfo& member);
// "1.50 KiB"; bytes below 1 KiB as "N B".
std::string HumanBytes(uint64_t bytes);

// "Status as seen by NODE (ADDRESS)", the Datacenter heading, the legend, one row per listed
// member, then the keyspace the ownership is computed at.
std::string StatusText(const RingInfo& ring, const LoadByNode& load);
// {"view_of": {"name", "address"}, "datacenter", "keyspace", "replication_factor",
//  "nodes": [{"status", "up", "state", "name", "address", "load_bytes", "tokens", "owns",
//  "host_id"}]}
nlohmann::json StatusJson(const RingInfo& ring, const LoadByNode& load);

}  // namespace ringkv::kvctl

#endif  // RINGKV_TOOLS_KVCTL_STATUS_FORMAT_H_
