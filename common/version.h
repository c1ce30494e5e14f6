// Versions: dotted version vectors (DESIGN.md §3; Almeida et al., "Scalable and Accurate Causality
// Tracking for Eventually Consistent Stores"; the form Riak 2.0 uses).
//
// An object is a set of siblings plus one version vector, its clock, that covers the causal history
// of everything the object has seen, superseded writes included. Each sibling carries a dot: the
// (actor, counter) event that created it. A write supersedes exactly the siblings whose dots the
// writer's context covers. So:
//   - a read-modify-write that carries the context it read never leaves a false sibling beside it;
//   - two writes whose contexts do not cover each other's dots both survive, as siblings;
//   - Merge (replica sync) is commutative, associative and idempotent.
//
// An actor names a node's writes (node/identity.h says when a node takes a new one): a node that
// may have lost writes it had exposed must not reissue their dots for other values.
//
// Thread safety: values; no shared state.
#ifndef RINGKV_COMMON_VERSION_H_
#define RINGKV_COMMON_VERSION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/coding.h"
#include "common/status.h"

namespace ringkv {

struct Dot {
  uint64_t actor = 0;
  uint64_t counter = 0;  // >= 1 for a real event

  friend bool operator==(const Dot&, const Dot&) = default;
  friend auto operator<=>(const Dot&, const Dot&) = default;
};

// A map actor -> highest counter seen, kept sorted by actor. Absent actors are 0.
class VersionVector {
 public:
  VersionVector() = default;

  uint64_t Get(uint64_t actor) const;
  // REQUIRES: counter >= Get(actor) (clocks only move forward).
  void Set(uint64_t actor, uint64_t counter);
  bool Covers(const Dot& dot) const { return dot.counter <= Get(dot.actor); }

  // True when this vector has seen everything `other` has (pointwise >=).
  bool Descends(const VersionVector& other) const;
  // Neither descends the other.
  static bool Concurrent(const VersionVector& a, const VersionVector& b) {
    return !a.Descends(b) && !b.Descends(a);
  }
  // Pointwise max.
  static VersionVector Merge(const VersionVector& a, const VersionVector& b);

  const std::vector<std::pair<uint64_t, uint64_t>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  // The opaque causal context a client round-trips: a compact byte string. Decode rejects anything
  // malformed, unsorted, with a zero counter or longer than kClockEntriesMax entries.
  std::string EncodeContext() const;
  static Result<VersionVector> DecodeContext(std::string_view bytes);

  // Appends / reads the same encoding as part of a larger record.
  void EncodeTo(std::string* dst) const;
  [[nodiscard]] static bool DecodeFrom(Decoder* in, VersionVector* out);

  friend bool operator==(const VersionVector&, const VersionVector&) = default;

 private:
  std::vector<std::pair<uint64_t, uint64_t>> entries_;
};

struct Sibling {
  std::string value;
  Dot dot;
  int64_t timestamp_us = 0;   // coordinator wall clock at write
  bool tombstone = false;
  int64_t expires_at_us = 0;  // 0: never

  // Live: not a tombstone and not expired at `now_us`.
  bool LiveAt(int64_t now_us) const {
    return !tombstone && (expires_at_us == 0 || now_us < expires_at_us);
  }
  friend bool operator==(const Sibling&, const Sibling&) = default;
};

class VersionedObject {
 public:
  VersionedObject() = default;

  const VersionVector& clock() const { return clock_; }
  // Sorted by dot, so equal objects have equal encodings.
  const std::vector<Sibling>& siblings() const { return siblings_; }
  bool empty() const { return siblings_.empty() && clock_.empty(); }

  // Siblings a read returns: live at now_us.
  std::vector<Sibling> Live(int64_t now_us) const;

  // A write coordinated by `actor`: drops every sibling `context` covers, merges the context into
  // the clock, and adds `sibling` with the next dot of `actor`. Returns the new sibling's dot.
  // Fails with kTooManySiblings when the result would exceed kSiblingsMax siblings, and with
  // kInvalidArgument when the clock would exceed kClockEntriesMax actors; the object is then
  // unchanged. Expired siblings are dropped on the way: the clock still covers them, so a merge
  // with a replica that has them keeps them dropped.
  Result<Dot> ApplyWrite(const VersionVector& context, uint64_t actor, Sibling sibling,
                         int64_t now_us);

  // Replica sync: the union of what both have seen. Keeps a sibling when both have it, or when the
  // other side's clock has not seen it. Commutative, associative, idempotent.
  static VersionedObject Merge(const VersionedObject& a, const VersionedObject& b);

  // For the codec and tests. REQUIRES: siblings sorted by dot, unique dots, each covered by clock.
  static Result<VersionedObject> FromParts(VersionVector clock, std::vector<Sibling> siblings);

  friend bool operator==(const VersionedObject&, const VersionedObject&) = default;

 private:
  bool HasDot(const Dot& dot) const;

  VersionVector clock_;
  std::vector<Sibling> siblings_;
};

}  // namespace ringkv

#endif  // RINGKV_COMMON_VERSION_H_
