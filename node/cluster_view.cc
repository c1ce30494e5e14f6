#include "node/cluster_view.h"

#include <fmt/format.h>

#include <cassert>

namespace ringkv {
namespace {

using gossip::MemberStatus;

// The ring serving requests (future = false) or the one after the movements in flight.
Result<Ring> BuildRing(const std::map<std::string, MemberInfo>& members, bool future) {
  std::vector<Member> ring_members;
  ring_members.reserve(members.size());
  for (const auto& [name, m] : members) {
    const bool in = future ? (m.status == MemberStatus::kNormal || m.status == MemberStatus::kJoining)
                           : gossip::InRing(m.status);
    if (in && !m.tokens.empty()) ring_members.push_back(Member{name, m.tokens});
  }
  return Ring::Build(std::move(ring_members));
}

// Tokens must not collide between any two members that are or will be in a ring.
Status CheckTokens(const std::map<std::string, MemberInfo>& members) {
  std::vector<Member> all;
  for (const auto& [name, m] : members) {
    if (!gossip::Gone(m.status) && !m.tokens.empty()) all.push_back(Member{name, m.tokens});
  }
  auto ring = Ring::Build(std::move(all));
  return ring.ok() ? Status::Ok() : ring.status();
}

}  // namespace

ClusterView::ClusterView(MemberInfo self) : self_name_(self.name) {
  members_[self.name] = std::move(self);
  auto ring = BuildRing(members_, false);
  auto future = BuildRing(members_, true);
  assert(ring.ok() && future.ok());
  ring_ = std::move(ring).value();
  future_ring_ = std::move(future).value();
}

std::vector<std::string> ClusterView::PreferenceList(Token token, size_t n) const {
  if (!settled_) {
    std::vector<std::string> unknown;
    for (size_t i = 1; i <= n; ++i) unknown.push_back(fmt::format("(ring settling {})", i));
    return unknown;
  }
  return ring_.PreferenceList(token, static_cast<uint32_t>(n));
}

bool ClusterView::IsUp(const std::string& node) const {
  if (node == self_name_) return true;
  auto it = members_.find(node);
  return it != members_.end() && !gossip::Gone(it->second.status) && dead_.count(node) == 0 &&
         unreachable_.count(node) == 0;
}

void ClusterView::SetAlive(const std::string& node, bool alive) {
  if (alive) {
    dead_.erase(node);
  } else {
    dead_.insert(node);
  }
}

void ClusterView::SetUp(const std::string& node, bool up) {
  if (up) {
    unreachable_.erase(node);
  } else {
    unreachable_.insert(node);
  }
}

Status ClusterView::RefuseWhileMoving(std::string_view what) const {
  for (const auto& name : Moving()) {
    return Status::InvalidArgument(fmt::format("{} is {}; {} once the range movement is over",
                                               name, gossip::StatusName(members_.at(name).status),
                                               what));
  }
  return Status::Ok();
}

std::vector<std::string> ClusterView::Moving() const {
  std::vector<std::string> out;
  for (const auto& [name, m] : members_) {
    if (m.status == MemberStatus::kJoining || m.status == MemberStatus::kLeaving) {
      out.push_back(name);
    }
  }
  return out;
}

std::vector<std::string> ClusterView::PendingReplicas(Token token, size_t n) const {
  if (!moving_ || !settled_) return {};
  auto it = pending_.find(n);
  if (it == pending_.end()) {
    it = pending_.emplace(n, OwnershipDiff(ring_, future_ring_, static_cast<uint32_t>(n))).first;
  }
  for (const auto& change : it->second) {
    if (change.range.Contains(token)) return change.gained;
  }
  return {};
}

void ClusterView::Forget(const std::string& node) {
  if (node == self_name_ || members_.count(node) == 0) return;
  auto next = members_;
  next.erase(node);
  auto ring = BuildRing(next, false);
  auto future = BuildRing(next, true);
  if (!ring.ok() || !future.ok()) return;
  members_ = std::move(next);
  ring_ = std::move(ring).value();
  future_ring_ = std::move(future).value();
  dead_.erase(node);
  unreachable_.erase(node);
  pending_.clear();
  moving_ = !Moving().empty();
}

std::optional<std::string> ClusterView::AddressOf(const std::string& node) const {
  auto it = members_.find(node);
  if (it == members_.end()) return std::nullopt;
  return it->second.address;
}

Result<bool> ClusterView::Learn(const MemberInfo& member) {
  if (member.name == self_name_ && member.host_id != members_.at(self_name_).host_id) {
    return Status::InvalidArgument(fmt::format(
        "another node (host id {:016x}) claims this node's name '{}'", member.host_id,
        member.name));
  }
  auto it = members_.find(member.name);
  if (it != members_.end() && it->second == member) return false;
  auto next = members_;
  next[member.name] = member;
  if (Status s = CheckTokens(next); !s.ok()) return s;
  auto ring = BuildRing(next, false);
  if (!ring.ok()) return ring.status();
  auto future = BuildRing(next, true);
  if (!future.ok()) return future.status();
  const bool changed = ring.value().Digest() != ring_.Digest() ||
                       future.value().Digest() != future_ring_.Digest();
  members_ = std::move(next);
  ring_ = std::move(ring).value();
  future_ring_ = std::move(future).value();
  pending_.clear();
  moving_ = !Moving().empty();
  return changed;
}

}  // namespace ringkv
