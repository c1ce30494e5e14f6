#include "node/kv_service.h"

#include "aae/version_hash.h"

#include <fmt/format.h>

#include "common/token.h"

#include <algorithm>
#include <limits>
#include <memory>
#include "storage/object_codec.h"

namespace ringkv {
namespace {

std::string_view KeyspaceOrDefault(std::string_view keyspace) {
  return keyspace.empty() ? kDefaultKeyspace : keyspace;
}

}  // namespace

KvService::KvService(Storage* storage, const Clock* clock, uint64_t actor, KvServiceOptions options,
                     const KeyspaceCatalog* keyspaces)
    : storage_(storage), clock_(clock), actor_(actor), options_(options), keyspaces_(keyspaces) {}

Status KvService::ValidateKeyspace(std::string_view keyspace) const {
  keyspace = KeyspaceOrDefault(keyspace);
  if (keyspaces_ != nullptr) return keyspaces_->Find(keyspace).status();
  if (keyspace != kDefaultKeyspace) {
    return Status::InvalidArgument(fmt::format("keyspace '{}' does not exist", keyspace));
  }
  return Status::Ok();
}

Status KvService::ValidateKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("empty key");
  if (key.size() > kKeyBytesMax) {
    return Status::InvalidArgument(
        fmt::format("key of {} bytes exceeds the maximum of {} bytes", key.size(), kKeyBytesMax));
  }
  return Status::Ok();
}

template <typename Op>
void KvService::WithKey(const std::string& skey, Op&& op) {
  auto [it, inserted] = busy_.try_emplace(skey);
  if (!inserted) {
    // Busy: wait behind the operations already there.
    it->second.waiting.emplace_back(std::forward<Op>(op));
    if (!it->second.held && it->second.waiting.size() == 1) Drain(skey);
    return;
  }
  // Free: run now, marked held as Drain does, since op's callbacks may queue more on this key.
  it->second.held = true;
  if (op()) return;  // its storage write's completion releases the key
  Release(skey);
}

void KvService::Release(const std::string& skey) {
  auto it = busy_.find(skey);
  if (it == busy_.end()) return;
  it->second.held = false;
  Drain(skey);
}

void KvService::Drain(const std::string& skey) {
  while (true) {
    auto it = busy_.find(skey);
    if (it == busy_.end()) return;
    if (it->second.held) return;
    if (it->second.waiting.empty()) {
      busy_.erase(it);
      return;
    }
    KeyOp op = std::move(it->second.waiting.front());
    it->second.waiting.pop_front();
    // Mark held while op runs: an op's callback may queue more work on this key, which must wait.
    it->second.held = true;
    const bool holds = op();
    if (holds) return;
    it = busy_.find(skey);
    if (it != busy_.end()) it->second.held = false;
  }
}

Result<std::string> KvService::StorageKeyFor(std::string_view keyspace,
                                             std::string_view key) const {
  if (Status s = ValidateKeyspace(keyspace); !s.ok()) return s;
  if (Status s = ValidateKey(key); !s.ok()) return s;
  return EncodeStorageKey(KeyspaceOrDefault(keyspace), TokenOf(key), key);
}

Result<std::string> KvService::EncodeBounded(const VersionedObject& object) const {
  std::string encoded = EncodeObject(object);
  if (encoded.size() > options_.object_bytes_max) {
    return Status(Code::kTooManySiblings,
                  fmt::format("the key's siblings would total {} bytes (max {}); read it and "
                              "write back with its context to resolve them",
                              encoded.size(), options_.object_bytes_max));
  }
  return encoded;
}

Result<VersionedObject> KvService::Load(const std::string& skey, bool* exists) {
  auto stored = storage_->Get(skey);
  *exists = stored.ok();
  if (stored.status().code() == Code::kNotFound) return VersionedObject();
  return stored;
}

