#include "node/server/gossip_wire.h"

#include <fmt/format.h>

namespace ringkv {

namespace {

using gossip::Digest;
using gossip::Endpoint;

std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

void FillDigests(capnp::List<wire::GossipDigest>::Builder out, const std::vector<Digest>& in) {
  for (size_t i = 0; i < in.size(); ++i) {
    out[i].setName(in[i].name);
    out[i].setGeneration(in[i].generation);
    out[i].setVersion(in[i].version);
    out[i].setHeartbeat(in[i].heartbeat);
    out[i].setHostId(in[i].host_id);
  }
}

void FillStates(capnp::List<wire::GossipEndpoint>::Builder out, const std::vector<Endpoint>& in) {
  for (size_t i = 0; i < in.size(); ++i) {
    const Endpoint& e = in[i];
    auto o = out[i];
    o.setName(e.name);
    o.setGeneration(e.generation);
    o.setVersion(e.version);
    o.setHeartbeat(e.heartbeat);
    o.setAddress(e.state.address);
    o.setHostId(e.state.host_id);
    const auto status = gossip::StatusName(e.state.status);
    o.setStatus(capnp::Text::Reader(status.data(), status.size()));
    auto tokens = o.initTokens(static_cast<unsigned>(e.state.tokens.size()));
    for (size_t t = 0; t < e.state.tokens.size(); ++t) tokens.set(t, e.state.tokens[t]);
    o.setLoadBytes(e.state.load_bytes);
    o.setSchema(e.state.schema);
  }
}

Result<std::vector<Digest>> ReadDigests(capnp::List<wire::GossipDigest>::Reader in) {
  if (in.size() > gossip::kMembersMax) {
    return Status::Protocol(fmt::format("gossip: {} digests (max {})", in.size(),
                                        gossip::kMembersMax));
  }
  std::vector<Digest> out;
  out.reserve(in.size());
  for (auto d : in) {
    out.push_back(Digest{Str(d.getName()), d.getGeneration(), d.getVersion(), d.getHeartbeat(),
                         d.getHostId()});
  }
  return out;
}

Result<std::vector<Endpoint>> ReadStates(capnp::List<wire::GossipEndpoint>::Reader in) {
  if (in.size() > gossip::kStatesPerMessageMax) {
    return Status::Protocol(fmt::format("gossip: {} states (max {})", in.size(),
                                        gossip::kStatesPerMessageMax));
  }
  std::vector<Endpoint> out;
  out.reserve(in.size());
  for (auto w : in) {
    Endpoint e;
    e.name = Str(w.getName());
    e.generation = w.getGeneration();
    e.version = w.getVersion();
    e.heartbeat = w.getHeartbeat();
    e.state.address = Str(w.getAddress());
    e.state.host_id = w.getHostId();
    const std::string status = Str(w.getStatus());
    if (!gossip::ParseStatus(status, &e.state.status)) {
      return Status::Protocol(fmt::format("gossip: member {} has unknown status '{}'", e.name,
                                          status.substr(0, 32)));
    }
    if (w.getTokens().size() > gossip::kMemberTokensMax) {
      return Status::Protocol(fmt::format("gossip: member {} has {} tokens (max {})", e.name,
                                          w.getTokens().size(), gossip::kMemberTokensMax));
    }
    for (auto t : w.getTokens()) e.state.tokens.push_back(t);
    e.state.load_bytes = w.getLoadBytes();
    e.state.schema = w.getSchema();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

void FillGossipSyn(wire::GossipSyn::Builder out, const gossip::Syn& syn) {
  out.setFrom(syn.from);
  FillDigests(out.initDigests(static_cast<unsigned>(syn.digests.size())), syn.digests);
}

void FillGossipAck(wire::GossipAck::Builder out, const gossip::Ack& ack) {
  FillStates(out.initStates(static_cast<unsigned>(ack.states.size())), ack.states);
  FillDigests(out.initHeartbeats(static_cast<unsigned>(ack.heartbeats.size())), ack.heartbeats);
  FillDigests(out.initRequests(static_cast<unsigned>(ack.requests.size())), ack.requests);
}

void FillGossipAck2(wire::GossipAck2::Builder out, const gossip::Ack2& ack2) {
  out.setFrom(ack2.from);
  FillStates(out.initStates(static_cast<unsigned>(ack2.states.size())), ack2.states);
  FillDigests(out.initHeartbeats(static_cast<unsigned>(ack2.heartbeats.size())), ack2.heartbeats);
}

Result<gossip::Syn> ReadGossipSyn(wire::GossipSyn::Reader in) {
  gossip::Syn syn;
  syn.from = Str(in.getFrom());
  auto digests = ReadDigests(in.getDigests());
  if (!digests.ok()) return digests.status();
  syn.digests = std::move(digests.value());
  return syn;
}

Result<gossip::Ack> ReadGossipAck(wire::GossipAck::Reader in) {
  gossip::Ack ack;
  auto states = ReadStates(in.getStates());
  if (!states.ok()) return states.status();
  auto heartbeats = ReadDigests(in.getHeartbeats());
  if (!heartbeats.ok()) return heartbeats.status();
  auto requests = ReadDigests(in.getRequests());
  if (!requests.ok()) return requests.status();
  ack.states = std::move(states.value());
  ack.heartbeats = std::move(heartbeats.value());
  ack.requests = std::move(requests.value());
  return ack;
}

Result<gossip::Ack2> ReadGossipAck2(wire::GossipAck2::Reader in) {
  gossip::Ack2 ack2;
  ack2.from = Str(in.getFrom());
  auto states = ReadStates(in.getStates());
  if (!states.ok()) return states.status();
  auto heartbeats = ReadDigests(in.getHeartbeats());
  if (!heartbeats.ok()) return heartbeats.status();
  ack2.states = std::move(states.value());
  ack2.heartbeats = std::move(heartbeats.value());
  return ack2;
}

}  // namespace ringkv
