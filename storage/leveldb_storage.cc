#include "storage/leveldb_storage.h"

#include <leveldb/cache.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "storage/object_codec.h"

namespace ringkv {
namespace {

constexpr char kMetaPrefix = '\x00';

std::string MetaKey(std::string_view name) {
  std::string key(1, kMetaPrefix);
  key.append(name);
  return key;
}

Status FromLevelDb(const leveldb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption(s.ToString());
  if (s.IsInvalidArgument()) return Status::InvalidArgument(s.ToString());
  return Status::IoError(s.ToString());
}

}  // namespace

Result<std::unique_ptr<LevelDbStorage>> LevelDbStorage::Open(const LevelDbOptions& options,
                                                             Poster post) {
  leveldb::Options db_options;
  db_options.create_if_missing = true;
  db_options.paranoid_checks = true;
  auto cache = std::unique_ptr<leveldb::Cache>(leveldb::NewLRUCache(options.block_cache_bytes));
  db_options.block_cache = cache.get();
  // Every write reads its key first (read-modify-write of the object), and a fresh key is a miss
  // that, without a filter, searches a block of every table file that may hold it. Ten bits a key
  // (about 1% false positives) let a miss skip the files that cannot.
  auto filter =
      std::unique_ptr<const leveldb::FilterPolicy>(leveldb::NewBloomFilterPolicy(10));
  db_options.filter_policy = filter.get();
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(db_options, options.path, &raw);
  if (!s.ok()) {
    // LevelDB holds a lock file for the life of the handle; failing to take it means another
    // process has this database open.
    if (s.ToString().find("/LOCK") != std::string::npos) {
      return Status::IoError(fmt::format(
          "data directory {} is in use by another process (is a kvnode already running on it?)",
          options.path));
    }
    return Status(FromLevelDb(s).code(),
                  fmt::format("cannot open data directory {}: {}", options.path, s.ToString()));
  }
  auto engine = std::unique_ptr<LevelDbStorage>(
      new LevelDbStorage(options, std::move(post), std::unique_ptr<leveldb::DB>(raw)));
  engine->cache_ = std::move(cache);
  engine->filter_ = std::move(filter);
  engine->CountObjects();
  return engine;
}

LevelDbStorage::LevelDbStorage(const LevelDbOptions& options, Poster post,
                               std::unique_ptr<leveldb::DB> db)
    : options_(options), post_(std::move(post)), db_(std::move(db)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

LevelDbStorage::~LevelDbStorage() {
  Drain();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  writer_.join();
  db_.reset();  // before cache_ and filter_, which the DB uses
}

void LevelDbStorage::CountObjects() {
  // One scan at open; afterwards the writer adds the writes marked `creates`. TODO(perf): a
  // persisted counter, for very large stores.
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  uint64_t n = 0;
  for (it->Seek(std::string(1, '\x01')); it->Valid(); it->Next()) ++n;
  objects_approx_ = n;
}

Result<VersionedObject> LevelDbStorage::Get(std::string_view storage_key) {
  std::string bytes;
  leveldb::Status s =
      db_->Get(leveldb::ReadOptions(), leveldb::Slice(storage_key.data(), storage_key.size()), &bytes);
  if (s.IsNotFound()) return Status::NotFound("");
  if (!s.ok()) return FromLevelDb(s);
  return DecodeObject(bytes);
}

void LevelDbStorage::Write(std::vector<ObjectWrite> writes, std::function<void(Status)> done) {
  size_t bytes = 0;
  for (const auto& w : writes) bytes += w.storage_key.size() + w.encoded_object.size();
  {
    std::lock_guard lock(mu_);
    if (queued_bytes_ + bytes > options_.queue_bytes_max && !queue_.empty()) {
      post_([done = std::move(done)] {
        done(Status::Overloaded("storage write queue is full; back off and retry"));
      });
      return;
    }
    queued_bytes_ += bytes;
    queue_.push_back(Pending{std::move(writes), bytes, std::move(done)});
  }
  work_cv_.notify_one();
}

void LevelDbStorage::WriterLoop() {
  using Clock = std::chrono::steady_clock;
  auto next_sync = Clock::now() + std::chrono::milliseconds(options_.sync_period_ms);
  bool unsynced = false;
  std::unique_lock lock(mu_);
  while (true) {
    if (options_.sync_mode == SyncMode::kPeriodic && unsynced) {
      work_cv_.wait_until(lock, next_sync, [&] { return stopping_ || !queue_.empty(); });
    } else {
      // Nothing to sync: wait for work only. (A deadline here, once passed, made this loop spin
      // for as long as no write came: a core burnt on every idle or read-only node.)
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    }
    if (options_.sync_mode == SyncMode::kPeriodic && unsynced &&
        (Clock::now() >= next_sync || (stopping_ && queue_.empty()))) {
      lock.unlock();
      leveldb::WriteOptions sync;
      sync.sync = true;
      leveldb::WriteBatch empty;
      (void)db_->Write(sync, &empty);  // an empty synced write fsyncs the log
      ++fsyncs_;
      lock.lock();
      unsynced = false;
      next_sync = Clock::now() + std::chrono::milliseconds(options_.sync_period_ms);
    }
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }

    // Take one group: a single write under kAlways, as much as fits under the others.
    std::vector<Pending> group;
    size_t group_bytes = 0;
    do {
      group_bytes += queue_.front().bytes;
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    } while (options_.sync_mode != SyncMode::kAlways && !queue_.empty() &&
             group_bytes + queue_.front().bytes <= options_.group_bytes_max);
    writing_ = true;
    lock.unlock();

    leveldb::WriteBatch batch;
    for (const auto& p : group) {
      for (const auto& w : p.writes) {
        if (w.erase) {
          batch.Delete(w.storage_key);
        } else {
          batch.Put(w.storage_key, w.encoded_object);
        }
      }
    }
    leveldb::WriteOptions write_options;
    write_options.sync = options_.sync_mode != SyncMode::kPeriodic;
    const Status status = FromLevelDb(db_->Write(write_options, &batch));
    if (status.ok() && options_.sync_mode == SyncMode::kPeriodic && !unsynced) {
      // The period starts with the first write it has to make durable.
      unsynced = true;
      next_sync = Clock::now() + std::chrono::milliseconds(options_.sync_period_ms);
    }
    if (status.ok()) {
      for (const auto& p : group) {
        for (const auto& w : p.writes) {
          if (w.creates) ++objects_approx_;
          if (w.erase && objects_approx_ > 0) --objects_approx_;
        }
      }
    }

    if (write_options.sync) ++fsyncs_;
    // One task for the whole group: one wake-up of the loop, and the answers the completions
    // produce are decided in one turn, so they can share write calls.
    std::vector<std::function<void(Status)>> dones;
    dones.reserve(group.size());
    for (auto& p : group) dones.push_back(std::move(p.done));
    post_([dones = std::move(dones), status] {
      for (const auto& done : dones) done(status);
    });

    lock.lock();
    queued_bytes_ -= group_bytes;
    writing_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
}

void LevelDbStorage::Drain() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && !writing_; });
  if (options_.sync_mode == SyncMode::kPeriodic) {
    lock.unlock();
    leveldb::WriteOptions sync;
    sync.sync = true;
    leveldb::WriteBatch empty;
    (void)db_->Write(sync, &empty);
  }
}

