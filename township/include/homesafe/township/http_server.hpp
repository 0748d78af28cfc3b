#pragma once
// The HTTP server (Boost.Beast): a listener accepting on one address, one http_session per
// connection, the shared state being the handler function. It runs on the caller's io_context.

#include <functional>
#include <memory>
#include <string>

#include "homesafe/township/api.hpp"

namespace boost::asio {
class io_context;
}

namespace homesafe::township {

using HttpHandler = std::function<ApiResponse(const ApiRequest&)>;

class HttpServer {
 public:
  // Binds and listens (throws std::system_error on failure); accepts once the io_context runs.
  HttpServer(boost::asio::io_context& io, const std::string& address, int port,
             HttpHandler handler);
  ~HttpServer();
  int port() const;
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace homesafe::township
