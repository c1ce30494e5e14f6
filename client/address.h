// Contact point addresses: "host:port" or "[v6-address]:port".
//
// Thread safety: free functions on values.
#ifndef RINGKV_CLIENT_ADDRESS_H_
#define RINGKV_CLIENT_ADDRESS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "ringkv/error.h"

namespace ringkv::client_internal {

struct HostPort {
  std::string host;  // a name or a literal address, without brackets
  uint16_t port = 0;

  // "host:port", brackets restored for IPv6 literals; used in error messages.
  std::string ToString() const;
};

// Parses one contact point. kInvalidArgument says what is wrong with it.
Expected<HostPort> ParseHostPort(std::string_view text);

}  // namespace ringkv::client_internal

#endif  // RINGKV_CLIENT_ADDRESS_H_
