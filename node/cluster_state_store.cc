#include "node/cluster_state_store.h"

#include <fmt/format.h>

#include <string>

#include "common/coding.h"
#include "node/identity.h"

namespace ringkv {

namespace {

constexpr std::string_view kEndpointsKey = "gossip_endpoints";
constexpr std::string_view kGenerationKey = "gossip_generation";
constexpr std::string_view kJoinKey = "join_state";
constexpr uint64_t kFormat = 1;

}  // namespace

Status SaveEndpoints(Storage* storage, const std::vector<gossip::Endpoint>& endpoints) {
  std::string out;
  PutVarint64(&out, kFormat);
  PutVarint64(&out, endpoints.size());
  for (const auto& e : endpoints) {
    PutLengthPrefixed(&out, e.name);
    PutVarint64(&out, static_cast<uint64_t>(e.generation));
    PutVarint64(&out, e.version);
    PutVarint64(&out, e.heartbeat);
    PutLengthPrefixed(&out, e.state.address);
    PutVarint64(&out, e.state.host_id);
    PutVarint64(&out, static_cast<uint64_t>(e.state.status));
    PutVarint64(&out, e.state.load_bytes);
    PutVarint64(&out, e.state.schema);
    PutVarint64(&out, e.state.tokens.size());
    for (Token t : e.state.tokens) PutFixed64BE(&out, static_cast<uint64_t>(t));
  }
  return storage->PutMeta(kEndpointsKey, out);
}

Result<std::vector<gossip::Endpoint>> LoadEndpoints(Storage* storage) {
  auto stored = storage->GetMeta(kEndpointsKey);
  if (!stored.ok()) {
    if (stored.status().code() == Code::kNotFound) return std::vector<gossip::Endpoint>{};
    return stored.status();
  }
  Decoder in(stored.value());
  uint64_t format = 0, count = 0;
  if (!in.GetVarint64(&format) || format != kFormat || !in.GetVarint64(&count) ||
      count > gossip::kMembersMax) {
    return Status::Corruption("the saved cluster state has an unknown format");
  }
  std::vector<gossip::Endpoint> out;
  for (uint64_t i = 0; i < count; ++i) {
    gossip::Endpoint e;
    std::string_view name, address;
    uint64_t generation = 0, status = 0, tokens = 0;
    if (!in.GetLengthPrefixed(&name, gossip::kNameBytesMax) || !in.GetVarint64(&generation) ||
        !in.GetVarint64(&e.version) || !in.GetVarint64(&e.heartbeat) ||
        !in.GetLengthPrefixed(&address, gossip::kAddressBytesMax) ||
        !in.GetVarint64(&e.state.host_id) || !in.GetVarint64(&status) ||
        status > static_cast<uint64_t>(gossip::MemberStatus::kRemoved) ||
        !in.GetVarint64(&e.state.load_bytes) || !in.GetVarint64(&e.state.schema) ||
        !in.GetVarint64(&tokens) || tokens > gossip::kMemberTokensMax) {
      return Status::Corruption("the saved cluster state is truncated or malformed");
    }
    e.name = name;
    e.state.address = address;
    e.generation = static_cast<int64_t>(generation);
    e.state.status = static_cast<gossip::MemberStatus>(status);
    for (uint64_t t = 0; t < tokens; ++t) {
      uint64_t v = 0;
      if (!in.GetFixed64BE(&v)) return Status::Corruption("the saved cluster state is truncated");
      e.state.tokens.push_back(static_cast<Token>(v));
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<int64_t> NextGeneration(Storage* storage, int64_t now_us) {
  int64_t last = 0;
  auto stored = storage->GetMeta(kGenerationKey);
  if (stored.ok()) {
    try {
      last = std::stoll(stored.value());
    } catch (...) {
      return Status::Corruption("the saved gossip generation is not a number");
    }
  } else if (stored.status().code() != Code::kNotFound) {
    return stored.status();
  }
  const int64_t next = std::max(now_us, last + 1);
  if (Status s = storage->PutMeta(kGenerationKey, std::to_string(next)); !s.ok()) return s;
  return next;
}

Result<std::string> LoadJoinState(Storage* storage) { return storage->GetMeta(kJoinKey); }

Result<ClusterStart> OpenClusterStart(Storage* storage, const std::string& name, bool founding,
                                      uint64_t host_id, uint32_t vnodes, int64_t now_us,
                                      const std::string& data_dir) {
  ClusterStart start;
  auto join_state = LoadJoinState(storage);
  if (!join_state.ok() && join_state.status().code() != Code::kNotFound) {
    return join_state.status();
  }
  const bool has_tokens = HasTokens(storage);
  start.joining = join_state.ok() ? join_state.value() != "done" : (!founding && !has_tokens);
  if (!start.joining || has_tokens) {
    auto tokens = OpenTokens(storage, name, host_id, vnodes);
    if (!tokens.ok()) return tokens.status();
    start.tokens = std::move(tokens).value();
  }
  auto generation = NextGeneration(storage, now_us);
  if (!generation.ok()) return generation.status();
  start.generation = generation.value();
  auto saved = LoadEndpoints(storage);
  if (!saved.ok()) return saved.status();
  for (const auto& e : saved.value()) {
    if (e.name == name && gossip::Gone(e.state.status)) {
      return Status::InvalidArgument(fmt::format(
          "this node {} the cluster (status {}); remove its data directory {} to join it again "
          "as a new node",
          e.state.status == gossip::MemberStatus::kLeft ? "left" : "was removed from",
          gossip::StatusName(e.state.status), data_dir));
    }
  }
  start.saved = std::move(saved).value();
  return start;
}

Status SaveJoinState(Storage* storage, const std::string& state) {
  return storage->PutMeta(kJoinKey, state);
}

}  // namespace ringkv
