// The stored-object encoding: round trips of objects built through the version API, and untrusted
// bytes (truncated, flipped, trailing, hand-made malformed) that must come back as Corruption.
#include "storage/object_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/coding.h"
#include "common/limits.h"

namespace ringkv {
namespace {

constexpr int64_t kNowUs = 1'700'000'000'000'000;

std::string Hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// Objects as the node makes them: writes by a few actors with random contexts, deletes, TTLs,
// merges of replicas. Field values range over the extremes the encoding must carry.
VersionedObject RandomObject(std::mt19937_64& rng) {
  const size_t replicas = 1 + rng() % 3;
  std::vector<VersionedObject> r(replicas);
  const int ops = static_cast<int>(rng() % 20);
  for (int i = 0; i < ops; ++i) {
    const size_t at = rng() % replicas;
    if (rng() % 4 == 0) {
      const size_t other = rng() % replicas;
      r[at] = VersionedObject::Merge(r[at], r[other]);
      continue;
    }
    Sibling s;
    switch (rng() % 4) {
      case 0:
        s.value = "";
        break;
      case 1:
        s.value = std::string(1 + rng() % 300, static_cast<char>(rng()));
        break;
      default:
        s.value.resize(rng() % 40);
        for (auto& c : s.value) c = static_cast<char>(rng());
    }
    const int64_t extremes[] = {
        0, -1, 1, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), kNowUs};
    s.timestamp_us = rng() % 3 == 0 ? extremes[rng() % 6] : static_cast<int64_t>(rng());
    s.tombstone = rng() % 5 == 0;
    if (rng() % 4 == 0) {
      s.expires_at_us = rng() % 2 ? kNowUs + 1 + static_cast<int64_t>(rng() % 1000)
                                  : extremes[3 + rng() % 2];  // int64 min or max
    }
    const VersionVector context = rng() % 3 == 0 ? VersionVector() : r[rng() % replicas].clock();
    // Large actor ids, as node/identity.cc makes them.
    const uint64_t actor = rng() % 2 ? 0x9e3779b97f4a7c15ULL * (at + 1) : at + 1;
    (void)r[at].ApplyWrite(context, actor, std::move(s), kNowUs);
  }
  return r[rng() % replicas];
}

std::string Sample(std::mt19937_64& rng) {
  for (;;) {
    VersionedObject o = RandomObject(rng);
    if (o.siblings().size() >= 2) return EncodeObject(o);
  }
}

TEST(ObjectCodecTest, EmptyObjectRoundTrips) {
  const std::string bytes = EncodeObject(VersionedObject());
  EXPECT_EQ(bytes, std::string("\x01\x00\x00", 3));
  auto back = DecodeObject(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back.value().empty());
}

TEST(ObjectCodecTest, KnownEncoding) {
  // Pins the documented layout: a format change must be deliberate.
  VersionedObject o;
  Sibling a;
  a.value = "hi";
  a.timestamp_us = -2;
  a.expires_at_us = 1;
  ASSERT_TRUE(o.ApplyWrite({}, 300, a, 0).ok());
  Sibling t;
  t.tombstone = true;
  t.timestamp_us = 64;
  ASSERT_TRUE(o.ApplyWrite({}, 5, t, 0).ok());
  // clang-format off
  const std::string want = std::string(
      "\x01"                                        // format
      "\x02" "\x05\x01" "\xac\x02\x01"              // clock: 2 entries, {5:1, 300:1}
      "\x02"                                        // 2 siblings, sorted by dot
      "\x05\x01" "\x80\x01" "\x01" "\x00"            // (5,1) ts zigzag(64)=128, tombstone, no value
      "\xac\x02\x01" "\x03" "\x02" "\x02" "\x02hi",  // (300,1) ts zigzag(-2)=3, expiry 1, "hi"
      23);
  // clang-format on
  EXPECT_EQ(Hex(EncodeObject(o)), Hex(want));
  auto back = DecodeObject(want);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back.value(), o);
}

