#pragma once
// The monthly visit-rate report and the caregiver response figures.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "homesafe/township/store.hpp"

namespace homesafe::township {

inline constexpr const char* kVisitTypes[] = {"上门入户", "电话视频", "远程监测"};

struct Month {
  int year = 0;
  int month = 0;
};
std::optional<Month> parse_month(const std::string& text);  // "YYYY-MM"

// The visit-rate report for `households` (already restricted to what the reader may see).
// A month has four weeks: days 1–7, 8–14, 15–21 and 22 to the end. A high-risk resident misses a
// week without any visit in it; weeks that have not started by `now_ms` do not count yet.
nlohmann::json visit_rate_report(Store& store, const std::vector<Household>& households,
                                 Month month, std::int64_t now_ms, int utc_offset_minutes);
// The same as CSV (UTF-8 with a byte order mark so that spreadsheet programs read it right).
std::string visit_rate_csv(const nlohmann::json& report);
// The same as an Excel workbook: the figures, and the residents without a visit this month.
std::string visit_rate_xlsx(const nlohmann::json& report);

// Time from an alert's opening to its first acknowledgement, per caregiver (the `by` of the
// handling record) and overall, for alerts opened in [from_ms, to_ms).
nlohmann::json caregiver_response(Store& store, const std::vector<Household>& households,
                                  std::int64_t from_ms, std::int64_t to_ms);

}  // namespace homesafe::township
