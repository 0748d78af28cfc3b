// The life model of the household simulator: habits (Profile), a day-by-day plan of activities
// (Timeline) and what each activity makes the devices sense (render). All times are Unix ms;
// local time is UTC+08:00.

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include "household_internal.hpp"

namespace homesafe::sim {

// ---- PortableRng ----

double PortableRng::uniform() {
  return static_cast<double>(next() >> 11) / 9007199254740992.0;  // 2^53
}

double PortableRng::uniform(double low, double high) {
  return low + (high - low) * uniform();
}

std::int64_t PortableRng::uniform_int(std::int64_t low, std::int64_t high) {
  if (high <= low) return low;
  const std::uint64_t span = static_cast<std::uint64_t>(high - low) + 1;
  if (span == 0) return static_cast<std::int64_t>(next());  // the whole 64-bit range
  // Rejection: only values below the largest multiple of span are used.
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % span;
  std::uint64_t value = next();
  while (value >= limit) value = next();
  return low + static_cast<std::int64_t>(value % span);
}

double PortableRng::normal(double mean, double sd) {
  double sum = 0;
  for (int i = 0; i < 12; ++i) sum += uniform();
  return mean + sd * (sum - 6.0);
}

std::size_t PortableRng::pick(std::span<const double> weights) {
  double total = 0;
  for (double weight : weights) total += std::max(weight, 0.0);
  double point = uniform() * total;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    point -= std::max(weights[i], 0.0);
    if (point < 0) return i;
  }
  return weights.empty() ? 0 : weights.size() - 1;
}

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

namespace life {
namespace {

using A = ActivityType;

// Minutes as whole-second milliseconds.
std::int64_t minutes(double value) {
  return std::llround(value * 60.0) * kSecond;
}

std::int64_t random_minutes(PortableRng& rng, double low, double high) {
  return minutes(rng.uniform(low, high));
}

// ---- Planning ----

class Planner {
 public:
  Planner(PortableRng& rng, Timeline& out, std::int64_t cursor)
      : rng_(rng), out_(out), cursor_(cursor), last_toilet_(cursor) {
    toilet_gap_ = random_minutes(rng_, 100, 180);
  }

  std::int64_t cursor() const { return cursor_; }

  void add(A type, Room room, std::int64_t duration) {
    if (duration <= 0) return;
    out_.push_back({type, room, cursor_, cursor_ + duration, rng_.next(), false});
    cursor_ += duration;
    if (type == A::toilet) last_toilet_ = cursor_;
  }

  void toilet() { add(A::toilet, Room::bathroom, random_minutes(rng_, 3, 6)); }

  enum class Fill { morning, afternoon, evening };

  // Sitting, television or housework until `target`, with toilet visits every 1.5-3 h.
  void fill_until(std::int64_t target, Fill fill, bool tv) {
    while (cursor_ < target) {
      const std::int64_t remaining = target - cursor_;
      if (cursor_ - last_toilet_ >= toilet_gap_ && remaining > 10 * kMinute) {
        toilet();
        toilet_gap_ = random_minutes(rng_, 100, 180);
        continue;
      }
      std::int64_t chunk = std::min(remaining, random_minutes(rng_, 30, 90));
      if (remaining - chunk < 5 * kMinute) chunk = remaining;
      A type = tv ? A::tv : A::idle;
      Room room = Room::living;
      if (fill == Fill::morning && rng_.chance(0.35)) {
        type = A::housework;
        room = Room::hall;
        chunk = std::min(chunk, random_minutes(rng_, 15, 40));
      }
      add(type, room, chunk);
    }
  }

