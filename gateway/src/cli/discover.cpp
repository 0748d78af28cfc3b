// `homesafe-gateway discover --config FILE --seconds N`: listens on the hub's broker and prints
// a ready-to-paste `devices:` snippet for every device seen that the config does not have yet.
// What a message means is decided by homesafe::drivers::Discovery (device-drivers know their
// formats); this file only does the MQTT and the printing.
#include "discover.hpp"

#include <mqtt/async_client.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "homesafe/drivers/discovery.hpp"
#include "homesafe/gateway/config.hpp"

namespace homesafe::gateway::cli {
namespace {

// Where the integrations publish what identifies their devices.
const std::vector<std::string> kFilters{
    "homeassistant/#",      // Home Assistant MQTT discovery (Zigbee2MQTT, ESPHome)
    "zigbee2mqtt/#",        // Zigbee2MQTT bridge/devices, device states, availability
    "tasmota/discovery/#",  // Tasmota's own discovery
    "tele/#",               // Tasmota telemetry and LWT
    "+/online",             // Shelly Gen2 availability
    "+/events/rpc",         // Shelly Gen2 notifications
    "+/status/#",           // Shelly Gen2 component status and ESPHome <node>/status
    "wmbusmeters/#",        // wmbusmeters telegrams
};

// What is kept while listening: enough for a large Zigbee network's retained messages.
constexpr std::size_t kMaxMessages = 200'000;
constexpr std::size_t kMaxBytes = 64 * 1024 * 1024;

class Collector {
 public:
  void add(std::string topic, std::string payload) {
    std::lock_guard lock(mutex_);
    if (messages_.size() >= kMaxMessages || bytes_ + payload.size() > kMaxBytes) {
      ++dropped_;
      return;
    }
    bytes_ += topic.size() + payload.size();
    messages_.emplace_back(std::move(topic), std::move(payload));
  }

  std::vector<std::pair<std::string, std::string>> take(std::size_t& dropped) {
    std::lock_guard lock(mutex_);
    dropped = dropped_;
    return std::move(messages_);
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> messages_;
  std::size_t bytes_ = 0;
  std::size_t dropped_ = 0;
};

mqtt::connect_options connect_options(const BrokerConfig& broker) {
  auto builder = mqtt::connect_options_builder()
                     .clean_session(true)  // a one-off listener: nothing to resume
                     .keep_alive_interval(broker.keepalive)
                     .connect_timeout(std::chrono::seconds(10))
                     .automatic_reconnect(false);
  if (!broker.username.empty()) builder.user_name(broker.username);
  const std::string password =
      broker.password_file.empty() ? broker.password : read_secret_file(broker.password_file);
  if (!password.empty()) builder.password(password);
  const bool tls_url = broker.url.rfind("ssl://", 0) == 0 || broker.url.rfind("mqtts://", 0) == 0;
  if (broker.tls || tls_url) {
    mqtt::ssl_options ssl;
    if (broker.tls) {
      if (!broker.tls->ca_file.empty()) ssl.set_trust_store(broker.tls->ca_file);
      if (!broker.tls->cert_file.empty()) ssl.set_key_store(broker.tls->cert_file);
      if (!broker.tls->key_file.empty()) ssl.set_private_key(broker.tls->key_file);
      ssl.set_enable_server_cert_auth(broker.tls->verify);
      ssl.set_verify(broker.tls->verify);
    }
    builder.ssl(std::move(ssl));
  }
  return builder.finalize();
}

// Filters for the configured devices' own bases (a Zigbee2MQTT base_topic other than the
// default), so that their bridge/devices is seen too.
std::vector<std::string> filters_for(const HubConfig& config) {
  std::set<std::string> filters(kFilters.begin(), kFilters.end());
  for (const auto& device : config.devices) {
    if (device.format != "zigbee2mqtt") continue;
    filters.insert(device.topic.substr(0, device.topic.find('/')) + "/#");
  }
  return {filters.begin(), filters.end()};
}

// The base topics of configured devices, written the way Discovery proposes them.
std::set<std::string> configured_topics(const HubConfig& config) {
  std::set<std::string> topics;
  for (const auto& device : config.devices) {
    topics.insert(device.topic);
    if (device.format == "tasmota" && device.topic.find('/') == std::string::npos) {
      topics.insert("tele/" + device.topic);
    }
  }
  return topics;
}

}  // namespace

int discover(const std::string& config_path, int seconds) {
  auto loaded = load_config(config_path);
  for (const auto& error : loaded.errors) std::cerr << error.to_string() << '\n';
  if (!loaded.config) {
    std::cerr << "homesafe-gateway: " << loaded.errors.size() << " error(s) in " << config_path
              << '\n';
    return 1;
  }
  if (seconds < 1 || seconds > 3600) {
    std::cerr << "homesafe-gateway: --seconds must be between 1 and 3600\n";
    return 2;
  }
  const HubConfig& config = *loaded.config;

  Collector collector;
  try {
    // No client-side persistence, a client id of its own (the daemon may be connected).
    mqtt::async_client client(config.broker.url, config.broker.client_id + "-discover", nullptr);
    client.set_message_callback([&collector](mqtt::const_message_ptr message) {
      collector.add(message->get_topic(), message->get_payload_str());
    });
    if (!client.connect(connect_options(config.broker))->wait_for(std::chrono::seconds(15))) {
      throw std::runtime_error("timed out");
    }
    const auto filters = filters_for(config);
    auto filter_collection = mqtt::string_collection::create(filters);
    const std::vector<int> qos(filters.size(), 0);
    if (!client.subscribe(filter_collection, qos)->wait_for(std::chrono::seconds(15))) {
      throw std::runtime_error("subscribe timed out");
    }
    std::cerr << "homesafe-gateway: listening on " << config.broker.url << " for " << seconds
              << " s ...\n";
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    client.disconnect()->wait_for(std::chrono::seconds(5));
  } catch (const std::exception& e) {
    std::cerr << "homesafe-gateway: cannot listen on the broker at " << config.broker.url << ": "
              << e.what() << '\n';
    return 1;
  }

  std::size_t dropped = 0;
  drivers::Discovery discovery;
  for (const auto& [topic, payload] : collector.take(dropped)) discovery.observe(topic, payload);
  std::set<std::string> ids;
  for (const auto& device : config.devices) ids.insert(device.id);
  const auto result = discovery.result(configured_topics(config), ids);

  std::cout << "# homesafe-gateway discover: " << discovery.messages_seen() << " messages in "
            << seconds << " s on " << config.broker.url << "; " << result.proposed.size()
            << " new device(s) for household " << config.household.id << "\n";
  if (dropped > 0) std::cout << "# (" << dropped << " messages not read: too many)\n";
  std::cout << "# Paste under devices: in " << config_path
            << ", fill in each location, then run check-config.\n";
  std::cout << drivers::render_devices_yaml(result);
  return 0;
}

}  // namespace homesafe::gateway::cli
