#include "node/server/http_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace ringkv {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr size_t kRequestBytesMax = 8 * 1024;
constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr int kConnectionsMax = 64;
}  // namespace

class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer* server)
      : stream_(std::move(socket)), server_(server), open_(server->open_) {
    ++*open_;
  }
  ~Session() { --*open_; }

  void Start() {
    parser_.header_limit(kRequestBytesMax);
    parser_.body_limit(0);
    stream_.expires_after(kRequestTimeout);
    http::async_read(stream_, buffer_, parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) return Close();  // timeout, oversized, malformed, or the client left
    const auto& req = parser_.get();
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(req.version());
    res->keep_alive(false);
    res->set(http::field::server, "ringkv");
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    if (path == "/metrics" && req.method() == http::verb::get) {
      res->result(http::status::ok);
      res->set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res->body() = server_->metrics_();
    } else if (path == "/metrics") {
      res->result(http::status::method_not_allowed);
      res->set(http::field::allow, "GET");
      res->body() = "only GET\n";
    } else {
      res->result(http::status::not_found);
      res->set(http::field::content_type, "text/plain");
      res->body() = "not found; try /metrics\n";
    }
    res->prepare_payload();
    stream_.expires_after(kRequestTimeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, size_t) {
      self->Close();
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{kRequestBytesMax};
  http::request_parser<http::empty_body> parser_;
  HttpServer* server_;
  std::shared_ptr<int> open_;
};

HttpServer::HttpServer(asio::io_context* io, Logger* log, std::function<std::string()> metrics)
    : io_(io), log_(log), metrics_(std::move(metrics)), acceptor_(*io),
      open_(std::make_shared<int>(0)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument(fmt::format("--http '{}' is not HOST:PORT", host_port));
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host_port.substr(0, colon), ec);
  if (ec) return Status::InvalidArgument(fmt::format("--http '{}': not an IP address", host_port));
  unsigned long port = 0;
  try {
    port = std::stoul(host_port.substr(colon + 1));
  } catch (...) {
    port = 70000;
  }
  if (port > 65535) return Status::InvalidArgument(fmt::format("--http '{}': bad port", host_port));
  tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IoError(fmt::format("cannot listen on {} (--http): {}", host_port, ec.message()));
  address_ = fmt::format("{}:{}", address.to_string(), acceptor_.local_endpoint().port());
  Accept();
  return Status::Ok();
}

void HttpServer::Stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

void HttpServer::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      if (*open_ >= kConnectionsMax) {
        RINGKV_LOG(log_, kWarn, "http: refusing a connection: {} open", *open_);
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<Session>(std::move(socket), this)->Start();
      }
    }
    Accept();
  });
}

}  // namespace ringkv
