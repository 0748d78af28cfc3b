#include <arpa/inet.h>
#include <dirent.h>
#include <mqtt/async_client.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>

#include "homesafe/gateway/log.hpp"
#include "homesafe/gateway/mqtt_client.hpp"
#include "homesafe/gateway/serial_worker.hpp"

namespace homesafe::gateway {
namespace {

using Completion = std::function<void(bool ok, const std::string& why)>;

// One listener serves every operation: the completion to run travels as the token's user
// context (heap-allocated, deleted when it has run), so nothing accumulates per publish.
class CompletionListener final : public mqtt::iaction_listener {
 public:
  void on_success(const mqtt::token& token) override { finish(token, true, {}); }
  void on_failure(const mqtt::token& token) override {
    finish(token, false,
           "reason " + std::to_string(token.get_reason_code()) + ", rc " +
               std::to_string(token.get_return_code()));
  }

  static void* context(Completion completion) { return new Completion(std::move(completion)); }
  // Runs and frees a completion whose operation never started.
  static void abandon(void* context, const std::string& why) {
    std::unique_ptr<Completion> completion(static_cast<Completion*>(context));
    if (*completion) (*completion)(false, why);
  }

 private:
  static void finish(const mqtt::token& token, bool ok, const std::string& why) {
    std::unique_ptr<Completion> completion(static_cast<Completion*>(token.get_user_context()));
    if (completion && *completion) (*completion)(ok, why);
  }
};

// A socket address as text ("127.0.0.1", "::1"), an IPv4-mapped IPv6 address as IPv4.
std::optional<std::string> address_text(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    if (inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text) == nullptr) return std::nullopt;
    return std::string(text);
  }
  if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) {
      in_addr v4{};
      std::memcpy(&v4, &v6.sin6_addr.s6_addr[12], sizeof v4);
      if (inet_ntop(AF_INET, &v4, text, sizeof text) == nullptr) return std::nullopt;
    } else if (inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text) == nullptr) {
      return std::nullopt;
    }
    return std::string(text);
  }
  return std::nullopt;
}

int port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  }
  return -1;
}

// Every address the host resolves to, as text; empty when it does not resolve.
std::set<std::string> addresses_of(const std::string& host) {
  std::set<std::string> out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return out;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
    sockaddr_storage address{};
    std::memcpy(&address, a->ai_addr, a->ai_addrlen);
    if (auto text = address_text(address)) out.insert(*text);
  }
  freeaddrinfo(found);
  return out;
}

class PahoClient final : public MqttClient {
 public:
  explicit PahoClient(const MqttSettings& settings) : settings_(settings) {
    // nullptr persistence: Paho keeps nothing on disk; the gateway's store is the record.
    auto builder = mqtt::connect_options_builder()
                       .clean_session(settings.clean_session)
                       .keep_alive_interval(settings.keepalive)
                       .connect_timeout(std::chrono::seconds(10))
                       .automatic_reconnect(false);  // the daemon reconnects with jitter
    if (!settings.username.empty()) builder.user_name(settings.username);
    if (!settings.password.empty()) builder.password(settings.password);
    if (!settings.will.topic.empty()) {
      builder.will(mqtt::message(settings.will.topic, settings.will.payload, settings.will.qos,
                                 settings.will.retained));
    }
    const bool tls_url =
        settings.url.rfind("ssl://", 0) == 0 || settings.url.rfind("mqtts://", 0) == 0;
    if (settings.tls || tls_url) {
      mqtt::ssl_options ssl;
      if (settings.tls) {
        if (!settings.tls->ca_file.empty()) ssl.set_trust_store(settings.tls->ca_file);
        if (!settings.tls->cert_file.empty()) ssl.set_key_store(settings.tls->cert_file);
        if (!settings.tls->key_file.empty()) ssl.set_private_key(settings.tls->key_file);
        ssl.set_enable_server_cert_auth(settings.tls->verify);
        ssl.set_verify(settings.tls->verify);
      }
      builder.ssl(std::move(ssl));
    }
    options_ = builder.finalize();
    make_client();
  }