 private:
  PortableRng& rng_;
  Timeline& out_;
  std::int64_t cursor_;
  std::int64_t last_toilet_;
  std::int64_t toilet_gap_ = 0;
};

std::int64_t at_local(std::int64_t midnight, double minute_of_day) {
  return midnight + minutes(minute_of_day);
}

// Breakfast, outings, meals, nap, television, evening wash; returns the bedtime it reached.
std::int64_t plan_day(const Profile& profile, PortableRng& rng, Timeline& out,
                      std::int64_t midnight, int day_index, std::int64_t wake,
                      std::int64_t bedtime) {
  using Fill = Planner::Fill;
  Planner plan(rng, out, wake);
  plan.toilet();
  plan.add(A::wash, Room::bathroom, random_minutes(rng, 10, 20));
  plan.add(A::kettle, Room::kitchen, random_minutes(rng, 5, 7));
  if (rng.chance(profile.breakfast_cook_p)) {
    plan.add(A::cook, Room::kitchen, random_minutes(rng, 14, 18));
  }
  plan.add(A::eat, Room::kitchen, random_minutes(rng, 12, 25));
  plan.add(A::dishes, Room::kitchen, random_minutes(rng, 5, 10));

  const int wd = weekday(midnight);
  const bool market_day = (profile.market_days >> wd) & 1U;
  const bool visit = rng.chance(profile.visit_day_p);
  const bool quiet = !visit && rng.chance(profile.quiet_day_p);
  const bool outing = !visit && !quiet && rng.chance(market_day ? 0.95 : profile.outing_p);
  const bool morning = outing && rng.chance(market_day ? 0.9 : profile.morning_outing_p);
  const double u = rng.uniform();  // short outings are more common, except on market days
  const double outing_minutes = 30 + 150 * (market_day ? u : u * std::sqrt(u));
  const bool afternoon_tv = rng.chance(profile.afternoon_tv_p);

  if (visit) {
    plan.fill_until(at_local(midnight, rng.uniform(9 * 60, 10.5 * 60)), Fill::morning, false);
    plan.add(A::outing, Room::outside, random_minutes(rng, 4 * 60, 8 * 60));
  } else {
    if (morning) {
      plan.fill_until(at_local(midnight, rng.uniform(7.75 * 60, 9.5 * 60)), Fill::morning, false);
      plan.add(A::outing, Room::outside, minutes(outing_minutes));
    }
    plan.fill_until(at_local(midnight, rng.uniform(11.25 * 60, 12 * 60)), Fill::morning, false);
    plan.add(A::cook, Room::kitchen, random_minutes(rng, 15, 40) + 4 * kMinute);
    plan.add(A::eat, Room::kitchen, random_minutes(rng, 15, 25));
    plan.add(A::dishes, Room::kitchen, random_minutes(rng, 5, 10));
    if (rng.chance(profile.nap_p)) {
      plan.toilet();
      const bool in_bed = rng.chance(profile.nap_in_bed_p);
      plan.add(in_bed ? A::nap_bed : A::nap_chair, in_bed ? Room::bedroom : Room::living,
               random_minutes(rng, 30, 90));
    }
    if (outing && !morning) {
      plan.fill_until(at_local(midnight, rng.uniform(14.5 * 60, 15.5 * 60)), Fill::afternoon,
                      afternoon_tv);
      const std::int64_t latest = at_local(midnight, 18 * 60);
      if (plan.cursor() + 20 * kMinute < latest) {
        plan.add(A::outing, Room::outside,
                 std::min(minutes(outing_minutes), latest - plan.cursor()));
      }
    }
  }
  if (rng.chance(profile.afternoon_tea_p)) {
    plan.fill_until(at_local(midnight, rng.uniform(15 * 60, 16 * 60)), Fill::afternoon,
                    afternoon_tv);
    if (plan.cursor() < at_local(midnight, 16.5 * 60)) {
      plan.add(A::kettle, Room::kitchen, random_minutes(rng, 5, 7));
    }
  }
  plan.fill_until(at_local(midnight, rng.uniform(17 * 60, 18 * 60)), Fill::afternoon, afternoon_tv);
  if (!visit || rng.chance(0.5)) {
    plan.add(A::cook, Room::kitchen, random_minutes(rng, 10, 30) + 4 * kMinute);
  }
  plan.add(A::eat, Room::kitchen, random_minutes(rng, 15, 25));
  plan.add(A::dishes, Room::kitchen, random_minutes(rng, 5, 10));

  const bool shower = day_index % profile.shower_every_days == 0;
  const std::int64_t wash = shower ? random_minutes(rng, 15, 20) : random_minutes(rng, 10, 15);
  plan.fill_until(bedtime - wash - 5 * kMinute, Fill::evening, rng.chance(profile.evening_tv_p));
  plan.add(shower ? A::shower : A::wash, Room::bathroom, wash);
  plan.toilet();
  return plan.cursor();
}

// Sleep from `bedtime` to `wake`, with 0-3 toilet visits.
void plan_night(const Profile& profile, PortableRng& rng, Timeline& out, std::int64_t bedtime,
                std::int64_t wake, std::int64_t first_visit) {
  const std::size_t count = rng.pick(profile.night_toilet_weights);
  std::vector<std::int64_t> visits;
  const std::int64_t latest = wake - 30 * kMinute;
  for (std::size_t i = 0; i < count && first_visit < latest; ++i) {
    visits.push_back(first_visit + rng.uniform_int(0, (latest - first_visit) / kSecond) * kSecond);
  }
  std::sort(visits.begin(), visits.end());
  std::int64_t cursor = bedtime;
  for (std::int64_t visit : visits) {
    if (visit < cursor + 40 * kMinute) continue;  // too close to the previous one
    out.push_back({A::sleep, Room::bedroom, cursor, visit, rng.next(), false});
    const std::int64_t end = visit + random_minutes(rng, 3, 6);
    out.push_back({A::toilet, Room::bathroom, visit, end, rng.next(), false});
    cursor = end;
  }
  out.push_back({A::sleep, Room::bedroom, cursor, wake, rng.next(), false});
}

// ---- Rendering ----

std::optional<Target> motion_target(Room room) {
  switch (room) {
    case Room::hall:
      return Target::hall_motion;
    case Room::kitchen:
      return Target::kitchen_motion;
    case Room::bathroom:
      return Target::bathroom_motion;
    default:
      return std::nullopt;
  }
}

bool indoors(Room room) {
  return room != Room::outside;
}

class Renderer {
 public:
  Renderer(const Timeline& timeline, std::size_t index, std::vector<Sensed>& out)
      : timeline_(timeline),
        index_(index),
        a_(timeline[index]),
        out_(out),
        rng_(a_.seed),
        prev_room_(index == 0 ? Room::bedroom : timeline[index - 1].room) {}

