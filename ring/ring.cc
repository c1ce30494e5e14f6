#include "ring/ring.h"

#include <algorithm>
#include <cassert>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "common/coding.h"

namespace ringkv {
namespace {

// Above this many replicas a bitmap of seen nodes beats scanning the list found so far.
constexpr uint32_t kLinearDedupMax = 16;

// The encoding Digest() hashes: members by name, each as length-prefixed name, token count, tokens
// ascending as fixed 64-bit big-endian. Canonical, so equal member sets encode equally.
std::string CanonicalEncoding(const std::vector<Member>& sorted_members) {
  std::string out;
  for (const Member& m : sorted_members) {
    PutLengthPrefixed(&out, m.name);
    PutVarint64(&out, m.tokens.size());
    for (Token t : m.tokens) PutFixed64BE(&out, static_cast<uint64_t>(t));
  }
  return out;
}

Status ValidateMember(const Member& m) {
  if (m.name.empty()) return Status::InvalidArgument("ring member with an empty name");
  if (m.name.size() > kNodeNameBytesMax) {
    return Status::InvalidArgument(fmt::format("ring member name of {} bytes; the limit is {}",
                                               m.name.size(), kNodeNameBytesMax));
  }
  if (m.tokens.empty()) {
    // A node without tokens owns nothing; it is not yet (or no longer) part of the ring.
    return Status::InvalidArgument(fmt::format("ring member '{}' has no tokens", m.name));
  }
  if (m.tokens.size() > kTokensPerNodeMax) {
    return Status::InvalidArgument(fmt::format("ring member '{}' has {} tokens; the limit is {}",
                                               m.name, m.tokens.size(), kTokensPerNodeMax));
  }
  return Status::Ok();
}

}  // namespace

Result<Ring> Ring::Build(std::vector<Member> members) {
  if (members.size() > kRingNodesMax) {
    return Status::InvalidArgument(
        fmt::format("{} ring members; the limit is {}", members.size(), kRingNodesMax));
  }
  size_t total_tokens = 0;
  for (Member& m : members) {
    if (Status s = ValidateMember(m); !s.ok()) return s;
    total_tokens += m.tokens.size();
    std::sort(m.tokens.begin(), m.tokens.end());
    if (m.tokens.front() == kTokenMin) {
      return Status::InvalidArgument(
          fmt::format("ring member '{}' holds the minimum token, the ring's origin", m.name));
    }
  }
  if (total_tokens > kRingTokensMax) {
    return Status::InvalidArgument(
        fmt::format("{} tokens in the ring; the limit is {}", total_tokens, kRingTokensMax));
  }
  std::sort(members.begin(), members.end(),
            [](const Member& a, const Member& b) { return a.name < b.name; });
  for (size_t i = 1; i < members.size(); ++i) {
    if (members[i].name == members[i - 1].name) {
      return Status::InvalidArgument(
          fmt::format("ring member '{}' appears twice", members[i].name));
    }
  }

  Ring ring;
  ring.nodes_.reserve(members.size());
  ring.token_counts_.reserve(members.size());
  ring.vnodes_.reserve(total_tokens);
  for (uint32_t i = 0; i < members.size(); ++i) {
    ring.nodes_.push_back(members[i].name);
    ring.token_counts_.push_back(members[i].tokens.size());
    for (Token t : members[i].tokens) ring.vnodes_.push_back({t, i});
  }
  // Ties sort by node index only so the collision check below can name both nodes.
  std::sort(ring.vnodes_.begin(), ring.vnodes_.end(), [](const VNode& a, const VNode& b) {
    return a.token != b.token ? a.token < b.token : a.node < b.node;
  });
  for (size_t i = 1; i < ring.vnodes_.size(); ++i) {
    if (ring.vnodes_[i].token == ring.vnodes_[i - 1].token) {
      const std::string& a = ring.nodes_[ring.vnodes_[i - 1].node];
      const std::string& b = ring.nodes_[ring.vnodes_[i].node];
      return Status::InvalidArgument(
          a == b ? fmt::format("ring member '{}' lists token {} twice", a, ring.vnodes_[i].token)
                 : fmt::format("token {} is claimed by both '{}' and '{}'", ring.vnodes_[i].token,
                               a, b));
    }
  }
  ring.digest_ = static_cast<uint64_t>(TokenOf(CanonicalEncoding(members)));
  return ring;
}

std::vector<Member> Ring::Members() const {
  std::vector<Member> members(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    members[i].name = nodes_[i];
    members[i].tokens.reserve(token_counts_[i]);
  }
  for (const VNode& v : vnodes_) members[v.node].tokens.push_back(v.token);  // ascending already
  return members;
}

std::optional<uint32_t> Ring::IndexOf(std::string_view node) const {
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), node);
  if (it == nodes_.end() || *it != node) return std::nullopt;
  return static_cast<uint32_t>(it - nodes_.begin());
}

