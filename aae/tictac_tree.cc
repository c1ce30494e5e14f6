#include "aae/tictac_tree.h"

#include <algorithm>
#include <bit>
#include <cassert>

#include "common/coding.h"
#include "common/hash.h"
#include "common/token.h"

namespace ringkv {
namespace {

// Separates the version hash's domain from the token's before they are combined, so that a key
// whose version hash equals its own token does not contribute Mix64(0) = 0.
constexpr uint64_t kVersionSalt = 0x9e3779b97f4a7c15ULL;

// Serialized form, all integers big-endian:
//   fixed64  kMagic ("RKTT") << 32 | kFormatVersion
//   fixed64  branches << 32 | leaves_per_branch
//   fixed64  range start, then range end (two's complement)
//   fixed64  leaf hash, segments() times, segment 0 first
//   fixed64  checksum: TokenOf (Murmur3) of every byte before it
// Version 1 had no range (segments were hashes of the token, not slices of the range).
constexpr uint64_t kMagic = 0x524b5454;  // "RKTT"
constexpr uint64_t kFormatVersion = 2;
constexpr size_t kHeaderBytes = 32;
constexpr size_t kChecksumBytes = 8;

uint64_t Checksum(std::string_view bytes) { return static_cast<uint64_t>(TokenOf(bytes)); }

uint64_t KeyHashOf(std::string_view key) { return static_cast<uint64_t>(TokenOf(key)); }

__extension__ typedef unsigned __int128 Uint128;

// The number of tokens in the range: 2^64 for the whole ring.
Uint128 WidthOf(const TokenRange& range) {
  const uint64_t width = static_cast<uint64_t>(range.end) - static_cast<uint64_t>(range.start);
  return width == 0 ? Uint128{1} << 64 : Uint128{width};
}

// The offset in the range of segment s's first token, ceil(s * width / segments): the least offset
// o with floor(o * segments / width) >= s. s == segments gives the width.
Uint128 SegmentBegin(Uint128 width, uint32_t segments, uint64_t s) {
  return (s * width + segments - 1) / segments;
}

uint64_t Contribution(uint64_t key_hash, uint64_t version_hash) {
  return Mix64(key_hash ^ Mix64(version_hash ^ kVersionSalt));
}

}  // namespace

std::string TreeShape::ToString() const {
  return std::to_string(branches) + "x" + std::to_string(leaves_per_branch);
}

Status TreeShape::Validate() const {
  if (!std::has_single_bit(branches) || !std::has_single_bit(leaves_per_branch)) {
    return Status::InvalidArgument("tree shape " + ToString() + ": counts must be powers of two");
  }
  if (branches > kBranchesMax || leaves_per_branch > kLeavesPerBranchMax ||
      uint64_t{branches} * leaves_per_branch > kSegmentsMax) {
    return Status::InvalidArgument("tree shape " + ToString() + " exceeds the limits (" +
                                   std::to_string(kBranchesMax) + " branches, " +
                                   std::to_string(kLeavesPerBranchMax) + " leaves per branch, " +
                                   std::to_string(kSegmentsMax) + " segments)");
  }
  return Status::Ok();
}

TictacTree::TictacTree(TreeShape shape, TokenRange range)
    : shape_(shape),
      range_(range),
      branch_shift_(static_cast<uint32_t>(std::countr_zero(shape.leaves_per_branch))),
      branches_(shape.branches, 0),
      leaves_(shape.segments(), 0) {
  assert(shape.Validate().ok());
}

uint32_t SegmentOf(const TreeShape& shape, const TokenRange& range, Token token) {
  assert(range.Contains(token));
  // Offset 0 is the range's first token, start + 1: unsigned, so a wrapping range needs no case.
  const uint64_t offset = static_cast<uint64_t>(token) - static_cast<uint64_t>(range.start) - 1;
  return static_cast<uint32_t>(Uint128{offset} * shape.segments() / WidthOf(range));
}

std::optional<TokenRange> SegmentTokens(const TreeShape& shape, const TokenRange& range,
                                        uint32_t first, uint32_t last) {
  assert(first <= last && last < shape.segments());
  const Uint128 width = WidthOf(range);
  const Uint128 begin = SegmentBegin(width, shape.segments(), first);
  const Uint128 end = SegmentBegin(width, shape.segments(), uint64_t{last} + 1);
  if (begin == end) return std::nullopt;
  // Offsets [begin, end) are tokens (start + begin, start + end], modulo 2^64.
  const uint64_t start = static_cast<uint64_t>(range.start);
  return TokenRange{static_cast<Token>(start + static_cast<uint64_t>(begin)),
                    static_cast<Token>(start + static_cast<uint64_t>(end))};
}

uint64_t TictacTree::KeyVersionHash(std::string_view key, uint64_t version_hash) {
  return Contribution(KeyHashOf(key), version_hash);
}

void TictacTree::Apply(std::string_view key, std::optional<uint64_t> old_version_hash,
                       std::optional<uint64_t> new_version_hash) {
  if (old_version_hash == new_version_hash) return;
  const Token token = TokenOf(key);
  const uint64_t key_hash = static_cast<uint64_t>(token);
  uint64_t delta = 0;
  if (old_version_hash) delta ^= Contribution(key_hash, *old_version_hash);
  if (new_version_hash) delta ^= Contribution(key_hash, *new_version_hash);
  XorSegment(SegmentOf(shape_, range_, token), delta);
}

void TictacTree::XorSegment(uint32_t segment, uint64_t delta) {
  leaves_[segment] ^= delta;
  branches_[segment >> branch_shift_] ^= delta;
  root_ ^= delta;
}

void TictacTree::Clear() {
  root_ = 0;
  std::fill(branches_.begin(), branches_.end(), 0);
  std::fill(leaves_.begin(), leaves_.end(), 0);
}

std::span<const uint64_t> TictacTree::leaves_of(uint32_t b) const {
  assert(b < shape_.branches);
  return std::span<const uint64_t>(leaves_).subspan(size_t{b} << branch_shift_,
                                                    shape_.leaves_per_branch);
}

size_t TictacTree::MemoryBytes() const {
  return sizeof(*this) + sizeof(uint64_t) * (branches_.capacity() + leaves_.capacity());
}

Status TictacTree::CheckInvariants() const {
  uint64_t root = 0;
  for (uint32_t b = 0; b < shape_.branches; ++b) {
    uint64_t x = 0;
    for (uint64_t leaf : leaves_of(b)) x ^= leaf;
    if (x != branches_[b]) {
      return Status::Corruption("tictac tree: branch " + std::to_string(b) +
                                " is not the XOR of its leaves");
    }
    root ^= x;
  }
  if (root != root_) return Status::Corruption("tictac tree: root is not the XOR of its branches");
  return Status::Ok();
}

std::string TictacTree::Serialize() const {
  std::string out;
  out.reserve(kHeaderBytes + 8 * leaves_.size() + kChecksumBytes);
  PutFixed64BE(&out, kMagic << 32 | kFormatVersion);
  PutFixed64BE(&out, uint64_t{shape_.branches} << 32 | shape_.leaves_per_branch);
  PutFixed64BE(&out, static_cast<uint64_t>(range_.start));
  PutFixed64BE(&out, static_cast<uint64_t>(range_.end));
  for (uint64_t leaf : leaves_) PutFixed64BE(&out, leaf);
  PutFixed64BE(&out, Checksum(out));
  return out;
}

Result<TictacTree> TictacTree::Deserialize(std::string_view bytes) {
  Decoder in(bytes);
  uint64_t magic_version = 0, shape_word = 0, start = 0, end = 0;
  if (!in.GetFixed64BE(&magic_version) || !in.GetFixed64BE(&shape_word) ||
      !in.GetFixed64BE(&start) || !in.GetFixed64BE(&end)) {
    return Status::Corruption("tictac tree: " + std::to_string(bytes.size()) +
                              " bytes is shorter than the header");
  }
  if (magic_version >> 32 != kMagic) return Status::Corruption("tictac tree: bad magic");
  if ((magic_version & 0xffffffff) != kFormatVersion) {
    return Status::Corruption("tictac tree: unknown format version " +
                              std::to_string(magic_version & 0xffffffff));
  }
  const TreeShape shape{static_cast<uint32_t>(shape_word >> 32), static_cast<uint32_t>(shape_word)};
  if (Status s = shape.Validate(); !s.ok()) return s;
  const size_t want = kHeaderBytes + 8 * size_t{shape.segments()} + kChecksumBytes;
  if (bytes.size() != want) {
    return Status::Corruption("tictac tree of shape " + shape.ToString() + ": " +
                              std::to_string(bytes.size()) + " bytes, expected " +
                              std::to_string(want));
  }
  uint64_t checksum = 0;
  Decoder tail(bytes.substr(want - kChecksumBytes));
  if (!tail.GetFixed64BE(&checksum) ||
      checksum != Checksum(bytes.substr(0, want - kChecksumBytes))) {
    return Status::Corruption("tictac tree: checksum mismatch");
  }
  TictacTree tree(shape, TokenRange{static_cast<Token>(start), static_cast<Token>(end)});
  for (uint32_t segment = 0; segment < shape.segments(); ++segment) {
    uint64_t leaf = 0;
    const bool ok = in.GetFixed64BE(&leaf);
    assert(ok);  // the size was checked above
    (void)ok;
    tree.XorSegment(segment, leaf);
  }
  assert(tree.CheckInvariants().ok());
  return tree;
}

std::vector<uint32_t> DifferingIndices(std::span<const uint64_t> a, std::span<const uint64_t> b,
                                       uint32_t first_index) {
  assert(a.size() == b.size());
  std::vector<uint32_t> out;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) out.push_back(first_index + static_cast<uint32_t>(i));
  }
  return out;
}

Result<TreeDiff> Compare(const TictacTree& a, const TictacTree& b) {
  if (a.shape() != b.shape()) {
    return Status::InvalidArgument("tictac trees of different shapes (" + a.shape().ToString() +
                                   ", " + b.shape().ToString() + ") do not compare");
  }
  if (a.range() != b.range()) {
    return Status::InvalidArgument("tictac trees of different ranges (" + a.range().ToString() +
                                   ", " + b.range().ToString() + ") do not compare");
  }
  TreeDiff diff;
  if (a.root() == b.root()) return diff;
  diff.branches = DifferingIndices(a.branch_hashes(), b.branch_hashes());
  const uint32_t lpb = a.shape().leaves_per_branch;
  for (uint32_t branch : diff.branches) {
    std::vector<uint32_t> segments =
        DifferingIndices(a.leaves_of(branch), b.leaves_of(branch), branch * lpb);
    diff.segments.insert(diff.segments.end(), segments.begin(), segments.end());
  }
  return diff;
}

}  // namespace ringkv
