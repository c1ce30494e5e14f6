#include "client/ring_snapshot.h"

#include <fmt/format.h>
#include <kj/exception.h>

#include <algorithm>
#include <cassert>
#include <utility>

#include "client/codec.h"
#include "common/limits.h"

namespace ringkv::client_internal {
namespace {

std::string FromText(capnp::Text::Reader text) { return std::string(text.cStr(), text.size()); }

Error Malformed(std::string why) {
  return Error(ErrorCode::kProtocol, "the node's ring answer is invalid: " + std::move(why));
}

// A member's address as the client can use it. A wildcard address ("0.0.0.0:7000") says where the
// node listens, not where to reach it, so such a member is reached through others instead.
std::optional<HostPort> Routable(std::string_view address) {
  auto parsed = ParseHostPort(address);
  if (!parsed.ok()) return std::nullopt;
  const std::string& host = parsed->host;
  if (host == "0.0.0.0" || host == "::" || host == "0:0:0:0:0:0:0:0") return std::nullopt;
  return std::move(parsed.value());
}

Expected<std::shared_ptr<const RingSnapshot>> Parse(wire::RingResult::Reader in,
                                                    std::chrono::steady_clock::time_point now) {
  auto out = std::make_shared<RingSnapshot>();
  out->self = FromText(in.getSelf());
  out->settled = !in.getUnsettled();
  out->fetched_at = now;

  auto members = in.getMembers();
  if (members.size() > kRingNodesMax) {
    return Malformed(fmt::format("{} members, more than {}", members.size(), kRingNodesMax));
  }
  for (auto m : members) {
    auto d = m.getDescription();
    RingSnapshot::Member member;
    member.name = FromText(d.getNodeName());
    member.address = FromText(d.getAddress());
    if (member.address.size() > kRingAddressBytesMax) {
      return Malformed(fmt::format("member '{}' has an address of {} bytes", member.name,
                                   member.address.size()));
    }
    member.endpoint = Routable(member.address);
    member.host_id = d.getHostId();
    auto tokens = d.getTokens();
    if (tokens.size() > kTokensPerNodeMax) {
      return Malformed(fmt::format("member '{}' holds {} tokens, more than {}", member.name,
                                   tokens.size(), kTokensPerNodeMax));
    }
    member.tokens.reserve(tokens.size());
    for (const Token token : tokens) member.tokens.push_back(token);
    std::sort(member.tokens.begin(), member.tokens.end());
    member.up = m.getUp();
    member.status = ParseMemberStatus(FromText(m.getStatus()));
    out->members.push_back(std::move(member));
  }
  std::sort(out->members.begin(), out->members.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (size_t i = 1; i < out->members.size(); ++i) {
    if (out->members[i].name == out->members[i - 1].name) {
      return Malformed(fmt::format("member '{}' is listed twice", out->members[i].name));
    }
  }

  // A member may be known before it holds tokens, or hold tokens it does not own yet (a node
  // still joining) or any more (one that left): it is listed, but only owners with tokens make
  // the ring, as the coordinators count replicas. Ring::Build checks names and tokens.
  std::vector<ringkv::Member> ring_members;
  for (const auto& m : out->members) {
    if (m.owner() && !m.tokens.empty()) ring_members.push_back(ringkv::Member{m.name, m.tokens});
  }
  auto ring = ringkv::Ring::Build(std::move(ring_members));
  if (!ring.ok()) return Malformed(ring.status().message());
  out->ring = std::move(ring).value();
  for (size_t i = 0, j = 0; i < out->members.size(); ++i) {
    // Names are unique (Build checked) and both lists ascend, so one pass pairs them.
    if (j < out->ring.node_count() && out->ring.nodes()[j] == out->members[i].name) {
      out->member_of_node.push_back(static_cast<uint32_t>(i));
      ++j;
    }
  }
  assert(out->member_of_node.size() == out->ring.node_count());

  auto keyspaces = in.getKeyspaces();
  if (keyspaces.size() > kRingKeyspacesMax) {
    return Malformed(
        fmt::format("{} keyspaces, more than {}", keyspaces.size(), kRingKeyspacesMax));
  }
  for (auto k : keyspaces) {
    std::string name = FromText(k.getName());
    if (name.empty() || name.size() > kKeyspaceNameBytesMax || k.getReplicationFactor() == 0) {
      return Malformed(
          fmt::format("keyspace '{}' with replication factor {}", name, k.getReplicationFactor()));
    }
    if (k.getSloppy()) out->sloppy_keyspaces.insert(name);
    out->replication_factors[std::move(name)] = k.getReplicationFactor();
  }
  return std::shared_ptr<const RingSnapshot>(std::move(out));
}

}  // namespace

MemberStatus ParseMemberStatus(std::string_view text) {
  if (text == "JOINING") return MemberStatus::kJoining;
  if (text == "LEAVING") return MemberStatus::kLeaving;
  if (text == "LEFT") return MemberStatus::kLeft;
  if (text == "REMOVED") return MemberStatus::kRemoved;
  // "NORMAL"; empty from a node that predates gossip; a status of a newer node, unknown here,
  // is read as NORMAL too, so that such a member is still routed to.
  return MemberStatus::kNormal;
}

std::string_view MemberStatusName(MemberStatus status) {
  switch (status) {
    case MemberStatus::kNormal:
      return "NORMAL";
    case MemberStatus::kJoining:
      return "JOINING";
    case MemberStatus::kLeaving:
      return "LEAVING";
    case MemberStatus::kLeft:
      return "LEFT";
    case MemberStatus::kRemoved:
      return "REMOVED";
  }
  return "NORMAL";
}

std::optional<uint32_t> RingSnapshot::FindReplicationFactor(std::string_view keyspace) const {
  if (keyspace.empty()) keyspace = kDefaultKeyspace;
  auto it = replication_factors.find(keyspace);
  if (it != replication_factors.end()) return it->second;
  if (keyspace == kDefaultKeyspace) return kDefaultReplicationFactor;
  return std::nullopt;
}

uint32_t RingSnapshot::RoutingReplicationFactor(std::string_view keyspace) const {
  if (auto rf = FindReplicationFactor(keyspace)) return *rf;
  return *FindReplicationFactor(kDefaultKeyspace);
}

RingInfo RingSnapshot::Describe(std::string keyspace, uint32_t replication_factor) const {
  RingInfo info;
  info.self = self;
  info.settled = settled;
  info.keyspace = std::move(keyspace);
  info.replication_factor = replication_factor;
  const std::vector<double> ownership = ring.Ownership(replication_factor);
  info.members.reserve(members.size());
  for (const auto& m : members) {
    info.members.push_back(RingMemberInfo{m.name, m.address, m.host_id, m.tokens, m.up, 0.0,
                                          std::string(MemberStatusName(m.status))});
  }
  for (size_t node = 0; node < member_of_node.size(); ++node) {
    // Summing range fractions can land a hair past 1 (1.0000000000000002); the share is at most 1.
    info.members[member_of_node[node]].ownership = std::min(ownership[node], 1.0);
  }
  for (const auto& [name, rf] : replication_factors) {
    info.keyspaces.push_back({name, rf, sloppy_keyspaces.count(name) > 0});
  }
  return info;
}

Expected<std::shared_ptr<const RingSnapshot>> ParseRingAnswer(
    wire::Frame::Reader frame, std::chrono::steady_clock::time_point now) {
  try {
    if (frame.isError()) return ErrorFromWire(frame.getError());
    if (!frame.isRingResult()) {
      return Error(ErrorCode::kProtocol, fmt::format("node answered a ring request with frame "
                                                     "kind {}",
                                                     static_cast<int>(frame.which())));
    }
    return Parse(frame.getRingResult(), now);
  } catch (const kj::Exception& e) {
    return Error(ErrorCode::kProtocol,
                 fmt::format("malformed ring answer: {}", e.getDescription().cStr()));
  }
}

}  // namespace ringkv::client_internal
