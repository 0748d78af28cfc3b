#include "support/http_server.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>

#include "support/temp_dir.hpp"

namespace homesafe::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::uint64_t kMaxRequestBody = 1024 * 1024;

bool equal_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

[[noreturn]] void openssl_failure(const char* what) {
  throw std::runtime_error(std::string("test HTTPS server: ") + what + " failed");
}

// Owners for OpenSSL objects.
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, static_cast<void*>(&data));
  if (length <= 0 || data == nullptr) openssl_failure("BIO_get_mem_data");
  return std::string(data, static_cast<std::size_t>(length));
}

void add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) openssl_failure("X509V3_EXT_conf_nid");
  const int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  if (added != 1) openssl_failure("X509_add_ext");
}

// A self-signed P-256 certificate for IP 127.0.0.1, valid from an hour ago for a week.
std::pair<std::string, std::string> make_certificate() {
  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) openssl_failure("EVP_PKEY_Q_keygen");
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) openssl_failure("X509_new");
  X509_set_version(cert.get(), 2);
  std::uint32_t serial = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(serial & 0x7fffffff));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7L * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("homesafe test server"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign");
  add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), NID_subject_key_identifier, "hash");
  add_extension(cert.get(), NID_subject_alt_name, "IP:127.0.0.1");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) openssl_failure("X509_sign");

  std::unique_ptr<BIO, BioFree> cert_bio(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, BioFree> key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio) openssl_failure("BIO_new");
  if (PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1) openssl_failure("PEM_write_bio_X509");
  if (PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
      1) {
    openssl_failure("PEM_write_bio_PrivateKey");
  }
  return {bio_contents(cert_bio.get()), bio_contents(key_bio.get())};
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equal_nocase(key, name)) return value;
  }
  return {};
}

bool HttpRequest::has_header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equal_nocase(key, name)) return true;
  }
  return false;
}

std::string HttpRequest::query_parameter(std::string_view name) const {
  const auto question = target.find('?');
  if (question == std::string::npos) return {};
  std::string_view query = std::string_view(target).substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto equals = pair.find('=');
    if (pair.substr(0, equals) == name) {
      return equals == std::string_view::npos ? std::string{}
                                              : std::string(pair.substr(equals + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

class HttpServer::Impl {
 public:
  explicit Impl(HttpServerOptions options)
      : options_(options), acceptor_(io_), dir_("homesafe-http") {
    if (options_.tls) {
      auto [cert, key] = make_certificate();
      certificate_pem_ = std::move(cert);
      write_file(dir_ / "cert.pem", certificate_pem_);
      ssl_.emplace(asio::ssl::context::tls_server);
      ssl_->use_certificate(asio::buffer(certificate_pem_), asio::ssl::context::pem);
      ssl_->use_private_key(asio::buffer(key), asio::ssl::context::pem);
    }
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Impl() {
    io_.stop();
    thread_.join();
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  int port() const { return port_; }
  bool tls() const { return options_.tls; }
  const std::string& certificate_pem() const { return certificate_pem_; }
  std::filesystem::path certificate_file() const {
    return options_.tls ? dir_ / "cert.pem" : std::filesystem::path{};
  }

  void set_default(HttpResponse response) {
    std::lock_guard lock(mutex_);
    default_ = std::move(response);
  }
  HttpResponse default_response() const {
    std::lock_guard lock(mutex_);
    return default_;
  }
  void enqueue(HttpResponse response) {
    std::lock_guard lock(mutex_);
    plan_.push_back(std::move(response));
  }

  void release_held() {
    asio::post(io_, [this] {
      for (auto& weak : held_) {
        if (auto timer = weak.lock()) timer->cancel();
      }
      held_.clear();
    });
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::size_t request_count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }
  std::size_t handshake_failures() const {
    std::lock_guard lock(mutex_);
    return handshake_failures_;
  }
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

 private:
  asio::awaitable<void> accept_loop() {
    while (true) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) continue;
      if (ssl_) {
        asio::co_spawn(io_, session(asio::ssl::stream<tcp::socket>(std::move(socket), *ssl_)),
                       asio::detached);
      } else {
        asio::co_spawn(io_, session(std::move(socket)), asio::detached);
      }
    }
  }

  // Records the request and takes its answer from the plan, in one step on the io thread.
  HttpResponse record(const http::request<http::string_body>& message,
                      const std::string& server_name) {
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = message.body();
    request.server_name = server_name;
    request.received_at = std::chrono::steady_clock::now();
    HttpResponse response;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(std::move(request));
      if (plan_.empty()) {
        response = default_;
      } else {
        response = std::move(plan_.front());
        plan_.pop_front();
      }
    }
    changed_.notify_all();
    return response;
  }

  template <typename Stream>
  asio::awaitable<void> session(Stream stream) {
    std::string server_name;
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
      auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server,
                                                  asio::as_tuple(asio::use_awaitable));
      if (ec) {
        std::lock_guard lock(mutex_);
        ++handshake_failures_;
        co_return;
      }
      if (const char* name =
              SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name)) {
        server_name = name;
      }
    }
    beast::flat_buffer buffer;
    while (true) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxRequestBody);
      auto [read_ec, read_bytes] =
          co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (read_ec) break;
      const http::request<http::string_body> message = parser.release();
      const HttpResponse plan = record(message, server_name);
      if (plan.close) break;
      if (plan.hold || plan.delay.count() > 0) {
        auto timer = std::make_shared<asio::steady_timer>(io_);
        if (plan.hold) {
          timer->expires_at(asio::steady_timer::time_point::max());
          held_.push_back(timer);
        } else {
          timer->expires_after(plan.delay);
        }
        co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
      }
      http::response<http::string_body> response{static_cast<http::status>(plan.status),
                                                 message.version()};
      for (const auto& [name, value] : plan.headers) response.set(name, value);
      response.body() = plan.body;
      response.keep_alive(message.keep_alive());
      response.prepare_payload();
      auto [write_ec, written] =
          co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
      if (write_ec || !response.keep_alive()) break;
    }
    boost::system::error_code ignored;
    beast::get_lowest_layer(stream).shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream).close(ignored);
  }

  HttpServerOptions options_;
  std::optional<asio::ssl::context> ssl_;
  std::string certificate_pem_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  TempDir dir_;
  int port_ = 0;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<HttpRequest> requests_;                    // guarded by mutex_
  std::deque<HttpResponse> plan_;                        // guarded by mutex_
  HttpResponse default_;                                 // guarded by mutex_
  std::size_t handshake_failures_ = 0;                   // guarded by mutex_
  std::vector<std::weak_ptr<asio::steady_timer>> held_;  // io thread only

  std::thread thread_;
};

