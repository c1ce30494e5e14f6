#include "node/server/node_admin.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <limits>

namespace ringkv {

namespace {

nlohmann::json ProgressJson(const StreamProgress& p) {
  return {{"what", p.what},         {"state", p.state},   {"ranges_total", p.ranges_total},
          {"ranges_done", p.ranges_done}, {"keys", p.keys}, {"bytes", p.bytes},
          {"current", p.current}};
}

std::string Hex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

bool Unhex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned value = 0;
    for (char c : hex.substr(i, 2)) {
      const int digit = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
      if (digit < 0) return false;
      value = value * 16 + static_cast<unsigned>(digit);
    }
    out->push_back(static_cast<char>(value));
  }
  return true;
}

// One page of this node's own stored objects of a keyspace (`kvctl dump`). The argument:
// {"keyspace": "...", "after_token": T, "after_key_hex": "...", "limit": L}, every field optional.
Result<std::string> DumpPage(KvService* service, const std::string& argument) {
  nlohmann::json arg = argument.empty() ? nlohmann::json::object()
                                        : nlohmann::json::parse(argument, nullptr, false);
  if (!arg.is_object()) return Status::InvalidArgument("dump: the argument is not a JSON object");
  ScanSpec spec;
  spec.start_token = std::numeric_limits<Token>::min();
  spec.end_token = std::numeric_limits<Token>::max();
  try {
    spec.keyspace = arg.value("keyspace", std::string(kDefaultKeyspace));
    spec.limit = arg.value("limit", uint32_t{kReplicaScanEntriesMax});
    if (arg.contains("after_token")) {
      spec.has_after = true;
      spec.after_token = arg["after_token"].get<Token>();
      if (!Unhex(arg.value("after_key_hex", std::string()), &spec.after_key)) {
        return Status::InvalidArgument("dump: after_key_hex is not hexadecimal");
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(fmt::format("dump: a field has the wrong type ({})", e.what()));
  }
  Result<ReplicaScanReply> page = Status::Internal("no answer");
  service->ReplicaScan(spec, [&page](Result<ReplicaScanReply> r) { page = std::move(r); });
  if (!page.ok()) return page.status();
  nlohmann::json objects = nlohmann::json::array();
  for (const auto& e : page->entries) {
    size_t live = 0, tombstones = 0;
    for (const auto& sib : e.object.siblings()) (sib.tombstone ? tombstones : live)++;
    objects.push_back({{"key", e.key},
                       {"key_hex", Hex(e.key)},
                       {"token", e.token},
                       {"siblings", live},
                       {"tombstones", tombstones}});
  }
  return nlohmann::json{{"keyspace", spec.keyspace}, {"objects", objects}, {"more", page->more}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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
    if (anti_entropy != nullptr && anti_entropy->report().state != "idle") {
      const RepairReport& r = anti_entropy->report();
      streams.push_back({{"what", r.what},
                         {"state", r.state},
                         {"ranges_total", r.ranges_total},
                         {"ranges_done", r.ranges_done},
                         {"ranges_agreed", r.ranges_agreed},
                         {"failures", r.failures},
                         {"keys", r.keys_repaired},
                         {"keys_differing", r.keys_differing},
                         {"bytes", r.bytes},
                         {"elapsed_ms", r.elapsed_ms},
                         {"last_error", r.last_error},
                         {"current", ""}});
    }
    if (cleanup->progress().state != "idle") {
      nlohmann::json c = ProgressJson(cleanup->progress());
      c["examined"] = cleanup->examined();
      c["elapsed_ms"] = cleanup->elapsed_ms();
      streams.push_back(std::move(c));
    }
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
  if (command == "cleanup") {
    if (Status s = cleanup->Start(argument); !s.ok()) return done(s);
    return done(nlohmann::json{{"self", view->self()}, {"state", "cleaning"}}.dump());
  }
  if (command == "dump") return done(DumpPage(service, argument));
  if ((command == "repair" || command == "merkle" || command == "fingerprint") &&
      anti_entropy == nullptr) {
    return done(Status::InvalidArgument(
        fmt::format("anti-entropy is off on {} (kvnode --anti-entropy false)", view->self())));
  }
  if (command == "repair") {
    if (Status s = anti_entropy->Repair(argument); !s.ok()) return done(s);
    return done(nlohmann::json{{"self", view->self()}, {"state", "running"}}.dump());
  }
  if (command == "merkle") {
    const std::string keyspace = argument.empty() ? std::string(kDefaultKeyspace) : argument;
    return anti_entropy->Roots(keyspace, [this, keyspace, done](Result<std::vector<RangeRoots>> r) {
      if (!r.ok()) return done(r.status());
      nlohmann::json ranges = nlohmann::json::array();
      for (const auto& rr : r.value()) {
        ranges.push_back({{"start", rr.range.start},
                          {"end", rr.range.end},
                          {"replicas", rr.replicas},
                          {"roots", rr.roots},
                          {"converged_us", rr.converged_us}});
      }
      done(nlohmann::json{{"self", view->self()}, {"keyspace", keyspace}, {"ranges", ranges}}
               .dump());
    });
  }
  if (command == "fingerprint") {
    const std::string keyspace = argument.empty() ? std::string(kDefaultKeyspace) : argument;
    return anti_entropy->FingerprintOf(keyspace, [keyspace, done](Result<Fingerprint> r) {
      if (!r.ok()) return done(r.status());
      done(nlohmann::json{{"keyspace", keyspace},
                          {"fingerprint", fmt::format("{:016x}", r->hash)},
                          {"ranges", r->ranges},
                          {"ranges_missing", r->ranges_missing},
                          {"last_error", r->last_error}}
               .dump());
    });
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
      "unknown admin command '{}' (decommission, removenode, cleanup, gossipinfo, netstats, dump, "
      "repair, merkle, fingerprint)",
      command)));
}

}  // namespace ringkv
