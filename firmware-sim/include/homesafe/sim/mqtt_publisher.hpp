#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "homesafe/sim/runner.hpp"

namespace homesafe::sim {

// A failure talking to the broker (connect, publish, delivery).
class MqttError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MqttOptions {
  std::string url = "tcp://127.0.0.1:1883";
  std::string client_id;  // empty: "homesafe-sim-<pid>-<time>"
  int qos = 1;
  std::chrono::milliseconds timeout{10'000};  // connect, and each delivery
};

// Publishes over MQTT with Paho. Connects in the constructor (throws MqttError). Keeps a bounded
// number of QoS 1/2 deliveries in flight; flush() waits for all of them.
class MqttPublisher final : public Publisher {
 public:
  explicit MqttPublisher(MqttOptions options);
  ~MqttPublisher() override;
  MqttPublisher(const MqttPublisher&) = delete;
  MqttPublisher& operator=(const MqttPublisher&) = delete;

  void publish(const Message& message) override;
  void flush() override;
  // Flushes, then disconnects cleanly (throws MqttError).
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace homesafe::sim
