#include "homesafe/sim/time.hpp"

#include <array>
#include <charconv>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

namespace homesafe::sim {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads exactly `count` digits at `pos`.
std::optional<int> digits(std::string_view text, std::size_t& pos, std::size_t count) {
  if (pos + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += count;
  return value;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::optional<Millis> parse_duration(std::string_view text) {
  struct Unit {
    std::string_view name;
    std::int64_t ms;
  };
  // "ms" before "m" so the longer name wins.
  constexpr std::array<Unit, 5> kUnits{
      {{"d", 86'400'000}, {"h", 3'600'000}, {"ms", 1}, {"m", 60'000}, {"s", 1'000}}};
  constexpr std::array<std::string_view, 5> kOrder{"d", "h", "m", "s", "ms"};
  constexpr std::int64_t kMaxMs = 100LL * 365 * 86'400'000;  // a century is plenty

  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t next_rank = 0;  // units must come in decreasing order
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    if (pos == start || pos - start > 12) return std::nullopt;
    std::int64_t number = 0;
    std::from_chars(text.data() + start, text.data() + pos, number);
    const Unit* unit = nullptr;
    for (const auto& candidate : kUnits) {
      if (text.substr(pos).starts_with(candidate.name)) {
        unit = &candidate;
        break;
      }
    }
    if (unit == nullptr) return std::nullopt;
    pos += unit->name.size();
    std::size_t rank = 0;
    while (kOrder[rank] != unit->name) ++rank;
    if (rank < next_rank) return std::nullopt;
    next_rank = rank + 1;
    total += number * unit->ms;
    if (total > kMaxMs) return std::nullopt;
  }
  return Millis{total};
}

std::optional<WallTime> parse_iso8601(std::string_view text) {
  using namespace std::chrono;
  std::size_t pos = 0;
  const auto y = digits(text, pos, 4);
  if (!y || !expect(text, pos, '-')) return std::nullopt;
  const auto mo = digits(text, pos, 2);
  if (!mo || !expect(text, pos, '-')) return std::nullopt;
  const auto d = digits(text, pos, 2);
  if (!d) return std::nullopt;
  if (!expect(text, pos, 'T') && !expect(text, pos, ' ')) return std::nullopt;
  const auto h = digits(text, pos, 2);
  if (!h || !expect(text, pos, ':')) return std::nullopt;
  const auto mi = digits(text, pos, 2);
  if (!mi || !expect(text, pos, ':')) return std::nullopt;
  const auto s = digits(text, pos, 2);
  if (!s) return std::nullopt;
  int millis = 0;
  if (expect(text, pos, '.')) {
    int scale = 100;
    const std::size_t start = pos;
    while (pos < text.size() && is_digit(text[pos])) {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int offset = 0;
  if (expect(text, pos, 'Z') || expect(text, pos, 'z')) {
    offset = 0;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    const auto oh = digits(text, pos, 2);
    if (!oh) return std::nullopt;
    int om = 0;
    if (pos < text.size()) {
      expect(text, pos, ':');
      const auto minutes = digits(text, pos, 2);
      if (!minutes) return std::nullopt;
      om = *minutes;
    }
    if (*oh > 18 || om > 59) return std::nullopt;
    offset = sign * (*oh * 60 + om);
  } else {
    return std::nullopt;  // no offset: ambiguous
  }
  if (pos != text.size()) return std::nullopt;

  const year_month_day date{year{*y}, month{static_cast<unsigned>(*mo)},
                            day{static_cast<unsigned>(*d)}};
  if (!date.ok() || *h > 23 || *mi > 59 || *s > 59) return std::nullopt;
  const auto local = sys_days{date} + hours{*h} + minutes{*mi} + seconds{*s} + milliseconds{millis};
  const auto utc = local - minutes{offset};
  return WallTime{duration_cast<milliseconds>(utc.time_since_epoch()).count(), offset};
}

std::string format_iso8601(std::int64_t unix_ms, int utc_offset_minutes) {
  using namespace std::chrono;
  const sys_time<milliseconds> local{milliseconds{unix_ms} + minutes{utc_offset_minutes}};
  const auto day_start = floor<days>(local);
  const year_month_day date{day_start};
  const hh_mm_ss time{local - day_start};
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  time.hours().count(), time.minutes().count(), time.seconds().count());
  if (time.subseconds().count() != 0) out += fmt::format(".{:03}", time.subseconds().count());
  const int magnitude = std::abs(utc_offset_minutes);
  out += fmt::format("{}{:02}:{:02}", utc_offset_minutes < 0 ? '-' : '+', magnitude / 60,
                     magnitude % 60);
  return out;
}

int local_utc_offset_minutes(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm local{};
  if (::localtime_r(&seconds, &local) == nullptr) return 0;
  return static_cast<int>(local.tm_gmtoff / 60);
}

std::int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace homesafe::sim