TEST(ObjectCodecTest, RandomObjectsRoundTrip) {
  std::mt19937_64 rng(1);
  int with_siblings = 0, with_tombstones = 0, with_expiry = 0;
  for (int i = 0; i < 3000; ++i) {
    const VersionedObject o = RandomObject(rng);
    const std::string bytes = EncodeObject(o);
    auto back = DecodeObject(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString() << " for " << Hex(bytes);
    ASSERT_EQ(back.value(), o);
    ASSERT_EQ(EncodeObject(back.value()), bytes);
    with_siblings += o.siblings().size() > 1;
    for (const auto& s : o.siblings()) {
      with_tombstones += s.tombstone;
      with_expiry += s.expires_at_us != 0;
    }
  }
  EXPECT_GT(with_siblings, 300);
  EXPECT_GT(with_tombstones, 300);
  EXPECT_GT(with_expiry, 300);
}

TEST(ObjectCodecTest, EveryTruncationIsRejected) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 200; ++i) {
    const std::string bytes = Sample(rng);
    for (size_t len = 0; len < bytes.size(); ++len) {
      auto r = DecodeObject(std::string_view(bytes).substr(0, len));
      ASSERT_FALSE(r.ok()) << "prefix " << len << " of " << Hex(bytes) << " decoded";
      ASSERT_EQ(r.status().code(), Code::kCorruption);
    }
  }
}

TEST(ObjectCodecTest, TrailingBytesAreRejected) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200; ++i) {
    const std::string bytes = Sample(rng);
    for (const std::string& tail : {std::string(1, '\0'), std::string("x"), bytes}) {
      auto r = DecodeObject(bytes + tail);
      ASSERT_FALSE(r.ok());
      ASSERT_EQ(r.status().code(), Code::kCorruption);
    }
  }
}

// A flipped byte either is caught, or yields an object that is exactly what the bytes say: it
// re-encodes to the same bytes. One encoding per object is what lets replicas compare stored bytes
// (or hashes of them) instead of decoding.
TEST(ObjectCodecTest, RandomByteFlipsAreCaughtOrDecodeFaithfully) {
  std::mt19937_64 rng(4);
  int caught = 0, accepted = 0, reencoded_differently = 0;
  std::string example;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = Sample(rng);
    for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) {
      const size_t at = rng() % bytes.size();
      bytes[at] = static_cast<char>(rng() % 2 ? bytes[at] ^ (1 << (rng() % 8)) : rng());
    }
    auto r = DecodeObject(bytes);
    if (!r.ok()) {
      ASSERT_EQ(r.status().code(), Code::kCorruption);
      ++caught;
      continue;
    }
    ++accepted;
    const std::string again = EncodeObject(r.value());
    if (again != bytes) {
      // At least the object must be the one its re-encoding describes.
      auto twice = DecodeObject(again);
      ASSERT_TRUE(twice.ok());
      ASSERT_EQ(twice.value(), r.value());
      if (reencoded_differently++ == 0) example = Hex(bytes) + " re-encodes as " + Hex(again);
    }
  }
  EXPECT_GT(caught, 1000);
  EXPECT_GT(accepted, 1000);
  EXPECT_EQ(reencoded_differently, 0) << "of " << accepted << " accepted, e.g. " << example;
}

// The smallest form of the case above: a value length of 2 written in two bytes (0x82 0x00, an
// overlong LEB128) instead of one (0x02).
TEST(ObjectCodecTest, OverlongVarintIsRejected) {
  VersionedObject o;
  Sibling s;
  s.value = "hi";
  ASSERT_TRUE(o.ApplyWrite({}, 1, s, kNowUs).ok());
  std::string bytes = EncodeObject(o);
  ASSERT_EQ(bytes.substr(bytes.size() - 3), "\x02hi");
  ASSERT_TRUE(DecodeObject(bytes).ok());
  bytes.replace(bytes.size() - 3, 1, std::string("\x82\x00", 2));
  auto r = DecodeObject(bytes);
  EXPECT_FALSE(r.ok()) << "accepted a second encoding of the same object";
}

// Hand-made malformed objects, each wrong in one way.
struct RawSibling {
  uint64_t actor = 1;
  uint64_t counter = 1;
  uint64_t ts = 0;  // zigzag
  uint8_t flags = 0;
  uint64_t expiry = 0;  // zigzag, written when flags & 2
  std::string value;
};

RawSibling S(uint64_t actor, uint64_t counter) {
  RawSibling r;
  r.actor = actor;
  r.counter = counter;
  return r;
}

std::string Raw(const std::vector<std::pair<uint64_t, uint64_t>>& clock,
                const std::vector<RawSibling>& siblings, uint8_t format = 1) {
  std::string s(1, static_cast<char>(format));
  PutVarint64(&s, clock.size());
  for (const auto& [a, c] : clock) {
    PutVarint64(&s, a);
    PutVarint64(&s, c);
  }
  PutVarint64(&s, siblings.size());
  for (const auto& r : siblings) {
    PutVarint64(&s, r.actor);
    PutVarint64(&s, r.counter);
    PutVarint64(&s, r.ts);
    s.push_back(static_cast<char>(r.flags));
    if (r.flags & 2) PutVarint64(&s, r.expiry);
    PutLengthPrefixed(&s, r.value);
  }
  return s;
}

