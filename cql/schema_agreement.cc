#include "cql/schema_agreement.h"

#include <fmt/format.h>

#include <algorithm>

namespace ringkv::cql {

std::vector<const RingMemberInfo*> MembersToAsk(const RingInfo& ring) {
  std::vector<const RingMemberInfo*> out;
  for (const RingMemberInfo& m : ring.members) {
    if (!m.departed() && (m.up || m.name == ring.self)) out.push_back(&m);
  }
  return out;
}

std::vector<std::string> SchemaDisagreement(const RingInfo& ring,
                                            const std::map<std::string, Expected<NodeInfo>>& infos,
                                            std::string_view keyspace) {
  const bool held = std::any_of(ring.keyspaces.begin(), ring.keyspaces.end(),
                                [&](const KeyspaceInfo& k) { return k.name == keyspace; });
  if (!held) return {fmt::format("{} (the contact point) does not hold the keyspace", ring.self)};
  auto self = infos.find(ring.self);
  if (self == infos.end() || !self->second.ok()) {
    return {fmt::format("{} (the contact point) did not report its schema version", ring.self)};
  }
  const std::string& target = self->second->schema_version;
  std::vector<std::string> out;
  for (const RingMemberInfo* m : MembersToAsk(ring)) {
    auto it = infos.find(m->name);
    if (it == infos.end()) {
      out.push_back(fmt::format("{} ({}) was not asked", m->name, m->address));
    } else if (!it->second.ok()) {
      out.push_back(fmt::format("{} ({}) did not answer: {}", m->name, m->address,
                                it->second.error().ToString()));
    } else if (it->second->schema_version != target) {
      out.push_back(fmt::format("{} ({}) has schema version {}, the contact point {} has {}",
                                m->name, m->address, it->second->schema_version, ring.self,
                                target));
    }
  }
  return out;
}

namespace {

// One round: asks the contact point for its ring, then every member to ask for its Info.
std::vector<std::string> AskOnce(Client& client, std::string_view keyspace) {
  auto ring = client.Ring();
  if (!ring.ok()) return {fmt::format("the contact point's ring: {}", ring.error().ToString())};
  std::map<std::string, Expected<NodeInfo>> infos;
  for (const RingMemberInfo* m : MembersToAsk(ring.value())) {
    infos.emplace(m->name, client.InfoOf(m->address));
  }
  return SchemaDisagreement(ring.value(), infos, keyspace);
}

}  // namespace

std::optional<CqlError> AwaitSchemaAgreement(Client& client, std::string_view keyspace,
                                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> disagreement;
  do {
    disagreement = AskOnce(client, keyspace);
    if (disagreement.empty()) return std::nullopt;
  } while (std::chrono::steady_clock::now() < deadline);
  CqlError e;
  e.kind = ErrorKind::kTimeout;
  e.message = fmt::format(
      "schema agreement not reached within {} ms: keyspace {} exists, but requests in it through "
      "a node that does not know it yet fail until it does (retry the statement to wait again): "
      "{}",
      timeout.count(), keyspace, fmt::join(disagreement, "; "));
  return e;
}

}  // namespace ringkv::cql
