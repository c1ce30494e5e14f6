#include "node/server/acceptor.h"

#include <fmt/format.h>

namespace ringkv {

Status OpenAcceptor(boost::asio::ip::tcp::acceptor* acceptor, const std::string& host,
                    uint16_t port, std::string_view for_what) {
  namespace asio = boost::asio;
  using tcp = asio::ip::tcp;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return Status::InvalidArgument(fmt::format("listen address '{}' is not an IP address", host));
  }
  tcp::endpoint endpoint(address, port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IoError(
        fmt::format("cannot listen{} on {}:{}: {}", for_what, host, port, ec.message()));
  }
  return Status::Ok();
}

}  // namespace ringkv