Status LevelDbStorage::Scan(
    std::string_view keyspace, Token from_exclusive, Token to_inclusive,
    const std::function<bool(std::string_view, Token, const VersionedObject&)>& fn) {
  if (from_exclusive >= to_inclusive) return Status::Ok();
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  const std::string start = EncodeStorageKey(keyspace, from_exclusive + 1, "");
  for (it->Seek(start); it->Valid(); it->Next()) {
    StorageKeyParts parts;
    const leveldb::Slice k = it->key();
    if (!DecodeStorageKey(std::string_view(k.data(), k.size()), &parts) ||
        parts.keyspace != keyspace || parts.token > to_inclusive) {
      break;
    }
    auto object = DecodeObject(std::string_view(it->value().data(), it->value().size()));
    if (!object.ok()) return object.status();
    if (!fn(parts.user_key, parts.token, object.value())) break;
  }
  return FromLevelDb(it->status());
}

Result<std::string> LevelDbStorage::GetMeta(std::string_view name) {
  std::string value;
  leveldb::Status s = db_->Get(leveldb::ReadOptions(), MetaKey(name), &value);
  if (s.IsNotFound()) return Status::NotFound(std::string(name));
  if (!s.ok()) return FromLevelDb(s);
  return value;
}

Status LevelDbStorage::PutMeta(std::string_view name, std::string_view value) {
  leveldb::WriteOptions sync;
  sync.sync = true;
  return FromLevelDb(db_->Put(sync, MetaKey(name), leveldb::Slice(value.data(), value.size())));
}

StorageStats LevelDbStorage::Stats() {
  StorageStats stats;
  stats.objects_approx = objects_approx_;
  leveldb::Range all(std::string(1, '\x01'), std::string(1, '\x02'));
  uint64_t size = 0;
  db_->GetApproximateSizes(&all, 1, &size);
  // GetApproximateSizes counts table files only: until the first memtable flush it says 0 however
  // much was written. The write-ahead log holds exactly what the memtable does, so add its size.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(options_.path, ec)) {
    if (entry.path().extension() == ".log") {
      const auto bytes = entry.file_size(ec);
      if (!ec) size += bytes;
    }
  }
  stats.bytes_approx = size;
  std::lock_guard lock(mu_);
  stats.writes_queued = queue_.size();
  stats.fsyncs = fsyncs_.load();
  return stats;
}

}  // namespace ringkv