void KvService::Get(std::string_view keyspace, std::string_view key, ReadDone done) {
  ++requests_served_;
  auto skey_or = StorageKeyFor(keyspace, key);
  if (!skey_or.ok()) return done(skey_or.status());
  std::string skey = std::move(skey_or).value();
  const int64_t start_us = clock_->MonoUs();
  WithKey(skey, [this, skey, start_us, done = std::move(done)] {
    bool exists = false;
    auto object = Load(skey, &exists);
    if (!object.ok()) {
      done(object.status());
      return false;
    }
    ReadReply reply;
    reply.siblings = object->Live(clock_->NowUs());
    reply.found = !reply.siblings.empty();
    reply.context = object->clock().EncodeContext();
    CountRead(skey, start_us);
    done(std::move(reply));
    return false;
  });
}

void KvService::Put(std::string_view keyspace, std::string_view key, std::string_view value,
                    std::string_view context, uint32_t ttl_s, WriteDone done) {
  ++requests_served_;
  if (value.size() > options_.value_bytes_max) {
    return done(Status::InvalidArgument(fmt::format(
        "value of {} bytes exceeds the maximum of {} bytes", value.size(), options_.value_bytes_max)));
  }
  if (ttl_s > kTtlSecondsMax) {
    return done(Status::InvalidArgument(
        fmt::format("ttl of {} s exceeds the maximum of {} s", ttl_s, kTtlSecondsMax)));
  }
  Sibling sibling;
  sibling.value.assign(value);
  sibling.timestamp_us = clock_->NowUs();
  if (ttl_s > 0) sibling.expires_at_us = sibling.timestamp_us + int64_t{ttl_s} * 1'000'000;
  Coordinate(keyspace, key, std::move(sibling), context, false, std::move(done));
}

void KvService::Del(std::string_view keyspace, std::string_view key, std::string_view context,
                    WriteDone done) {
  ++requests_served_;
  Sibling tombstone;
  tombstone.tombstone = true;
  tombstone.timestamp_us = clock_->NowUs();
  Coordinate(keyspace, key, std::move(tombstone), context, context.empty(), std::move(done));
}

void KvService::Coordinate(std::string_view keyspace, std::string_view key, Sibling sibling,
                           std::string_view context, bool context_is_everything_seen,
                           WriteDone done) {
  if (Status s = ValidateKeyspace(keyspace); !s.ok()) return done(s);
  if (Status s = ValidateKey(key); !s.ok()) return done(s);
  auto ctx = VersionVector::DecodeContext(context);
  if (!ctx.ok()) return done(ctx.status());
  std::string skey = EncodeStorageKey(KeyspaceOrDefault(keyspace), TokenOf(key), key);
  const int64_t start_us = clock_->MonoUs();
  WithKey(skey, [this, skey, start_us, sibling = std::move(sibling), ctx = std::move(ctx).value(),
                 context_is_everything_seen, done = std::move(done)]() mutable {
    bool exists = false;
    auto object = Load(skey, &exists);
    if (!object.ok()) {
      done(object.status());
      return false;
    }
    // TODO(perf): the stored size could come with the stored bytes instead of a re-encoding.
    const size_t old_bytes = exists ? EncodeObject(object.value()).size() : 0;
    const std::optional<uint64_t> before = HashOf(object.value(), exists);
    if (context_is_everything_seen) ctx = object->clock();
    const int64_t now_us = clock_->NowUs();
    auto dot = object->ApplyWrite(ctx, actor_, std::move(sibling), now_us);
    if (!dot.ok()) {
      done(dot.status());
      return false;
    }
    auto encoded = EncodeBounded(object.value());
    if (!encoded.ok()) {
      done(encoded.status());
      return false;
    }
    WriteReply reply;
    reply.dot = dot.value();
    reply.context = object->clock().EncodeContext();
    // Counted in place: Live() copies every live sibling, values included, into a new vector.
    reply.siblings = static_cast<uint32_t>(
        std::count_if(object->siblings().begin(), object->siblings().end(),
                      [now_us](const Sibling& s) { return s.LiveAt(now_us); }));
    reply.object = std::move(object).value();
    const std::optional<uint64_t> after = HashOf(reply.object, true);
    std::vector<ObjectWrite> writes;
    const size_t new_bytes = encoded->size();
    writes.push_back(ObjectWrite{skey, std::move(encoded).value(), !exists});
    storage_->Write(std::move(writes), [this, skey, start_us, exists, old_bytes, new_bytes,
                                        before, after, reply = std::move(reply),
                                        done = std::move(done)](Status s) mutable {
      Notify(skey, before, s.ok() ? after : before);
      // Answer before releasing: the reply must not overtake a later request's on this key.
      if (s.ok()) {
        CountWrite(skey, start_us, exists, old_bytes, new_bytes);
        done(std::move(reply));
      } else {
        done(s);
      }
      Release(skey);
    });
    return true;
  });
}

