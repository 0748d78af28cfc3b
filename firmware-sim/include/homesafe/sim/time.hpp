#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace homesafe::sim {

using Millis = std::chrono::milliseconds;

// A wall-clock instant with the UTC offset it is written in.
struct WallTime {
  std::int64_t unix_ms = 0;
  int utc_offset_minutes = 0;
};

// "0s", "90s", "5m", "2h", "1d", "1h30m", "250ms": non-negative integers with units in
// decreasing order (d, h, m, s, ms), each unit at most once. std::nullopt if malformed.
std::optional<Millis> parse_duration(std::string_view text);

// "2026-11-01T07:00:00+08:00" (also "Z", "+0800", "+08", fractional seconds, ' ' for 'T').
// An offset is required. std::nullopt if malformed or not a real date.
std::optional<WallTime> parse_iso8601(std::string_view text);

// "2026-11-01T07:00:10+08:00"; milliseconds appear only when non-zero (".250").
std::string format_iso8601(std::int64_t unix_ms, int utc_offset_minutes);

// The machine's current UTC offset at `unix_ms` (from TZ / /etc/localtime).
int local_utc_offset_minutes(std::int64_t unix_ms);

std::int64_t now_unix_ms();

}  // namespace homesafe::sim
