#pragma once
// The MQTT edge of the gateway, as an interface so that units can be tested with a fake.
// Callbacks are invoked on the client's own thread: the daemon posts them onto its io_context.

#include <chrono>
#include <functional>
#include <memory>
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
    std::function<void(const MqttMessage&)> on_message;
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
std::unique_ptr<MqttClient> make_paho_client(const MqttSettings& settings);

}  // namespace homesafe::gateway
