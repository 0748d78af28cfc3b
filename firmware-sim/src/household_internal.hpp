#pragma once
// Internal to the household simulator: the person's timeline (what they do, where, when) and
// what each activity makes the devices sense. household_life.cpp plans and renders it;
// household.cpp turns the sensed events into device messages.

#include <cstdint>
#include <string>
#include <vector>

#include "homesafe/sim/household.hpp"

namespace homesafe::sim::life {

inline constexpr std::int64_t kSecond = 1000;
inline constexpr std::int64_t kMinute = 60 * kSecond;
inline constexpr std::int64_t kHour = 60 * kMinute;
inline constexpr std::int64_t kDay = 24 * kHour;

enum class Room { bedroom, bathroom, kitchen, hall, living, outside };

enum class ActivityType {
  sleep,      // in bed (night)
  nap_bed,    // in bed (day)
  nap_chair,  // dozing in the living room
  toilet,
  wash,    // washing at the basin: 10-30 L
  shower,  // 30-50 L
  kettle,  // filling and boiling the kettle
  cook,    // the stove (induction hob) on
  eat,
  dishes,
  idle,       // sitting in the living room (no sensor there), now and then to the kitchen
  tv,         // as idle, with the television on
  housework,  // moving around the flat
  outing,     // out through the front door, back at the end
  fallen,     // on the floor: nothing happens
  away,       // away for days (hospital): out through the door a few minutes after the start
};

struct Activity {
  ActivityType type = ActivityType::idle;
  Room room = Room::living;
  std::int64_t start = 0;  // Unix ms
  std::int64_t end = 0;    // exclusive
  std::uint64_t seed = 0;  // what the rendering draws (the same for both parts of a cut)
  bool keep_tv = false;    // cut by a fall: the television stays as it was
};

// Consecutive activities covering the whole run, sorted by start.
using Timeline = std::vector<Activity>;

// What the devices sense, before the devices decide what and when to publish.
enum class Target {
  hall_motion,
  kitchen_motion,
  bathroom_motion,
  bed,     // value 1: in bed
  door,    // value 1: open
  water,   // value: litres drawn
  kettle,  // value: watts from now on
  stove,   // value: watts
  tv,      // value: watts
};
inline constexpr int kTargetCount = 9;

struct Sensed {
  std::int64_t t = 0;
  Target target = Target::hall_motion;
  double value = 0;
};

// The person's habits, drawn once per household from its seed.
struct Profile {
  double wake_minute = 0;  // mean wake time, minutes after local midnight
  double bed_minute = 0;   // mean bedtime
  double outing_p = 0;     // a normal day has an outing
  double morning_outing_p = 0;
  double quiet_day_p = 0;  // stays in
  double visit_day_p = 0;  // 4-8 h family visit
  double nap_p = 0;
  double nap_in_bed_p = 0;
  double breakfast_cook_p = 0;
  double afternoon_tea_p = 0;
  double afternoon_tv_p = 0;
  double evening_tv_p = 0;
  unsigned market_days = 0;  // bit per weekday (0 = Sunday): outings almost certain
  int shower_every_days = 3;
  double night_toilet_weights[4] = {};  // 0, 1, 2, 3 visits
  double base_celsius = 18;
  double swing_celsius = 2;
};

Profile draw_profile(PortableRng& rng);

// The whole run [start_ms, start_ms + days) of ordinary life.
Timeline plan_life(const Profile& profile, PortableRng& rng, std::int64_t start_ms, int days);

// The activity covering `t` (nullptr before the first or after the last).
const Activity* activity_at(const Timeline& timeline, std::int64_t t);

// Replaces [from, to) of the timeline by `replacement` (its start/end are set here); activities
// overlapping the window keep their parts outside it.
void cut(Timeline& timeline, std::int64_t from, std::int64_t to, Activity replacement);

// What the devices sense during the timeline, sorted by time (stable).
std::vector<Sensed> render(const Timeline& timeline);

// Every message the installation publishes from `start` to `end` (exclusive) while the person
// lives `sensed` (sorted): availability at boot, state changes, periodic reports and check-ins.
// In time order; ties in household_devices() order.
std::vector<Message> device_messages(const std::string& household, const Profile& profile,
                                     std::uint64_t seed, std::int64_t start, std::int64_t end,
                                     const std::vector<Sensed>& sensed);

// Local time helpers (UTC+08:00).
inline std::int64_t local_midnight(std::int64_t t) {
  const std::int64_t offset = kHouseholdUtcOffsetMinutes * kMinute;
  const std::int64_t local = t + offset;
  const std::int64_t day = (local >= 0 ? local : local - kDay + 1) / kDay;
  return day * kDay - offset;
}
inline std::int64_t minute_of_day(std::int64_t t) {
  return (t - local_midnight(t)) / kMinute;
}
// 0 = Sunday.
inline int weekday(std::int64_t t) {
  const std::int64_t days = (local_midnight(t) + kHouseholdUtcOffsetMinutes * kMinute) / kDay;
  return static_cast<int>(((days % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
}

}  // namespace homesafe::sim::life
