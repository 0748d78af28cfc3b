#pragma once
// Strict validation of the hub → township messages of docs/uplink.md (version 1). Unknown keys
// are ignored; a missing required key or a wrong type makes the message malformed.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

namespace homesafe::township {

enum class UplinkKind { kEvent, kHeartbeat, kStatus };

struct UplinkTopic {
  std::string hub;
  UplinkKind kind;
};

// "homesafe-up/HUB/event|heartbeat|status"; nullopt for anything else.
std::optional<UplinkTopic> parse_uplink_topic(const std::string& topic);

struct Event {
  std::string event_id;
  std::string hub;
  std::string household;
  std::string epoch;
  std::int64_t seq = 0;
  std::string type;
  int priority = 0;
  std::int64_t ts = 0;
  bool clock_synced = false;
  nlohmann::json body;
};

struct Heartbeat {
  std::string hub;
  std::string household;
  std::int64_t ts = 0;
  bool clock_synced = false;
  nlohmann::json raw;
};

// Either the parsed message or the reason it is malformed.
template <typename T>
using Parsed = std::variant<T, std::string>;

Parsed<Event> parse_event(const std::string& payload);
Parsed<Heartbeat> parse_heartbeat(const std::string& payload);
// "online" / "offline" (surrounding whitespace and JSON quotes tolerated); nullopt otherwise.
std::optional<std::string> parse_status(const std::string& payload);

}  // namespace homesafe::township