  void run() {
    switch (a_.type) {
      case A::sleep:
      case A::nap_bed:
        enter();
        in_bed();
        break;
      case A::nap_chair:
        enter();
        break;
      case A::toilet:
        enter();
        moving(Room::bathroom, a_.start + 15 * kSecond + random_s(60, 150), a_.end - 45 * kSecond,
               60, 150);
        emit(a_.end - 40 * kSecond, Target::water, 6.0);  // the flush
        emit(a_.end - 20 * kSecond, Target::water, round_litres(rng_.uniform(0.3, 0.8)));
        break;
      case A::wash:
        enter();
        moving(Room::bathroom, a_.start + 90 * kSecond, a_.end, 60, 180);
        draw_water(a_.start + kMinute, a_.end - kMinute, rng_.uniform(10, 30));
        break;
      case A::shower: {
        enter();
        moving(Room::bathroom, a_.start + 90 * kSecond, a_.end, 60, 180);
        const std::int64_t from = a_.start + 2 * kMinute;
        draw_water(from, from + random_s(8 * 60, 12 * 60), rng_.uniform(30, 50));
        break;
      }
      case A::kettle: {
        enter();
        emit(a_.start + 20 * kSecond, Target::water, round_litres(rng_.uniform(1.0, 1.5)));
        const std::int64_t on = a_.start + 40 * kSecond;
        emit(on, Target::kettle, std::round(rng_.uniform(1750, 1850)));
        emit(on + random_s(180, 240), Target::kettle, 0);
        moving(Room::kitchen, a_.start + 90 * kSecond, a_.end, 60, 150);
        break;
      }
      case A::cook:
        cook();
        break;
      case A::eat:
        enter();
        moving(Room::kitchen, a_.start + random_s(120, 300), a_.end, 180, 480);
        break;
      case A::dishes:
        enter();
        moving(Room::kitchen, a_.start + 60 * kSecond, a_.end, 60, 120);
        draw_water(a_.start + 30 * kSecond, a_.end - kMinute, rng_.uniform(5, 10));
        break;
      case A::idle:
        enter();
        trips(25, 70);
        break;
      case A::tv:
        enter();
        television();
        trips(35, 80);
        break;
      case A::housework:
        housework();
        break;
      case A::outing:
        door_out(a_.start);
        door_in();
        break;
      case A::away:
        door_out(a_.start + 2 * kMinute);
        door_in();
        break;
      case A::fallen:
        break;
    }
  }