// ---------------------------------------------------------------------------------------------

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>(options)) {}
HttpServer::~HttpServer() = default;

int HttpServer::port() const {
  return impl_->port();
}
bool HttpServer::tls() const {
  return impl_->tls();
}
std::string HttpServer::url(std::string_view path) const {
  std::string out = (tls() ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port());
  if (path.empty() || path.front() != '/') out += '/';
  out += path;
  return out;
}
const std::string& HttpServer::certificate_pem() const {
  return impl_->certificate_pem();
}
std::filesystem::path HttpServer::certificate_file() const {
  return impl_->certificate_file();
}

void HttpServer::respond_with(int status, std::string body, HttpHeaders headers) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  if (!headers.empty()) response.headers = std::move(headers);
  impl_->set_default(std::move(response));
}
void HttpServer::fail_next(int n, int status, HttpHeaders headers) {
  for (int i = 0; i < n; ++i) {
    HttpResponse response;
    response.status = status;
    response.body = R"({"error": "planned failure"})";
    response.headers.insert(response.headers.end(), headers.begin(), headers.end());
    impl_->enqueue(std::move(response));
  }
}
void HttpServer::delay_next(std::chrono::milliseconds delay) {
  HttpResponse response = impl_->default_response();
  response.delay = delay;
  impl_->enqueue(std::move(response));
}
void HttpServer::hold_next() {
  HttpResponse response = impl_->default_response();
  response.hold = true;
  impl_->enqueue(std::move(response));
}
void HttpServer::close_next(int n) {
  for (int i = 0; i < n; ++i) {
    HttpResponse response;
    response.close = true;
    impl_->enqueue(std::move(response));
  }
}
void HttpServer::enqueue(HttpResponse response) {
  impl_->enqueue(std::move(response));
}
void HttpServer::release_held() {
  impl_->release_held();
}

std::vector<HttpRequest> HttpServer::requests() const {
  return impl_->requests();
}
std::size_t HttpServer::request_count() const {
  return impl_->request_count();
}
std::size_t HttpServer::handshake_failures() const {
  return impl_->handshake_failures();
}
bool HttpServer::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  return impl_->wait_for_requests(n, timeout);
}

}  // namespace homesafe::test
