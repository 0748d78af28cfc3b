#include "homesafe/cloud_bridge/daily_summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "homesafe/gateway/log.hpp"

namespace homesafe::cloud_bridge {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

double round_to(double value, double step) {
  return std::round(value / step) * step;
}

// Consumption from a cumulative counter (water_total_l, energy): the sum of its increases over
// the day, counted from the last reading before the day. A counter that goes back (a meter
// replaced or reset) starts again from its new value.
double consumption(gateway::Store& store, const std::string& capability, std::int64_t from,
                   std::int64_t to) {
  std::map<std::string, std::vector<double>> by_device;
  for (const auto& row : store.telemetry_between(from, to, capability)) {
    if (row.number) by_device[row.device_id].push_back(*row.number);
  }
  double total = 0;
  for (auto& [device, values] : by_device) {
    std::optional<double> previous;
    if (auto before = store.last_telemetry(device, capability, from); before && before->number) {
      previous = *before->number;
    }
    for (double value : values) {
      if (previous && value > *previous) total += value - *previous;
      previous = value;
    }
  }
  return total;
}

bool is_hazard(rules::AlertKind kind) {
  return kind == rules::AlertKind::smoke || kind == rules::AlertKind::gas ||
         kind == rules::AlertKind::co || kind == rules::AlertKind::water_leak;
}

}  // namespace

DailySummary::DailySummary(const gateway::HubConfig& config, gateway::Store& store,
                           rules::TimeZone zone)
    : config_(config), store_(store), zone_(std::move(zone)) {}

std::int64_t DailySummary::local_day(std::int64_t unix_ms) const {
  return floor_div(unix_ms + static_cast<std::int64_t>(zone_.offset_at(unix_ms)) * 1000, kDayMs);
}

std::int64_t DailySummary::day_start_ms(std::int64_t day) const {
  const std::int64_t guess = day * kDayMs;
  return guess - static_cast<std::int64_t>(zone_.offset_at(guess)) * 1000;
}

std::string DailySummary::format_date(std::int64_t day) {
  const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{day}}};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
}

std::optional<std::int64_t> DailySummary::parse_date(const std::string& text) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{m},
                                         std::chrono::day{d}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days{date}.time_since_epoch().count();
}

int DailySummary::run(const rules::Instant& now) {
  if (!now.wall_synced) return 0;  // dates from an unsynced clock would be wrong
  const std::int64_t last_complete = local_day(now.wall_ms - kGraceMs) - 1;
  std::optional<std::int64_t> last_done;
  if (auto stored = store_.get_meta(kMetaKey)) last_done = parse_date(*stored);
  if (!last_done || *last_done > last_complete) {
    // First run (or a clock that went back): start with the next day to complete.
    gateway::Store::Transaction tx(store_, gateway::Durability::full);
    store_.set_meta(kMetaKey, format_date(last_complete));
    tx.commit();
    return 0;
  }
  int written = 0;
  for (std::int64_t day = std::max(*last_done + 1, last_complete - kMaxBackfillDays + 1);
       day <= last_complete; ++day) {
    const auto body = build(day);
    gateway::Store::Transaction tx(store_, gateway::Durability::full);
    store_.add_outbox_event("daily_summary", 3, body.dump(), now);
    store_.set_meta(kMetaKey, format_date(day));
    tx.commit();
    gateway::log::info("uplink: daily summary for {} queued", format_date(day));
    ++written;
  }
  return written;
}

nlohmann::ordered_json DailySummary::build(std::int64_t day) {
  const std::int64_t from = day_start_ms(day);
  const std::int64_t to = day_start_ms(day + 1);
  nlohmann::ordered_json body;
  body["date"] = format_date(day);
  body["water_l"] = round_to(consumption(store_, "water_total_l", from, to), 0.1);
  body["energy_kwh"] = round_to(consumption(store_, "energy", from, to), 0.001);

  // Activity: presence seen (occupancy true) and doors or windows opened or closed.
  std::vector<std::int64_t> activity;
  for (const auto& row : store_.telemetry_between(from, to, "occupancy")) {
    if (row.number && *row.number != 0) activity.push_back(row.ts_ms);
  }
  for (const auto& row : store_.telemetry_between(from, to, "contact")) {
    activity.push_back(row.ts_ms);
  }
  std::sort(activity.begin(), activity.end());
  auto local_hhmm = [this](std::int64_t ms) {
    const std::int64_t minutes = zone_.local_ms_of_day(ms) / 60'000;
    return fmt::format("{:02}:{:02}", minutes / 60, minutes % 60);
  };
  body["activity_events"] = activity.size();
  body["first_activity"] =
      activity.empty() ? nlohmann::json(nullptr) : nlohmann::json(local_hhmm(activity.front()));
  body["last_activity"] =
      activity.empty() ? nlohmann::json(nullptr) : nlohmann::json(local_hhmm(activity.back()));

  std::map<std::string, int> alerts;
  std::set<std::string> hazards;
  for (const auto& alert : store_.alerts_opened_between(from, to)) {
    ++alerts[std::string(rules::to_string(alert.kind))];
    if (is_hazard(alert.kind)) hazards.insert(std::string(rules::to_string(alert.kind)));
  }
  body["alerts"] = nlohmann::ordered_json::object();
  for (const auto& [kind, count] : alerts) body["alerts"][kind] = count;

  std::set<std::string> offline;
  for (const auto& alert : store_.alerts_active_at(to)) {
    if (alert.kind == rules::AlertKind::device_offline) offline.insert(alert.device_id);
  }
  auto devices = nlohmann::ordered_json::array();
  for (const auto& device : config_.devices) {
    nlohmann::ordered_json entry;
    entry["device"] = device.id;
    entry["kind"] = drivers::to_string(device.kind);
    entry["online"] = offline.count(device.id) == 0;
    auto battery = store_.last_telemetry(device.id, "battery", to);
    entry["battery"] =
        battery && battery->number ? nlohmann::json(*battery->number) : nlohmann::json(nullptr);
    auto seen = store_.last_seen(device.id, to);
    entry["last_seen"] = seen ? nlohmann::json(*seen) : nlohmann::json(nullptr);
    devices.push_back(std::move(entry));
  }
  body["devices"] = std::move(devices);
  body["hazards"] = nlohmann::ordered_json::array();
  for (const auto& kind : hazards) body["hazards"].push_back(kind);
  return body;
}

}  // namespace homesafe::cloud_bridge
