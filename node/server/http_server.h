// HttpServer: the node's small HTTP endpoint (kvnode --http), Boost.Beast on the node's own
// io_context: GET /metrics answers with what `metrics` returns (Prometheus text format 0.0.4),
// built on the loop thread, so the figures need no locks. Anything else gets 404 (405 for another
// method on /metrics).
//
// Limits, since anyone who can reach the port can talk to it: requests of at most 8 KiB (headers;
// no body), 10 s to send one, at most 64 connections (more are closed at once), one request per
// connection (the answer closes it).
//
// Thread safety: the io_context's single thread.
#ifndef RINGKV_NODE_SERVER_HTTP_SERVER_H_
#define RINGKV_NODE_SERVER_HTTP_SERVER_H_

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility> (DESIGN.md §9).
#include <utility>
#include <boost/asio.hpp>

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "node/log.h"

namespace ringkv {

class HttpServer {
 public:
  // `io` and `log` must outlive the server.
  HttpServer(boost::asio::io_context* io, Logger* log, std::function<std::string()> metrics);
  ~HttpServer();

  // Binds HOST:PORT and starts accepting.
  [[nodiscard]] Status Start(const std::string& host_port);
  void Stop();
  // "host:port" it listens on (the real port when 0 was asked for).
  std::string address() const { return address_; }

 private:
  class Session;
  void Accept();

  boost::asio::io_context* const io_;
  Logger* const log_;
  std::function<std::string()> metrics_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::string address_;
  std::shared_ptr<int> open_;  // connections open; shared with the sessions
};

}  // namespace ringkv

#endif  // RINGKV_NODE_SERVER_HTTP_SERVER_H_
