// Versions: directed tests of the dotted-version-vector rules, and property tests in the spirit of
// riak_core's vclock_qc: seeded random histories of replicas and clients, checked step by step
// against an independent model.
//
// The model. Every write gets an index i. A replica's state in the model is the set of writes it
// has seen (its own, those merged in, and those its writers' contexts covered). Write i "kills" the
// writes its context had seen, and the expired siblings its replica held when it was applied. A
// replica then must hold exactly the writes it has seen that no write it has seen killed, and its
// clock must be the per-actor maximum of the dots it has seen. After a full sync every replica has
// seen every write, so every write nobody killed is present everywhere.
//
// Seeds: RINGKV_VERSION_SEED=<n> replays a run; a failing history is shrunk and printed op by op.
#include "common/version.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bitset>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/coding.h"
#include "common/limits.h"

namespace ringkv {
namespace {

constexpr int64_t kStartUs = 1'700'000'000'000'000;

// ---------------------------------------------------------------------------------------------
// Printing, for failure messages.

std::string Str(const VersionVector& v) {
  std::ostringstream out;
  out << "{";
  for (size_t i = 0; i < v.entries().size(); ++i) {
    out << (i ? "," : "") << v.entries()[i].first << ":" << v.entries()[i].second;
  }
  out << "}";
  return out.str();
}

std::string Str(const Sibling& s) {
  std::ostringstream out;
  out << "(" << s.dot.actor << "," << s.dot.counter << ")'" << s.value << "'";
  if (s.tombstone) out << " tomb";
  if (s.expires_at_us) out << " exp=+" << (s.expires_at_us - kStartUs);
  return out.str();
}

std::string Str(const std::vector<Sibling>& siblings) {
  std::string out = "[";
  for (size_t i = 0; i < siblings.size(); ++i) out += (i ? ", " : "") + Str(siblings[i]);
  return out + "]";
}

std::string Str(const VersionedObject& o) { return Str(o.clock()) + " " + Str(o.siblings()); }

}  // namespace

// GoogleTest prints values through PrintTo found by argument-dependent lookup.
inline void PrintTo(const VersionedObject& o, std::ostream* os) { *os << Str(o); }
inline void PrintTo(const VersionVector& v, std::ostream* os) { *os << Str(v); }
inline void PrintTo(Code code, std::ostream* os) { *os << CodeName(code); }

namespace {

Sibling Value(std::string v, int64_t ts = kStartUs) {
  Sibling s;
  s.value = std::move(v);
  s.timestamp_us = ts;
  return s;
}

Sibling Tombstone(int64_t ts = kStartUs) {
  Sibling s;
  s.tombstone = true;
  s.timestamp_us = ts;
  return s;
}

std::vector<std::string> LiveValues(const VersionedObject& o, int64_t now) {
  std::vector<std::string> out;
  for (const auto& s : o.Live(now)) out.push_back(s.value);
  std::sort(out.begin(), out.end());
  return out;
}

Dot MustWrite(VersionedObject* o, const VersionVector& ctx, uint64_t actor, Sibling s,
              int64_t now = kStartUs) {
  auto r = o->ApplyWrite(ctx, actor, std::move(s), now);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r.value() : Dot{};
}

// ---------------------------------------------------------------------------------------------
// Directed tests.

TEST(VersionVectorTest, GetSetAndOrder) {
  VersionVector v;
  EXPECT_EQ(v.Get(7), 0u);
  v.Set(9, 1);
  v.Set(3, 4);
  v.Set(7, 2);
  v.Set(3, 5);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v.entries()[0], (std::pair<uint64_t, uint64_t>{3, 5}));
  EXPECT_EQ(v.entries()[1], (std::pair<uint64_t, uint64_t>{7, 2}));
  EXPECT_EQ(v.entries()[2], (std::pair<uint64_t, uint64_t>{9, 1}));
  EXPECT_TRUE(v.Covers({3, 5}));
  EXPECT_FALSE(v.Covers({3, 6}));
  EXPECT_FALSE(v.Covers({4, 1}));
}

TEST(VersionedObjectTest, ReadModifyWriteLeavesOneSibling) {
  VersionedObject o;
  MustWrite(&o, {}, 1, Value("a"));
  const VersionVector ctx = o.clock();
  MustWrite(&o, ctx, 2, Value("b"));
  EXPECT_EQ(LiveValues(o, kStartUs), std::vector<std::string>{"b"});
  EXPECT_EQ(o.siblings().size(), 1u);
}

TEST(VersionedObjectTest, BlindWritesBecomeSiblings) {
  VersionedObject o;
  MustWrite(&o, {}, 1, Value("a"));
  MustWrite(&o, {}, 1, Value("b"));
  EXPECT_EQ(LiveValues(o, kStartUs), (std::vector<std::string>{"a", "b"}));
}

TEST(VersionedObjectTest, ConcurrentReadModifyWritesOnTwoReplicasBecomeSiblingsAfterSync) {
  VersionedObject a, b;
  MustWrite(&a, {}, 1, Value("v0"));
  b = VersionedObject::Merge(a, b);
  const VersionVector ctx = a.clock();  // two clients read the same version
  MustWrite(&a, ctx, 1, Value("x"));
  MustWrite(&b, ctx, 2, Value("y"));
  const auto ab = VersionedObject::Merge(a, b);
  EXPECT_EQ(LiveValues(ab, kStartUs), (std::vector<std::string>{"x", "y"}));
  // A later write with the merged context resolves them.
  VersionedObject c = ab;
  MustWrite(&c, ab.clock(), 3, Value("z"));
  EXPECT_EQ(LiveValues(VersionedObject::Merge(c, ab), kStartUs), std::vector<std::string>{"z"});
}

TEST(VersionedObjectTest, DeleteWithContextLeavesOnlyATombstone) {
  VersionedObject o;
  MustWrite(&o, {}, 1, Value("a"));
  MustWrite(&o, {}, 2, Value("b"));
  MustWrite(&o, o.clock(), 1, Tombstone());
  EXPECT_TRUE(o.Live(kStartUs).empty());
  ASSERT_EQ(o.siblings().size(), 1u);
  EXPECT_TRUE(o.siblings()[0].tombstone);
}

TEST(VersionedObjectTest, SiblingsStaySortedByDot) {
  VersionedObject o;
  MustWrite(&o, {}, 5, Value("a"));
  MustWrite(&o, {}, 2, Value("b"));
  MustWrite(&o, {}, 9, Value("c"));
  MustWrite(&o, {}, 2, Value("d"));
  ASSERT_EQ(o.siblings().size(), 4u);
  for (size_t i = 1; i < o.siblings().size(); ++i) {
    EXPECT_LT(o.siblings()[i - 1].dot, o.siblings()[i].dot) << Str(o);
  }
}

TEST(VersionedObjectTest, TooManySiblingsFailsAndLeavesObjectUnchanged) {
  VersionedObject o;
  for (size_t i = 0; i < kSiblingsMax; ++i) {
    MustWrite(&o, {}, 1 + i % 3, Value("v" + std::to_string(i)));
  }
  ASSERT_EQ(o.siblings().size(), kSiblingsMax);
  const VersionedObject before = o;
  auto r = o.ApplyWrite({}, 1, Value("one too many"), kStartUs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kTooManySiblings);
  EXPECT_EQ(o, before);
  // A tombstone is a sibling too: a blind delete is refused the same way.
  auto d = o.ApplyWrite({}, 2, Tombstone(), kStartUs);
  EXPECT_EQ(d.status().code(), Code::kTooManySiblings);
  EXPECT_EQ(o, before);
  // A write whose context covers one sibling makes room for itself.
  VersionVector one;
  one.Set(o.siblings()[0].dot.actor, o.siblings()[0].dot.counter);
  auto ok = o.ApplyWrite(one, 1, Value("replaces the oldest of actor 1"), kStartUs);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(o.siblings().size(), kSiblingsMax);
  // And the context of a read resolves them all.
  MustWrite(&o, o.clock(), 1, Value("resolved"));
  EXPECT_EQ(LiveValues(o, kStartUs), std::vector<std::string>{"resolved"});
}

TEST(VersionedObjectTest, TooManyActorsFailsAndLeavesObjectUnchanged) {
  VersionedObject o;
  for (uint64_t actor = 1; actor <= kClockEntriesMax; ++actor) {
    MustWrite(&o, o.clock(), actor, Value("by " + std::to_string(actor)));
  }
  ASSERT_EQ(o.clock().size(), kClockEntriesMax);
  const VersionedObject before = o;
  auto r = o.ApplyWrite(o.clock(), kClockEntriesMax + 1, Value("new actor"), kStartUs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(o, before);
  // A known actor can still write.
  MustWrite(&o, o.clock(), 1, Value("old actor"));
  EXPECT_EQ(o.clock().size(), kClockEntriesMax);
}

// The header: ApplyWrite fails "with kInvalidArgument when the clock would exceed kClockEntriesMax
// actors; the object is then unchanged". A context is client input (DecodeContext accepts any 64
// actors), so the bound must hold for actors the context brings in, not only for the writer. A
// clock past the bound makes the object undecodable (DecodeObject refuses > kClockEntriesMax
// entries) and its context unreadable (DecodeContext too).
TEST(VersionedObjectTest, ContextWithUnknownActorsCannotGrowClockPastLimit) {
  VersionedObject o;
  MustWrite(&o, {}, 1, Value("first"));  // the writer is now a known actor
  VersionVector forged;
  for (uint64_t a = 1000; a < 1000 + kClockEntriesMax; ++a) forged.Set(a, 1);
  ASSERT_TRUE(VersionVector::DecodeContext(forged.EncodeContext()).ok()) << "a legal context";
  const VersionedObject before = o;
  auto r = o.ApplyWrite(forged, 1, Value("x"), kStartUs);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument)
      << "accepted; the clock now has " << o.clock().size() << " entries (max " << kClockEntriesMax
      << ")";
  EXPECT_EQ(o, before);
  EXPECT_LE(o.clock().size(), kClockEntriesMax);
  EXPECT_TRUE(VersionVector::DecodeContext(o.clock().EncodeContext()).ok())
      << "the object's own context no longer decodes";
}

TEST(VersionedObjectTest, ExpiredSiblingsAreNotLiveAndAreDroppedByALaterWrite) {
  VersionedObject o;
  Sibling ttl = Value("ttl");
  ttl.expires_at_us = kStartUs + 10;
  const Dot ttl_dot = MustWrite(&o, {}, 1, ttl);
  MustWrite(&o, {}, 2, Value("forever"));
  EXPECT_EQ(LiveValues(o, kStartUs + 9), (std::vector<std::string>{"forever", "ttl"}));
  // expires_at_us <= now: expired.
  EXPECT_EQ(LiveValues(o, kStartUs + 10), std::vector<std::string>{"forever"});
  const VersionedObject stale_replica = o;

  // A write before expiry keeps it; a blind write at expiry drops it.
  VersionedObject early = o;
  MustWrite(&early, {}, 3, Value("early"), kStartUs + 9);
  EXPECT_EQ(early.siblings().size(), 3u);
  MustWrite(&o, {}, 3, Value("later"), kStartUs + 10);
  EXPECT_EQ(o.siblings().size(), 2u) << Str(o);
  for (const auto& s : o.siblings()) EXPECT_NE(s.dot, ttl_dot);
  EXPECT_TRUE(o.clock().Covers(ttl_dot));
  // A replica that still holds it cannot bring it back: the clock remembers it.
  const auto merged = VersionedObject::Merge(o, stale_replica);
  EXPECT_EQ(merged, VersionedObject::Merge(stale_replica, o));
  for (const auto& s : merged.siblings()) EXPECT_NE(s.dot, ttl_dot) << Str(merged);
}

TEST(VersionedObjectTest, ExpiredTombstoneIsKeptUntilSuperseded) {
  // Tombstones are purged by grace period, not by TTL: an expiry on a tombstone does not drop it.
  VersionedObject o;
  Sibling t = Tombstone();
  t.expires_at_us = kStartUs + 1;
  MustWrite(&o, {}, 1, t);
  MustWrite(&o, {}, 2, Value("x"), kStartUs + 100);
  EXPECT_EQ(o.siblings().size(), 2u) << Str(o);
}

TEST(VersionedObjectTest, FromPartsChecksItsRequirements) {
  VersionVector clock;
  clock.Set(1, 2);
  Sibling a = Value("a");
  a.dot = {1, 1};
  Sibling b = Value("b");
  b.dot = {1, 2};
  EXPECT_TRUE(VersionedObject::FromParts(clock, {a, b}).ok());
  EXPECT_EQ(VersionedObject::FromParts(clock, {b, a}).status().code(), Code::kCorruption);
  EXPECT_EQ(VersionedObject::FromParts(clock, {a, a}).status().code(), Code::kCorruption);
  Sibling c = Value("c");
  c.dot = {1, 3};
  EXPECT_EQ(VersionedObject::FromParts(clock, {a, c}).status().code(), Code::kCorruption);
  Sibling z = Value("z");
  z.dot = {1, 0};
  EXPECT_EQ(VersionedObject::FromParts(clock, {z}).status().code(), Code::kCorruption);
}

// ---------------------------------------------------------------------------------------------
// Version vectors against a pointwise model, and the context encoding.

VersionVector RandomVector(std::mt19937_64& rng, size_t actors_universe, uint64_t counter_max) {
  VersionVector v;
  for (uint64_t a = 1; a <= actors_universe; ++a) {
    if (rng() % 3 == 0) continue;
    v.Set(a, 1 + rng() % counter_max);
  }
  return v;
}

std::map<uint64_t, uint64_t> AsMap(const VersionVector& v) {
  return {v.entries().begin(), v.entries().end()};
}

TEST(VersionVectorTest, DescendsAndMergeAgreeWithPointwiseModel) {
  std::mt19937_64 rng(12345);
  int concurrent = 0, strict = 0, equal = 0;
  for (int i = 0; i < 20000; ++i) {
    const VersionVector a = RandomVector(rng, 4, 3);
    const VersionVector b = RandomVector(rng, 4, 3);
    const auto ma = AsMap(a), mb = AsMap(b);
    bool a_ge_b = true;
    for (const auto& [actor, c] : mb) {
      auto it = ma.find(actor);
      if (it == ma.end() || it->second < c) a_ge_b = false;
    }
    ASSERT_EQ(a.Descends(b), a_ge_b) << Str(a) << " vs " << Str(b);
    std::map<uint64_t, uint64_t> max = ma;
    for (const auto& [actor, c] : mb) max[actor] = std::max(max[actor], c);
    const VersionVector m = VersionVector::Merge(a, b);
    ASSERT_EQ(AsMap(m), max);
    ASSERT_TRUE(std::is_sorted(m.entries().begin(), m.entries().end()));
    ASSERT_TRUE(m.Descends(a) && m.Descends(b));
    ASSERT_EQ(VersionVector::Merge(b, a), m);
    // Mutual descent is equality.
    ASSERT_EQ(a.Descends(b) && b.Descends(a), a == b);
    if (VersionVector::Concurrent(a, b)) {
      ++concurrent;
      ASSERT_NE(m, a);
      ASSERT_NE(m, b);
    } else if (a == b) {
      ++equal;
    } else {
      ++strict;
      ASSERT_TRUE(m == a || m == b);
    }
  }
  // The generator must reach every relation, or the loop proves little.
  EXPECT_GT(concurrent, 1000);
  EXPECT_GT(strict, 1000);
  EXPECT_GT(equal, 20);
}

TEST(VersionVectorTest, ContextRoundTrips) {
  std::mt19937_64 rng(99);
  EXPECT_EQ(VersionVector().EncodeContext().size(), 2u);  // format byte + zero count
  for (int i = 0; i < 5000; ++i) {
    VersionVector v;
    const size_t n = rng() % (kClockEntriesMax + 1);
    for (size_t k = 0; k < n; ++k) {
      // Any 64-bit actor (node/identity.cc mixes them over the whole range). Counters below 2^42:
      // kContextBytesMax allows 16 bytes an entry, a 10-byte actor and a 6-byte counter, and no
      // actor writes 2^42 times to one key.
      const uint64_t actor = (rng() % 4 == 0) ? ~uint64_t{0} - k : rng();
      const uint64_t counter_max = (uint64_t{1} << 42) - 1;
      const uint64_t counter =
          (rng() % 4 == 0) ? counter_max : std::min(counter_max, 1 + (rng() >> (22 + rng() % 42)));
      if (v.Get(actor) == 0) v.Set(actor, std::max<uint64_t>(counter, 1));
    }
    const std::string bytes = v.EncodeContext();
    ASSERT_LE(bytes.size(), kContextBytesMax) << "a legal clock must fit the context limit";
    auto back = VersionVector::DecodeContext(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(back.value(), v);
  }
  // The empty string is the context of "never read": an empty vector.
  auto empty = VersionVector::DecodeContext("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty.value().empty());
}

std::string ContextBytes(const std::vector<std::pair<uint64_t, uint64_t>>& entries,
                         uint8_t format = 1) {
  std::string s(1, static_cast<char>(format));
  PutVarint64(&s, entries.size());
  for (const auto& [a, c] : entries) {
    PutVarint64(&s, a);
    PutVarint64(&s, c);
  }
  return s;
}

TEST(VersionVectorTest, DecodeContextRejectsMalformedInput) {
  ASSERT_TRUE(VersionVector::DecodeContext(ContextBytes({{1, 1}, {2, 5}})).ok());
  struct Case {
    const char* what;
    std::string bytes;
  };
  std::vector<std::pair<uint64_t, uint64_t>> too_many;
  for (uint64_t a = 1; a <= kClockEntriesMax + 1; ++a) too_many.emplace_back(a, 1);
  std::string count_only(1, '\x01');
  PutVarint64(&count_only, 3);  // claims 3 entries, has none
  const std::vector<Case> cases = {
      {"unknown format", ContextBytes({{1, 1}}, 2)},
      {"format zero", ContextBytes({{1, 1}}, 0)},
      {"unsorted", ContextBytes({{2, 1}, {1, 1}})},
      {"duplicate actor", ContextBytes({{1, 1}, {1, 2}})},
      {"zero counter", ContextBytes({{1, 0}})},
      {"too many entries", ContextBytes(too_many)},
      {"trailing bytes", ContextBytes({{1, 1}}) + "x"},
      {"trailing zero", ContextBytes({}) + std::string(1, '\0')},
      {"count without entries", count_only},
      {"format byte only", std::string(1, '\x01')},
      {"overflowing varint", std::string(1, '\x01') + std::string(10, '\xff')},
      {"longer than the context limit", std::string(kContextBytesMax + 1, '\x01')},
  };
  for (const auto& c : cases) {
    auto r = VersionVector::DecodeContext(c.bytes);
    EXPECT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.what;
  }
  // Every proper prefix of a valid context (but the empty one) is rejected.
  const std::string valid = ContextBytes({{1, 300}, {1000, 1}, {~uint64_t{0}, 7}});
  for (size_t len = 1; len < valid.size(); ++len) {
    EXPECT_FALSE(VersionVector::DecodeContext(valid.substr(0, len)).ok()) << "prefix " << len;
  }
}

TEST(VersionVectorTest, DecodeContextOnRandomBytesNeverCrashesAndAcceptsOnlyValidVectors) {
  std::mt19937_64 rng(2024);
  const std::string valid = ContextBytes({{1, 3}, {2, 1}, {7, 200}});
  int accepted = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      bytes.resize(rng() % 24);
      for (auto& c : bytes) c = static_cast<char>(rng());
      if (!bytes.empty() && rng() % 2) bytes[0] = 1;
    } else {
      bytes = valid;  // a valid context with one to three random byte changes
      for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) {
        bytes[rng() % bytes.size()] = static_cast<char>(rng());
      }
    }
    auto r = VersionVector::DecodeContext(bytes);
    if (!r.ok()) continue;
    ++accepted;
    const auto& e = r.value().entries();
    ASSERT_LE(e.size(), kClockEntriesMax);
    for (size_t k = 0; k < e.size(); ++k) {
      ASSERT_NE(e[k].second, 0u);
      if (k > 0) {
        ASSERT_LT(e[k - 1].first, e[k].first);
      }
    }
    auto again = VersionVector::DecodeContext(r.value().EncodeContext());
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again.value(), r.value());
  }
  EXPECT_GT(accepted, 0);
}

