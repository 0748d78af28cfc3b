#include "homesafe/rules/routine_rule.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "homesafe/rules/activity.hpp"

namespace homesafe::rules {
namespace {

constexpr std::string_view kDayPrefix = "routine/household/day/";
constexpr std::string_view kTodayKey = "routine/household/today";
constexpr std::string_view kOpenKey = "routine/household/open";
// Set by the engine while the household is away (engine.cpp), on the rule clock.
constexpr std::string_view kEngineAwayUntilMono = "away/until_mono";

constexpr int kSlots = RoutineRule::kSlots;
constexpr std::int64_t kSlotMs = RoutineRule::kSlotMinutes * kMinuteMs;
constexpr std::int32_t kMaxGapMinutes = 14 * 24 * 60;  // stored values are capped here

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// Whole minutes, rounded up (a learned gap is never smaller than the real one).
std::int32_t to_minutes(std::int64_t ms) {
  if (ms <= 0) return 0;
  return static_cast<std::int32_t>(
      std::min<std::int64_t>(kMaxGapMinutes, (ms + kMinuteMs - 1) / kMinuteMs));
}

// YYYYMMDD of a local day number (days since 1970-01-01).
std::int64_t date_of_day(std::int64_t day) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  return static_cast<std::int64_t>(static_cast<int>(ymd.year())) * 10000 +
         static_cast<unsigned>(ymd.month()) * 100 + static_cast<unsigned>(ymd.day());
}

std::optional<std::int64_t> day_of_date(std::int64_t yyyymmdd) {
  if (yyyymmdd <= 0 || yyyymmdd > 99'991'231) return std::nullopt;
  const std::chrono::year_month_day ymd{
      std::chrono::year{static_cast<int>(yyyymmdd / 10000)},
      std::chrono::month{static_cast<unsigned>(yyyymmdd / 100 % 100)},
      std::chrono::day{static_cast<unsigned>(yyyymmdd % 100)}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd}.time_since_epoch().count();
}

std::string day_key(std::int64_t day) {
  std::string key(kDayPrefix);
  key += std::to_string(date_of_day(day));
  return key;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Comma-separated integers; empty when any of them is not a number.
std::vector<std::int64_t> parse_list(std::string_view text) {
  std::vector<std::int64_t> out;
  while (true) {
    const auto comma = text.find(',');
    const auto value = parse_int(text.substr(0, comma));
    if (!value) return {};
    out.push_back(*value);
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

void append_slots(std::string& out, const RoutineRule::Slots& slots) {
  for (const std::int32_t value : slots) {
    out += ',';
    out += std::to_string(value);
  }
}

// The 96 numbers of a day record (no leading comma).
std::string format_record(const RoutineRule::DayRecord& record) {
  std::string out;
  append_slots(out, record.reached);
  append_slots(out, record.began);
  return out.substr(1);
}

bool read_record(const std::vector<std::int64_t>& values, std::size_t from,
                 RoutineRule::DayRecord& record) {
  if (values.size() != from + 2 * kSlots) return false;
  for (std::size_t i = 0; i < kSlots; ++i) {
    record.reached[i] =
        static_cast<std::int32_t>(std::clamp<std::int64_t>(values[from + i], -1, kMaxGapMinutes));
    record.began[i] = static_cast<std::int32_t>(
        std::clamp<std::int64_t>(values[from + kSlots + i], -1, kMaxGapMinutes));
  }
  return true;
}

RoutineRule::DayRecord empty_record() {
  RoutineRule::DayRecord record;
  record.reached.fill(-1);
  record.began.fill(-1);
  return record;
}

// Days of history kept: enough to ever reach min_days.
int window_days(const RoutineSettings& settings) {
  return std::max(settings.history_days, settings.min_days);
}

}  // namespace

void RoutineRule::on_message(const Observation& observation, RuleState& state,
                             std::vector<RuleEvent>& out) {
  if (!household_->settings.routine.enabled) {
    deadline_.reset();
    return;
  }
  if (!loaded_) load(state);
  const Instant now = observation.now;
  const Facts& facts = observation.facts;
  const Last before{facts.previous_activity_mono_ms, facts.previous_was_entrance};
  advance(now, before, state);
  if (!facts.activity) {
    judge(now, before, state, out);
    return;
  }
  // The gap this sign of life ends may be the longest of its slot, and of the slot it began in.
  if (now.wall_synced) {
    if (const auto since = inside_since_wall_ms(now, before)) {
      const auto gap = inside_gap_ms(now, before, now.wall_ms);
      const bool longer = note_gap(record_.reached, slot_, gap);
      if (note_gap(record_.began, slot_of(*since), gap) || longer) {
        save_today(state);  // a few times per slot at most; a restart loses nothing
      }
    }
  }
  if (state.get(kOpenKey)) {
    out.push_back({Signal::clear, AlertKind::routine_deviation, {}, {}});
    state.erase(kOpenKey);
  }
  judge(now, Last{now.mono_ms, facts.entrance}, state, out);
}

void RoutineRule::on_tick(Instant now, RuleState& state, std::vector<RuleEvent>& out) {
  if (!household_->settings.routine.enabled) {
    deadline_.reset();
    return;
  }
  if (!loaded_) load(state);
  const Last last{ActivityTracker::last_activity(state), ActivityTracker::last_was_entrance(state)};
  advance(now, last, state);
  judge(now, last, state, out);
}

void RoutineRule::on_away_ended(Instant now, RuleState& state) {
  if (!household_->settings.routine.enabled) return;
  if (!loaded_) load(state);
  // The engine has marked `now` as a sign of life: the gap starts afresh from here.
  const Last last{now.mono_ms, false};
  advance(now, last, state);
  // Part of today was spent away: not a normal day to learn from.
  complete_ = false;
  save_today(state);
  // What was raised before or while away (the engine dropped the latter) is not watched any
  // more: the watch starts again.
  state.erase(kOpenKey);
  std::vector<RuleEvent> ignored;  // the gap is zero: nothing to raise
  judge(now, last, state, ignored);
}

void RoutineRule::load(RuleState& state) {
  loaded_ = true;
  history_.clear();
  for (const auto& [key, value] : state.with_prefix(kDayPrefix)) {
    const auto date = parse_int(std::string_view(key).substr(kDayPrefix.size()));
    const auto day = date ? day_of_date(*date) : std::nullopt;
    DayRecord record;
    if (day && read_record(parse_list(value), 0, record)) history_[*day] = record;
  }
  positioned_ = false;
  if (const auto today = state.get(kTodayKey)) {
    const auto values = parse_list(*today);
    const auto day = values.size() == 3 + 2 * kSlots ? day_of_date(values[0]) : std::nullopt;
    if (day && values[1] >= 0 && values[1] < kSlots && read_record(values, 3, record_)) {
      positioned_ = true;
      today_ = *day;
      slot_ = static_cast<int>(values[1]);
      complete_ = values[2] == 1;
    }
  }
  if (positioned_) {
    prune(state);
  } else {
    recompute_usual();
  }
}

void RoutineRule::advance(Instant now, Last last, RuleState& state) {
  if (!now.wall_synced) {
    // Local time is not known: nothing is learned until the clock is set (the position jump
    // that follows marks the day incomplete).
    if (positioned_ && complete_) {
      complete_ = false;
      save_today(state);
    }
    return;
  }
  const std::int64_t day = local_day(now.wall_ms);
  const int slot = slot_of(now.wall_ms);
  const std::int64_t here = today_ * kSlots + slot_;
  const std::int64_t there = day * kSlots + slot;
  if (positioned_ && there == here) return;

  if (positioned_ && there == here + 1) {
    // A slot boundary: the gap reached there ends the old slot and starts the new one.
    const auto gap = inside_gap_ms(now, last, slot_start_wall_ms(now.wall_ms));
    note_gap(record_.reached, slot_, gap);
    if (!last.mono_ms || away(now, state)) complete_ = false;
    if (day != today_) {
      finish_day(state);
      today_ = day;
      record_ = empty_record();
      complete_ = true;  // followed from its first moment
      prune(state);
    }
    slot_ = slot;
    note_gap(record_.reached, slot_, gap);
    save_today(state);
    return;
  }

  // The first call ever, or a hole (the gateway was down, the wall clock jumped): what happened
  // meanwhile is unknown, so the days concerned are not learned.
  if (positioned_ && day != today_) {
    complete_ = false;
    finish_day(state);
  }
  const bool new_day = !positioned_ || day != today_;
  if (new_day) record_ = empty_record();
  positioned_ = true;
  today_ = day;
  slot_ = slot;
  complete_ = false;
  note_gap(record_.reached, slot_, inside_gap_ms(now, last, now.wall_ms));
  if (new_day) prune(state);
  save_today(state);
}

void RoutineRule::finish_day(RuleState& state) {
  if (!learnable_today()) return;
  state.set(day_key(today_), format_record(record_));
  history_[today_] = record_;
}

void RoutineRule::prune(RuleState& state) {
  const std::int64_t oldest = today_ - window_days(household_->settings.routine);
  for (const auto& [key, value] : state.with_prefix(kDayPrefix)) {
    const auto date = parse_int(std::string_view(key).substr(kDayPrefix.size()));
    const auto day = date ? day_of_date(*date) : std::nullopt;
    if (!day || *day < oldest) state.erase(key);  // also keys that cannot be read
  }
  while (!history_.empty() && history_.begin()->first < oldest) history_.erase(history_.begin());
  recompute_usual();
}

void RoutineRule::save_today(RuleState& state) const {
  std::string value = std::to_string(date_of_day(today_));
  value += ',';
  value += std::to_string(slot_);
  value += complete_ ? ",1," : ",0,";
  value += format_record(record_);
  state.set(kTodayKey, value);
}

bool RoutineRule::note_gap(Slots& slots, int slot, std::optional<std::int64_t> gap_ms) {
  if (!gap_ms) return false;
  auto& max = slots[static_cast<std::size_t>(slot)];
  const std::int32_t minutes = to_minutes(*gap_ms);
  if (minutes <= max) return false;
  max = minutes;
  return true;
}

namespace {

// Per slot, the largest value over the days and over the slot and its neighbours (0 if none).
RoutineRule::Slots usual_of(const std::map<std::int64_t, RoutineRule::DayRecord>& history,
                            RoutineRule::Slots RoutineRule::DayRecord::*field) {
  RoutineRule::Slots per_slot{};
  for (const auto& [day, record] : history) {
    for (std::size_t i = 0; i < kSlots; ++i)
      per_slot[i] = std::max(per_slot[i], (record.*field)[i]);
  }
  RoutineRule::Slots usual{};
  for (int i = 0; i < kSlots; ++i) {
    for (int d = -RoutineRule::kNeighbourSlots; d <= RoutineRule::kNeighbourSlots; ++d) {
      auto& value = usual[static_cast<std::size_t>(i)];
      value = std::max(value, per_slot[static_cast<std::size_t>((i + d + kSlots) % kSlots)]);
    }
  }
  return usual;
}

}  // namespace

void RoutineRule::recompute_usual() {
  usual_reached_ = usual_of(history_, &DayRecord::reached);
  usual_began_ = usual_of(history_, &DayRecord::began);
  known_days_.fill(0);
  for (const auto& [day, record] : history_) {
    for (std::size_t i = 0; i < kSlots; ++i) known_days_[i] += record.reached[i] >= 0 ? 1 : 0;
  }
}

bool RoutineRule::learnable_today() const {
  if (!complete_) return false;
  // At home (some inside gap known) in at least half of the waking slots: a day mostly spent
  // out, or in hospital without away mode, says nothing about the routine at home.
  int waking = 0;
  int inside = 0;
  for (int i = 0; i < kSlots; ++i) {
    if (household_->settings.sleep.contains(i * kSlotMinutes)) continue;
    ++waking;
    if (record_.reached[static_cast<std::size_t>(i)] >= 0) ++inside;
  }
  return 2 * inside >= waking;
}

void RoutineRule::judge(Instant now, Last last, RuleState& state, std::vector<RuleEvent>& out) {
  const auto& settings = household_->settings.routine;
  const std::int64_t next_boundary = slot_start_wall_ms(now.wall_ms) + kSlotMs;
  std::int64_t wake_wall = next_boundary;  // every slot boundary is recorded
  const auto since = inside_since_wall_ms(now, last);
  // A slot at which the resident was at home on fewer than half of min_days learned days has no
  // known usual gap: it is not judged (the inactivity rule still watches).
  const int slot_days = known_days_[static_cast<std::size_t>(slot_)];
  const bool watching = now.wall_synced && since &&
                        static_cast<int>(history_.size()) >= settings.min_days &&
                        2 * slot_days >= settings.min_days && !state.get(kOpenKey);
  if (watching) {
    const int began = slot_of(*since);
    const std::int64_t gap = inside_gap_ms(now, last, now.wall_ms).value_or(0);
    const std::int64_t limit = threshold_ms(slot_, began);
    if (!household_->asleep(now.wall_ms)) {
      if (gap >= limit) {
        std::string detail = "gap_min=" + std::to_string(gap / kMinuteMs) +
                             ",usual_min=" + std::to_string(usual_minutes(slot_, began)) +
                             ",limit_min=" + std::to_string(limit / kMinuteMs);
        out.push_back({Signal::raise, AlertKind::routine_deviation, {}, std::move(detail)});
        state.set(kOpenKey, "1");
      } else {
        wake_wall = std::min(wake_wall, now.wall_ms + (limit - gap));
      }
    } else {
      // Asleep: the gap does not grow until the waking window starts (perhaps in this slot).
      const std::int64_t into_minute = household_->zone.local_ms_of_day(now.wall_ms) % kMinuteMs;
      for (std::int64_t at = now.wall_ms - into_minute + kMinuteMs; at < next_boundary;
           at += kMinuteMs) {
        if (!household_->asleep(at)) {
          wake_wall = std::min(wake_wall, at + (limit - gap));
          break;
        }
      }
    }
  }
  deadline_ = now.mono_ms + std::max<std::int64_t>(1, wake_wall - now.wall_ms);
}

std::optional<std::int64_t> RoutineRule::inside_since_wall_ms(Instant now, Last last) {
  if (!last.mono_ms || last.entrance) return std::nullopt;
  return now.wall_ms - (now.mono_ms - *last.mono_ms);
}

std::optional<std::int64_t> RoutineRule::inside_gap_ms(Instant now, Last last,
                                                       std::int64_t at_wall_ms) const {
  const auto since = inside_since_wall_ms(now, last);
  if (!since) return std::nullopt;
  if (at_wall_ms <= *since) return 0;
  return household_->waking_ms_between(*since, at_wall_ms);
}

std::int32_t RoutineRule::usual_minutes(int now_slot, int began) const {
  return std::max(usual_reached_[static_cast<std::size_t>(now_slot)],
                  usual_began_[static_cast<std::size_t>(began)]);
}

std::int64_t RoutineRule::threshold_ms(int now_slot, int began) const {
  const auto& settings = household_->settings.routine;
  const double usual_ms =
      static_cast<double>(usual_minutes(now_slot, began)) * static_cast<double>(kMinuteMs);
  const auto scaled = static_cast<std::int64_t>(std::llround(settings.factor * usual_ms));
  return std::max(settings.min_gap_ms, scaled + settings.margin_ms);
}

std::int64_t RoutineRule::local_day(std::int64_t wall_ms) const {
  const std::int64_t offset_ms =
      static_cast<std::int64_t>(household_->zone.offset_at(wall_ms)) * 1000;
  return floor_div(wall_ms + offset_ms, kDayMs);
}

int RoutineRule::slot_of(std::int64_t wall_ms) const {
  return household_->local_minute(wall_ms) / kSlotMinutes;
}

std::int64_t RoutineRule::slot_start_wall_ms(std::int64_t wall_ms) const {
  return wall_ms - household_->zone.local_ms_of_day(wall_ms) % kSlotMs;
}

bool RoutineRule::away(Instant now, const RuleState& state) const {
  const auto until = state.get_int(kEngineAwayUntilMono);
  return until && now.mono_ms < *until;
}

}  // namespace homesafe::rules
