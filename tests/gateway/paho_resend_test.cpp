// A Paho client whose resend of an unacknowledged QoS 1 message is refused by the broker after
// every reconnect (Paho C 1.3.12 can corrupt that resend; Mosquitto then cuts the client as
// malformed) must not stay dead: after a few short connections the gateway's client starts
// afresh without Paho's unacknowledged messages (ShortConnectionGuard in mqtt_client.hpp).
// The fault is made by a proxy in front of a real Mosquitto that cuts any connection on which a
// PUBLISH arrives with the DUP flag.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "homesafe/gateway/mqtt_client.hpp"
#include "support/mosquitto.hpp"
#include "support/mqtt_fault_proxy.hpp"
#include "support/subscriber.hpp"
#include "support/wait.hpp"

namespace homesafe::gateway {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

TEST(ShortConnectionGuard, ThreeShortConnectionsInARowReplaceTheClient) {
  ShortConnectionGuard guard(10s, 3);
  auto t = SteadyClock::time_point{} + 1h;
  for (int round = 0; round < 2; ++round) {
    guard.connected(t);
    EXPECT_FALSE(guard.lost(t += 1s));
    guard.connected(t += 1s);
    EXPECT_FALSE(guard.lost(t += 2s));
    guard.connected(t += 1s);
    EXPECT_TRUE(guard.lost(t += 3s));  // the third in a row
  }
}

TEST(ShortConnectionGuard, ALongConnectionStartsTheCountAgain) {
  ShortConnectionGuard guard(10s, 3);
  auto t = SteadyClock::time_point{} + 1h;
  guard.connected(t);
  EXPECT_FALSE(guard.lost(t += 1s));
  guard.connected(t);
  EXPECT_FALSE(guard.lost(t += 1s));
  guard.connected(t);
  EXPECT_FALSE(guard.lost(t += 10s));  // up for 10 s: a normal connection
  guard.connected(t);
  EXPECT_FALSE(guard.lost(t += 1s));
  guard.connected(t);
  EXPECT_FALSE(guard.lost(t += 1s));
  guard.connected(t);
  EXPECT_TRUE(guard.lost(t += 1s));
}

TEST(ShortConnectionGuard, FailedConnectAttemptsDoNotCount) {
  ShortConnectionGuard guard(10s, 3);
  auto t = SteadyClock::time_point{} + 1h;
  // A loss without a connection before it (the broker was unreachable) says nothing.
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(guard.lost(t += 1s));
  guard.connected(t);
  EXPECT_FALSE(guard.lost(t += 1s));
}

// The daemon's and the uplink's use of the client, reduced: reconnect after a loss, and on
// every connection send what is not yet acknowledged (here one message, "again").
class Driver {
 public:
  MqttClient::Handlers handlers() {
    return {[](const MqttMessage&) {},
            [this] {
              std::lock_guard lock(mutex_);
              ++connected_;
              cv_.notify_all();
            },
            [this](const std::string&) {
              std::lock_guard lock(mutex_);
              ++lost_;
              cv_.notify_all();
            }};
  }
  template <typename P>
  bool wait(P predicate, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, predicate);
  }
  int connected() {
    std::lock_guard lock(mutex_);
    return connected_;
  }
  int lost() {
    std::lock_guard lock(mutex_);
    return lost_;
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  int connected_ = 0;
  int lost_ = 0;
};

TEST(PahoResend, AClientWhoseResendIsRefusedEveryTimeStartsAfreshAndDelivers) {
  test::Mosquitto broker;
  test::Subscriber township(broker.url(), "up/#");
  test::MqttFaultProxy proxy(broker.port());
  MqttSettings settings;
  settings.url = proxy.url();
  settings.client_id = "resend-test";
  settings.clean_session = false;  // as the gateway and the uplink connect
  Driver driver;
  auto client = make_paho_client(settings);
  client->set_handlers(driver.handlers());
  client->connect();
  ASSERT_TRUE(driver.wait([&] { return driver.connected_ == 1; }, 15s));

  // The first event is swallowed and the connection cut: Paho holds it unacknowledged, and
  // resends it (DUP) after every reconnect, which the proxy refuses like a malformed packet.
  proxy.refuse_resends(true);
  proxy.swallow_next_publish();
  std::mutex done_mutex;
  std::optional<bool> first_done;
  client->publish({"up/first", "1", 1, false}, [&](bool ok) {
    std::lock_guard lock(done_mutex);
    first_done = ok;
  });
  ASSERT_TRUE(driver.wait([&] { return driver.lost_ == 1; }, 15s));
  EXPECT_EQ(proxy.swallowed(), 1);

  int connections_seen = 1;
  const auto deadline = SteadyClock::now() + 60s;
  bool delivered = false;
  while (!delivered && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(200ms);  // the daemon's back-off, shortened
    const int lost_before = driver.lost();
    client->connect();
    if (!driver.wait(
            [&] { return driver.connected_ > connections_seen || driver.lost_ > lost_before; },
            15s)) {
      break;
    }
    if (driver.connected() > connections_seen) {
      connections_seen = driver.connected();
      // What the outbox does on a new connection: send again what is not acknowledged.
      client->publish({"up/again", std::to_string(connections_seen), 1, false}, nullptr);
    }
    delivered = township.wait_for(
        [](const test::Subscriber::Messages& messages) {
          for (const auto& m : messages) {
            if (m.topic == "up/again") return true;
          }
          return false;
        },
        2s);
    if (!delivered && driver.lost() == lost_before) {
      driver.wait([&] { return driver.lost_ > lost_before; }, 15s);
    }
  }
  EXPECT_TRUE(delivered) << "the link stayed dead: " << proxy.cut_for_resend()
                         << " connections cut for the refused resend";
  // It took the refused resends to get there, and the client stopped resending after them.
  EXPECT_GE(proxy.cut_for_resend(), 3);
  EXPECT_LE(proxy.cut_for_resend(), 4);
  // The dropped message's completion ran, as a failure: its sender's record sends it again.
  EXPECT_TRUE(test::wait_until(
      [&] {
        std::lock_guard lock(done_mutex);
        return first_done.has_value();
      },
      10s));
  std::lock_guard lock(done_mutex);
  EXPECT_EQ(first_done, std::optional<bool>(false));
}

}  // namespace
}  // namespace homesafe::gateway
