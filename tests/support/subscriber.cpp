#include "support/subscriber.hpp"

#include <unistd.h>

#include <mqtt/async_client.h>
#include <atomic>
#include <ostream>
#include <stdexcept>

namespace homesafe::test {

std::ostream& operator<<(std::ostream& out, const ReceivedMessage& message) {
  return out << "{topic: " << message.topic << ", payload: " << message.payload
             << ", retained: " << (message.retained ? "true" : "false") << ", qos: " << message.qos
             << "}";
}

std::string unique_client_id(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

Subscriber::Subscriber(const std::string& url, const std::string& topic_filter,
                       SubscriberOptions options)
    : options_(std::move(options)) {
  if (options_.client_id.empty()) options_.client_id = unique_client_id("homesafe-subscriber");
  client_ = std::make_unique<mqtt::async_client>(url, options_.client_id);
  client_->set_message_callback([this](mqtt::const_message_ptr message) {
    on_message(
        {message->get_topic(), message->to_string(), message->is_retained(), message->get_qos()});
  });
  // After an automatic reconnect a clean session has lost its subscriptions.
  client_->set_connected_handler([this](const std::string& /*cause*/) {
    // The first connection is the constructor's; it subscribes itself.
    if (++connections_ == 1 || !options_.clean_session) return;
    std::vector<std::string> filters;
    {
      std::lock_guard lock(mutex_);
      filters = filters_;
    }
    for (const auto& filter : filters) {
      try {
        client_->subscribe(filter, options_.qos);
      } catch (const mqtt::exception&) {  // the next reconnect tries again
      }
    }
  });
  auto connect = mqtt::connect_options_builder()
                     .clean_session(options_.clean_session)
                     .automatic_reconnect(std::chrono::milliseconds{100}, std::chrono::seconds{1})
                     .connect_timeout(options_.timeout)
                     .keep_alive_interval(std::chrono::seconds{30})
                     .finalize();
  try {
    if (!client_->connect(connect)->wait_for(options_.timeout)) {
      throw std::runtime_error("timed out");
    }
  } catch (const std::exception& error) {
    throw std::runtime_error("Subscriber cannot connect to " + url + ": " + error.what());
  }
  subscribe(topic_filter);
}

Subscriber::~Subscriber() {
  client_->disable_callbacks();
  try {
    client_->disconnect()->wait_for(std::chrono::seconds{5});
  } catch (const std::exception&) {  // not connected (the broker is gone): nothing to close
  }
}

void Subscriber::subscribe(const std::string& topic_filter) {
  {
    std::lock_guard lock(mutex_);
    filters_.push_back(topic_filter);
  }
  try {
    auto token = client_->subscribe(topic_filter, options_.qos);
    if (!token->wait_for(options_.timeout)) throw std::runtime_error("timed out");
  } catch (const std::exception& error) {
    throw std::runtime_error("Subscriber cannot subscribe to " + topic_filter + ": " +
                             error.what());
  }
}

void Subscriber::on_message(ReceivedMessage message) {
  {
    std::lock_guard lock(mutex_);
    messages_.push_back(std::move(message));
  }
  changed_.notify_all();
}

bool Subscriber::wait_for(const Predicate& predicate, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return predicate(messages_); });
}

bool Subscriber::wait_for_count(std::size_t count, std::chrono::milliseconds timeout) {
  return wait_for([count](const Messages& messages) { return messages.size() >= count; }, timeout);
}

bool Subscriber::wait_for_topic(const std::string& topic, std::chrono::milliseconds timeout) {
  return wait_for(
      [&topic](const Messages& messages) {
        for (const auto& message : messages) {
          if (message.topic == topic) return true;
        }
        return false;
      },
      timeout);
}

Subscriber::Messages Subscriber::messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}

std::size_t Subscriber::size() const {
  std::lock_guard lock(mutex_);
  return messages_.size();
}

void Subscriber::clear() {
  std::lock_guard lock(mutex_);
  messages_.clear();
}

bool Subscriber::connected() const {
  return client_->is_connected();
}

}  // namespace homesafe::test