void KvService::ReplicaWrite(std::string_view keyspace, std::string_view key,
                             VersionedObject incoming, std::function<void(Status)> done) {
  ++requests_served_;
  auto skey_or = StorageKeyFor(keyspace, key);
  if (!skey_or.ok()) return done(skey_or.status());
  std::string skey = std::move(skey_or).value();
  const int64_t start_us = clock_->MonoUs();
  WithKey(skey, [this, skey, start_us, incoming = std::move(incoming), done = std::move(done)] {
    bool exists = false;
    auto object = Load(skey, &exists);
    if (!object.ok()) {
      done(object.status());
      return false;
    }
    VersionedObject merged = VersionedObject::Merge(object.value(), incoming);
    // TODO(clock-pruning): two valid clocks can union past the bound; until old entries are
    // pruned, refuse the merge rather than store an object that would not decode.
    if (merged.siblings().size() > kSiblingsStoredMax) {
      done(Status(Code::kTooManySiblings,
                  fmt::format("merged object would hold {} siblings (max {})",
                              merged.siblings().size(), kSiblingsStoredMax)));
      return false;
    }
    if (merged.clock().size() > kClockEntriesMax) {
      done(Status::InvalidArgument(fmt::format("merged version vector would hold {} actors (max {})",
                                               merged.clock().size(), kClockEntriesMax)));
      return false;
    }
    if (exists && merged == object.value()) {
      done(Status::Ok());  // nothing new: no write, no fsync
      return false;
    }
    auto encoded = EncodeBounded(merged);
    if (!encoded.ok()) {
      done(encoded.status());
      return false;
    }
    const size_t old_bytes = exists ? EncodeObject(object.value()).size() : 0;
    const size_t new_bytes = encoded->size();
    const std::optional<uint64_t> before = HashOf(object.value(), exists);
    const std::optional<uint64_t> after = HashOf(merged, true);
    std::vector<ObjectWrite> writes;
    writes.push_back(ObjectWrite{skey, std::move(encoded).value(), !exists});
    storage_->Write(std::move(writes), [this, skey, start_us, exists, old_bytes, new_bytes,
                                        before, after, done = std::move(done)](Status s) {
      Notify(skey, before, s.ok() ? after : before);
      if (s.ok()) CountWrite(skey, start_us, exists, old_bytes, new_bytes);
      done(s);
      Release(skey);
    });
    return true;
  });
}

void KvService::ReplicaRead(std::string_view keyspace, std::string_view key,
                            ReplicaReadDone done) {
  ++requests_served_;
  auto skey_or = StorageKeyFor(keyspace, key);
  if (!skey_or.ok()) return done(skey_or.status());
  std::string skey = std::move(skey_or).value();
  const int64_t start_us = clock_->MonoUs();
  WithKey(skey, [this, skey, start_us, done = std::move(done)] {
    auto stored = storage_->Get(skey);
    if (stored.ok() || stored.status().code() == Code::kNotFound) CountRead(skey, start_us);
    if (stored.ok()) {
      done(ReplicaReadReply{true, std::move(stored).value()});
    } else if (stored.status().code() == Code::kNotFound) {
      done(ReplicaReadReply{});
    } else {
      done(stored.status());
    }
    return false;
  });
}

