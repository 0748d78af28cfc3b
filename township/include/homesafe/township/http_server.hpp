#pragma once
// The HTTP server (Boost.Beast): a listener accepting on one address, one http_session per
// connection, the shared state being the handler function. It runs on the caller's io_context.

#include <functional>
#include <memory>
#include <string>

#include <optional>

#include "homesafe/township/api.hpp"
#include "homesafe/township/live.hpp"

namespace boost::asio {
class io_context;
}

namespace homesafe::township {

using HttpHandler = std::function<ApiResponse(const ApiRequest&)>;

// The live feed's WebSocket at /api/live: `authorize` names the user of the upgrade request's
// session (nullopt: 401, no upgrade); the connection then gets `hello(user)` and every frame
// the feed sends it.
struct LiveEndpoint {
  std::function<std::optional<User>(const ApiRequest&)> authorize;
  std::function<std::string(const User&)> hello;
  LiveFeed* feed = nullptr;
};

class HttpServer {
 public:
  // Binds and listens (throws std::system_error on failure); accepts once the io_context runs.
  HttpServer(boost::asio::io_context& io, const std::string& address, int port, HttpHandler handler,
             LiveEndpoint live = {});
  ~HttpServer();
  int port() const;
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace homesafe::township
