#pragma once
// Test-side encoder of docs/uplink.md messages (written independently of the service's parser)
// and a registry fixture.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace homesafe::township::test {

using nlohmann::json;

// 2026-11-01T08:00:00+08:00.
inline constexpr std::int64_t kT0 = 1'793'491'200'000;

inline json event(const std::string& hub, std::int64_t seq, const std::string& type, json body,
                  int priority = 1, const std::string& household = "",
                  const std::string& epoch = "3f9c2a7d") {
  return json{{"v", 1},
              {"event_id", hub + "/" + epoch + "/" + std::to_string(seq)},
              {"hub", hub},
              {"household", household.empty() ? hub : household},
              {"seq", seq},
              {"type", type},
              {"priority", priority},
              {"ts", kT0 + seq * 1000},
              {"clock_synced", true},
              {"body", std::move(body)}};
}

inline json alert_body(const std::string& alert_id, const std::string& state,
                       std::int64_t updated_at, std::int64_t repeat = 0) {
  return json{{"alert_id", alert_id},
              {"kind", "smoke"},
              {"severity", "emergency"},
              {"state", state},
              {"device", "kitchen-smoke"},
              {"location", "厨房"},
              {"detail", "smoke detected"},
              {"opened_at", kT0},
              {"updated_at", updated_at},
              {"acknowledged_at", state == "open" ? json(nullptr) : json(updated_at)},
              {"acknowledged_by", state == "open" ? json(nullptr) : json("li")},
              {"resolved_at", state == "resolved" ? json(updated_at) : json(nullptr)},
              {"resolved_by", state == "resolved" ? json("li") : json(nullptr)},
              {"condition_active", state == "open"},
              {"repeat_count", repeat}};
}

inline json alert_event_body(const std::string& alert_id, const std::string& what, std::int64_t at,
                             const std::string& by = "li") {
  return json{{"alert_id", alert_id}, {"event", what},  {"at", at}, {"by", by},
              {"channel", "sms"},     {"note", nullptr}};
}

inline json notification_body(const std::string& alert_id) {
  return json{{"notification_id", alert_id + "/li/sms/0"},
              {"alert_id", alert_id},
              {"contact_id", "li"},
              {"role", "caregiver"},
              {"channel", "sms"},
              {"step", 0},
              {"repeat", 0},
              {"state", "sent"},
              {"attempts", 1},
              {"error", nullptr},
              {"at", kT0}};
}

inline json device_health_body() {
  return json{
      {"device", "kitchen-smoke"}, {"event", "low_battery"}, {"at", kT0}, {"detail", "12%"}};
}

inline json daily_summary_body(const std::string& date) {
  return json{{"date", date},
              {"water_l", 85.5},
              {"energy_kwh", 2.4},
              {"activity_events", 37},
              {"first_activity", "06:40"},
              {"last_activity", "21:15"},
              {"alerts", {{"smoke", 1}}},
              {"devices", json::array({{{"device", "kitchen-smoke"},
                                        {"kind", "smoke"},
                                        {"online", true},
                                        {"battery", 12},
                                        {"last_seen", kT0}},
                                       {{"device", "door"},
                                        {"kind", "contact"},
                                        {"online", false},
                                        {"battery", 80},
                                        {"last_seen", kT0}}})},
              {"hazards", json::array({"smoke"})}};
}

inline json command_result_body(const std::string& command_id) {
  return json{{"command_id", command_id}, {"ok", true}, {"error", nullptr}};
}

inline json relay_body(const std::string& alert_id, const std::string& contact_id = "li",
                       const std::string& notification_suffix = "s0r0") {
  return json{
      {"notification_id", alert_id + "-" + notification_suffix + "-" + contact_id + "-township"},
      {"alert_id", alert_id},
      {"contact_id", contact_id},
      {"role", "caregiver"},
      {"kind", "smoke"},
      {"severity", "emergency"},
      {"device", "kitchen-smoke"},
      {"location", "厨房"},
      {"opened_at", kT0},
      {"step", 0},
      {"repeat", 0}};
}

inline json heartbeat(const std::string& hub, const std::string& household = "") {
  return json{{"v", 1},
              {"hub", hub},
              {"household", household.empty() ? hub : household},
              {"ts", kT0},
              {"clock_synced", true},
              {"boot_id", "b-1"},
              {"uptime_s", 120},
              {"outbox", {{"events", 3}, {"bytes", 900}, {"oldest_ts", kT0}, {"dropped", 0}}},
              {"version", "0.1.0"}};
}

// Registry CSV with: h001 (hub h001, 东乡/一村, 高风险, caregiver li), h002 (hub h002, 东乡/二村,
// 一般, caregiver wang), h003 (hub h003, 西乡/三村, 重点, caregiver li too), h004 (北县/北乡).
inline std::string registry_csv() {
  return "household_id,resident_id,display_name,county,township,village,risk_class,hub_id,"
         "address,caregiver_id,caregiver_name,caregiver_phone,emergency_id,emergency_name,"
         "emergency_phone\n"
         "h001,r-0001,王奶奶,南县,东乡,一村,高风险,h001,\"一村3组, 12号\",li,李阿姨,13800000001,"
         "son1,王大明,13800000002\n"
         "h002,r-0002,张爷爷,南县,东乡,二村,一般,h002,二村5组,wang,王师傅,13800000003,,,\n"
         "h003,r-0003,赵奶奶,南县,西乡,三村,重点,h003,三村1组,li,李阿姨,13800000001,,,\n"
         "h004,r-0004,钱爷爷,北县,北乡,四村,高风险,h004,四村2组,qian,钱婶,13800000004,,,\n";
}

}  // namespace homesafe::township::test
