#pragma once
// Proposing config entries from what is on the broker (`homesafe-gateway discover`). The pure
// part: messages in, proposed devices out. The gateway's CLI does the MQTT and the printing.
//
// Sources, strongest first: Zigbee2MQTT's retained <base>/bridge/devices (model and exposes of
// every paired device), Home Assistant MQTT discovery (homeassistant/<component>/.../config, as
// Zigbee2MQTT and ESPHome publish it), Tasmota's tasmota/discovery/<mac>/config and
// tele/<topic>/SENSOR, Shelly Gen2 <prefix>/events/rpc and <prefix>/status/<component>,
// wmbusmeters/<name> telegrams, and Zigbee2MQTT state messages.

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "homesafe/drivers/device.hpp"

namespace homesafe::drivers {

struct ProposedDevice {
  std::string id;  // unique, [A-Za-z0-9_-]{1,64}
  DeviceKind kind = DeviceKind::smoke;
  std::string format;  // a driver's format name
  std::string topic;   // the device's base topic as that driver expects it
  std::string model;   // empty when unknown
  std::string reason;  // one line: what was seen that makes it this kind
};

// Something that looks like a device but is not proposed: it is printed as a comment.
struct UnrecognisedDevice {
  std::string format;  // best guess of the integration, or "mqtt"
  std::string topic;
  std::string reason;
};

struct DiscoveryResult {
  std::vector<ProposedDevice> proposed;  // sorted by format, then topic
  std::vector<UnrecognisedDevice> unrecognised;
};

class Discovery {
 public:
  // Payloads larger than this are not read (Zigbee2MQTT's bridge/devices of a big network is
  // a few hundred KiB).
  static constexpr std::size_t kMaxPayloadBytes = 4 * 1024 * 1024;

  // Takes one message. Any order, retained or live; repeated messages add nothing new.
  void observe(std::string_view topic, std::string_view payload);

  // What was seen, leaving out devices whose topic is in `configured_topics` (a configured
  // device's base topic) and avoiding `taken_ids` when naming the new ones.
  DiscoveryResult result(const std::set<std::string>& configured_topics = {},
                         const std::set<std::string>& taken_ids = {}) const;

  std::size_t messages_seen() const { return messages_; }

 private:
  // Evidence about one device, keyed by (format, topic).
  struct Candidate {
    std::string format;
    std::string topic;
    std::string name;  // friendly name / node / meter name, for the id
    std::string model;
    std::string vendor;
    std::string description;
    std::set<std::string> signals;  // normalised: smoke, gas, co, water_leak, action ...
    std::set<std::string> actions;  // action values, when the source lists them
    std::set<std::string> sources;  // where the evidence came from
    std::string problem;            // why it cannot be proposed as is (ESPHome units ...)
  };

  // The candidate for (format, topic), created if new; nullptr once kMaxCandidates are known.
  Candidate* candidate(const std::string& format, const std::string& topic);
  void observe_zigbee_devices(std::string_view base, std::string_view payload);
  void observe_home_assistant(std::string_view topic, std::string_view payload);
  void observe_tasmota_config(std::string_view payload);
  void observe_tasmota(std::string_view topic, std::string_view suffix, std::string_view payload);
  void observe_shelly(std::string_view prefix, std::string_view suffix, std::string_view payload);
  void observe_wmbusmeters(std::string_view topic, std::string_view payload);

  std::map<std::string, Candidate> candidates_;  // key: format + '\n' + topic
  std::set<std::string> zigbee_bases_{"zigbee2mqtt"};
  // JSON object messages that may be Zigbee2MQTT device states: topic -> keys (resolved against
  // the Zigbee2MQTT base topics seen by the end of the run).
  std::map<std::string, std::set<std::string>> json_states_;
  std::set<std::string> esphome_nodes_;  // <node>/status online|offline
  std::size_t messages_ = 0;
};

// The ready-to-paste `devices:` snippet: one comment line per device saying why it was
// recognised, `location: "待填写"` (to fill in), and the unrecognised ones as comments.
std::string render_devices_yaml(const DiscoveryResult& result);

}  // namespace homesafe::drivers
