#pragma once
// What the console shows, as JSON built from the township database: an alert with its escalation
// and handling record, a household's devices, its daily figures with the learned normal range,
// and the health of the hubs and devices a user may see. Shapes: docs/console.md.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "homesafe/township/store.hpp"

namespace homesafe::township {

// Columns of `alerts a JOIN households o` that alert_view() reads, in order.
extern const char* const kAlertViewColumns;
// One alert (a row of kAlertViewColumns) with labels, escalation and handling record.
nlohmann::json alert_view(Db& db, const Row& row);
// The alert with this id, or nullopt.
std::optional<nlohmann::json> alert_view(Db& db, const std::string& alert_id);

// Battery (percent) below which a device counts as low even without a low_battery event.
inline constexpr double kLowBatteryPercent = 20;

// The household's devices: the latest daily summary's list, updated by the device-health events
// that came after it. Each: device, kind, online, battery, last_seen, problem, problem_since.
nlohmann::json household_devices(Db& db, const std::string& household_id);

// Daily water, energy and activity for the `days` local dates ending with `last_date`
// (YYYY-MM-DD), oldest first; `normal` is the 10th–90th percentile of the 28 days before each day
// (null with fewer than kMinNormalDays of them).
inline constexpr int kNormalWindowDays = 28;
inline constexpr int kMinNormalDays = 7;
nlohmann::json daily_series(Db& db, const std::string& household_id, const std::string& last_date,
                            int days);

// The p-th percentile (0..100) of `values` by linear interpolation; `values` must not be empty.
double percentile(std::vector<double> values, double p);

// Silent or offline hubs and offline or low-battery devices of `households`, oldest problem first.
nlohmann::json hub_health(Db& db, const std::vector<Household>& households);

// YYYY-MM-DD shifted by `delta` days.
std::string add_days(const std::string& date, int delta);

}  // namespace homesafe::township
