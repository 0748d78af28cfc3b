#pragma once
// A named time zone built from TZif data (RFC 8536), so that rules can reason in the household's
// local time. Pure: the gateway reads the file, this only interprets the bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace homesafe::rules {

class TimeZone {
 public:
  // A zone with a fixed offset (seconds east of UTC).
  static TimeZone fixed(std::string name, int offset_seconds);
  // Parses TZif version 1-3 data; nullopt when the bytes are not TZif.
  static std::optional<TimeZone> from_tzif(std::string name, std::string_view bytes);

  const std::string& name() const { return name_; }
  // Offset from UTC in seconds at a Unix time in milliseconds.
  int offset_at(std::int64_t unix_ms) const;
  // Local time of day in milliseconds since local midnight.
  std::int64_t local_ms_of_day(std::int64_t unix_ms) const;
  // ISO 8601 with the local offset, second precision: 2026-11-01T07:00:00+08:00
  // (milliseconds are added when not zero).
  std::string format_iso(std::int64_t unix_ms) const;

 private:
  std::string name_;
  std::vector<std::int64_t> transitions_;  // Unix seconds, ascending
  std::vector<int> offsets_after_;         // offset in force from transitions_[i]
  int initial_offset_ = 0;                 // before the first transition (and when none)
};

// Parses ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)" into Unix milliseconds.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);

}  // namespace homesafe::rules
