#include "node/keyspaces.h"

#include <fmt/format.h>

#include "common/limits.h"

namespace ringkv {

KeyspaceCatalog::KeyspaceCatalog() {
  keyspaces_.emplace(std::string(kDefaultKeyspace),
                     KeyspaceDef{std::string(kDefaultKeyspace), kDefaultReplicationFactor});
}

Status KeyspaceCatalog::ValidateName(std::string_view name) {
  if (name.empty() || name.size() > kKeyspaceNameBytesMax) {
    return Status::InvalidArgument(
        fmt::format("keyspace names are 1 to {} characters", kKeyspaceNameBytesMax));
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      return Status::InvalidArgument(
          fmt::format("keyspace name '{}' may hold only letters, digits and _", name));
    }
  }
  return Status::Ok();
}

Result<KeyspaceDef> KeyspaceCatalog::Find(std::string_view name) const {
  if (name.empty()) name = kDefaultKeyspace;
  auto it = keyspaces_.find(name);
  if (it == keyspaces_.end()) {
    return Status::InvalidArgument(fmt::format("keyspace '{}' does not exist", name));
  }
  return it->second;
}

Status KeyspaceCatalog::Create(std::string_view name, uint32_t replication_factor) {
  if (Status s = ValidateName(name); !s.ok()) return s;
  if (replication_factor < 1 || replication_factor > kReplicationFactorMax) {
    return Status::InvalidArgument(
        fmt::format("replication factor must be 1 to {}", kReplicationFactorMax));
  }
  auto [it, fresh] = keyspaces_.try_emplace(std::string(name),
                                            KeyspaceDef{std::string(name), replication_factor});
  if (!fresh && it->second.replication_factor != replication_factor) {
    return Status::InvalidArgument(fmt::format("keyspace '{}' exists with replication factor {}",
                                               name, it->second.replication_factor));
  }
  return Status::Ok();
}

}  // namespace ringkv
