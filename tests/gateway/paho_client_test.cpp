// The gateway's Paho client against a real Mosquitto: a message handler publishes from its own
// thread (publish_from_handler; the daemon sends an alarm's alert state and notification that
// way, from inside the alarm's callback).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "homesafe/gateway/mqtt_client.hpp"
#include "support/mosquitto.hpp"
#include "support/process.hpp"

namespace homesafe::gateway {
namespace {

using namespace std::chrono_literals;

// A flag one thread waits on and another sets.
class Latch {
 public:
  void set() {
    std::lock_guard lock(mutex_);
    set_ = true;
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return set_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool set_ = false;
};

MqttSettings settings_for(const test::Mosquitto& broker, std::string client_id) {
  MqttSettings settings;
  settings.url = broker.url();
  settings.client_id = std::move(client_id);
  settings.clean_session = true;
  return settings;
}

// Paho C still sends the message only once the handler has returned (its send thread needs the
// lock the callback holds), but the message is queued by then: no other thread has to win that
// lock first. What matters here is that it is sent, confirmed and in order.
TEST(PahoClient, AHandlerPublishesInOrderAndHearsTheConfirmation) {
  test::Mosquitto broker;
  const std::string port = std::to_string(broker.port());
  Latch connected;
  Latch confirmed;
  std::atomic<int> confirmations{0};
  // After what its handlers use: destroyed first.
  auto client = make_paho_client(settings_for(broker, "handler-publish-test"));
  MqttClient::Handlers handlers;
  handlers.on_connected = [&] { connected.set(); };
  handlers.on_message = [&](MqttMessage&& message) {
    if (message.topic != "ping") return;
    for (const char* payload : {"1", "2", "3"}) {
      client->publish_from_handler({"reply", payload, 1, false}, [&](bool ok) {
        if (ok && ++confirmations >= 3) confirmed.set();
      });
    }
  };
  client->set_handlers(handlers);
  client->connect();
  ASSERT_TRUE(connected.wait(15s));
  test::Process sub({"mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", "reply", "-q", "1", "-C",
                     "6", "-W", "30"});
  client->subscribe({"ping"}, {1});
  // Retained, so that it reaches the client whenever its subscription is in place; again every
  // second until the subscriber (another process, subscribing meanwhile) has two rounds.
  for (int attempt = 0; attempt < 25 && sub.running(); ++attempt) {
    test::Process ping(
        {"mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t", "ping", "-m", "x", "-q", "1", "-r"});
    ASSERT_EQ(ping.wait_for_exit(10s), 0) << ping.describe();
    sub.wait_for_exit(1s);
  }
  EXPECT_EQ(sub.wait_for_exit(5s), 0) << sub.describe();
  EXPECT_NE(sub.read_stdout().find("1\n2\n3\n"), std::string::npos) << sub.read_stdout();
  EXPECT_TRUE(confirmed.wait(15s));  // the broker's PUBACKs reached each `done`
}

TEST(PahoClient, NothingWaitsForTheClientOnceItIsConnected) {
  test::Mosquitto broker;
  Latch connected;
  Latch delivered;
  auto client = make_paho_client(settings_for(broker, "waiting-test"));
  MqttClient::Handlers handlers;
  handlers.on_connected = [&] { connected.set(); };
  client->set_handlers(handlers);
  client->connect();
  ASSERT_TRUE(connected.wait(15s));
  client->publish({"t", "x", 1, false}, [&](bool ok) {
    if (ok) delivered.set();
  });
  ASSERT_TRUE(delivered.wait(15s));
  EXPECT_EQ(client->publishes_waiting(), 0);
}

}  // namespace
}  // namespace homesafe::gateway