void KvService::ReplicaScan(const ScanSpec& spec, ReplicaScanDone done) {
  ++requests_served_;
  if (Status s = ValidateKeyspace(spec.keyspace); !s.ok()) return done(s);
  if (spec.start_token >= spec.end_token) {
    return done(Status::InvalidArgument("a replica scan range must not wrap"));
  }
  const uint32_t limit =
      spec.limit == 0 ? kReplicaScanEntriesMax : std::min(spec.limit, kReplicaScanEntriesMax);
  ReplicaScanReply reply;
  size_t bytes = 0;
  Status s = ScanAfter(
      storage_, KeyspaceOrDefault(spec.keyspace), spec.start_token, spec.end_token,
      spec.has_after, spec.after_token, spec.after_key,
      [&](std::string_view key, Token token, const VersionedObject& object) {
        if (key.substr(0, spec.key_prefix.size()) != spec.key_prefix) return true;
        if (reply.entries.size() >= limit || bytes >= kReplicaScanBytesMax) {
          reply.more = true;
          return false;
        }
        bytes += key.size() + 64;
        for (const auto& sib : object.siblings()) bytes += sib.value.size() + 48;
        reply.entries.push_back(ReplicaScanEntry{std::string(key), token, object});
        return true;
      });
  if (!s.ok()) return done(s);
  done(std::move(reply));
}

void KvService::PurgeKeyspace(std::string keyspace,
                              std::function<void(Status, uint64_t)> done) {
  auto removed = std::make_shared<uint64_t>(0);
  auto batch = std::make_shared<std::function<void()>>();
  // The batch function refers to itself through a weak pointer; the storage completion holds the
  // strong one, so it lives exactly while a batch is in flight.
  std::weak_ptr<std::function<void()>> weak = batch;
  *batch = [this, keyspace, removed, done, weak] {
    if (keyspaces_ != nullptr && keyspaces_->Find(keyspace).ok()) return done(Status::Ok(), *removed);
    std::vector<ObjectWrite> erases;
    Status s = storage_->Scan(keyspace, std::numeric_limits<Token>::min(),
                              std::numeric_limits<Token>::max(),
                              [&](std::string_view key, Token token, const VersionedObject&) {
                                ObjectWrite w;
                                w.storage_key = EncodeStorageKey(keyspace, token, key);
                                w.erase = true;
                                erases.push_back(std::move(w));
                                return erases.size() < kPurgeBatchKeys;
                              });
    if (!s.ok()) return done(s, *removed);
    if (erases.empty()) return done(Status::Ok(), *removed);
    const size_t n = erases.size();
    table_stats_.DropKeyspace(keyspace);
    auto self = weak.lock();
    storage_->Write(std::move(erases), [self, removed, n, done](Status ws) {
      if (!ws.ok()) return done(ws, *removed);
      *removed += n;
      (*self)();
    });
  };
  (*batch)();
}

