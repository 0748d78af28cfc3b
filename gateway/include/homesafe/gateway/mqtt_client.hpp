#pragma once
// The MQTT edge of the gateway, as an interface so that units can be tested with a fake.
// Callbacks are invoked on the client's own thread: the daemon posts them onto its io_context.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "homesafe/gateway/config.hpp"

namespace homesafe::gateway {

struct MqttMessage {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retained = false;
};

class MqttClient {
 public:
  struct Handlers {
    // Returning from on_message lets the client acknowledge a QoS 1 message to the broker.
    std::function<void(MqttMessage&&)> on_message;  // may keep the message's contents
    std::function<void()> on_connected;
    std::function<void(const std::string& reason)> on_connection_lost;
  };

  virtual ~MqttClient() = default;
  virtual void set_handlers(Handlers handlers) = 0;
  // Starts one connection attempt; reports through on_connected / on_connection_lost.
  virtual void connect() = 0;
  virtual void subscribe(const std::vector<std::string>& filters, const std::vector<int>& qos) = 0;
  // `done(ok)` runs on the client's thread when the broker has the message (QoS 1) or it failed.
  virtual void publish(const MqttMessage& message, std::function<void(bool ok)> done) = 0;
  // Like publish, for a caller inside Handlers::on_message (on the client's own thread): the
  // message goes to the client library at once. publish() from another thread has to wait for
  // the library's lock, which it holds while on_message runs and takes again for every message
  // read after it. Call it only from within on_message.
  virtual void publish_from_handler(const MqttMessage& message, std::function<void(bool ok)> done) {
    publish(message, std::move(done));
  }
  // publish() calls not yet handed to the client library. While it is 0, a message given to
  // publish_from_handler cannot overtake one given to publish() earlier.
  virtual int publishes_waiting() const { return 0; }
  // Publishes `message` (if non-empty topic) then disconnects; `done` runs on the client thread.
  virtual void disconnect(std::chrono::milliseconds timeout, std::function<void()> done) = 0;
};

struct MqttSettings {
  std::string url;
  std::string client_id;
  std::string username;
  std::string password;
  std::chrono::seconds keepalive{30};
  std::optional<TlsConfig> tls;
  MqttMessage will;            // last will (retained "offline" status)
  bool clean_session = false;  // persistent session: the broker queues QoS 1 while we are away
};

// Eclipse Paho MQTT C++ implementation (no client-side persistence: our store is the record).
// After every successful (re)connect it switches Nagle's algorithm off on its broker socket
// (set_tcp_nodelay_towards), before Handlers::on_connected runs.
std::unique_ptr<MqttClient> make_paho_client(const MqttSettings& settings);

// The broker's host and port in an MQTT URL ("tcp://127.0.0.1:1883", "mqtt://hub.local",
// "ssl://[::1]:8883"); without a port 1883 (8883 for ssl:// and mqtts://). nullopt when the URL
// is not tcp/mqtt/ssl/mqtts (e.g. ws://) or its port is not a number.
struct BrokerEndpoint {
  std::string host;
  int port = 0;
};
std::optional<BrokerEndpoint> broker_endpoint(const std::string& url);

// Sets TCP_NODELAY on every TCP socket of this process connected to `endpoint`: its port, and
// one of the host's addresses when the host resolves (any address otherwise). Paho C 1.3 has no
// option for it and does not expose its socket, so the sockets are found in /proc/self/fd with
// getpeername(). Returns how many sockets it set (a socket that had it already counts).
int set_tcp_nodelay_towards(const BrokerEndpoint& endpoint);

// Paho C 1.3.12 can resend a corrupted copy of a QoS 1 message that was not acknowledged when
// the connection broke (an empty topic and a shifted payload; seen after a broker restart with
// 2,000 hubs, and eclipse-paho/paho.mqtt.c#1592). The broker closes the connection as malformed,
// and after every reconnect Paho resends the same bytes: the link is dead until the process
// restarts. This counts connections that end soon after they began; after `limit` such in a
// row the client is replaced by a new one, which drops Paho's unacknowledged messages. Nothing
// is lost by that: every QoS 1 message we send has its own record (the outbox, the delivery
// record) and is sent again from there.
class ShortConnectionGuard {
 public:
  explicit ShortConnectionGuard(std::chrono::milliseconds short_below = std::chrono::seconds(10),
                                int limit = 3)
      : short_below_(short_below), limit_(limit) {}
  void connected(std::chrono::steady_clock::time_point now) { connected_at_ = now; }
  // A connection that was up ended. True when the client should be replaced before the next
  // attempt (the count starts again then).
  bool lost(std::chrono::steady_clock::time_point now) {
    if (!connected_at_) return false;
    const bool brief = now - *connected_at_ < short_below_;
    connected_at_.reset();
    short_in_a_row_ = brief ? short_in_a_row_ + 1 : 0;
    if (short_in_a_row_ < limit_) return false;
    short_in_a_row_ = 0;
    return true;
  }

 private:
  std::chrono::milliseconds short_below_;
  int limit_;
  std::optional<std::chrono::steady_clock::time_point> connected_at_;
  int short_in_a_row_ = 0;
};

}  // namespace homesafe::gateway
