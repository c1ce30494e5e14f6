#include "storage/leveldb_hint_store.h"

#include <leveldb/write_batch.h>

#include <fmt/format.h>

#include <vector>

namespace ringkv {
namespace {

std::string TargetPrefix(const std::string& target) {
  std::string key = "h";
  key += target;
  key.push_back('\0');
  return key;
}

std::string HintKey(const std::string& target, uint64_t id) {
  std::string key = TargetPrefix(target);
  for (int shift = 56; shift >= 0; shift -= 8)
    key.push_back(static_cast<char>((id >> shift) & 0xff));
  return key;
}

// "h" target "\0" id -> (target, id); false if the key is not of that shape.
bool ParseHintKey(std::string_view key, std::string* target, uint64_t* id) {
  if (key.size() < 1 + 1 + 8 || key[0] != 'h' || key[key.size() - 9] != '\0') return false;
  target->assign(key.substr(1, key.size() - 10));
  *id = 0;
  for (size_t i = key.size() - 8; i < key.size(); ++i)
    *id = (*id << 8) | static_cast<uint8_t>(key[i]);
  return true;
}

}  // namespace

Result<std::unique_ptr<LevelDbHintStore>> LevelDbHintStore::Open(const std::string& path,
                                                                 Poster post) {
  leveldb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, path, &raw);
  if (!s.ok())
    return Status::IoError(fmt::format("cannot open hint store {}: {}", path, s.ToString()));
  auto store = std::unique_ptr<LevelDbHintStore>(
      new LevelDbHintStore(std::move(post), std::unique_ptr<leveldb::DB>(raw)));
  store->Load();
  return store;
}

LevelDbHintStore::LevelDbHintStore(Poster post, std::unique_ptr<leveldb::DB> db)
    : post_(std::move(post)), db_(std::move(db)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

LevelDbHintStore::~LevelDbHintStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

void LevelDbHintStore::Load() {
  // One scan at open: the index (and so the stats and caps) must know every stored hint.
  // TODO(perf): read only the record's header for very large stores.
  std::vector<std::string> bad;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string target;
    uint64_t id = 0;
    Hint h;
    const std::string_view key(it->key().data(), it->key().size());
    if (!ParseHintKey(key, &target, &id) ||
        !DecodeHintRecord(std::string_view(it->value().data(), it->value().size()), &h).ok()) {
      bad.emplace_back(key);
      if (id >= next_id_) next_id_ = id + 1;
      continue;
    }
    index_.Add(target, id, h.bytes, h.stored_at_us);
    index_.MarkDurable(target, id);
    if (id >= next_id_) next_id_ = id + 1;
  }
  corrupt_skipped_ += bad.size();
  for (auto& key : bad) (void)db_->Delete(leveldb::WriteOptions(), key);
}

void LevelDbHintStore::Enqueue(Op op) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(op));
  }
  cv_.notify_one();
}

void LevelDbHintStore::AddRecord(const std::string& target, int64_t stored_at_us,
                                 std::string record, std::function<void(Status)> done) {
  const uint64_t id = next_id_++;
  index_.Add(target, id, record.size(), stored_at_us);
  Op op;
  op.key = HintKey(target, id);
  op.value = std::move(record);
  op.done = [this, target, id, done = std::move(done)](Status s) {
    if (!s.ok()) {
      index_.Remove(target, id);
    } else if (index_.Has(target, id)) {
      index_.MarkDurable(target, id);
    } else {
      // Truncated while it was being written: remove what was just stored.
      Enqueue(Op{HintKey(target, id), "", true, nullptr});
    }
    done(std::move(s));
  };
  Enqueue(std::move(op));
}

std::vector<Hint> LevelDbHintStore::Oldest(const std::string& target, size_t max_count,
                                           size_t max_bytes) {
  std::vector<Hint> out;
  const std::string prefix = TargetPrefix(target);
  size_t bytes = 0;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  for (it->Seek(prefix);
       it->Valid() && out.size() < max_count && (out.empty() || bytes < max_bytes); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, prefix.size()) != prefix) break;
    std::string parsed_target;
    uint64_t id = 0;
    if (!ParseHintKey(key, &parsed_target, &id) || parsed_target != target) break;
    // A removal still queued, or an add not yet durable: not returned.
    if (!index_.IsDurable(target, id)) continue;
    Hint h;
    if (!DecodeHintRecord(std::string_view(it->value().data(), it->value().size()), &h).ok()) {
      ++corrupt_skipped_;
      index_.Remove(target, id);
      Enqueue(Op{std::string(key), "", true, nullptr});
      continue;
    }
    h.id = id;
    h.target = target;
    bytes += h.bytes;
    out.push_back(std::move(h));
  }
  return out;
}

Status LevelDbHintStore::Remove(const std::string& target, uint64_t id) {
  if (!index_.Remove(target, id)) return Status::Ok();
  Enqueue(Op{HintKey(target, id), "", true, nullptr});
  return Status::Ok();
}

Result<uint64_t> LevelDbHintStore::Truncate(const std::string& target) {
  // Pending adds lose their index entry too; their completion removes what they stored.
  const auto ids = index_.RemoveTarget(target);
  for (uint64_t id : ids) Enqueue(Op{HintKey(target, id), "", true, nullptr});
  return static_cast<uint64_t>(ids.size());
}

Status LevelDbHintStore::PutRawForTest(const std::string& target, uint64_t id,
                                       std::string_view record) {
  leveldb::WriteOptions sync;
  sync.sync = true;
  leveldb::Status s =
      db_->Put(sync, HintKey(target, id), leveldb::Slice(record.data(), record.size()));
  return s.ok() ? Status::Ok() : Status::IoError(s.ToString());
}

void LevelDbHintStore::WriterLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to write
    std::deque<Op> group;
    group.swap(queue_);
    lock.unlock();
    leveldb::WriteBatch batch;
    bool has_add = false;
    for (const Op& op : group) {
      if (op.is_delete) {
        batch.Delete(op.key);
      } else {
        batch.Put(op.key, op.value);
        has_add = true;
      }
    }
    leveldb::WriteOptions options;
    options.sync = has_add;
    leveldb::Status s = db_->Write(options, &batch);
    const Status status = s.ok() ? Status::Ok() : Status::IoError("hint store: " + s.ToString());
    for (Op& op : group) {
      if (op.done) post_([done = std::move(op.done), status] { done(status); });
    }
    lock.lock();
  }
}

}  // namespace ringkv
