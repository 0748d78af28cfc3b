#include "support/http_client.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace homesafe::test {

HttpResult http_call(int port, const std::string& method, const std::string& target,
                     const std::string& cookie, const std::string& body,
                     std::chrono::seconds timeout) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(timeout);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                static_cast<unsigned short>(port)));
  http::request<http::string_body> request(http::string_to_verb(method), target, 11);
  request.set(http::field::host, "127.0.0.1");
  if (!cookie.empty()) request.set(http::field::cookie, cookie);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.prepare_payload();
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  beast::error_code ignored;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  HttpResult out;
  out.status = response.result_int();
  out.body = response.body();
  if (auto it = response.find(http::field::set_cookie); it != response.end()) {
    out.set_cookie = std::string(it->value());
  }
  if (auto it = response.find(http::field::content_type); it != response.end()) {
    out.content_type = std::string(it->value());
  }
  return out;
}

}  // namespace homesafe::test
