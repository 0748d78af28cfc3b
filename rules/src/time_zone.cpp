#include "homesafe/rules/time_zone.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

namespace homesafe::rules {
namespace {

std::int64_t read_be(std::string_view bytes, std::size_t at, int width) {
  std::uint64_t value = 0;
  for (int i = 0; i < width; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  }
  if (width == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
  return static_cast<std::int64_t>(value);
}

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

TimeZone TimeZone::fixed(std::string name, int offset_seconds) {
  TimeZone zone;
  zone.name_ = std::move(name);
  zone.initial_offset_ = offset_seconds;
  return zone;
}

std::optional<TimeZone> TimeZone::from_tzif(std::string name, std::string_view bytes) {
  constexpr std::size_t kHeader = 44;
  if (bytes.size() < kHeader || bytes.substr(0, 4) != "TZif") return std::nullopt;
  auto counts = [&](std::size_t base) {
    std::array<std::int64_t, 6> c{};
    for (std::size_t i = 0; i < 6; ++i) c[i] = read_be(bytes, base + 20 + i * 4, 4);
    return c;  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  };
  auto c = counts(0);
  std::size_t base = 0;
  int time_width = 4;
  const char version = bytes[4];
  if (version >= '2') {
    // Skip the v1 block; use the 64-bit one.
    const std::size_t v1_size = kHeader + static_cast<std::size_t>(c[3] * 4 + c[3] + c[4] * 6 +
                                                                   c[5] + c[2] * 8 + c[1] + c[0]);
    if (bytes.size() < v1_size + kHeader || bytes.substr(v1_size, 4) != "TZif") {
      return std::nullopt;
    }
    base = v1_size;
    c = counts(base);
    time_width = 8;
  }
  const auto timecnt = static_cast<std::size_t>(c[3]);
  const auto typecnt = static_cast<std::size_t>(c[4]);
  if (typecnt == 0 || c[3] < 0 || c[4] < 0) return std::nullopt;
  const std::size_t times_at = base + kHeader;
  const std::size_t idx_at = times_at + timecnt * static_cast<std::size_t>(time_width);
  const std::size_t types_at = idx_at + timecnt;
  if (bytes.size() < types_at + typecnt * 6) return std::nullopt;

  TimeZone zone;
  zone.name_ = std::move(name);
  auto type_offset = [&](std::size_t type) {
    return static_cast<int>(read_be(bytes, types_at + type * 6, 4));
  };
  zone.initial_offset_ = type_offset(0);
  for (std::size_t i = 0; i < timecnt; ++i) {
    const std::size_t type = static_cast<unsigned char>(bytes[idx_at + i]);
    if (type >= typecnt) return std::nullopt;
    zone.transitions_.push_back(
        read_be(bytes, times_at + i * static_cast<std::size_t>(time_width), time_width));
    zone.offsets_after_.push_back(type_offset(type));
  }
  return zone;
}

int TimeZone::offset_at(std::int64_t unix_ms) const {
  const std::int64_t seconds = floor_div(unix_ms, 1000);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), seconds);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_after_[static_cast<std::size_t>(it - transitions_.begin() - 1)];
}

std::int64_t TimeZone::local_ms_of_day(std::int64_t unix_ms) const {
  const std::int64_t local = unix_ms + static_cast<std::int64_t>(offset_at(unix_ms)) * 1000;
  const std::int64_t day = 86'400'000;
  return ((local % day) + day) % day;
}

std::string TimeZone::format_iso(std::int64_t unix_ms) const {
  const int offset = offset_at(unix_ms);
  const std::int64_t local_ms = unix_ms + static_cast<std::int64_t>(offset) * 1000;
  const std::int64_t days = floor_div(local_ms, 86'400'000);
  const std::int64_t ms_of_day = local_ms - days * 86'400'000;
  int y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  civil_from_days(days, y, mo, d);
  const auto seconds = static_cast<int>(ms_of_day / 1000);
  const auto millis = static_cast<int>(ms_of_day % 1000);
  const int abs_offset = offset < 0 ? -offset : offset;
  char buffer[48];
  int n = std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d", y, mo, d,
                        seconds / 3600, seconds / 60 % 60, seconds % 60);
  if (millis != 0)
    n += std::snprintf(buffer + n, sizeof buffer - static_cast<std::size_t>(n), ".%03d", millis);
  if (offset == 0) {
    std::snprintf(buffer + n, sizeof buffer - static_cast<std::size_t>(n), "Z");
  } else {
    std::snprintf(buffer + n, sizeof buffer - static_cast<std::size_t>(n), "%c%02d:%02d",
                  offset < 0 ? '-' : '+', abs_offset / 3600, abs_offset / 60 % 60);
  }
  return buffer;
}

std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) {
  auto digits = [&](std::size_t at, std::size_t count, int& out) {
    if (at + count > text.size()) return false;
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const char ch = text[at + i];
      if (ch < '0' || ch > '9') return false;
      value = value * 10 + (ch - '0');
    }
    out = value;
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() < 20 || !digits(0, 4, y) || text[4] != '-' || !digits(5, 2, mo) ||
      text[7] != '-' || !digits(8, 2, d) || (text[10] != 'T' && text[10] != ' ') ||
      !digits(11, 2, h) || text[13] != ':' || !digits(14, 2, mi) || text[16] != ':' ||
      !digits(17, 2, s)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::size_t at = 19;
  int millis = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    int scale = 100;
    const std::size_t start = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      millis += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == start) return std::nullopt;
  }
  int offset = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const int sign = text[at] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!digits(at + 1, 2, oh) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !digits(at + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = sign * (oh * 3600 + om * 60);
    at += 6;
  } else {
    return std::nullopt;  // a time without an offset is ambiguous
  }
  if (at != text.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 86400 + h * 3600 + mi * 60 + s) - offset) * 1000 + millis;
}

}  // namespace homesafe::rules
