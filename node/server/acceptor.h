// Opening a listening socket, the same way for each of a node's ports (clients and peers, CQL).
//
// Thread safety: call on the thread that owns the acceptor's io_context.
#ifndef RINGKV_NODE_SERVER_ACCEPTOR_H_
#define RINGKV_NODE_SERVER_ACCEPTOR_H_

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility> (DESIGN.md §9).
#include <boost/asio/ip/tcp.hpp>
#include <utility>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ringkv {

// Opens, binds (with SO_REUSEADDR) and listens `acceptor` on host:port. Errors:
// InvalidArgument "listen address 'x' is not an IP address"; IoError "cannot listen<for> on
// host:port: reason" (`for` e.g. " for CQL"; the words "cannot listen" are what the test
// harness looks for to retry on another port).
[[nodiscard]] Status OpenAcceptor(boost::asio::ip::tcp::acceptor* acceptor, const std::string& host,
                                  uint16_t port, std::string_view for_what = {});

}  // namespace ringkv

#endif  // RINGKV_NODE_SERVER_ACCEPTOR_H_
