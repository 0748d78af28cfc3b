#pragma once
// A TCP proxy on 127.0.0.1 in front of a real broker that reads the client's MQTT packets and
// misbehaves on purpose, for fault tests of the MQTT clients:
//  - swallow_next_publish(): the next QoS 1 PUBLISH from a client is not passed on and that
//    connection is cut, so the client holds the message unacknowledged;
//  - refuse_resends(true): a connection on which the client resends a PUBLISH (the DUP flag) is
//    cut at once, the way Mosquitto cuts a client whose resend Paho C 1.3.12 corrupted
//    (gateway/include/homesafe/gateway/mqtt_client.hpp, ShortConnectionGuard).
// Broker-to-client bytes pass untouched.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace homesafe::test {

class MqttFaultProxy {
 public:
  explicit MqttFaultProxy(int broker_port);
  ~MqttFaultProxy();
  MqttFaultProxy(const MqttFaultProxy&) = delete;
  MqttFaultProxy& operator=(const MqttFaultProxy&) = delete;

  int port() const { return port_; }
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

  void swallow_next_publish() { swallow_next_ = true; }
  void refuse_resends(bool on) { refuse_resends_ = on; }

  int connections() const { return connections_; }
  int cut_for_resend() const { return cut_for_resend_; }
  int swallowed() const { return swallowed_; }

 private:
  struct Link;
  void accept_loop();
  void client_to_broker(const std::shared_ptr<Link>& link);

  int broker_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> swallow_next_{false};
  std::atomic<bool> refuse_resends_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> cut_for_resend_{0};
  std::atomic<int> swallowed_{0};
  std::mutex mutex_;
  std::vector<std::shared_ptr<Link>> links_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace homesafe::test
