#include "storage/object_codec.h"

#include "common/coding.h"
#include "common/limits.h"

namespace ringkv {
namespace {

constexpr uint8_t kObjectFormat = 1;
constexpr uint8_t kFlagTombstone = 1;
constexpr uint8_t kFlagExpiry = 2;

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

}  // namespace

std::string EncodeObject(const VersionedObject& object) {
  std::string out;
  size_t value_bytes = 0;
  for (const auto& s : object.siblings()) value_bytes += s.value.size();
  out.reserve(16 + object.clock().size() * 12 + object.siblings().size() * 24 + value_bytes);
  out.push_back(static_cast<char>(kObjectFormat));
  object.clock().EncodeTo(&out);
  PutVarint64(&out, object.siblings().size());
  for (const auto& s : object.siblings()) {
    PutVarint64(&out, s.dot.actor);
    PutVarint64(&out, s.dot.counter);
    PutVarint64(&out, ZigZag(s.timestamp_us));
    const uint8_t flags = (s.tombstone ? kFlagTombstone : 0) | (s.expires_at_us ? kFlagExpiry : 0);
    out.push_back(static_cast<char>(flags));
    if (s.expires_at_us) PutVarint64(&out, ZigZag(s.expires_at_us));
    PutLengthPrefixed(&out, s.value);
  }
  return out;
}

Result<VersionedObject> DecodeObject(std::string_view bytes) {
  Decoder in(bytes);
  uint8_t format = 0;
  if (!in.GetByte(&format) || format != kObjectFormat) {
    return Status::Corruption("stored object: unknown format");
  }
  VersionVector clock;
  if (!VersionVector::DecodeFrom(&in, &clock)) return Status::Corruption("stored object: bad clock");
  uint64_t n = 0;
  if (!in.GetVarint64(&n) || n > kSiblingsStoredMax) {
    return Status::Corruption("stored object: bad sibling count");
  }
  std::vector<Sibling> siblings;
  siblings.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    Sibling s;
    uint64_t ts = 0;
    uint8_t flags = 0;
    std::string_view value;
    if (!in.GetVarint64(&s.dot.actor) || !in.GetVarint64(&s.dot.counter) ||
        !in.GetVarint64(&ts) || !in.GetByte(&flags) || (flags & ~(kFlagTombstone | kFlagExpiry))) {
      return Status::Corruption("stored object: bad sibling header");
    }
    s.timestamp_us = UnZigZag(ts);
    s.tombstone = flags & kFlagTombstone;
    if (flags & kFlagExpiry) {
      uint64_t exp = 0;
      if (!in.GetVarint64(&exp) || exp == 0) return Status::Corruption("stored object: bad expiry");
      s.expires_at_us = UnZigZag(exp);
      if (s.expires_at_us == 0) return Status::Corruption("stored object: bad expiry");
    }
    if (!in.GetLengthPrefixed(&value, kValueBytesMaxDefault * 4)) {
      return Status::Corruption("stored object: bad value length");
    }
    s.value.assign(value);
    siblings.push_back(std::move(s));
  }
  if (!in.empty()) return Status::Corruption("stored object: trailing bytes");
  return VersionedObject::FromParts(std::move(clock), std::move(siblings));
}

}  // namespace ringkv
