#include "homesafe/township/views.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "homesafe/gateway/labels.hpp"
#include "homesafe/township/clock.hpp"

namespace homesafe::township {
namespace {

using nlohmann::json;

json nullable_text(const Row& r, std::size_t i) {
  return r.is_null(i) ? json(nullptr) : json(r.text(i));
}
json nullable_int(const Row& r, std::size_t i) {
  return r.is_null(i) ? json(nullptr) : json(r.integer(i));
}

std::string kind_label(const std::string& kind) {
  if (kind == "hub_silent") return "网关失联";
  if (auto k = rules::alert_kind_from_string(kind)) return std::string(gateway::zh_label(*k));
  return kind;
}

std::string severity_label(const std::string& severity) {
  if (auto s = rules::severity_from_string(severity)) return std::string(gateway::zh_label(*s));
  return severity;
}

std::string state_label(const std::string& state) {
  if (state == "open") return "待处理";
  if (state == "acknowledged") return "已确认";
  if (state == "resolved") return "已解除";
  return state;
}

std::optional<double> number_or_null(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

}  // namespace

const char* const kAlertViewColumns =
    "a.alert_id, a.household_id, a.hub_id, a.source, a.kind, a.severity, a.state, a.device, "
    "a.location, a.opened_at, a.updated_at, a.acknowledged_at, a.acknowledged_by, a.resolved_at, "
    "a.resolved_by, a.repeat_count, o.village, o.township, a.detail, o.display_name, o.county";

json alert_view(Db& db, const Row& r) {
  json detail = nullptr;
  if (!r.is_null(18)) {
    detail = json::parse(r.text(18), nullptr, false);
    if (detail.is_discarded()) detail = r.text(18);
  }
  const std::string alert_id = r.text(0);
  const std::string household = r.text(1);
  json out{{"alert_id", alert_id},
           {"household", household},
           {"display_name", r.text(19)},
           {"county", r.text(20)},
           {"township", r.text(17)},
           {"village", r.text(16)},
           {"hub", r.text(2)},
           {"source", r.text(3)},
           {"kind", r.text(4)},
           {"kind_label", kind_label(r.text(4))},
           {"severity", r.text(5)},
           {"severity_label", severity_label(r.text(5))},
           {"state", r.text(6)},
           {"state_label", state_label(r.text(6))},
           {"device", nullable_text(r, 7)},
           {"location", nullable_text(r, 8)},
           {"raised_at", r.integer(9)},
           {"updated_at", r.integer(10)},
           {"acknowledged_at", nullable_int(r, 11)},
           {"acknowledged_by", nullable_text(r, 12)},
           {"resolved_at", nullable_int(r, 13)},
           {"resolved_by", nullable_text(r, 14)},
           {"repeat_count", r.integer(15)},
           {"detail", detail}};

  // Who was told on which channel: the hub's notification outcomes, names from the registry.
  json escalation = json::array();
  for (const auto& n : db.query(
           "SELECT n.at, n.contact_id, n.role, c.name, n.channel, n.state, n.step, n.repeat_no, "
           "n.error FROM notifications n LEFT JOIN contacts c ON c.household_id = n.household_id "
           "AND c.contact_id = n.contact_id AND c.role = n.role WHERE n.alert_id = ? AND "
           "n.household_id = ? ORDER BY n.at, n.event_id",
           {alert_id, household})) {
    escalation.push_back({{"at", n.integer(0)},
                          {"contact_id", n.text(1)},
                          {"role", n.text(2)},
                          {"name", nullable_text(n, 3)},
                          {"channel", n.text(4)},
                          {"state", n.text(5)},
                          {"step", n.integer(6)},
                          {"repeat", n.integer(7)},
                          {"error", nullable_text(n, 8)}});
  }
  json handling = json::array();
  json help_requested_at = nullptr;
  for (const auto& h :
       db.query("SELECT event, at, by_whom, channel, note, source FROM handling_records WHERE "
                "alert_id = ? AND household_id = ? ORDER BY at, record_id",
                {alert_id, household})) {
    handling.push_back({{"event", h.text(0)},
                        {"at", h.integer(1)},
                        {"by", nullable_text(h, 2)},
                        {"channel", nullable_text(h, 3)},
                        {"note", nullable_text(h, 4)},
                        {"source", h.text(5)}});
    if (h.text(0) == "help_requested") help_requested_at = h.integer(1);
  }
  out["escalation"] = std::move(escalation);
  out["handling"] = std::move(handling);
  out["help_requested_at"] = help_requested_at;
  return out;
}

std::optional<json> alert_view(Db& db, const std::string& alert_id) {
  auto row = db.query_one(std::string("SELECT ") + kAlertViewColumns +
                              " FROM alerts a JOIN households o ON o.household_id = "
                              "a.household_id WHERE a.alert_id = ?",
                          {alert_id});
  if (!row) return std::nullopt;
  return alert_view(db, *row);
}

json household_devices(Db& db, const std::string& household_id) {
  struct Device {
    json entry;
    std::int64_t offline_since = 0;
    std::int64_t low_since = 0;
  };
  std::map<std::string, Device> devices;
  std::int64_t summary_at = 0;
  if (auto summary = db.query_one(
          "SELECT d.body, e.ts FROM daily_summaries d JOIN events e ON e.event_id = d.event_id "
          "WHERE d.household_id = ? ORDER BY d.summary_date DESC LIMIT 1",
          {household_id})) {
    summary_at = summary->integer(1);
    const json body = json::parse(summary->text(0), nullptr, false);
    if (body.is_object() && body.contains("devices") && body["devices"].is_array()) {
      for (const auto& d : body["devices"]) {
        if (!d.is_object() || !d.contains("device") || !d["device"].is_string()) continue;
        Device device;
        device.entry = {{"device", d["device"]},
                        {"kind", d.value("kind", json(nullptr))},
                        {"online", d.value("online", true)},
                        {"battery", d.value("battery", json(nullptr))},
                        {"last_seen", d.value("last_seen", json(nullptr))}};
        if (!device.entry["online"].get<bool>()) {
          device.offline_since = device.entry["last_seen"].is_number()
                                     ? device.entry["last_seen"].get<std::int64_t>()
                                     : summary_at;
        }
        devices[d["device"].get<std::string>()] = std::move(device);
      }
    }
  }
  // Health events: all of them for the dates a problem started; those after the summary also
  // for the current state.
  for (const auto& h : db.query("SELECT device, event, at, detail FROM device_health WHERE "
                                "household_id = ? ORDER BY at, "
                                "event_id",
                                {household_id})) {
    const std::string name = h.text(0);
    const std::string event = h.text(1);
    const std::int64_t at = h.integer(2);
    auto [it, added] = devices.try_emplace(name);
    Device& d = it->second;
    if (added) {
      d.entry = {{"device", name},
                 {"kind", nullptr},
                 {"online", true},
                 {"battery", nullptr},
                 {"last_seen", nullptr}};
    }
    const bool current = at >= summary_at;
    if (event == "offline") {
      if (current) d.entry["online"] = false;
      if (!d.entry["online"].get<bool>() && (d.offline_since == 0 || current)) {
        d.offline_since = at;
      }
    } else if (event == "online") {
      if (current) {
        d.entry["online"] = true;
        d.offline_since = 0;
        if (!d.entry["last_seen"].is_number() || d.entry["last_seen"].get<std::int64_t>() < at) {
          d.entry["last_seen"] = at;
        }
      }
    } else if (event == "low_battery") {
      if (current || d.low_since == 0) d.low_since = at;
    } else if (event == "battery_ok") {
      if (current) d.low_since = 0;
    }
  }
  json out = json::array();
  for (auto& [name, d] : devices) {
    json problem = nullptr;
    json since = nullptr;
    const bool battery_low =
        d.entry["battery"].is_number() && d.entry["battery"].get<double>() < kLowBatteryPercent;
    if (!d.entry["online"].get<bool>()) {
      problem = "offline";
      since = d.offline_since ? json(d.offline_since) : json(nullptr);
    } else if (d.low_since || battery_low) {
      problem = "low_battery";
      since = d.low_since ? json(d.low_since) : d.entry["last_seen"];
    }
    d.entry["problem"] = problem;
    d.entry["problem_since"] = since;
    out.push_back(std::move(d.entry));
  }
  return out;
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const double rank = p / 100.0 * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const auto hi = static_cast<std::size_t>(std::ceil(rank));
  return values[lo] + (values[hi] - values[lo]) * (rank - static_cast<double>(lo));
}

std::string add_days(const std::string& date, int delta) {
  int y = 0, m = 0, d = 0;
  if (!parse_date(date, y, m, d)) return date;
  return local_date(local_midnight_ms(y, m, d, 0) + std::int64_t{delta} * 86'400'000, 0);
}

json daily_series(Db& db, const std::string& household_id, const std::string& last_date, int days) {
  const std::string first = add_days(last_date, -(days - 1));
  const std::string window_start = add_days(first, -kNormalWindowDays);
  std::map<std::string, json> by_date;
  for (const auto& r :
       db.query("SELECT summary_date, body FROM daily_summaries WHERE household_id = ? AND "
                "summary_date >= ? AND summary_date <= ? ORDER BY summary_date",
                {household_id, window_start, last_date})) {
    json body = json::parse(r.text(1), nullptr, false);
    if (body.is_object()) by_date[r.text(0)] = std::move(body);
  }
  static constexpr const char* kFigures[] = {"water_l", "energy_kwh", "activity_events"};
  json out = json::array();
  for (int i = 0; i < days; ++i) {
    const std::string date = add_days(first, i);
    json day{{"date", date}};
    auto it = by_date.find(date);
    for (const char* key : kFigures) {
      auto v = it == by_date.end() ? std::nullopt : number_or_null(it->second, key);
      day[key] = v ? json(*v) : json(nullptr);
    }
    day["first_activity"] =
        it == by_date.end() ? json(nullptr) : it->second.value("first_activity", json(nullptr));
    day["last_activity"] =
        it == by_date.end() ? json(nullptr) : it->second.value("last_activity", json(nullptr));
    // The learned normal range: this household's own previous four weeks.
    json normal = json::object();
    bool any = false;
    for (const char* key : kFigures) {
      std::vector<double> values;
      for (auto w = by_date.lower_bound(add_days(date, -kNormalWindowDays));
           w != by_date.end() && w->first < date; ++w) {
        if (auto v = number_or_null(w->second, key)) values.push_back(*v);
      }
      if (static_cast<int>(values.size()) >= kMinNormalDays) {
        normal[key] = {percentile(values, 10), percentile(values, 90)};
        any = true;
      } else {
        normal[key] = nullptr;
      }
    }
    day["normal"] = any ? normal : json(nullptr);
    out.push_back(std::move(day));
  }
  return {{"household", household_id}, {"days", out}};
}

json hub_health(Db& db, const std::vector<Household>& households) {
  json hubs = json::array();
  json devices = json::array();
  int hub_count = 0, device_count = 0;
  for (const auto& h : households) {
    if (!h.hub_id.empty()) {
      ++hub_count;
      auto silent = db.query_one(
          "SELECT opened_at FROM alerts WHERE household_id = ? AND kind = 'hub_silent' AND source "
          "= 'township' AND state <> 'resolved' ORDER BY opened_at LIMIT 1",
          {h.household_id});
      auto hub = db.query_one("SELECT status, status_at, last_seen_at FROM hubs WHERE hub_id = ?",
                              {h.hub_id});
      json entry{{"hub_id", h.hub_id},
                 {"household", h.household_id},
                 {"display_name", h.display_name},
                 {"village", h.village},
                 {"last_seen_at", hub ? nullable_int(*hub, 2) : json(nullptr)}};
      if (silent) {
        entry["status"] = "silent";
        entry["since"] = hub && !hub->is_null(2) ? hub->integer(2) : silent->integer(0);
        hubs.push_back(std::move(entry));
      } else if (hub && hub->text(0) == "offline") {
        entry["status"] = "offline";
        entry["since"] = nullable_int(*hub, 1);
        hubs.push_back(std::move(entry));
      }
    }
    for (auto& d : household_devices(db, h.household_id)) {
      ++device_count;
      if (d["problem"].is_null()) continue;
      devices.push_back({{"household", h.household_id},
                         {"display_name", h.display_name},
                         {"village", h.village},
                         {"device", d["device"]},
                         {"kind", d["kind"]},
                         {"problem", d["problem"]},
                         {"battery", d["battery"]},
                         {"last_seen", d["last_seen"]},
                         {"since", d["problem_since"]}});
    }
  }
  auto by_since = [](const json& a, const json& b) {
    const auto sa = a["since"].is_number() ? a["since"].get<std::int64_t>() : INT64_MAX;
    const auto sb = b["since"].is_number() ? b["since"].get<std::int64_t>() : INT64_MAX;
    return sa < sb;
  };
  std::stable_sort(hubs.begin(), hubs.end(), by_since);
  std::stable_sort(devices.begin(), devices.end(), by_since);
  return {{"hubs", hubs},
          {"devices", devices},
          {"counts",
           {{"hubs", hub_count},
            {"hubs_ok", hub_count - static_cast<int>(hubs.size())},
            {"devices", device_count},
            {"devices_ok", device_count - static_cast<int>(devices.size())}}}};
}

}  // namespace homesafe::township
