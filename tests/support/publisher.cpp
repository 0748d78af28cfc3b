#include "support/publisher.hpp"

#include <mqtt/async_client.h>
#include <stdexcept>

#include "support/subscriber.hpp"

namespace homesafe::test {

Publisher::Publisher(const std::string& url, std::string client_id,
                     std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  if (client_id.empty()) client_id = unique_client_id("homesafe-publisher");
  client_ = std::make_unique<mqtt::async_client>(url, client_id);
  auto options =
      mqtt::connect_options_builder().clean_session(true).connect_timeout(timeout).finalize();
  try {
    if (!client_->connect(options)->wait_for(timeout_)) throw std::runtime_error("timed out");
  } catch (const std::exception& error) {
    throw std::runtime_error("Publisher cannot connect to " + url + ": " + error.what());
  }
}

Publisher::~Publisher() {
  try {
    client_->disconnect()->wait_for(std::chrono::seconds{5});
  } catch (const std::exception&) {  // not connected: nothing to close
  }
}

void Publisher::publish(const std::string& topic, const std::string& payload, int qos,
                        bool retained) {
  try {
    if (!client_->publish(topic, payload.data(), payload.size(), qos, retained)
             ->wait_for(timeout_)) {
      throw std::runtime_error("timed out");
    }
  } catch (const std::exception& error) {
    throw std::runtime_error("Publisher cannot publish on " + topic + ": " + error.what());
  }
}

}  // namespace homesafe::test
