#include "homesafe/sim/webhook_receiver.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <csignal>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>

namespace homesafe::sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

}  // namespace

std::string text_of_body(const std::string& body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object()) return body;
  if (json.contains("text") && json["text"].is_string()) return json["text"].get<std::string>();
  if (json.contains("text") && json["text"].is_object() && json["text"].contains("content") &&
      json["text"]["content"].is_string()) {
    return json["text"]["content"].get<std::string>();
  }
  return body;
}

int run_webhook_receiver(const WebhookReceiverOptions& options, std::ostream& out) {
  asio::io_context io;
  tcp::acceptor acceptor(
      io, {asio::ip::make_address(options.bind), static_cast<unsigned short>(options.port)});
  const int port = acceptor.local_endpoint().port();
  if (!options.port_file.empty()) std::ofstream(options.port_file) << port << '\n';
  out << "webhook receiver listening on http://" << options.bind << ":" << port << "/" << std::endl;

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
  });

  int requests = 0;
  std::function<void()> accept = [&] {
    acceptor.async_accept([&](boost::system::error_code error, tcp::socket socket) {
      if (error) return;  // closed by a signal
      beast::tcp_stream stream(std::move(socket));
      beast::flat_buffer buffer;
      for (;;) {
        http::request<http::string_body> request;
        stream.expires_after(std::chrono::seconds(30));
        http::read(stream, buffer, request, error);
        if (error) break;
        ++requests;
        const bool fail = requests <= options.fail_first;
        const std::string key(request["Idempotency-Key"]);
        if (!options.quiet) {
          out << (fail ? "WEBHOOK (answered 503) " : "WEBHOOK ") << request.target()
              << (key.empty() ? "" : " [" + key + "]") << ": " << text_of_body(request.body())
              << std::endl;
        }
        http::response<http::string_body> response{
            fail ? http::status::service_unavailable : http::status::ok, request.version()};
        response.set(http::field::content_type, "application/json");
        response.body() =
            fail ? R"({"errcode":1,"errmsg":"busy"})" : R"({"errcode":0,"errmsg":"ok"})";
        response.keep_alive(request.keep_alive());
        response.prepare_payload();
        http::write(stream, response, error);
        if (error || !request.keep_alive()) break;
      }
      stream.socket().shutdown(tcp::socket::shutdown_both, error);
      accept();
    });
  };
  accept();
  io.run();
  return 0;
}

}  // namespace homesafe::sim
