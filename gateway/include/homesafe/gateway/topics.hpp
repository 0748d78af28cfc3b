#pragma once
// The hub's own MQTT topics (DESIGN.md).

#include <string>

namespace homesafe::gateway {

struct Topics {
  explicit Topics(const std::string& household_id) : root("homesafe/" + household_id) {}

  std::string root;
  std::string device_root() const { return root + "/dev"; }
  std::string alert(const std::string& alert_id) const { return root + "/alert/" + alert_id; }
  std::string notify() const { return root + "/notify"; }
  std::string ack() const { return root + "/ack"; }
  std::string status() const { return root + "/gateway/status"; }
  std::string stats() const { return root + "/gateway/stats"; }
};

}  // namespace homesafe::gateway