// ---------------------------------------------------------------------------------------------
// Random histories.

constexpr size_t kWritesMax = 128;
using WriteSet = std::bitset<kWritesMax>;

struct Op {
  enum Kind { kRead, kWrite, kSync, kTick, kFullSync, kSnapshot };
  Kind kind = kRead;
  int client = 0;
  int replica = 0;
  int other = 0;           // kSync: the other replica
  bool flag = false;       // kRead: round-trip the context as bytes; kWrite: use the context read;
                           // kSync: two-way
  bool tombstone = false;  // kWrite
  int64_t amount = 0;      // kTick: microseconds; kWrite: TTL in microseconds, 0 none

  std::string ToString() const {
    std::ostringstream out;
    switch (kind) {
      case kRead:
        out << "client " << client << " reads replica " << replica
            << (flag ? " (context as bytes)" : "");
        break;
      case kWrite:
        out << "client " << client << (tombstone ? " deletes" : " writes") << " at replica "
            << replica << (flag ? " with its context" : " blind");
        if (amount) out << " ttl=" << amount;
        break;
      case kSync:
        out << "sync " << replica << (flag ? " <-> " : " <- ") << other;
        break;
      case kTick:
        out << "tick +" << amount;
        break;
      case kFullSync:
        out << "full sync";
        break;
      case kSnapshot:
        out << "snapshot replica " << replica;
        break;
    }
    return out.str();
  }
};

