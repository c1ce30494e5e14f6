#include "storage/memory_storage.h"

#include "storage/object_codec.h"

namespace ringkv {

Result<VersionedObject> MemoryStorage::Get(std::string_view storage_key) {
  auto it = objects_.find(std::string(storage_key));
  if (it == objects_.end()) return Status::NotFound("");
  return DecodeObject(it->second);
}

void MemoryStorage::Write(std::vector<ObjectWrite> writes, std::function<void(Status)> done) {
  queue_.push_back(Pending{std::move(writes), std::move(done)});
}

size_t MemoryStorage::RunCompletions() {
  size_t ran = 0;
  while (!queue_.empty()) {
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    Status status;
    if (fail_writes_ > 0) {
      --fail_writes_;
      status = Status::IoError("injected: No space left on device");
    } else {
      for (auto& w : p.writes) {
        if (w.erase) {
          objects_.erase(w.storage_key);
        } else {
          objects_[w.storage_key] = std::move(w.encoded_object);
        }
      }
      ++writes_;
    }
    p.done(status);
    ++ran;
  }
  return ran;
}

Status MemoryStorage::Scan(
    std::string_view keyspace, Token from_exclusive, Token to_inclusive,
    const std::function<bool(std::string_view, Token, const VersionedObject&)>& fn) {
  if (from_exclusive >= to_inclusive) return Status::Ok();
  for (auto it = objects_.lower_bound(EncodeStorageKey(keyspace, from_exclusive + 1, ""));
       it != objects_.end(); ++it) {
    StorageKeyParts parts;
    if (!DecodeStorageKey(it->first, &parts) || parts.keyspace != keyspace ||
        parts.token > to_inclusive) {
      break;
    }
    auto object = DecodeObject(it->second);
    if (!object.ok()) return object.status();
    if (!fn(parts.user_key, parts.token, object.value())) break;
  }
  return Status::Ok();
}

Result<std::string> MemoryStorage::GetMeta(std::string_view name) {
  auto it = meta_.find(name);
  if (it == meta_.end()) return Status::NotFound(std::string(name));
  return it->second;
}

Status MemoryStorage::PutMeta(std::string_view name, std::string_view value) {
  meta_[std::string(name)] = std::string(value);
  return Status::Ok();
}

StorageStats MemoryStorage::Stats() {
  StorageStats stats;
  stats.objects_approx = objects_.size();
  for (const auto& [k, v] : objects_) stats.bytes_approx += k.size() + v.size();
  stats.writes_queued = queue_.size();
  return stats;
}

}  // namespace ringkv
