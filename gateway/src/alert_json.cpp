#include "homesafe/gateway/alert_json.hpp"

namespace homesafe::gateway {

nlohmann::ordered_json alert_to_json(const AlertRecord& alert, std::string_view event,
                                     std::string_view household_id, const rules::TimeZone& zone) {
  nlohmann::ordered_json j;
  j["type"] = "alert";
  j["ts"] = zone.format_iso(alert.updated_at_ms);
  j["alert_id"] = alert.alert_id;
  j["household"] = household_id;
  j["kind"] = rules::to_string(alert.kind);
  j["severity"] = rules::to_string(alert.severity);
  j["state"] = to_string(alert.state);
  j["event"] = event;
  j["device"] = alert.device_id;
  j["location"] = alert.location;
  if (!alert.detail.empty()) j["detail"] = alert.detail;
  j["opened_at"] = zone.format_iso(alert.opened_at_ms);
  if (alert.acknowledged_at_ms) {
    j["acknowledged_at"] = zone.format_iso(*alert.acknowledged_at_ms);
    j["acknowledged_by"] = alert.acknowledged_by;
  }
  if (alert.resolved_at_ms) {
    j["resolved_at"] = zone.format_iso(*alert.resolved_at_ms);
    j["resolved_by"] = alert.resolved_by;
  }
  j["condition_active"] = alert.condition_active;
  j["repeat_count"] = alert.repeat_count;
  j["clock_synced"] = alert.clock_synced;
  return j;
}

}  // namespace homesafe::gateway