void KvService::EraseUnowned(const ScanSpec& spec, const std::function<bool(Token)>& keep,
                             std::function<void(Result<ErasePage>)> done) {
  if (Status s = ValidateKeyspace(spec.keyspace); !s.ok()) return done(s);
  if (spec.start_token >= spec.end_token) {
    return done(Status::InvalidArgument("an erase scan range must not wrap"));
  }
  const std::string keyspace(KeyspaceOrDefault(spec.keyspace));
  ErasePage page;
  std::vector<ObjectWrite> erases;
  struct Erased {
    std::string skey;
    size_t bytes;
    std::optional<uint64_t> hash;
  };
  std::vector<Erased> erased;
  Status s = ScanAfter(
      storage_, keyspace, spec.start_token, spec.end_token, spec.has_after, spec.after_token,
      spec.after_key, [&](std::string_view key, Token token, const VersionedObject& object) {
        if (page.examined >= kPurgeBatchKeys) {
          page.more = true;
          return false;
        }
        ++page.examined;
        page.last_token = token;
        page.last_key.assign(key);
        if (keep(token)) return true;
        std::string skey = EncodeStorageKey(keyspace, token, key);
        if (busy_.count(skey) > 0) return true;
        const size_t bytes = EncodeObject(object).size();
        page.bytes += bytes;
        erased.push_back(Erased{skey, bytes, HashOf(object, true)});
        ObjectWrite w;
        w.storage_key = std::move(skey);
        w.erase = true;
        erases.push_back(std::move(w));
        return true;
      });
  if (!s.ok()) return done(s);
  page.erased = erases.size();
  if (erases.empty()) return done(std::move(page));
  storage_->Write(std::move(erases), [this, keyspace, erased = std::move(erased),
                                       page = std::move(page), done](Status ws) mutable {
    for (const auto& e : erased) Notify(e.skey, e.hash, ws.ok() ? std::nullopt : e.hash);
    if (!ws.ok()) return done(ws);
    for (const auto& e : erased) {
      StorageKeyParts parts;
      if (DecodeStorageKey(e.skey, &parts)) table_stats_.RecordErase(keyspace, parts.user_key, e.bytes);
    }
    done(std::move(page));
  });
}

void KvService::EraseIfUnchanged(std::string_view keyspace, std::string_view key,
                                 uint64_t version_hash, std::function<void(Result<bool>)> done) {
  auto skey_or = StorageKeyFor(keyspace, key);
  if (!skey_or.ok()) return done(skey_or.status());
  std::string skey = std::move(skey_or).value();
  WithKey(skey, [this, skey, version_hash, done = std::move(done)] {
    bool exists = false;
    auto object = Load(skey, &exists);
    if (!object.ok()) {
      done(object.status());
      return false;
    }
    if (!exists || VersionHash(object.value()) != version_hash) {
      done(false);
      return false;
    }
    const size_t bytes = EncodeObject(object.value()).size();
    const std::optional<uint64_t> before = HashOf(object.value(), true);
    std::vector<ObjectWrite> erase(1);
    erase[0].storage_key = skey;
    erase[0].erase = true;
    storage_->Write(std::move(erase), [this, skey, bytes, before, done](Status s) {
      Notify(skey, before, s.ok() ? std::nullopt : before);
      StorageKeyParts parts;
      if (s.ok() && DecodeStorageKey(skey, &parts)) {
        table_stats_.RecordErase(parts.keyspace, parts.user_key, bytes);
      }
      if (s.ok()) {
        done(true);
      } else {
        done(s);
      }
      Release(skey);
    });
    return true;
  });
}

std::optional<uint64_t> KvService::HashOf(const VersionedObject& object, bool exists) const {
  if (observer_ == nullptr || !exists) return std::nullopt;
  return VersionHash(object);
}

void KvService::Notify(const std::string& skey, std::optional<uint64_t> before,
                       std::optional<uint64_t> after) {
  if (observer_ == nullptr || before == after) return;
  StorageKeyParts parts;
  if (!DecodeStorageKey(skey, &parts)) return;
  observer_->OnStored(parts.keyspace, parts.user_key, parts.token, before, after);
}

void KvService::CountRead(const std::string& skey, int64_t start_us) {
  StorageKeyParts parts;
  if (!DecodeStorageKey(skey, &parts)) return;
  ++reads_;
  table_stats_.RecordRead(parts.keyspace, parts.user_key, clock_->MonoUs() - start_us);
}

void KvService::CountWrite(const std::string& skey, int64_t start_us, bool existed,
                           size_t old_bytes, size_t new_bytes) {
  StorageKeyParts parts;
  if (!DecodeStorageKey(skey, &parts)) return;
  ++writes_;
  table_stats_.RecordWrite(parts.keyspace, parts.user_key, clock_->MonoUs() - start_us, existed,
                           old_bytes, new_bytes);
}

}  // namespace ringkv
