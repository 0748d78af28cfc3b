#include "homesafe/township/http_server.hpp"

#include <fmt/format.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "homesafe/township/log.hpp"

namespace homesafe::township {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kBodyLimit = 64 * 1024;
constexpr auto kTimeout = std::chrono::seconds(30);

struct SharedState {
  HttpHandler handler;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<SharedState> state)
      : stream_(std::move(socket)), state_(std::move(state)) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(kTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      respond_plain(http::status::payload_too_large, false);
      return;
    }
    if (ec) return;  // timeout, reset, garbage: drop the connection
    auto request = parser_->release();
    ApiRequest api;
    api.method = std::string(request.method_string());
    api.target = std::string(request.target());
    api.body = request.body();
    if (auto it = request.find(http::field::cookie); it != request.end()) {
      api.cookie = std::string(it->value());
    }
    beast::error_code peer_ec;
    const auto peer = stream_.socket().remote_endpoint(peer_ec);
    if (!peer_ec) api.remote = peer.address().to_string();
    ApiResponse result;
    try {
      result = state_->handler(api);
    } catch (const std::exception& e) {
      log_error(fmt::format("http handler failed: {}", e.what()));
      result.status = 500;
      result.body = R"({"error":"internal","message":"服务器内部错误"})";
    }
    auto response = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(result.status), request.version());
    response->set(http::field::server, "homesafe-township");
    response->set(http::field::content_type, result.content_type);
    response->set(http::field::cache_control, "no-store");
    response->set("X-Content-Type-Options", "nosniff");
    if (!result.set_cookie.empty()) response->set(http::field::set_cookie, result.set_cookie);
    response->keep_alive(request.keep_alive());
    response->body() = std::move(result.body);
    response->prepare_payload();
    write(response);
  }

  void respond_plain(http::status status, bool keep_alive) {
    auto response = std::make_shared<http::response<http::string_body>>(status, 11);
    response->set(http::field::content_type, "application/json; charset=utf-8");
    response->body() = R"({"error":"too_large","message":"请求过大"})";
    response->keep_alive(keep_alive);
    response->prepare_payload();
    write(response);
  }

  void write(std::shared_ptr<http::response<http::string_body>> response) {
    stream_.expires_after(kTimeout);
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (!response->keep_alive()) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          return;
                        }
                        self->read();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<SharedState> state_;
};

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, std::shared_ptr<SharedState> s) : acceptor(io), state(std::move(s)) {}

  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) std::make_shared<HttpSession>(std::move(socket), self->state)->start();
      self->accept();
    });
  }

  tcp::acceptor acceptor;
  std::shared_ptr<SharedState> state;
  int port = 0;
};

HttpServer::HttpServer(asio::io_context& io, const std::string& address, int port,
                       HttpHandler handler)
    : impl_(std::make_shared<Impl>(
          io, std::make_shared<SharedState>(SharedState{std::move(handler)}))) {
  const tcp::endpoint endpoint(asio::ip::make_address(address), static_cast<unsigned short>(port));
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
}

HttpServer::~HttpServer() {
  stop();
}

int HttpServer::port() const {
  return impl_->port;
}

void HttpServer::stop() {
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace homesafe::township
