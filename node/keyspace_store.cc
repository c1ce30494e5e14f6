#include "node/keyspace_store.h"

#include <fmt/format.h>

#include <cstdlib>
#include <sstream>
#include <vector>

namespace ringkv {
namespace {

constexpr char kKeyspacesMeta[] = "keyspaces";
constexpr char kDroppedMeta[] = "dropped_keyspaces";

Result<std::vector<std::vector<std::string>>> LoadList(Storage* storage, const char* name) {
  std::vector<std::vector<std::string>> out;
  auto stored = storage->GetMeta(name);
  if (stored.status().code() == Code::kNotFound) return out;
  if (!stored.ok()) return stored.status();
  std::istringstream in(stored.value());
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    std::vector<std::string> fields;
    std::istringstream f(item);
    std::string field;
    while (std::getline(f, field, ':')) fields.push_back(field);
    if (fields.size() < 2) return Status::Corruption(fmt::format("unreadable {} list", name));
    out.push_back(std::move(fields));
  }
  return out;
}

Status SaveList(Storage* storage, const char* name,
                const std::vector<std::vector<std::string>>& items) {
  std::string text;
  for (const auto& fields : items) {
    if (!text.empty()) text += ',';
    text += fmt::format("{}", fmt::join(fields, ":"));
  }
  return storage->PutMeta(name, text);
}

}  // namespace

Status LoadKeyspaces(Storage* storage, KeyspaceCatalog* catalog) {
  auto keyspaces = LoadList(storage, kKeyspacesMeta);
  if (!keyspaces.ok()) return keyspaces.status();
  for (const auto& f : keyspaces.value()) {
    const auto rf = static_cast<uint32_t>(std::strtoul(f[1].c_str(), nullptr, 10));
    const int64_t created = f.size() > 2 ? std::strtoll(f[2].c_str(), nullptr, 10) : 0;
    const bool sloppy = f.size() > 3 && f[3] == "sloppy";  // absent: saved before sloppy quorum
    (void)catalog->Create(f[0], rf, created, sloppy);
  }
  auto dropped = LoadList(storage, kDroppedMeta);
  if (!dropped.ok()) return dropped.status();
  for (const auto& f : dropped.value()) {
    catalog->RecordDropped(f[0], std::strtoll(f[1].c_str(), nullptr, 10));
  }
  return Status::Ok();
}

Status SaveKeyspace(Storage* storage, const KeyspaceDef& keyspace) {
  auto known = LoadList(storage, kKeyspacesMeta);
  if (!known.ok()) return known.status();
  std::vector<std::vector<std::string>> items;
  for (auto& f : known.value()) {
    if (f[0] != keyspace.name) items.push_back(std::move(f));
  }
  items.push_back({keyspace.name, std::to_string(keyspace.replication_factor),
                   std::to_string(keyspace.created_us), keyspace.sloppy ? "sloppy" : "strict"});
  return SaveList(storage, kKeyspacesMeta, items);
}

Status SaveDrop(Storage* storage, const std::string& name, int64_t dropped_us) {
  auto known = LoadList(storage, kKeyspacesMeta);
  if (!known.ok()) return known.status();
  std::vector<std::vector<std::string>> items;
  for (auto& f : known.value()) {
    if (f[0] != name) items.push_back(std::move(f));
  }
  if (Status s = SaveList(storage, kKeyspacesMeta, items); !s.ok()) return s;
  auto dropped = LoadList(storage, kDroppedMeta);
  if (!dropped.ok()) return dropped.status();
  std::vector<std::vector<std::string>> drops;
  for (auto& f : dropped.value()) {
    if (f[0] != name) drops.push_back(std::move(f));
  }
  drops.push_back({name, std::to_string(dropped_us)});
  return SaveList(storage, kDroppedMeta, drops);
}

}  // namespace ringkv