  ~PahoClient() override {
    worker_.stop();
    try {
      if (client_->is_connected()) client_->disconnect(0)->wait_for(std::chrono::seconds(2));
    } catch (const std::exception&) {
      // Shutting down anyway.
    }
  }

  void set_handlers(Handlers handlers) override { handlers_ = std::move(handlers); }

  void connect() override {
    worker_.post([this]() mutable {
      if (replace_client_) {
        replace_client_ = false;
        log::warn(
            "mqtt: the connection to {} ended soon after it began, several times in a row; "
            "starting a new client without its unacknowledged messages (they are sent again "
            "from the store)",
            settings_.url);
        make_client();
      }
      void* context = CompletionListener::context([this](bool ok, const std::string& why) {
        if (ok) {
          {
            std::lock_guard lock(guard_mutex_);
            guard_.connected(std::chrono::steady_clock::now());
          }
          // Nagle would hold an alarm's notification back until the previous segment is
          // acknowledged (tens of ms under load): off on this connection's new socket.
          if (endpoint_) {
            const int set = set_tcp_nodelay_towards(*endpoint_);
            if (set == 0) log::warn("mqtt: no socket to the broker found for TCP_NODELAY");
          }
          if (handlers_.on_connected) handlers_.on_connected();
        } else if (handlers_.on_connection_lost) {
          handlers_.on_connection_lost("connect failed: " + why);
        }
      });
      try {
        client_->connect(options_, context, listener_);
      } catch (const mqtt::exception& e) {
        CompletionListener::abandon(context, e.what());
      }
    });
  }

  void subscribe(const std::vector<std::string>& filters, const std::vector<int>& qos) override {
    worker_.post([this, filters, qos]() mutable {
      void* context = CompletionListener::context([](bool ok, const std::string& why) {
        if (!ok) log::error("mqtt: subscribe failed: {}", why);
      });
      try {
        client_->subscribe(mqtt::string_collection::create(filters),
                           mqtt::iasync_client::qos_collection(qos.begin(), qos.end()), context,
                           listener_);
      } catch (const mqtt::exception& e) {
        CompletionListener::abandon(context, e.what());
      }
    });
  }

  void publish(const MqttMessage& message, std::function<void(bool)> done) override {
    ++waiting_;
    worker_.post([this, message, done = std::move(done)]() mutable {
      hand_over(message, std::move(done));
      --waiting_;
    });
  }

  // Paho C 1.3's send (MQTTAsync_send) takes its client lock only when called from outside its
  // own threads; from within the message callback, which already holds it, it goes straight on.
  void publish_from_handler(const MqttMessage& message, std::function<void(bool)> done) override {
    hand_over(message, std::move(done));
  }

  int publishes_waiting() const override { return waiting_.load(); }

  void disconnect(std::chrono::milliseconds timeout, std::function<void()> done) override {
    worker_.post([this, timeout, done = std::move(done)]() mutable {
      void* context =
          CompletionListener::context([done = std::move(done)](bool, const std::string&) {
            if (done) done();
          });
      try {
        client_->disconnect(static_cast<int>(timeout.count()), context, listener_);
      } catch (const mqtt::exception& e) {
        CompletionListener::abandon(context, e.what());
      }
    });
  }

 private:
  void hand_over(const MqttMessage& message, std::function<void(bool)> done) {
    void* context =
        CompletionListener::context([done = std::move(done)](bool ok, const std::string&) {
          if (done) done(ok);
        });
    try {
      auto msg = mqtt::make_message(message.topic, message.payload, message.qos, message.retained);
      client_->publish(msg, context, listener_);
    } catch (const mqtt::exception& e) {
      log::warn("mqtt: publish on {} failed: {}", message.topic, e.what());
      CompletionListener::abandon(context, e.what());
    }
  }