struct HistoryShape {
  int replicas = 3;
  int clients = 3;
  int ops = 40;
};

std::vector<Op> GenerateHistory(std::mt19937_64& rng, const HistoryShape& shape) {
  std::vector<Op> ops;
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  for (int i = 0; i < shape.ops; ++i) {
    Op op;
    const int r = pick(100);
    if (r < 25) {
      op.kind = Op::kRead;
      op.client = pick(shape.clients);
      op.replica = pick(shape.replicas);
      op.flag = pick(4) == 0;
    } else if (r < 57) {
      op.kind = Op::kWrite;
      op.client = pick(shape.clients);
      op.replica = pick(shape.replicas);
      op.flag = pick(4) != 0;  // mostly read-modify-write, sometimes blind
      op.tombstone = pick(8) == 0;
      if (pick(6) == 0) op.amount = 1 + pick(40);
    } else if (r < 77) {
      op.kind = Op::kSync;
      op.replica = pick(shape.replicas);
      op.other = pick(shape.replicas);
      op.flag = pick(2) == 0;
    } else if (r < 85) {
      op.kind = Op::kTick;
      op.amount = 1 + pick(20);
    } else if (r < 88) {
      op.kind = Op::kFullSync;
    } else {
      op.kind = Op::kSnapshot;
      op.replica = pick(shape.replicas);
    }
    ops.push_back(op);
  }
  // End with a full sync, then two clients that read and write concurrently, then a full sync:
  // their two writes do not cover each other and must both survive.
  ops.push_back({Op::kFullSync});
  const int c0 = pick(shape.clients);
  const int c1 = (c0 + 1) % shape.clients;
  ops.push_back({Op::kRead, c0, pick(shape.replicas)});
  ops.push_back({Op::kRead, c1, pick(shape.replicas)});
  ops.push_back({Op::kWrite, c0, pick(shape.replicas), 0, true});
  ops.push_back({Op::kWrite, c1, pick(shape.replicas), 0, true});
  ops.push_back({Op::kFullSync});
  return ops;
}

