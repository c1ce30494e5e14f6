#include "tools/kvctl_status_format.h"

#include <fmt/format.h>

#include <iterator>
#include <vector>

#include "tools/kvctl_format.h"

namespace ringkv::kvctl {
namespace {

const char* StateName(const std::string& status) {
  if (status == "JOINING") return "Joining";
  if (status == "LEAVING") return "Leaving";
  return "Normal";  // NORMAL, or a status this kvctl does not know
}

std::optional<uint64_t> LoadOf(const LoadByNode& load, const std::string& name) {
  auto it = load.find(name);
  return it == load.end() ? std::nullopt : it->second;
}

// The asked node's address, from its own entry in the member list; empty if it is not listed.
std::string AddressOf(const RingInfo& ring) {
  for (const auto& m : ring.members) {
    if (m.name == ring.self) return m.address;
  }
  return "";
}

}  // namespace


std::string StatusCode(const RingMemberInfo& member) {
  return std::string(member.up ? "U" : "D") + StateName(member.status)[0];
}

std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.2f} {}", v, units[u]);
}

std::string StatusText(const RingInfo& ring, const LoadByNode& load) {
  const std::string address = AddressOf(ring);
  std::string out = fmt::format("Status as seen by {}{}\n", CEscape(ring.self),
                                address.empty() ? "" : " (" + CEscape(address) + ")");
  if (!ring.settled) {
    out += "(it has not settled its ring yet: only the members it has heard of so far)\n";
  }
  out += "Datacenter: datacenter1\n=======================\n";
  out += "Status=Up/Down\n|/ State=Normal/Leaving/Joining/Moving\n";
  std::vector<std::vector<std::string>> rows = {
      {"--", "Address", "Load", "Tokens", "Owns (effective)", "Host ID"}};
  for (const auto& m : ring.members) {
    if (m.departed()) continue;
    const auto bytes = LoadOf(load, m.name);
    rows.push_back({StatusCode(m), CEscape(m.address), bytes ? HumanBytes(*bytes) : "?",
                    std::to_string(m.tokens.size()), FormatPercent(m.ownership),
                    fmt::format("{:016x}", m.host_id)});
  }
  out += FormatTable(rows);
  out += fmt::format("\nOwnership at keyspace {} (replication factor {}).\n", CEscape(ring.keyspace),
                     ring.replication_factor);
  return out;
}

nlohmann::json StatusJson(const RingInfo& ring, const LoadByNode& load) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& m : ring.members) {
    if (m.departed()) continue;
    const auto bytes = LoadOf(load, m.name);
    nodes.push_back({{"status", StatusCode(m)},
                     {"up", m.up},
                     {"state", StateName(m.status)},
                     {"name", m.name},
                     {"address", m.address},
                     {"load_bytes", bytes ? nlohmann::json(*bytes) : nullptr},
                     {"tokens", m.tokens.size()},
                     {"owns", m.ownership},
                     {"host_id", fmt::format("{:016x}", m.host_id)}});
  }
  return {{"view_of", {{"name", ring.self}, {"address", AddressOf(ring)}, {"settled", ring.settled}}},
          {"datacenter", "datacenter1"},
          {"keyspace", ring.keyspace},
          {"replication_factor", ring.replication_factor},
          {"nodes", nodes}};
}

}  // namespace ringkv::kvctl
