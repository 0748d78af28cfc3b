#include "homesafe/township/http_server.hpp"

#include <fmt/format.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <deque>

#include "homesafe/township/log.hpp"

namespace homesafe::township {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr std::size_t kBodyLimit = 64 * 1024;
constexpr auto kTimeout = std::chrono::seconds(30);

// Frames queued for one slow connection beyond which it is dropped (the console reconnects and
// reloads the board).
constexpr std::size_t kMaxQueuedFrames = 2000;

struct SharedState {
  HttpHandler handler;
  LiveEndpoint live;
};

// One console connection to the live feed.
class LiveSession : public std::enable_shared_from_this<LiveSession> {
 public:
  LiveSession(beast::tcp_stream stream, LiveFeed& feed, User user)
      : ws_(std::move(stream)), feed_(feed), user_(std::move(user)) {}

  ~LiveSession() {
    if (id_ != 0) feed_.unsubscribe(id_);
  }

  void run(http::request<http::string_body> request, std::string hello) {
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(http::field::server, "homesafe-township");
    }));
    ws_.async_accept(request, [self = shared_from_this(),
                               hello = std::move(hello)](beast::error_code ec) mutable {
      if (ec) return;
      std::weak_ptr<LiveSession> weak = self;
      auto executor = self->ws_.get_executor();
      self->id_ = self->feed_.subscribe(self->user_, [weak, executor](Frame frame) {
        asio::post(executor, [weak, frame = std::move(frame)] {
          if (auto session = weak.lock()) session->enqueue(frame);
        });
      });
      self->enqueue(std::make_shared<const std::string>(std::move(hello)));
      self->read();
    });
  }

 private:
  // The console sends nothing that matters; reading notices a close and answers pings.
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->stop();
      self->buffer_.consume(self->buffer_.size());
      self->read();
    });
  }

  void enqueue(Frame frame) {
    if (stopped_) return;
    if (queue_.size() >= kMaxQueuedFrames) {
      log_warn("live: a console connection fell too far behind; dropping it");
      return close();
    }
    queue_.push_back(std::move(frame));
    if (queue_.size() == 1) write();
  }

  void write() {
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      if (ec) return self->stop();
                      self->queue_.pop_front();
                      if (!self->queue_.empty()) self->write();
                    });
  }

  void close() {
    stop();
    ws_.async_close(websocket::close_code::try_again_later,
                    [self = shared_from_this()](beast::error_code) {});
  }

  void stop() {
    stopped_ = true;
    queue_.clear();
    if (id_ != 0) {
      feed_.unsubscribe(id_);
      id_ = 0;
    }
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  LiveFeed& feed_;
  User user_;
  std::uint64_t id_ = 0;
  bool stopped_ = false;
  std::deque<Frame> queue_;
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
    if (websocket::is_upgrade(request)) {
      const auto& live = state_->live;
      if (live.feed == nullptr || api.target.substr(0, api.target.find('?')) != "/api/live") {
        return respond_json(http::status::not_found, request.version(),
                            R"({"error":"not_found","message":"未找到"})");
      }
      std::optional<User> user;
      try {
        user = live.authorize(api);
      } catch (const std::exception& e) {
        log_error(fmt::format("live: authorizing failed: {}", e.what()));
      }
      if (!user) {
        return respond_json(http::status::unauthorized, request.version(),
                            R"({"error":"unauthenticated","message":"请先登录"})");
      }
      std::make_shared<LiveSession>(std::move(stream_), *live.feed, *user)
          ->run(std::move(request), live.hello(*user));
      return;
    }
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
    for (const auto& [name, value] : result.headers) response->set(name, value);
    if (request.method() == http::verb::head) result.body.clear();
    response->keep_alive(request.keep_alive());
    response->body() = std::move(result.body);
    response->prepare_payload();
    write(response);
  }

  void respond_json(http::status status, unsigned version, std::string body) {
    auto response = std::make_shared<http::response<http::string_body>>(status, version);
    response->set(http::field::server, "homesafe-township");
    response->set(http::field::content_type, "application/json; charset=utf-8");
    response->set(http::field::cache_control, "no-store");
    response->body() = std::move(body);
    response->keep_alive(false);
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
                       HttpHandler handler, LiveEndpoint live)
    : impl_(std::make_shared<Impl>(
          io, std::make_shared<SharedState>(SharedState{std::move(handler), std::move(live)}))) {
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
