#include "common/version.h"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include "common/limits.h"

namespace ringkv {
namespace {

constexpr uint8_t kContextFormat = 1;

}  // namespace

uint64_t VersionVector::Get(uint64_t actor) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), actor,
                             [](const auto& e, uint64_t a) { return e.first < a; });
  return (it != entries_.end() && it->first == actor) ? it->second : 0;
}

void VersionVector::Set(uint64_t actor, uint64_t counter) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), actor,
                             [](const auto& e, uint64_t a) { return e.first < a; });
  if (it != entries_.end() && it->first == actor) {
    assert(counter >= it->second);
    it->second = counter;
  } else {
    entries_.insert(it, {actor, counter});
  }
}

bool VersionVector::Descends(const VersionVector& other) const {
  for (const auto& [actor, counter] : other.entries_) {
    if (Get(actor) < counter) return false;
  }
  return true;
}

VersionVector VersionVector::Merge(const VersionVector& a, const VersionVector& b) {
  VersionVector out;
  out.entries_.reserve(a.entries_.size() + b.entries_.size());
  auto ia = a.entries_.begin();
  auto ib = b.entries_.begin();
  while (ia != a.entries_.end() || ib != b.entries_.end()) {
    if (ib == b.entries_.end() || (ia != a.entries_.end() && ia->first < ib->first)) {
      out.entries_.push_back(*ia++);
    } else if (ia == a.entries_.end() || ib->first < ia->first) {
      out.entries_.push_back(*ib++);
    } else {
      out.entries_.emplace_back(ia->first, std::max(ia->second, ib->second));
      ++ia;
      ++ib;
    }
  }
  return out;
}

void VersionVector::EncodeTo(std::string* dst) const {
  PutVarint64(dst, entries_.size());
  for (const auto& [actor, counter] : entries_) {
    PutVarint64(dst, actor);
    PutVarint64(dst, counter);
  }
}

bool VersionVector::DecodeFrom(Decoder* in, VersionVector* out) {
  uint64_t n = 0;
  if (!in->GetVarint64(&n) || n > kClockEntriesMax) return false;
  VersionVector vv;
  vv.entries_.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t actor = 0, counter = 0;
    if (!in->GetVarint64(&actor) || !in->GetVarint64(&counter)) return false;
    if (counter == 0) return false;
    if (!vv.entries_.empty() && vv.entries_.back().first >= actor) return false;  // sorted, unique
    vv.entries_.emplace_back(actor, counter);
  }
  *out = std::move(vv);
  return true;
}

std::string VersionVector::EncodeContext() const {
  std::string out;
  out.push_back(static_cast<char>(kContextFormat));
  EncodeTo(&out);
  return out;
}

Result<VersionVector> VersionVector::DecodeContext(std::string_view bytes) {
  if (bytes.empty()) return VersionVector();
  if (bytes.size() > kContextBytesMax) {
    return Status::InvalidArgument(
        fmt::format("context of {} bytes exceeds {} bytes", bytes.size(), kContextBytesMax));
  }
  Decoder in(bytes);
  uint8_t format = 0;
  VersionVector vv;
  if (!in.GetByte(&format) || format != kContextFormat || !DecodeFrom(&in, &vv) || !in.empty()) {
    return Status::InvalidArgument("malformed context (pass back exactly what a read returned)");
  }
  return vv;
}

std::vector<Sibling> VersionedObject::Live(int64_t now_us) const {
  std::vector<Sibling> out;
  for (const auto& s : siblings_) {
    if (s.LiveAt(now_us)) out.push_back(s);
  }
  return out;
}

bool VersionedObject::HasDot(const Dot& dot) const {
  auto it = std::lower_bound(siblings_.begin(), siblings_.end(), dot,
                             [](const Sibling& s, const Dot& d) { return s.dot < d; });
  return it != siblings_.end() && it->dot == dot;
}

Result<Dot> VersionedObject::ApplyWrite(const VersionVector& context, uint64_t actor,
                                        Sibling sibling, int64_t now_us) {
  VersionVector clock = VersionVector::Merge(clock_, context);
  // The bound applies to the clock as it will be stored: the merge with the context and this
  // actor's entry included, or the object would not decode again.
  const size_t final_size = clock.size() + (clock.Get(actor) == 0 ? 1 : 0);
  if (final_size > kClockEntriesMax) {
    return Status::InvalidArgument(fmt::format(
        "version vector would reach {} actors (max {})", final_size, kClockEntriesMax));
  }
  std::vector<Sibling> kept;
  kept.reserve(siblings_.size() + 1);
  for (const auto& s : siblings_) {
    const bool expired = !s.tombstone && s.expires_at_us != 0 && s.expires_at_us <= now_us;
    if (!context.Covers(s.dot) && !expired) kept.push_back(s);
  }
  if (kept.size() + 1 > kSiblingsMax) {
    return Status(Code::kTooManySiblings,
                  fmt::format("key already has {} siblings (max {}); read it and write back with "
                              "its context to resolve them",
                              kept.size(), kSiblingsMax));
  }
  const Dot dot{actor, clock.Get(actor) + 1};
  clock.Set(actor, dot.counter);
  sibling.dot = dot;
  // The new dot is the highest of its actor, so it sorts after every kept sibling of that actor,
  // but other actors may sort after it.
  auto pos = std::upper_bound(kept.begin(), kept.end(), dot,
                              [](const Dot& d, const Sibling& s) { return d < s.dot; });
  kept.insert(pos, std::move(sibling));
  clock_ = std::move(clock);
  siblings_ = std::move(kept);
  return dot;
}

VersionedObject VersionedObject::Merge(const VersionedObject& a, const VersionedObject& b) {
  VersionedObject out;
  out.clock_ = VersionVector::Merge(a.clock_, b.clock_);
  auto ia = a.siblings_.begin();
  auto ib = b.siblings_.begin();
  // Both lists are sorted by dot: a linear merge keeps the result sorted.
  while (ia != a.siblings_.end() || ib != b.siblings_.end()) {
    if (ib == b.siblings_.end() || (ia != a.siblings_.end() && ia->dot < ib->dot)) {
      if (!b.clock_.Covers(ia->dot)) out.siblings_.push_back(*ia);
      ++ia;
    } else if (ia == a.siblings_.end() || ib->dot < ia->dot) {
      if (!a.clock_.Covers(ib->dot)) out.siblings_.push_back(*ib);
      ++ib;
    } else {
      // A dot names one write, so both copies are the same sibling.
      out.siblings_.push_back(*ia);
      ++ia;
      ++ib;
    }
  }
  return out;
}

Result<VersionedObject> VersionedObject::FromParts(VersionVector clock,
                                                   std::vector<Sibling> siblings) {
  if (siblings.size() > kSiblingsStoredMax) {
    return Status::Corruption(
        fmt::format("{} siblings exceed {}", siblings.size(), kSiblingsStoredMax));
  }
  for (size_t i = 0; i < siblings.size(); ++i) {
    if (siblings[i].dot.counter == 0 || !clock.Covers(siblings[i].dot)) {
      return Status::Corruption("sibling dot not covered by the object's clock");
    }
    if (i > 0 && !(siblings[i - 1].dot < siblings[i].dot)) {
      return Status::Corruption("siblings not sorted by dot");
    }
  }
  VersionedObject out;
  out.clock_ = std::move(clock);
  out.siblings_ = std::move(siblings);
  return out;
}

}  // namespace ringkv
