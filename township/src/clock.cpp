#include "homesafe/township/clock.hpp"

#include <fmt/format.h>

#include <chrono>

namespace homesafe::township {
namespace {

// Howard Hinnant's civil-calendar algorithms (public-domain arithmetic, written out here).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& year, int& month, int& day) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  year = static_cast<int>(y + (month <= 2));
}

}  // namespace

std::int64_t SystemClock::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string local_date(std::int64_t ms, int offset_minutes) {
  const std::int64_t local = ms + static_cast<std::int64_t>(offset_minutes) * 60'000;
  std::int64_t days = local / 86'400'000;
  if (local % 86'400'000 < 0) --days;
  int y = 0, m = 0, d = 0;
  civil_from_days(days, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
  return kDays[month - 1];
}

bool parse_date(const std::string& text, int& year, int& month, int& day) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  year = std::stoi(text.substr(0, 4));
  month = std::stoi(text.substr(5, 2));
  day = std::stoi(text.substr(8, 2));
  if (year < 1970 || month < 1 || month > 12) return false;
  return day >= 1 && day <= days_in_month(year, month);
}

int weekday(int year, int month, int day) {
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  // 1970-01-01 was a Thursday (3 with Monday = 0).
  return static_cast<int>(((days % 7) + 7 + 3) % 7);
}

std::int64_t local_midnight_ms(int year, int month, int day, int offset_minutes) {
  return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) *
             86'400'000 -
         static_cast<std::int64_t>(offset_minutes) * 60'000;
}

}  // namespace homesafe::township
