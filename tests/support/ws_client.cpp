#include "support/ws_client.hpp"

#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace homesafe::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct WsClient::Impl {
  asio::io_context io;
  websocket::stream<tcp::socket> ws{io};
  int status = 0;
  bool connected = false;
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::vector<std::string> frames;
  bool closed = false;
  std::thread reader;

  void read_loop() {
    beast::flat_buffer buffer;
    for (;;) {
      beast::error_code ec;
      ws.read(buffer, ec);
      std::lock_guard lock(mutex);
      if (ec) {
        closed = true;
        changed.notify_all();
        return;
      }
      frames.push_back(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
      changed.notify_all();
    }
  }
};

WsClient::WsClient(int port, const std::string& target, const std::string& cookie)
    : impl_(std::make_unique<Impl>()) {
  impl_->ws.next_layer().connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  impl_->ws.set_option(websocket::stream_base::decorator([cookie](websocket::request_type& req) {
    if (!cookie.empty()) req.set(beast::http::field::cookie, cookie);
  }));
  websocket::response_type response;
  beast::error_code ec;
  impl_->ws.handshake(response, "127.0.0.1:" + std::to_string(port), target, ec);
  impl_->status = static_cast<int>(response.result_int());
  if (ec == websocket::error::upgrade_declined) return;
  if (ec) throw beast::system_error(ec);
  impl_->connected = true;
  impl_->reader = std::thread([impl = impl_.get()] { impl->read_loop(); });
}

WsClient::~WsClient() {
  if (impl_->reader.joinable()) {
    // Unblocks the reader's read(): shutdown(2) is safe from another thread.
    ::shutdown(impl_->ws.next_layer().native_handle(), SHUT_RDWR);
    impl_->reader.join();
  }
}

bool WsClient::connected() const {
  return impl_->connected;
}

int WsClient::status() const {
  return impl_->status;
}

std::vector<std::string> WsClient::frames() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->frames;
}

bool WsClient::closed() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->closed;
}

std::string WsClient::wait_for(const std::function<bool(const std::string&)>& match,
                               std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  std::string found;
  impl_->changed.wait_for(lock, timeout, [&] {
    for (const auto& f : impl_->frames) {
      if (match(f)) {
        found = f;
        return true;
      }
    }
    return impl_->closed;
  });
  return found;
}

}  // namespace homesafe::test