 private:
  std::int64_t random_s(double low, double high) {
    return std::llround(rng_.uniform(low, high)) * kSecond;
  }
  static double round_litres(double litres) { return std::round(litres * 10.0) / 10.0; }

  // Every sensed event stays inside the activity: a cut activity ends early, and what it would
  // have done later happens at its end (the kettle and the hob switch themselves off).
  void emit(std::int64_t t, Target target, double value) {
    out_.push_back({std::clamp(t, a_.start, a_.end), target, value});
  }

  void detect(std::int64_t t, Room room) {
    if (auto target = motion_target(room)) emit(t, *target, 1);
  }

  // Walking in from another room passes the hall.
  void enter() {
    if (indoors(prev_room_) && prev_room_ != a_.room) {
      detect(a_.start + 5 * kSecond, Room::hall);
      if (a_.room != Room::hall) detect(a_.start + 20 * kSecond, a_.room);
    }
  }

  // Motion detections in `room` from `from` until `to`, every `low`..`high` seconds.
  void moving(Room room, std::int64_t from, std::int64_t to, double low, double high) {
    for (std::int64_t t = from; t < to; t += random_s(low, high)) detect(t, room);
  }

  // `litres` in 30-second draws spread over [from, to).
  void draw_water(std::int64_t from, std::int64_t to, double litres) {
    const std::int64_t steps = std::max<std::int64_t>(1, (to - from) / (30 * kSecond));
    const double each = round_litres(litres / static_cast<double>(steps));
    for (std::int64_t i = 0; i < steps; ++i) {
      emit(from + i * 30 * kSecond, Target::water, std::max(each, 0.1));
    }
  }

  void in_bed() {
    const std::int64_t on = a_.start + 30 * kSecond;
    emit(on, Target::bed, 1);
    emit(std::max(on, a_.end - 5 * kSecond), Target::bed, 0);
  }

  void cook() {
    enter();
    draw_water(a_.start + 30 * kSecond, a_.start + 3 * kMinute, rng_.uniform(2, 5));
    moving(Room::kitchen, a_.start + 60 * kSecond, a_.end, 60, 180);
    const std::int64_t on = a_.start + 2 * kMinute;
    const std::int64_t off = std::max(on, a_.end - 2 * kMinute);
    for (std::int64_t t = on; t < off; t += random_s(180, 480)) {
      emit(t, Target::stove, std::round(rng_.uniform(120, 200)) * 10);
    }
    emit(off, Target::stove, 0);
  }

  // The television is left on over a short break between two television activities.
  bool television_continues() const {
    for (std::size_t i = index_ + 1; i < timeline_.size() && i <= index_ + 2; ++i) {
      const Activity& next = timeline_[i];
      if (next.type == A::tv) return true;
      if (next.end - next.start > 10 * kMinute || next.type == A::outing || next.type == A::sleep) {
        return false;
      }
    }
    return false;
  }

