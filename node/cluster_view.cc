#include "node/cluster_view.h"

#include <fmt/format.h>

#include <cassert>

namespace ringkv {
namespace {

Result<Ring> BuildRing(const std::map<std::string, MemberInfo>& members) {
  std::vector<Member> ring_members;
  ring_members.reserve(members.size());
  for (const auto& [name, m] : members) ring_members.push_back(Member{name, m.tokens});
  return Ring::Build(std::move(ring_members));
}

}  // namespace

ClusterView::ClusterView(MemberInfo self) : self_name_(self.name) {
  members_[self.name] = std::move(self);
  auto ring = BuildRing(members_);
  assert(ring.ok());
  ring_ = std::move(ring).value();
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
  return node == self_name_ || up_.count(node) > 0;
}

void ClusterView::SetUp(const std::string& node, bool up) {
  if (up) {
    up_.insert(node);
  } else {
    up_.erase(node);
  }
}

std::optional<std::string> ClusterView::AddressOf(const std::string& node) const {
  auto it = members_.find(node);
  if (it == members_.end()) return std::nullopt;
  return it->second.address;
}

Result<bool> ClusterView::Learn(const MemberInfo& member) {
  if (member.name == self_name_) {
    if (member.host_id != members_.at(self_name_).host_id) {
      return Status::InvalidArgument(fmt::format(
          "another node (host id {:016x}) claims this node's name '{}'", member.host_id,
          member.name));
    }
    return false;
  }
  auto it = members_.find(member.name);
  if (it != members_.end() && it->second == member) return false;
  auto next = members_;
  next[member.name] = member;
  auto ring = BuildRing(next);
  if (!ring.ok()) return ring.status();
  const bool ring_changed = it == members_.end() || it->second.tokens != member.tokens;
  members_ = std::move(next);
  ring_ = std::move(ring).value();
  return ring_changed;
}

}  // namespace ringkv
