#pragma once
// An alert as the gateway stores and publishes it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "homesafe/rules/alert_kind.hpp"

namespace homesafe::gateway {

enum class AlertState { open, acknowledged, resolved };
std::string_view to_string(AlertState state);
std::optional<AlertState> alert_state_from_string(std::string_view text);

struct AlertRecord {
  std::string alert_id;  // "<household>-<sequence>", stable across restarts and retries
  rules::AlertKind kind = rules::AlertKind::smoke;
  rules::Severity severity = rules::Severity::info;
  AlertState state = AlertState::open;
  std::string device_id;
  std::string location;
  std::string detail;
  std::int64_t opened_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::optional<std::int64_t> acknowledged_at_ms;
  std::string acknowledged_by;
  std::optional<std::int64_t> resolved_at_ms;
  std::string resolved_by;
  bool condition_active = true;   // the device still reports the condition
  std::int64_t repeat_count = 0;  // repeats of the condition joined to this alert
  bool clock_synced = true;       // whether the wall clock was trusted when it opened

  bool active() const { return state != AlertState::resolved; }
};

// One line of an alert's history (the handling record): opened, acknowledged, resolved,
// condition_cleared, with who, when, through which channel and the note.
struct AlertEvent {
  std::string alert_id;
  std::int64_t ts_ms = 0;
  std::string event;
  std::string by;       // contact id, "system", or empty
  std::string channel;  // mqtt, sms, cli, button, ...
  std::string note;
};

}  // namespace homesafe::gateway