  // A new Paho client with our callbacks; the old one (if any) is destroyed first, which fails
  // its unfinished operations (their completions run with ok = false).
  void make_client() {
    client_.reset();
    client_ = std::make_unique<mqtt::async_client>(settings_.url, settings_.client_id, nullptr);
    client_->set_message_callback([this](mqtt::const_message_ptr message) {
      if (!handlers_.on_message) return;
      MqttMessage m{message->get_topic(), message->get_payload_str(), message->get_qos(),
                    message->is_retained()};
      handlers_.on_message(std::move(m));
    });
    client_->set_connection_lost_handler([this](const std::string& cause) {
      {
        std::lock_guard lock(guard_mutex_);
        if (guard_.lost(std::chrono::steady_clock::now())) replace_client_ = true;
      }
      if (handlers_.on_connection_lost)
        handlers_.on_connection_lost(cause.empty() ? "lost" : cause);
    });
  }

  // Declared before client_ so that they outlive every callback the client makes.
  MqttSettings settings_;
  std::optional<BrokerEndpoint> endpoint_ = broker_endpoint(settings_.url);
  Handlers handlers_;
  CompletionListener listener_;
  mqtt::connect_options options_;
  std::mutex guard_mutex_;  // guard_ is used on Paho's thread and the worker
  ShortConnectionGuard guard_;
  std::atomic<bool> replace_client_{false};
  std::atomic<int> waiting_{0};  // publish() calls the worker has not handed to Paho yet
  // Replaced only on the worker (make_client), between connections.
  std::unique_ptr<mqtt::async_client> client_;
  // Every Paho operation runs here, never on the io thread (see serial_worker.hpp).
  SerialWorker worker_;  // last: stopped first, before the client goes away
};

}  // namespace

std::unique_ptr<MqttClient> make_paho_client(const MqttSettings& settings) {
  return std::make_unique<PahoClient>(settings);
}

std::optional<BrokerEndpoint> broker_endpoint(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  const std::string scheme = url.substr(0, scheme_end);
  int port = 0;
  if (scheme == "tcp" || scheme == "mqtt") {
    port = 1883;
  } else if (scheme == "ssl" || scheme == "mqtts") {
    port = 8883;
  } else {
    return std::nullopt;
  }
  std::string rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('/'));
  if (const auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  std::string host;
  std::string port_text;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    const auto close = rest.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return std::nullopt;
      port_text = rest.substr(close + 2);
    }
  } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
  } else {
    host = rest;
  }
  if (host.empty()) return std::nullopt;
  if (!port_text.empty()) {
    const auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc() || end != port_text.data() + port_text.size() || port <= 0 ||
        port > 65535) {
      return std::nullopt;
    }
  }
  return BrokerEndpoint{host, port};
}

int set_tcp_nodelay_towards(const BrokerEndpoint& endpoint) {
  const std::set<std::string> addresses = addresses_of(endpoint.host);
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  const int own = dirfd(dir);
  int set = 0;
  while (const dirent* entry = readdir(dir)) {
    int fd = -1;
    const std::string_view name(entry->d_name);
    const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (error != std::errc() || end != name.data() + name.size() || fd == own) continue;
    // Another thread may close the descriptor meanwhile (and another open a new one with the
    // same number): every check below is made on what the descriptor is now.
    int type = 0;
    socklen_t length = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM) continue;
    sockaddr_storage peer{};
    socklen_t peer_length = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) != 0) continue;
    if (port_of(peer) != endpoint.port) continue;
    const auto peer_address = address_text(peer);
    if (!peer_address) continue;
    if (!addresses.empty() && addresses.count(*peer_address) == 0) continue;
    const int on = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0) ++set;
  }
  closedir(dir);
  return set;
}

}  // namespace homesafe::gateway