  void television() {
    const std::int64_t on = a_.start + 40 * kSecond;
    const std::int64_t off = std::max(on, a_.end - 10 * kSecond);
    for (std::int64_t t = on; t < off; t += random_s(20 * 60, 40 * 60)) {
      emit(t, Target::tv, std::round(rng_.uniform(72, 92)));
    }
    if (!a_.keep_tv && !television_continues()) emit(off, Target::tv, 1);
  }

  // Now and then to the kitchen (a glass of water) and back.
  void trips(double low_minutes, double high_minutes) {
    std::int64_t t = a_.start + random_s(low_minutes * 60, high_minutes * 60);
    while (t + 5 * kMinute < a_.end) {
      detect(t, Room::hall);
      detect(t + 15 * kSecond, Room::kitchen);
      if (rng_.chance(0.5)) detect(t + 90 * kSecond, Room::kitchen);
      if (rng_.chance(0.4)) emit(t + 60 * kSecond, Target::water, 0.3);
      detect(t + random_s(120, 240), Room::hall);
      t += random_s(low_minutes * 60, high_minutes * 60);
    }
  }

  void housework() {
    enter();
    constexpr Room kRooms[] = {Room::hall, Room::kitchen, Room::bathroom};
    for (std::int64_t t = a_.start + 30 * kSecond; t < a_.end; t += random_s(60, 180)) {
      detect(t, kRooms[rng_.uniform_int(0, 2)]);
    }
    const std::int64_t mop = a_.start + (a_.end - a_.start) / 3;
    emit(mop, Target::water, round_litres(rng_.uniform(3, 8)));
  }

  void door_out(std::int64_t from) {
    if (indoors(prev_room_)) detect(from + 5 * kSecond, Room::hall);
    emit(from + 20 * kSecond, Target::door, 1);
    emit(from + 20 * kSecond + random_s(5, 15), Target::door, 0);
  }

  void door_in() {
    emit(a_.end - 40 * kSecond, Target::door, 1);
    emit(a_.end - 40 * kSecond + random_s(5, 15), Target::door, 0);
    detect(a_.end - 15 * kSecond, Room::hall);
  }

