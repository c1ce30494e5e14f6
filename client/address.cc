#include "client/address.h"

#include <fmt/format.h>

#include <charconv>

namespace ringkv::client_internal {

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Expected<HostPort> ParseHostPort(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("contact point '{}': {} (want host:port)", text, why));
  };
  HostPort out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("unterminated '['");
    out.host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') return bad("no port");
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    out.host = std::string(text.substr(0, colon));
    // A bare IPv6 literal has several colons and is ambiguous without brackets.
    if (out.host.find(':') != std::string::npos) return bad("IPv6 addresses need [brackets]");
    port = text.substr(colon + 1);
  }
  if (out.host.empty()) return bad("empty host");
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return bad("bad port");
  }
  out.port = static_cast<uint16_t>(value);
  return out;
}

}  // namespace ringkv::client_internal
