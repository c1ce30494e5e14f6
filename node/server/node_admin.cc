#include "node/server/node_admin.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ringkv {

namespace {

nlohmann::json ProgressJson(const StreamProgress& p) {
  return {{"what", p.what},         {"state", p.state},   {"ranges_total", p.ranges_total},
          {"ranges_done", p.ranges_done}, {"keys", p.keys}, {"bytes", p.bytes},
          {"current", p.current}};
}

}  // namespace

void NodeAdmin::Handle(const std::string& command, const std::string& argument,
                       std::function<void(Result<std::string>)> done) const {
  if (command == "gossipinfo") {
    const int64_t now_us = membership->now_us();
    const auto& g = membership->gossiper();
    nlohmann::json members = nlohmann::json::array();
    for (const auto& [name, e] : g.endpoints()) {
      members.push_back({{"name", name},
                         {"address", e.state.address},
                         {"host_id", fmt::format("{:016x}", e.state.host_id)},
                         {"status", gossip::StatusName(e.state.status)},
                         {"generation", e.generation},
                         {"version", e.version},
                         {"heartbeat", e.heartbeat},
                         {"tokens", e.state.tokens.size()},
                         {"load_bytes", e.state.load_bytes},
                         {"schema", fmt::format("{:016x}", e.state.schema)},
                         {"alive", g.IsAlive(name)},
                         {"up", view->IsUp(name)},
                         {"phi", name == view->self() ? 0.0 : g.Phi(name, now_us)}});
    }
    const auto& stats = membership->stats();
    nlohmann::json out = {{"self", view->self()},
                          {"ring_digest", fmt::format("{:016x}", view->ring().Digest())},
                          {"ring_nodes", view->node_count()},
                          {"rounds", stats.rounds},
                          {"exchanges_ok", stats.exchanges_ok},
                          {"exchanges_failed", stats.exchanges_failed},
                          {"refused", stats.refused},
                          {"members", members}};
    return done(out.dump());
  }
  if (command == "netstats") {
    nlohmann::json streams = nlohmann::json::array();
    if (bootstrap != nullptr) streams.push_back(ProgressJson(bootstrap->progress()));
    if (decommission->running()) streams.push_back(ProgressJson(decommission->progress()));
    if (restore->progress().state != "idle") streams.push_back(ProgressJson(restore->progress()));
    const auto& me = view->members().at(view->self());
    return done(nlohmann::json{{"self", view->self()},
                               {"status", gossip::StatusName(me.status)},
                               {"streams", streams}}
                    .dump());
  }
  if (command == "decommission") {
    if (Status s = decommission->Start(); !s.ok()) return done(s);
    return done(nlohmann::json{{"self", view->self()}, {"status", "LEAVING"}}.dump());
  }
  if (command == "removenode") {
    // By name or by host id (hex, as kvctl status shows it).
    std::string name;
    for (const auto& [n, m] : view->members()) {
      if (n == argument || fmt::format("{:016x}", m.host_id) == argument) name = n;
    }
    if (name.empty()) {
      return done(Status::NotFound(fmt::format("no member named or with host id '{}'", argument)));
    }
    if (name == view->self()) {
      return done(Status::InvalidArgument("a node cannot remove itself: decommission it"));
    }
    if (Status s = membership->Remove(name); !s.ok()) return done(s);
    return done(nlohmann::json{{"removed", name}}.dump());
  }
  done(Status::InvalidArgument(fmt::format(
      "unknown admin command '{}' (decommission, removenode, gossipinfo, netstats)", command)));
}

}  // namespace ringkv
