#pragma once

#include <cstdint>
#include <string>

namespace homesafe::sim {

// One MQTT message a simulated device publishes, stamped with its virtual time.
struct Message {
  std::int64_t ts_ms = 0;  // Unix ms, virtual time
  std::string topic;
  std::string payload;
  bool retain = false;

  bool operator==(const Message&) const = default;
};

}  // namespace homesafe::sim
