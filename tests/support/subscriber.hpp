#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "support/wait.hpp"

namespace mqtt {
class async_client;
}

namespace homesafe::test {

struct ReceivedMessage {
  std::string topic;
  std::string payload;
  bool retained = false;
  int qos = 0;

  bool operator==(const ReceivedMessage&) const = default;
};
// For GoogleTest failure messages.
std::ostream& operator<<(std::ostream& out, const ReceivedMessage& message);

struct SubscriberOptions {
  int qos = 1;
  std::string client_id{};    // empty: a unique one
  bool clean_session = true;  // false: the broker keeps the session across reconnects
  std::chrono::milliseconds timeout = kDefaultTimeout;  // for connect and subscribe
};

// A Paho async client that subscribes to topic filters and records every message it receives,
// thread-safely. It reconnects by itself (and subscribes again on a clean session) when the
// broker restarts. The constructor throws std::runtime_error if it cannot connect or subscribe.
class Subscriber {
 public:
  using Messages = std::vector<ReceivedMessage>;
  using Predicate = std::function<bool(const Messages&)>;

  Subscriber(const std::string& url, const std::string& topic_filter,
             SubscriberOptions options = {});
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Adds a topic filter (waits for the SUBACK).
  void subscribe(const std::string& topic_filter);

  // Waits until `predicate(messages so far)` holds; false on timeout. The predicate runs under
  // the subscriber's lock: it must not call back into the Subscriber.
  bool wait_for(const Predicate& predicate, std::chrono::milliseconds timeout = kDefaultTimeout);
  // Waits until at least `count` messages have arrived.
  bool wait_for_count(std::size_t count, std::chrono::milliseconds timeout = kDefaultTimeout);
  // Waits until a message on exactly `topic` has arrived.
  bool wait_for_topic(const std::string& topic,
                      std::chrono::milliseconds timeout = kDefaultTimeout);

  Messages messages() const;  // a snapshot, in arrival order
  std::size_t size() const;
  void clear();
  bool connected() const;

 private:
  void on_message(ReceivedMessage message);

  SubscriberOptions options_;
  std::vector<std::string> filters_;
  std::atomic<int> connections_{0};
  std::unique_ptr<mqtt::async_client> client_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  Messages messages_;
};

// A client id unique within this machine: "<prefix>-<pid>-<counter>".
std::string unique_client_id(const std::string& prefix = "homesafe-test");

}  // namespace homesafe::test
