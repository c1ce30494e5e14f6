#include "tools/kvctl_cluster_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "tools/kvctl_format.h"

namespace ringkv::kvctl {
namespace {

const char* Status(bool up) { return up ? "Up" : "Down"; }

const RingMemberInfo* FindMember(const RingInfo& ring, const std::string& name) {
  for (const auto& m : ring.members) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

nlohmann::json KeyspaceList(const RingInfo& ring) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& k : ring.keyspaces) {
    list.push_back({{"name", k.name},
                    {"replication_factor", k.replication_factor},
                    {"quorum", k.sloppy ? "sloppy" : "strict"}});
  }
  return list;
}

}  // namespace

std::string RingText(const RingInfo& ring, bool tokens) {
  std::string out = fmt::format(
      "{} nodes (as node {} sees them); ownership at keyspace {}, replication factor {}\n\n",
      ring.members.size(), CEscape(ring.self), CEscape(ring.keyspace), ring.replication_factor);
  std::vector<std::vector<std::string>> rows = {{"Address", "Node", "Status", "Tokens", "Owns"}};
  for (const auto& m : ring.members) {
    rows.push_back({CEscape(m.address), CEscape(m.name), Status(m.up),
                    std::to_string(m.tokens.size()), FormatPercent(m.ownership)});
  }
  out += FormatTable(rows);
  if (!tokens) return out;

  struct VNode {
    int64_t token;
    const RingMemberInfo* member;
  };
  std::vector<VNode> vnodes;
  for (const auto& m : ring.members) {
    for (int64_t t : m.tokens) vnodes.push_back({t, &m});
  }
  std::sort(vnodes.begin(), vnodes.end(),
            [](const VNode& a, const VNode& b) { return a.token < b.token; });
  rows = {{"Token", "Address", "Node", "Status"}};
  for (const auto& v : vnodes) {
    rows.push_back({std::to_string(v.token), CEscape(v.member->address), CEscape(v.member->name),
                    Status(v.member->up)});
  }
  out += '\n';
  out += FormatTable(rows);
  return out;
}

nlohmann::json RingJson(const RingInfo& ring, bool tokens) {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : ring.members) {
    nlohmann::json j = {{"name", m.name},
                        {"address", m.address},
                        {"host_id", fmt::format("{:016x}", m.host_id)},
                        {"status", Status(m.up)},
                        {"up", m.up},
                        {"tokens_count", m.tokens.size()},
                        {"ownership", m.ownership}};
    if (tokens) {
      nlohmann::json list = nlohmann::json::array();
      for (int64_t t : m.tokens) list.push_back(std::to_string(t));
      j["tokens"] = std::move(list);
    }
    members.push_back(std::move(j));
  }
  return {{"self", ring.self},
          {"keyspace", ring.keyspace},
          {"replication_factor", ring.replication_factor},
          {"members", std::move(members)},
          {"keyspaces", KeyspaceList(ring)}};
}

std::string EndpointsText(const std::vector<std::string>& endpoints, const RingInfo& ring) {
  std::vector<std::vector<std::string>> rows = {{"Address", "Node", "Status"}};
  for (const auto& name : endpoints) {
    const RingMemberInfo* m = FindMember(ring, name);
    // The two answers come from one ring, so every replica is a member; "?" rather than a crash
    // if a refresh between them changed that.
    rows.push_back({m != nullptr ? CEscape(m->address) : "?", CEscape(name),
                    m != nullptr ? Status(m->up) : "?"});
  }
  return FormatTable(rows);
}

nlohmann::json EndpointsJson(std::string_view key, int64_t token,
                             const std::vector<std::string>& endpoints, const RingInfo& ring) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& name : endpoints) {
    const RingMemberInfo* m = FindMember(ring, name);
    nlohmann::json j = {{"name", name}};
    j["address"] = m != nullptr ? nlohmann::json(m->address) : nlohmann::json(nullptr);
    j["up"] = m != nullptr ? nlohmann::json(m->up) : nlohmann::json(nullptr);
    list.push_back(std::move(j));
  }
  return {{"key", std::string(key)},
          {"keyspace", ring.keyspace},
          {"replication_factor", ring.replication_factor},
          {"token", std::to_string(token)},
          {"endpoints", std::move(list)}};
}

std::string KeyspacesText(const RingInfo& ring) {
  std::vector<std::vector<std::string>> rows = {{"Keyspace", "Replication factor", "Quorum"}};
  for (const auto& k : ring.keyspaces) {
    rows.push_back(
        {CEscape(k.name), std::to_string(k.replication_factor), k.sloppy ? "sloppy" : "strict"});
  }
  return FormatTable(rows);
}

nlohmann::json KeyspacesJson(const RingInfo& ring) { return {{"keyspaces", KeyspaceList(ring)}}; }

}  // namespace ringkv::kvctl