  const Timeline& timeline_;
  std::size_t index_;
  const Activity& a_;
  std::vector<Sensed>& out_;
  PortableRng rng_;
  Room prev_room_;
};

}  // namespace

Profile draw_profile(PortableRng& rng) {
  Profile p;
  p.wake_minute = rng.uniform(5.75 * 60, 7 * 60);
  p.bed_minute = rng.uniform(20.85 * 60, 22.15 * 60);
  p.outing_p = rng.uniform(0.55, 0.85);
  p.morning_outing_p = rng.uniform(0.3, 0.8);
  p.quiet_day_p = rng.uniform(0.05, 0.15);
  p.visit_day_p = rng.uniform(0.07, 0.13);
  p.nap_p = rng.uniform(0.5, 0.9);
  p.nap_in_bed_p = rng.uniform(0.3, 0.8);
  p.breakfast_cook_p = rng.uniform(0.2, 0.6);
  p.afternoon_tea_p = rng.uniform(0.3, 0.8);
  p.afternoon_tv_p = rng.uniform(0.3, 0.7);
  p.evening_tv_p = rng.uniform(0.75, 0.95);
  const auto first = rng.uniform_int(0, 6);
  const auto second = (first + rng.uniform_int(2, 5)) % 7;
  p.market_days = (1U << first) | (1U << second);
  p.shower_every_days = static_cast<int>(rng.uniform_int(2, 4));
  const double none = rng.uniform(0.08, 0.25);
  const double one = (1 - none) * rng.uniform(0.4, 0.6);
  const double two = (1 - none - one) * rng.uniform(0.6, 0.8);
  p.night_toilet_weights[0] = none;
  p.night_toilet_weights[1] = one;
  p.night_toilet_weights[2] = two;
  p.night_toilet_weights[3] = 1 - none - one - two;
  p.base_celsius = rng.uniform(17, 20);
  p.swing_celsius = rng.uniform(1.5, 3);
  return p;
}

Timeline plan_life(const Profile& profile, PortableRng& rng, std::int64_t start_ms, int days) {
  if (days < 1) throw std::invalid_argument("days must be at least 1");
  const std::int64_t end_ms = start_ms + days * kDay;
  std::vector<std::int64_t> wake(static_cast<std::size_t>(days) + 1);
  std::vector<std::int64_t> bed(static_cast<std::size_t>(days));
  for (int d = 0; d <= days; ++d) {
    const std::int64_t midnight = start_ms + d * kDay;
    const double late = weekday(midnight) == 0 ? 20 : 0;  // Sundays
    const double w = std::clamp(rng.normal(profile.wake_minute + late, 12), 5.5 * 60, 7.5 * 60);
    wake[static_cast<std::size_t>(d)] = at_local(midnight, w);
    if (d < days) {
      const double b = std::clamp(rng.normal(profile.bed_minute, 15), 20.5 * 60, 22.5 * 60);
      bed[static_cast<std::size_t>(d)] = at_local(midnight, b);
    }
  }
  Timeline timeline;
  plan_night(profile, rng, timeline, start_ms, wake[0], start_ms + 30 * kMinute);
  for (int d = 0; d < days; ++d) {
    const auto i = static_cast<std::size_t>(d);
    const std::int64_t bedtime =
        plan_day(profile, rng, timeline, start_ms + d * kDay, d, wake[i], bed[i]);
    plan_night(profile, rng, timeline, bedtime, wake[i + 1], bedtime + 60 * kMinute);
  }
  // The last night runs past the end.
  while (!timeline.empty() && timeline.back().start >= end_ms) timeline.pop_back();
  if (!timeline.empty()) timeline.back().end = std::min(timeline.back().end, end_ms);
  return timeline;
}

const Activity* activity_at(const Timeline& timeline, std::int64_t t) {
  auto it = std::upper_bound(timeline.begin(), timeline.end(), t,
                             [](std::int64_t value, const Activity& a) { return value < a.start; });
  if (it == timeline.begin()) return nullptr;
  --it;
  return t < it->end ? &*it : nullptr;
}

void cut(Timeline& timeline, std::int64_t from, std::int64_t to, Activity replacement) {
  Timeline result;
  result.reserve(timeline.size() + 2);
  replacement.start = from;
  replacement.end = to;
  bool inserted = false;
  for (const Activity& a : timeline) {
    if (a.end <= from || a.start >= to) {
      if (!inserted && a.start >= to) {
        result.push_back(replacement);
        inserted = true;
      }
      result.push_back(a);
      continue;
    }
    if (a.start < from) {
      Activity left = a;
      left.end = from;
      left.keep_tv = replacement.type == ActivityType::fallen;
      result.push_back(left);
    }
    if (!inserted) {
      result.push_back(replacement);
      inserted = true;
    }
    if (a.end > to) {
      Activity right = a;
      right.start = to;
      result.push_back(right);
    }
  }
  if (!inserted) result.push_back(replacement);
  timeline = std::move(result);
}

std::vector<Sensed> render(const Timeline& timeline) {
  std::vector<Sensed> sensed;
  sensed.reserve(timeline.size() * 8);
  for (std::size_t i = 0; i < timeline.size(); ++i) Renderer(timeline, i, sensed).run();
  std::stable_sort(sensed.begin(), sensed.end(),
                   [](const Sensed& a, const Sensed& b) { return a.t < b.t; });
  return sensed;
}

}  // namespace life
}  // namespace homesafe::sim
