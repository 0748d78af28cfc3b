#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "support/wait.hpp"

namespace mqtt {
class async_client;
}

namespace homesafe::test {

// A connected Paho client that publishes and waits for each delivery (PUBACK for QoS 1).
// Keep one for a whole test: with Debian's Paho C 1.3.12, connecting a second client in a process
// that already has a connected one takes ~2 s (eclipse-paho/paho.mqtt.c#1430).
class Publisher {
 public:
  // Throws std::runtime_error if it cannot connect within `timeout`.
  explicit Publisher(const std::string& url, std::string client_id = {},
                     std::chrono::milliseconds timeout = kDefaultTimeout);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Throws std::runtime_error if the delivery does not complete within the timeout.
  void publish(const std::string& topic, const std::string& payload, int qos = 1,
               bool retained = false);

 private:
  std::unique_ptr<mqtt::async_client> client_;
  std::chrono::milliseconds timeout_;
};

}  // namespace homesafe::test
