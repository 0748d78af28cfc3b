#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/wait.hpp"

namespace homesafe::test {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// One request as the server read it.
struct HttpRequest {
  std::string method;
  std::string target;  // path and query, as sent
  HttpHeaders headers;
  std::string body;
  std::string server_name;  // TLS SNI; empty for plain HTTP or when the client sent none
  std::chrono::steady_clock::time_point received_at;

  // The first header with this name (case-insensitive); empty if absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  // The value of a query parameter in `target` (not URL-decoded); empty if absent.
  std::string query_parameter(std::string_view name) const;
};

// How the server answers one request.
struct HttpResponse {
  int status = 200;
  std::string body = "{}";
  HttpHeaders headers{{"Content-Type", "application/json"}};
  std::chrono::milliseconds delay{0};  // wait this long before answering
  bool hold = false;                   // wait until release_held() (or the server stops)
  bool close = false;                  // drop the connection without answering
};

struct HttpServerOptions {
  // HTTPS with a self-signed certificate for IP 127.0.0.1 generated at start (OpenSSL); clients
  // trust it through certificate_file().
  bool tls = false;
};

// A local HTTP(S) server for tests: listens on 127.0.0.1 on a free port (bound to port 0) in its
// own thread, records every request and answers from a programmable plan. Each request takes the
// first planned response; when nothing is planned it gets the default response (200 "{}" unless
// respond_with() changed it). Connections are kept alive when the client asks for it. The
// destructor stops the thread and drops open connections, held ones included.
class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  bool tls() const;
  // "http://127.0.0.1:PORT/path" ("https://" with TLS); `path` with or without a leading '/'.
  std::string url(std::string_view path = "/") const;
  // The self-signed certificate (PEM) and a file holding it; empty without TLS.
  const std::string& certificate_pem() const;
  std::filesystem::path certificate_file() const;

  // The default response from now on.
  void respond_with(int status, std::string body = "{}", HttpHeaders headers = {});
  // Appended to the plan, after what is already planned:
  void fail_next(int n, int status = 500, HttpHeaders headers = {});  // n answers with `status`
  void delay_next(std::chrono::milliseconds delay);  // the default response, `delay` late
  void hold_next();                                  // the default response, after release_held()
  void close_next(int n = 1);                        // n connections dropped without answer
  void enqueue(HttpResponse response);
  // Lets every request held so far get its answer.
  void release_held();

  std::vector<HttpRequest> requests() const;
  std::size_t request_count() const;
  // TLS handshakes that failed (e.g. the client rejected the certificate).
  std::size_t handshake_failures() const;
  // Whether at least n requests arrived within `timeout`.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = kDefaultTimeout) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace homesafe::test
