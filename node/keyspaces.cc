#include "node/keyspaces.h"

#include <fmt/format.h>

#include "common/limits.h"
#include "common/token.h"

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

Status KeyspaceCatalog::Create(std::string_view name, uint32_t replication_factor,
                               int64_t created_us, bool sloppy) {
  if (Status s = ValidateName(name); !s.ok()) return s;
  if (replication_factor < 1 || replication_factor > kReplicationFactorMax) {
    return Status::InvalidArgument(
        fmt::format("replication factor must be 1 to {}", kReplicationFactorMax));
  }
  auto [it, fresh] = keyspaces_.try_emplace(
      std::string(name), KeyspaceDef{std::string(name), replication_factor, created_us, sloppy});
  if (!fresh && it->second.replication_factor != replication_factor) {
    return Status::InvalidArgument(fmt::format("keyspace '{}' exists with replication factor {}",
                                               name, it->second.replication_factor));
  }
  if (!fresh && it->second.sloppy != sloppy) {
    return Status::InvalidArgument(fmt::format("keyspace '{}' exists with {} quorum", name,
                                               it->second.sloppy ? "sloppy" : "strict"));
  }
  return Status::Ok();
}

void KeyspaceCatalog::Touch(std::string_view name, int64_t created_us) {
  auto it = keyspaces_.find(name);
  if (it != keyspaces_.end() && it->second.created_us < created_us) {
    it->second.created_us = created_us;
  }
}

Status KeyspaceCatalog::Drop(std::string_view name, int64_t dropped_us) {
  if (name.empty() || name == kDefaultKeyspace) {
    return Status::InvalidArgument("the default keyspace cannot be dropped");
  }
  auto it = keyspaces_.find(name);
  if (it == keyspaces_.end()) {
    return Status::InvalidArgument(fmt::format("keyspace '{}' does not exist", name));
  }
  keyspaces_.erase(it);
  RecordDropped(name, dropped_us);
  return Status::Ok();
}

void KeyspaceCatalog::RecordDropped(std::string_view name, int64_t dropped_us) {
  auto [it, fresh] = dropped_.try_emplace(std::string(name), dropped_us);
  if (!fresh && it->second < dropped_us) it->second = dropped_us;
}

int64_t KeyspaceCatalog::DroppedAt(std::string_view name) const {
  auto it = dropped_.find(name);
  return it == dropped_.end() ? 0 : it->second;
}

std::string KeyspaceCatalog::SchemaVersion() const {
  std::string canonical;
  for (const auto& [name, def] : keyspaces_) {  // std::map: sorted by name
    // A strict keyspace's entry is as before sloppy quorum existed, so versions stay comparable.
    canonical += fmt::format("{}:{}{};", name, def.replication_factor, def.sloppy ? ":sloppy" : "");
  }
  return fmt::format("{:016x}", static_cast<uint64_t>(TokenOf(canonical)));
}

}  // namespace ringkv