struct HistoryStats {
  int rmw_single_sibling_checked = 0;
  int concurrent_pairs_checked = 0;
  int expired_drops = 0;
  int snapshots_compared = 0;
};

// Runs one history against the real VersionedObject and the model. Returns "" or what broke.
class HistoryRunner {
 public:
  HistoryRunner(int replicas, int clients, HistoryStats* stats)
      : replicas_(static_cast<size_t>(replicas)),
        clients_(static_cast<size_t>(clients)),
        stats_(stats) {}

  std::string Run(const std::vector<Op>& ops) {
    for (size_t i = 0; i < ops.size(); ++i) {
      std::string why = Step(ops[i]);
      if (why.empty()) why = CheckReplicas();
      if (!why.empty())
        return "after op " + std::to_string(i) + " (" + ops[i].ToString() + "): " + why;
    }
    return CheckMergeAlgebra();
  }

 private:
  struct Replica {
    VersionedObject object;
    WriteSet seen;
  };
  struct Client {
    bool has_context = false;
    VersionVector context;
    WriteSet context_seen;
    size_t writes_at_read = 0;
  };
  struct Write {
    Sibling sibling;  // with its dot
    WriteSet context_seen;
    WriteSet kills;
  };

  static uint64_t ActorOf(size_t replica) { return 100 + replica; }  // arbitrary, non-zero

