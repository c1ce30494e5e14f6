#include "storage/hint_store.h"

#include <fmt/format.h>

#include "storage/object_codec.h"

namespace ringkv {
namespace {

constexpr uint8_t kHintFormat = 1;

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xff));
}
uint64_t GetBE(std::string_view in, size_t pos, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(in[pos + i]);
  return v;
}
uint32_t Fnv1a32(std::string_view bytes) {
  uint32_t h = 2166136261u;
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}
void PutBytes(std::string* out, std::string_view bytes) {
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}
// Reads a u32-prefixed field at *pos, within `end`.
bool GetBytes(std::string_view in, size_t end, size_t* pos, std::string_view* out) {
  if (end - *pos < 4) return false;
  const uint64_t n = GetBE(in, *pos, 4);
  *pos += 4;
  if (end - *pos < n) return false;
  *out = in.substr(*pos, n);
  *pos += n;
  return true;
}

}  // namespace

std::string EncodeHintRecord(int64_t stored_at_us, std::string_view keyspace, std::string_view key,
                             const VersionedObject& object) {
  std::string out;
  out.push_back(static_cast<char>(kHintFormat));
  PutU64(&out, static_cast<uint64_t>(stored_at_us));
  PutBytes(&out, keyspace);
  PutBytes(&out, key);
  PutBytes(&out, EncodeObject(object));
  PutU32(&out, Fnv1a32(out));
  return out;
}

std::string EncodeHintRecord(const Hint& hint) {
  return EncodeHintRecord(hint.stored_at_us, hint.keyspace, hint.key, hint.object);
}

Status DecodeHintRecord(std::string_view record, Hint* out) {
  if (record.size() < 1 + 8 + 4 * 4) return Status::Corruption("hint record too short");
  const size_t end = record.size() - 4;
  if (Fnv1a32(record.substr(0, end)) != GetBE(record, end, 4)) {
    return Status::Corruption("hint record checksum mismatch");
  }
  if (static_cast<uint8_t>(record[0]) != kHintFormat) {
    return Status::Corruption(fmt::format("hint record format {} unknown",
                                          static_cast<int>(static_cast<uint8_t>(record[0]))));
  }
  size_t pos = 1;
  out->stored_at_us = static_cast<int64_t>(GetBE(record, pos, 8));
  pos += 8;
  std::string_view keyspace, key, object;
  if (!GetBytes(record, end, &pos, &keyspace) || !GetBytes(record, end, &pos, &key) ||
      !GetBytes(record, end, &pos, &object) || pos != end) {
    return Status::Corruption("hint record fields overrun");
  }
  auto decoded = DecodeObject(object);
  if (!decoded.ok()) return Status::Corruption("hint object: " + decoded.status().ToString());
  out->keyspace.assign(keyspace);
  out->key.assign(key);
  out->object = std::move(decoded).value();
  out->bytes = record.size();
  return Status::Ok();
}

void HintIndex::Add(const std::string& target, uint64_t id, uint64_t bytes, int64_t stored_at_us) {
  Target& t = targets_[target];
  t.hints[id] = Meta{bytes, stored_at_us, false};
  t.bytes += bytes;
}

void HintIndex::MarkDurable(const std::string& target, uint64_t id) {
  auto t = targets_.find(target);
  if (t == targets_.end()) return;
  auto h = t->second.hints.find(id);
  if (h != t->second.hints.end()) h->second.durable = true;
}

bool HintIndex::Has(const std::string& target, uint64_t id) const {
  auto t = targets_.find(target);
  return t != targets_.end() && t->second.hints.count(id) > 0;
}

bool HintIndex::IsDurable(const std::string& target, uint64_t id) const {
  auto t = targets_.find(target);
  if (t == targets_.end()) return false;
  auto h = t->second.hints.find(id);
  return h != t->second.hints.end() && h->second.durable;
}

bool HintIndex::Remove(const std::string& target, uint64_t id) {
  auto t = targets_.find(target);
  if (t == targets_.end()) return false;
  auto h = t->second.hints.find(id);
  if (h == t->second.hints.end()) return false;
  t->second.bytes -= h->second.bytes;
  t->second.hints.erase(h);
  if (t->second.hints.empty()) targets_.erase(t);
  return true;
}

std::vector<uint64_t> HintIndex::RemoveTarget(const std::string& target) {
  std::vector<uint64_t> ids;
  auto t = targets_.find(target);
  if (t == targets_.end()) return ids;
  for (const auto& [id, meta] : t->second.hints) ids.push_back(id);
  targets_.erase(t);
  return ids;
}

std::map<std::string, HintTargetStats> HintIndex::Stats() const {
  std::map<std::string, HintTargetStats> out;
  for (const auto& [name, t] : targets_) {
    HintTargetStats& s = out[name];
    s.count = t.hints.size();
    s.bytes = t.bytes;
    s.oldest_stored_at_us = t.hints.empty() ? 0 : t.hints.begin()->second.stored_at_us;
  }
  return out;
}

}  // namespace ringkv