TEST(ObjectCodecTest, HandMadeMalformedObjectsAreRejected) {
  ASSERT_TRUE(DecodeObject(Raw({{1, 2}}, {S(1, 1), S(1, 2)})).ok()) << "the baseline is valid";
  RawSibling expiry_zero;
  expiry_zero.flags = 2;
  RawSibling unknown_flag;
  unknown_flag.flags = 4;
  RawSibling zero_counter;
  zero_counter.counter = 0;
  std::vector<std::pair<uint64_t, uint64_t>> wide_clock;
  for (uint64_t a = 1; a <= kClockEntriesMax + 1; ++a) wide_clock.emplace_back(a, 1);
  std::vector<RawSibling> many;
  for (uint64_t c = 1; c <= kSiblingsStoredMax + 1; ++c) many.push_back(S(1, c));
  std::string huge_value = Raw({{1, 1}}, {});
  huge_value.pop_back();  // sibling count 0 -> replace by one sibling claiming 2^62 value bytes
  PutVarint64(&huge_value, 1);
  PutVarint64(&huge_value, 1);
  PutVarint64(&huge_value, 1);
  PutVarint64(&huge_value, 0);
  huge_value.push_back('\0');
  PutVarint64(&huge_value, uint64_t{1} << 62);
  huge_value += "abc";

  const struct {
    const char* what;
    std::string bytes;
  } cases[] = {
      {"empty input", ""},
      {"unknown format", Raw({{1, 1}}, {S(1, 1)}, 2)},
      {"format zero", Raw({{1, 1}}, {S(1, 1)}, 0)},
      {"unsorted clock", Raw({{2, 1}, {1, 1}}, {})},
      {"zero clock counter", Raw({{1, 0}}, {})},
      {"clock past kClockEntriesMax", Raw(wide_clock, {})},
      {"siblings past kSiblingsStoredMax", Raw({{1, kSiblingsStoredMax + 1}}, many)},
      {"sibling not covered by clock", Raw({{1, 1}}, {S(1, 2)})},
      {"sibling of an actor the clock lacks", Raw({{1, 1}}, {S(2, 1)})},
      {"siblings out of order", Raw({{1, 2}}, {S(1, 2), S(1, 1)})},
      {"duplicate dot", Raw({{1, 2}}, {S(1, 1), S(1, 1)})},
      {"zero dot counter", Raw({{1, 1}}, {zero_counter})},
      {"expiry flag with zero expiry", Raw({{1, 1}}, {expiry_zero})},
      {"unknown flag bit", Raw({{1, 1}}, {unknown_flag})},
      {"value longer than the input", huge_value},
  };
  for (const auto& c : cases) {
    auto r = DecodeObject(c.bytes);
    EXPECT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), Code::kCorruption) << c.what;
  }
}

// What a coordinator stores is EncodeObject(ApplyWrite(...)), read back by DecodeObject: a write
// must never leave an object the codec refuses. A client's context is input (DecodeContext accepts
// any 64 actors), so the write is either refused or its result decodes.
TEST(ObjectCodecTest, AWriteWithAnyLegalContextLeavesADecodableObject) {
  std::mt19937_64 rng(5);
  int refused = 0, stored = 0;
  for (int i = 0; i < 300; ++i) {
    VersionedObject o = RandomObject(rng);
    // The read's context, or one naming actors this replica never saw (a context from another
    // replica, or forged).
    VersionVector context = rng() % 2 ? o.clock() : VersionVector();
    const size_t extra = rng() % 2 ? kClockEntriesMax : rng() % 8;  // fill the context, or not
    for (size_t k = 0; k < extra && context.size() < kClockEntriesMax; ++k) {
      const uint64_t actor = rng();
      if (context.Get(actor) == 0) context.Set(actor, 1 + rng() % 1000);
    }
    ASSERT_TRUE(VersionVector::DecodeContext(context.EncodeContext()).ok());
    Sibling s;
    s.value = "w";
    const VersionedObject before = o;
    auto w = o.ApplyWrite(context, 1 + rng() % 4, s, kNowUs);
    if (!w.ok()) {
      ++refused;
      ASSERT_EQ(o, before);
      continue;
    }
    ++stored;
    auto back = DecodeObject(EncodeObject(o));
    ASSERT_TRUE(back.ok()) << "a write left " << o.clock().size() << " clock entries and "
                           << o.siblings().size() << " siblings: " << back.status().ToString();
    ASSERT_EQ(back.value(), o);
  }
  EXPECT_GT(refused, 50);
  EXPECT_GT(stored, 50);
}

}  // namespace
}  // namespace ringkv