  WriteSet Killed(const WriteSet& seen) const {
    WriteSet killed;
    for (size_t i = 0; i < writes_.size(); ++i) {
      if (seen.test(i)) killed |= writes_[i].kills;
    }
    return killed;
  }
  WriteSet Held(const WriteSet& seen) const { return seen & ~Killed(seen); }

  VersionVector ClockOf(const WriteSet& seen) const {
    VersionVector v;
    for (size_t i = 0; i < writes_.size(); ++i) {
      if (!seen.test(i)) continue;
      const Dot& d = writes_[i].sibling.dot;
      if (v.Get(d.actor) < d.counter) v.Set(d.actor, d.counter);
    }
    return v;
  }

  std::vector<Sibling> SiblingsOf(const WriteSet& held) const {
    std::vector<Sibling> out;
    for (size_t i = 0; i < writes_.size(); ++i) {
      if (held.test(i)) out.push_back(writes_[i].sibling);
    }
    std::sort(out.begin(), out.end(),
              [](const Sibling& a, const Sibling& b) { return a.dot < b.dot; });
    return out;
  }

  std::string Step(const Op& op) {
    switch (op.kind) {
      case Op::kRead:
        return Read(op);
      case Op::kWrite:
        return DoWrite(op);
      case Op::kSync:
        return Sync(op.replica, op.other, op.flag);
      case Op::kTick:
        now_ += op.amount;
        return "";
      case Op::kFullSync:
        return FullSync();
      case Op::kSnapshot:
        snapshots_.push_back(replicas_[static_cast<size_t>(op.replica)].object);
        return "";
    }
    return "unknown op";
  }