size_t Ring::VNodeFor(Token token) const {
  assert(!empty());
  auto it = std::lower_bound(vnodes_.begin(), vnodes_.end(), token,
                             [](const VNode& v, Token t) { return v.token < t; });
  return it == vnodes_.end() ? 0 : static_cast<size_t>(it - vnodes_.begin());
}

void Ring::ReplicasOfVNode(size_t vnode_index, uint32_t n, std::vector<uint32_t>* out) const {
  out->clear();
  const size_t want = std::min<size_t>(n, nodes_.size());
  if (want == 0) return;
  assert(vnode_index < vnodes_.size());
  out->reserve(want);
  std::vector<bool> seen;  // only for large n; see kLinearDedupMax
  if (want > kLinearDedupMax) seen.assign(nodes_.size(), false);
  const size_t t = vnodes_.size();
  // Every node holds at least one token, so one lap finds all of them: the walk ends within T
  // steps.
  for (size_t step = 0; step < t && out->size() < want; ++step) {
    size_t i = vnode_index + step;
    if (i >= t) i -= t;
    const uint32_t node = vnodes_[i].node;
    if (want > kLinearDedupMax) {
      if (seen[node]) continue;
      seen[node] = true;
    } else if (std::find(out->begin(), out->end(), node) != out->end()) {
      continue;
    }
    out->push_back(node);
  }
  assert(out->size() == want);
}

void Ring::PreferenceIndices(Token token, uint32_t n, std::vector<uint32_t>* out) const {
  out->clear();
  if (empty()) return;
  ReplicasOfVNode(VNodeFor(token), n, out);
}

std::vector<std::string> Ring::PreferenceList(Token token, uint32_t n) const {
  std::vector<uint32_t> indices;
  PreferenceIndices(token, n, &indices);
  std::vector<std::string> names;
  names.reserve(indices.size());
  for (uint32_t i : indices) names.push_back(nodes_[i]);
  return names;
}

std::string_view Ring::PrimaryOwner(Token token) const {
  if (empty()) return {};
  return nodes_[vnodes_[VNodeFor(token)].node];
}

TokenRange Ring::RangeOf(size_t vnode_index) const {
  assert(vnode_index < vnodes_.size());
  const size_t prev = vnode_index == 0 ? vnodes_.size() - 1 : vnode_index - 1;
  return {vnodes_[prev].token, vnodes_[vnode_index].token};
}

std::vector<TokenRange> Ring::Ranges() const {
  std::vector<TokenRange> ranges;
  ranges.reserve(vnodes_.size());
  for (size_t i = 0; i < vnodes_.size(); ++i) ranges.push_back(RangeOf(i));
  return ranges;
}

std::vector<TokenRange> Ring::RangesReplicatedBy(std::string_view node, uint32_t n) const {
  std::vector<TokenRange> ranges;
  const std::optional<uint32_t> index = IndexOf(node);
  if (!index) return ranges;
  std::vector<uint32_t> replicas;
  for (size_t i = 0; i < vnodes_.size(); ++i) {
    ReplicasOfVNode(i, n, &replicas);
    if (std::find(replicas.begin(), replicas.end(), *index) == replicas.end()) continue;
    const TokenRange r = RangeOf(i);
    if (!ranges.empty() && ranges.back().end == r.start) {
      ranges.back().end = r.end;  // adjacent: merge
    } else {
      ranges.push_back(r);
    }
  }
  // The last range may end where the first (the one holding the ring's origin) starts: one arc.
  if (ranges.size() > 1 && ranges.back().end == ranges.front().start) {
    ranges.front().start = ranges.back().start;
    ranges.pop_back();
  }
  return ranges;
}

std::vector<double> Ring::Ownership(uint32_t n) const {
  std::vector<double> share(nodes_.size(), 0.0);
  std::vector<uint32_t> replicas;
  for (size_t i = 0; i < vnodes_.size(); ++i) {
    ReplicasOfVNode(i, n, &replicas);
    const double width = RangeOf(i).Fraction();
    for (uint32_t node : replicas) share[node] += width;
  }
  return share;
}

double Ring::OwnershipFraction(std::string_view node, uint32_t n) const {
  const std::optional<uint32_t> index = IndexOf(node);
  if (!index) return 0.0;
  return Ownership(n)[*index];
}

}  // namespace ringkv
