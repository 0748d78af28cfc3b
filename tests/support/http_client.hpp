#pragma once
// A blocking HTTP/1.1 client for tests (Boost.Beast): one request per connection, to 127.0.0.1.

#include <chrono>
#include <string>

namespace homesafe::test {

struct HttpResult {
  int status = 0;
  std::string body;
  std::string set_cookie;
  std::string content_type;
};

// Sends `method target` with an optional Cookie header and JSON body; throws on a network error.
HttpResult http_call(int port, const std::string& method, const std::string& target,
                     const std::string& cookie = "", const std::string& body = "",
                     std::chrono::seconds timeout = std::chrono::seconds(20));

}  // namespace homesafe::test