  std::string Read(const Op& op) {
    const Replica& r = replicas_[static_cast<size_t>(op.replica)];
    Client& c = clients_[static_cast<size_t>(op.client)];
    c.context = r.object.clock();
    if (op.flag) {
      auto decoded = VersionVector::DecodeContext(c.context.EncodeContext());
      if (!decoded.ok()) return "context did not decode: " + decoded.status().ToString();
      if (!(decoded.value() == c.context)) return "context changed in a round trip";
      c.context = decoded.value();
    }
    c.context_seen = r.seen;
    c.has_context = true;
    c.writes_at_read = writes_.size();
    return "";
  }

  std::string DoWrite(const Op& op) {
    Replica& r = replicas_[static_cast<size_t>(op.replica)];
    const Client& c = clients_[static_cast<size_t>(op.client)];
    const bool with_context = op.flag && c.has_context;
    const VersionVector context = with_context ? c.context : VersionVector();
    const WriteSet context_seen = with_context ? c.context_seen : WriteSet();

    const size_t index = writes_.size();
    if (index >= kWritesMax) return "";  // the model's capacity; the generator stays far below it
    Sibling s;
    s.value = "w" + std::to_string(index);
    s.timestamp_us = now_;
    s.tombstone = op.tombstone;
    s.expires_at_us = op.amount ? now_ + op.amount : 0;

    // What the model expects: the context's writes die, and so do expired values held here.
    const WriteSet held = Held(r.seen);
    WriteSet kills = context_seen;
    for (size_t i = 0; i < writes_.size(); ++i) {
      const Sibling& h = writes_[i].sibling;
      if (held.test(i) && !h.tombstone && h.expires_at_us != 0 && h.expires_at_us <= now_) {
        if (!context_seen.test(i)) ++stats_->expired_drops;
        kills.set(i);
      }
    }
    const size_t kept = (held & ~kills).count();
    const uint64_t actor = ActorOf(static_cast<size_t>(op.replica));
    const Dot expected_dot{actor, ClockOf(r.seen | context_seen).Get(actor) + 1};

    const VersionedObject before = r.object;
    auto result = r.object.ApplyWrite(context, actor, s, now_);
    if (kept + 1 > kSiblingsMax) {
      if (result.ok() || result.status().code() != Code::kTooManySiblings) {
        return "expected kTooManySiblings with " + std::to_string(kept) + " kept siblings";
      }
      if (!(r.object == before)) return "a refused write changed the object";
      return "";
    }
    if (!result.ok()) return "write failed: " + result.status().ToString();
    if (!(result.value() == expected_dot)) {
      return "write got dot (" + std::to_string(result.value().actor) + "," +
             std::to_string(result.value().counter) + "), model expected (" +
             std::to_string(expected_dot.actor) + "," + std::to_string(expected_dot.counter) + ")";
    }
    s.dot = expected_dot;
    writes_.push_back(Write{s, context_seen, kills});
    const WriteSet seen_before = r.seen;
    r.seen |= context_seen;
    r.seen.set(index);

    // Read-modify-write with nothing written in between and nothing at the writing replica that
    // the read did not see: no false sibling.
    if (with_context && c.writes_at_read == index && (seen_before & ~context_seen).none()) {
      ++stats_->rmw_single_sibling_checked;
      if (r.object.siblings().size() != 1) {
        return "read-modify-write left a false sibling: " + Str(r.object);
      }
      const bool live = !s.tombstone && (s.expires_at_us == 0 || now_ < s.expires_at_us);
      if (r.object.Live(now_).size() != (live ? 1u : 0u))
        return "wrong live count: " + Str(r.object);
    }
    return "";
  }

