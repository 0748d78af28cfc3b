#pragma once
// The daily remote-monitoring summary (docs/uplink.md `daily_summary`, priority 3): one event per
// completed local day, built from the hub's store, written once per day even across restarts
// (the last summarized date is kept in the store's meta table, in the same transaction).

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "homesafe/gateway/config.hpp"
#include "homesafe/gateway/store.hpp"
#include "homesafe/rules/rule.hpp"
#include "homesafe/rules/time_zone.hpp"

namespace homesafe::cloud_bridge {

class DailySummary {
 public:
  static constexpr const char* kMetaKey = "uplink_summary_date";
  // A day is summarized this long after its local midnight (telemetry is buffered briefly).
  static constexpr std::int64_t kGraceMs = 60'000;
  // After a long outage of the hub itself, at most this many missed days are summarized.
  static constexpr std::int64_t kMaxBackfillDays = 31;

  DailySummary(const gateway::HubConfig& config, gateway::Store& store, rules::TimeZone zone);

  // Writes the summaries of the local days completed since the last one. The first run only
  // records where to start (the first summary is for the first day completed afterwards).
  // Nothing while the wall clock is not synced. Returns how many were written.
  int run(const rules::Instant& now);

  // The body for one local day (days since 1970-01-01, local).
  nlohmann::ordered_json build(std::int64_t day);

  std::int64_t local_day(std::int64_t unix_ms) const;
  std::int64_t day_start_ms(std::int64_t day) const;
  static std::string format_date(std::int64_t day);
  static std::optional<std::int64_t> parse_date(const std::string& text);

 private:
  const gateway::HubConfig& config_;
  gateway::Store& store_;
  rules::TimeZone zone_;
};

}  // namespace homesafe::cloud_bridge
