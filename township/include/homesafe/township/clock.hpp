#pragma once
// Time is injected: the service uses the system clock, tests a manual one.

#include <cstdint>
#include <string>

namespace homesafe::township {

class Clock {
 public:
  virtual ~Clock() = default;
  // Unix milliseconds (wall time: records and the hub-silence allowance are wall-time facts).
  virtual std::int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t now_ms = 0) : now_ms_(now_ms) {}
  std::int64_t now_ms() const override { return now_ms_; }
  void advance_ms(std::int64_t ms) { now_ms_ += ms; }
  void set_ms(std::int64_t ms) { now_ms_ = ms; }

 private:
  std::int64_t now_ms_;
};

// Local calendar helpers for a fixed UTC offset (China has no daylight saving time).
// "YYYY-MM-DD" of the instant `ms` at `offset_minutes` east of UTC.
std::string local_date(std::int64_t ms, int offset_minutes);
// Days since 1970-01-01 of a civil date; false if the text is not a valid YYYY-MM-DD.
bool parse_date(const std::string& text, int& year, int& month, int& day);
int days_in_month(int year, int month);
// 0 = Monday ... 6 = Sunday.
int weekday(int year, int month, int day);
// Unix ms of local midnight starting that date.
std::int64_t local_midnight_ms(int year, int month, int day, int offset_minutes);

}  // namespace homesafe::township