  std::string Sync(int a, int b, bool two_way) {
    Replica& ra = replicas_[static_cast<size_t>(a)];
    Replica& rb = replicas_[static_cast<size_t>(b)];
    VersionedObject merged = VersionedObject::Merge(ra.object, rb.object);
    const WriteSet seen = ra.seen | rb.seen;
    ra.object = merged;
    ra.seen = seen;
    if (two_way) {
      rb.object = std::move(merged);
      rb.seen = seen;
    }
    return "";
  }

  std::string FullSync() {
    for (size_t i = 0; i < replicas_.size(); ++i) {
      for (size_t j = i + 1; j < replicas_.size(); ++j) {
        Sync(static_cast<int>(i), static_cast<int>(j), true);
      }
    }
    for (size_t i = 1; i < replicas_.size(); ++i) {
      if (!(replicas_[i].object == replicas_[0].object)) {
        return "replicas differ after a full sync: " + Str(replicas_[0].object) + " vs " +
               Str(replicas_[i].object);
      }
    }
    // Every write that no write killed is present; two writes whose contexts do not cover each
    // other both stand unless a third write killed one.
    WriteSet all;
    for (size_t i = 0; i < writes_.size(); ++i) all.set(i);
    const WriteSet killed = Killed(all);
    const auto& siblings = replicas_[0].object.siblings();
    auto present = [&](size_t i) {
      return std::any_of(siblings.begin(), siblings.end(),
                         [&](const Sibling& s) { return s.dot == writes_[i].sibling.dot; });
    };
    for (size_t i = 0; i < writes_.size(); ++i) {
      if (present(i) != !killed.test(i)) {
        return "write w" + std::to_string(i) +
               (killed.test(i) ? " was killed but is present: "
                               : " was never killed but is gone: ") +
               Str(replicas_[0].object);
      }
    }
    for (size_t i = 0; i < writes_.size(); ++i) {
      for (size_t j = i + 1; j < writes_.size(); ++j) {
        const bool concurrent =
            !writes_[j].context_seen.test(i) && !writes_[i].context_seen.test(j);
        if (concurrent && !killed.test(i) && !killed.test(j)) {
          ++stats_->concurrent_pairs_checked;
          if (!present(i) || !present(j)) return "a concurrent pair lost a write";
        }
      }
    }
    return "";
  }

  std::string CheckReplicas() const {
    for (size_t k = 0; k < replicas_.size(); ++k) {
      const Replica& r = replicas_[k];
      const VersionVector clock = ClockOf(r.seen);
      const std::vector<Sibling> siblings = SiblingsOf(Held(r.seen));
      if (!(r.object.clock() == clock) || r.object.siblings() != siblings) {
        return "replica " + std::to_string(k) + " is " + Str(r.object) + ", model expects " +
               Str(clock) + " " + Str(siblings);
      }
      std::vector<Sibling> live;
      for (const auto& s : siblings) {
        if (s.LiveAt(now_)) live.push_back(s);
      }
      if (r.object.Live(now_) != live) {
        return "replica " + std::to_string(k) + " reads " + Str(r.object.Live(now_)) +
               ", model expects " + Str(live);
      }
    }
    return "";
  }

