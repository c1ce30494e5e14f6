#include "gossip/state.h"

#include <fmt/format.h>

#include <limits>

namespace ringkv::gossip {

namespace {
constexpr std::string_view kStatusNames[] = {"JOINING", "NORMAL", "LEAVING", "LEFT", "REMOVED"};
}  // namespace

std::string_view StatusName(MemberStatus status) {
  return kStatusNames[static_cast<size_t>(status)];
}

bool ParseStatus(std::string_view name, MemberStatus* status) {
  for (size_t i = 0; i < std::size(kStatusNames); ++i) {
    if (kStatusNames[i] == name) {
      *status = static_cast<MemberStatus>(i);
      return true;
    }
  }
  return false;
}

Status Validate(const Endpoint& e) {
  if (e.name.empty() || e.name.size() > kNameBytesMax) {
    return Status::InvalidArgument(fmt::format("member name of {} bytes (1 to {})", e.name.size(),
                                               kNameBytesMax));
  }
  if (e.state.address.size() > kAddressBytesMax) {
    return Status::InvalidArgument(fmt::format("member {}: address of {} bytes (max {})", e.name,
                                               e.state.address.size(), kAddressBytesMax));
  }
  if (e.generation <= 0) {
    return Status::InvalidArgument(fmt::format("member {}: generation {}", e.name, e.generation));
  }
  const auto& tokens = e.state.tokens;
  if (tokens.size() > kMemberTokensMax) {
    return Status::InvalidArgument(fmt::format("member {}: {} tokens (max {})", e.name,
                                               tokens.size(), kMemberTokensMax));
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] == std::numeric_limits<Token>::min() || (i > 0 && tokens[i - 1] >= tokens[i])) {
      return Status::InvalidArgument(
          fmt::format("member {}: tokens not strictly ascending or holding the ring's origin",
                      e.name));
    }
  }
  if (!Gone(e.state.status) && e.state.status != MemberStatus::kJoining && tokens.empty()) {
    return Status::InvalidArgument(
        fmt::format("member {}: {} without tokens", e.name, StatusName(e.state.status)));
  }
  return Status::Ok();
}

}  // namespace ringkv::gossip
