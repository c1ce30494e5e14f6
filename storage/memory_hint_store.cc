#include "storage/memory_hint_store.h"

#include <utility>

namespace ringkv {

void MemoryHintStore::AddRecord(const std::string& target, int64_t stored_at_us, std::string record,
                                std::function<void(Status)> done) {
  const uint64_t id = next_id_++;
  index_.Add(target, id, record.size(), stored_at_us);
  pending_[id] = Pending{target, std::move(record), std::move(done)};
}

void MemoryHintStore::Complete(uint64_t id, Status s) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (!s.ok()) {
    index_.Remove(p.target, id);
  } else if (index_.Has(p.target, id)) {  // not truncated meanwhile
    durable_[p.target][id] = std::move(p.record);
    index_.MarkDurable(p.target, id);
  }
  p.done(std::move(s));
}

size_t MemoryHintStore::RunCompletions() {
  size_t n = 0;
  while (!pending_.empty()) {
    Status s;
    if (fail_writes_ > 0) {
      --fail_writes_;
      s = Status::IoError("simulated hint write failure");
    }
    Complete(pending_.begin()->first, std::move(s));
    ++n;
  }
  return n;
}

void MemoryHintStore::LosePending() {
  for (const auto& [id, p] : pending_) index_.Remove(p.target, id);
  pending_.clear();
}

std::vector<Hint> MemoryHintStore::Oldest(const std::string& target, size_t max_count,
                                          size_t max_bytes) {
  std::vector<Hint> out;
  auto t = durable_.find(target);
  if (t == durable_.end()) return out;
  size_t bytes = 0;
  for (auto it = t->second.begin();
       it != t->second.end() && out.size() < max_count && (out.empty() || bytes < max_bytes);) {
    Hint h;
    if (!DecodeHintRecord(it->second, &h).ok()) {
      ++corrupt_skipped_;
      index_.Remove(target, it->first);
      it = t->second.erase(it);
      continue;
    }
    h.id = it->first;
    h.target = target;
    bytes += h.bytes;
    out.push_back(std::move(h));
    ++it;
  }
  if (t->second.empty()) durable_.erase(t);
  return out;
}

Status MemoryHintStore::Remove(const std::string& target, uint64_t id) {
  index_.Remove(target, id);
  auto t = durable_.find(target);
  if (t != durable_.end()) {
    t->second.erase(id);
    if (t->second.empty()) durable_.erase(t);
  }
  return Status::Ok();
}

Result<uint64_t> MemoryHintStore::Truncate(const std::string& target) {
  const uint64_t n = index_.RemoveTarget(target).size();
  durable_.erase(target);
  return n;
}

void MemoryHintStore::CorruptForTest(const std::string& target, uint64_t id) {
  auto t = durable_.find(target);
  if (t == durable_.end()) return;
  auto h = t->second.find(id);
  if (h != t->second.end()) h->second = "garbage";
}

}  // namespace ringkv