  // Objects of one history: Merge is a join (commutative, associative, idempotent), the result
  // descends both sides, and an object's clock determines it.
  std::string CheckMergeAlgebra() {
    auto& p = snapshots_;
    for (const auto& r : replicas_) p.push_back(r.object);
    p.push_back(VersionedObject());
    using O = VersionedObject;
    for (size_t i = 0; i < p.size(); ++i) {
      if (!(O::Merge(p[i], p[i]) == p[i])) return "Merge not idempotent on " + Str(p[i]);
      for (size_t j = 0; j < p.size(); ++j) {
        const O ab = O::Merge(p[i], p[j]);
        ++stats_->snapshots_compared;
        if (!(ab == O::Merge(p[j], p[i]))) {
          return "Merge not commutative: " + Str(p[i]) + " and " + Str(p[j]);
        }
        if (!ab.clock().Descends(p[i].clock()) || !ab.clock().Descends(p[j].clock())) {
          return "Merge does not descend its inputs";
        }
        const bool mutual =
            p[i].clock().Descends(p[j].clock()) && p[j].clock().Descends(p[i].clock());
        if (mutual != (p[i] == p[j])) {
          return "clocks " + std::string(mutual ? "equal" : "differ") + " but objects " +
                 (p[i] == p[j] ? "equal" : "differ") + ": " + Str(p[i]) + " vs " + Str(p[j]);
        }
        if (p[i].clock().Descends(p[j].clock()) != (ab == p[i])) {
          return "Merge(a, b) == a must hold exactly when a's clock descends b's: " + Str(p[i]) +
                 " and " + Str(p[j]);
        }
        for (size_t k = 0; k < p.size(); ++k) {
          if (!(O::Merge(ab, p[k]) == O::Merge(p[i], O::Merge(p[j], p[k])))) {
            return "Merge not associative: " + Str(p[i]) + ", " + Str(p[j]) + ", " + Str(p[k]);
          }
        }
      }
    }
    return "";
  }

  std::vector<Replica> replicas_;
  std::vector<Client> clients_;
  std::vector<Write> writes_;
  std::vector<VersionedObject> snapshots_;
  int64_t now_ = kStartUs;
  HistoryStats* stats_;
};

// Greedy shrinking: drop ops one at a time while the history still fails.
std::vector<Op> Shrink(std::vector<Op> ops, const HistoryShape& shape) {
  HistoryStats scratch;
  bool progress = true;
  while (progress) {
    progress = false;
    for (size_t i = 0; i < ops.size(); ++i) {
      std::vector<Op> smaller = ops;
      smaller.erase(smaller.begin() + static_cast<std::ptrdiff_t>(i));
      if (!HistoryRunner(shape.replicas, shape.clients, &scratch).Run(smaller).empty()) {
        ops = std::move(smaller);
        progress = true;
        break;
      }
    }
  }
  return ops;
}

uint64_t BaseSeed() {
  if (const char* env = std::getenv("RINGKV_VERSION_SEED")) return std::strtoull(env, nullptr, 10);
  return std::random_device{}() ^
         static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

TEST(VersionPropertyTest, RandomHistoriesMatchTheModel) {
  constexpr int kHistories = 2000;
  const uint64_t base = BaseSeed();
  std::cout << "[ seed     ] RINGKV_VERSION_SEED=" << base << "\n";
  HistoryStats stats;
  for (int h = 0; h < kHistories; ++h) {
    const uint64_t seed = base + static_cast<uint64_t>(h);
    std::mt19937_64 rng(seed);
    HistoryShape shape;
    shape.replicas = 2 + static_cast<int>(rng() % 4);
    shape.clients = 2 + static_cast<int>(rng() % 3);
    shape.ops = 10 + static_cast<int>(rng() % 60);
    const std::vector<Op> ops = GenerateHistory(rng, shape);
    const std::string why = HistoryRunner(shape.replicas, shape.clients, &stats).Run(ops);
    if (!why.empty()) {
      const std::vector<Op> minimal = Shrink(ops, shape);
      HistoryStats scratch;
      std::ostringstream report;
      report << "history seed " << seed << " (RINGKV_VERSION_SEED=" << seed
             << " replays it first), " << shape.replicas << " replicas, " << shape.clients
             << " clients: " << why << "\nminimal history (" << minimal.size() << " ops):\n";
      for (const auto& op : minimal) report << "  " << op.ToString() << "\n";
      report << "which fails with: "
             << HistoryRunner(shape.replicas, shape.clients, &scratch).Run(minimal);
      FAIL() << report.str();
    }
  }
  // Each property must actually have been exercised.
  EXPECT_GT(stats.rmw_single_sibling_checked, kHistories);
  EXPECT_GT(stats.concurrent_pairs_checked, kHistories);
  EXPECT_GT(stats.expired_drops, 10);
  EXPECT_GT(stats.snapshots_compared, kHistories * 10);
  std::cout << "[ stats    ] rmw checks " << stats.rmw_single_sibling_checked
            << ", concurrent pairs " << stats.concurrent_pairs_checked << ", expiry drops "
            << stats.expired_drops << ", merge pairs " << stats.snapshots_compared << "\n";
}

}  // namespace
}  // namespace ringkv
