#include "homesafe/sim/mqtt_publisher.hpp"

#include <unistd.h>

#include <deque>

#include <fmt/format.h>
#include <mqtt/async_client.h>

namespace homesafe::sim {
namespace {

constexpr std::size_t kMaxInFlight = 64;

std::string default_client_id() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return fmt::format("homesafe-sim-{}-{}", ::getpid(),
                     std::chrono::duration_cast<std::chrono::milliseconds>(now).count() % 100000);
}

}  // namespace

struct MqttPublisher::Impl {
  MqttOptions options;
  std::unique_ptr<mqtt::async_client> client;
  std::deque<std::pair<std::string, mqtt::delivery_token_ptr>> in_flight;  // topic, token
  bool connected = false;

  void wait_oldest() {
    auto [topic, token] = std::move(in_flight.front());
    in_flight.pop_front();
    try {
      if (!token->wait_for(options.timeout)) {
        throw MqttError(fmt::format("no acknowledgement for a message on {} from {} within {} ms",
                                    topic, options.url, options.timeout.count()));
      }
    } catch (const mqtt::exception& failure) {
      throw MqttError(
          fmt::format("publishing on {} to {} failed: {}", topic, options.url, failure.what()));
    }
  }
};

MqttPublisher::MqttPublisher(MqttOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  auto& opts = impl_->options;
  if (opts.client_id.empty()) opts.client_id = default_client_id();
  try {
    impl_->client = std::make_unique<mqtt::async_client>(opts.url, opts.client_id);
    auto connect = mqtt::connect_options_builder()
                       .clean_session(true)
                       .connect_timeout(opts.timeout)
                       .keep_alive_interval(std::chrono::seconds{30})
                       .finalize();
    if (!impl_->client->connect(connect)->wait_for(opts.timeout)) {
      throw MqttError(fmt::format("cannot connect to broker {}: timed out after {} ms", opts.url,
                                  opts.timeout.count()));
    }
  } catch (const mqtt::exception& failure) {
    throw MqttError(fmt::format("cannot connect to broker {}: {}", opts.url, failure.what()));
  }
  impl_->connected = true;
}

MqttPublisher::~MqttPublisher() {
  if (!impl_->connected) return;
  try {
    impl_->client->disconnect()->wait_for(impl_->options.timeout);
  } catch (const mqtt::exception&) {  // best effort: close() reports errors
  }
}

void MqttPublisher::publish(const Message& message) {
  if (impl_->in_flight.size() >= kMaxInFlight) impl_->wait_oldest();
  try {
    auto token = impl_->client->publish(message.topic, message.payload.data(),
                                        message.payload.size(), impl_->options.qos, message.retain);
    impl_->in_flight.emplace_back(message.topic, std::move(token));
  } catch (const mqtt::exception& failure) {
    throw MqttError(fmt::format("publishing on {} to {} failed: {}", message.topic,
                                impl_->options.url, failure.what()));
  }
}

void MqttPublisher::flush() {
  while (!impl_->in_flight.empty()) impl_->wait_oldest();
}

void MqttPublisher::close() {
  flush();
  if (!impl_->connected) return;
  impl_->connected = false;
  try {
    if (!impl_->client->disconnect()->wait_for(impl_->options.timeout)) {
      throw MqttError("disconnect from " + impl_->options.url + " timed out");
    }
  } catch (const mqtt::exception& failure) {
    throw MqttError(
        fmt::format("disconnect from {} failed: {}", impl_->options.url, failure.what()));
  }
}

}  // namespace homesafe::sim
