// The devices of the household simulator: what each one publishes, and when, given what it
// senses. Battery sensors publish every change at once and check in (battery report) about
// hourly; mains devices follow Zigbee attribute reporting (a change is reported at most once per
// minimum interval, and something is reported at least once per maximum interval, 5 minutes).

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "homesafe/sim/encoder.hpp"
#include "household_internal.hpp"

namespace homesafe::sim::life {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMotionTimeout = 90 * kSecond;  // Zigbee2MQTT's occupancy_timeout
constexpr std::int64_t kMotionBlind = 60 * kSecond;    // the sensor's own blind time
constexpr std::int64_t kMainsMaxInterval = 5 * kMinute;

const Json& no_overrides() {
  static const Json kEmpty = Json::object();
  return kEmpty;
}

// A battery that drains slowly; battery_low at 15 % and below, like most Zigbee sensors.
class Battery {
 public:
  Battery(PortableRng& rng, std::int64_t start)
      : start_(start),
        initial_(static_cast<double>(rng.uniform_int(70, 100))),
        per_day_(rng.uniform(0.1, 0.5)) {}

  void put(Json& state, std::int64_t t) const {
    const double days = static_cast<double>(t - start_) / static_cast<double>(kDay);
    const auto level = std::max<std::int64_t>(
        5, static_cast<std::int64_t>(std::floor(initial_ - per_day_ * days)));
    state["battery"] = level;
    state["battery_low"] = level <= 15;
  }

 private:
  std::int64_t start_;
  double initial_;
  double per_day_;
};

// One device's messages.
class Stream {
 public:
  Stream(const std::string& household, std::string_view id, std::int64_t end)
      : base_("homesafe/" + household + "/dev/" + std::string(id)), end_(end) {}

  void online(std::int64_t t) {
    if (t < end_) messages_.push_back({t, availability_topic(base_), "online", true});
  }
  void state(std::int64_t t, const Json& state) {
    if (t < end_) {
      messages_.push_back(
          {t, state_topic(base_), encode_state(state, {}, no_overrides(), t), false});
    }
  }
  std::vector<Message>& messages() { return messages_; }

 private:
  std::string base_;
  std::int64_t end_;
  std::vector<Message> messages_;
};

// Check-ins from `first`, every `low`..`high` minutes.
std::vector<std::int64_t> checkins(PortableRng& rng, std::int64_t first, std::int64_t end,
                                   double low, double high) {
  std::vector<std::int64_t> times;
  for (std::int64_t t = first; t < end;
       t += std::llround(rng.uniform(low * 60, high * 60)) * kSecond) {
    times.push_back(t);
  }
  return times;
}

// Zigbee attribute reporting: a first report at `first`; a change is reported at once when the
// last report is at least `min_interval` old, else when it is; without changes, a report every
// `max_interval`. `changes` are the (sorted) times the reported value changes.
std::vector<std::int64_t> report_times(const std::vector<std::int64_t>& changes, std::int64_t first,
                                       std::int64_t end, std::int64_t min_interval,
                                       std::int64_t max_interval) {
  std::vector<std::int64_t> times;
  if (first >= end) return times;
  times.push_back(first);
  std::int64_t last = first;
  bool dirty = false;
  auto next = std::upper_bound(changes.begin(), changes.end(), first);
  for (;;) {
    const std::int64_t change = next == changes.end() ? kNever : *next;
    const std::int64_t due = std::min(last + max_interval, dirty ? last + min_interval : kNever);
    if (change <= due && change < end) {
      while (next != changes.end() && *next == change) ++next;
      if (change >= last + min_interval) {
        times.push_back(change);
        last = change;
        dirty = false;
      } else {
        dirty = true;
      }
      continue;
    }
    if (due >= end) break;
    times.push_back(due);
    last = due;
    dirty = false;
  }
  return times;
}

// Binary sensors (door contact, motion, bed): every change at once, plus check-ins.
// `changes` are (time, value) in order; a change before `boot` only sets the initial state.
void binary_sensor(Stream& stream, std::string_view key, bool initial,
                   const std::vector<std::pair<std::int64_t, bool>>& changes,
                   const std::vector<std::int64_t>& checkin_times, const Battery& battery,
                   bool tamper_key, std::int64_t boot) {
  Json state = Json::object();
  state[std::string(key)] = initial;
  auto publish = [&](std::int64_t t) {
    battery.put(state, t);
    if (tamper_key) state["tamper"] = false;
    stream.state(t, state);
  };
  stream.online(boot);
  auto change = changes.begin();
  for (; change != changes.end() && change->first < boot; ++change) {
    state[std::string(key)] = change->second;
  }
  auto checkin = checkin_times.begin();
  while (change != changes.end() || checkin != checkin_times.end()) {
    if (checkin == checkin_times.end() || (change != changes.end() && change->first <= *checkin)) {
      state[std::string(key)] = change->second;
      publish(change->first);
      ++change;
    } else {
      publish(*checkin);
      ++checkin;
    }
  }
}

// Detections → occupancy true at each detection (outside the blind time) and false
// kMotionTimeout after the last one.
std::vector<std::pair<std::int64_t, bool>> motion_changes(const std::vector<std::int64_t>& seen) {
  std::vector<std::pair<std::int64_t, bool>> changes;
  std::optional<std::int64_t> last;
  for (std::int64_t t : seen) {
    if (last && t - *last < kMotionBlind) continue;
    if (last && *last + kMotionTimeout <= t) changes.emplace_back(*last + kMotionTimeout, false);
    changes.emplace_back(t, true);
    last = t;
  }
  if (last) changes.emplace_back(*last + kMotionTimeout, false);
  return changes;
}

// Only the moments the value really changes.
std::vector<std::pair<std::int64_t, bool>> level_changes(const std::vector<Sensed>& sensed,
                                                         Target target, bool initial) {
  std::vector<std::pair<std::int64_t, bool>> changes;
  bool value = initial;
  for (const auto& s : sensed) {
    if (s.target != target || (s.value != 0) == value) continue;
    value = s.value != 0;
    changes.emplace_back(s.t, value);
  }
  return changes;
}

void water_meter(Stream& stream, PortableRng& rng, const std::vector<Sensed>& sensed,
                 std::int64_t boot, std::int64_t end) {
  // Cumulative decilitres (exact); a meter in service for years.
  std::int64_t total_dl = rng.uniform_int(50'000, 400'000);
  std::vector<std::pair<std::int64_t, std::int64_t>> draws;
  std::vector<std::int64_t> change_times;
  for (const auto& s : sensed) {
    if (s.target != Target::water) continue;
    draws.emplace_back(s.t, std::llround(s.value * 10.0));
    change_times.push_back(s.t);
  }
  stream.online(boot);
  auto draw = draws.begin();
  for (std::int64_t t : report_times(change_times, boot, end, kMinute, kMainsMaxInterval)) {
    for (; draw != draws.end() && draw->first <= t; ++draw) total_dl += draw->second;
    Json state = Json::object();
    state["water_total_l"] = json_number(static_cast<double>(total_dl) / 10.0);
    stream.state(t, state);
  }
}

void plug(Stream& stream, PortableRng& rng, const std::vector<Sensed>& sensed, Target target,
          double idle_w, double initial_kwh_low, double initial_kwh_high, std::int64_t boot,
          std::int64_t end) {
  std::vector<std::pair<std::int64_t, double>> set_points;
  std::vector<std::int64_t> change_times;
  double level = idle_w;
  for (const auto& s : sensed) {
    // Switched off means the plug's own idle draw (standby for the television).
    const double watts = s.value == 0 ? idle_w : s.value;
    if (s.target != target || watts == level) continue;
    level = watts;
    set_points.emplace_back(s.t, level);
    change_times.push_back(s.t);
  }
  double energy_kwh = std::round(rng.uniform(initial_kwh_low, initial_kwh_high) * 1000) / 1000;
  double power = idle_w;
  std::int64_t accounted = boot;
  auto point = set_points.begin();
  for (; point != set_points.end() && point->first < boot; ++point) power = point->second;
  auto accrue = [&](std::int64_t t) {
    energy_kwh += power * static_cast<double>(t - accounted) / 3.6e9;
    accounted = t;
  };
  stream.online(boot);
  for (std::int64_t t : report_times(change_times, boot, end, 10 * kSecond, kMainsMaxInterval)) {
    for (; point != set_points.end() && point->first <= t; ++point) {
      accrue(point->first);
      power = point->second;
    }
    accrue(t);
    Json state = Json::object();
    state["power"] = json_number(power);
    state["energy"] = json_number(energy_kwh);
    stream.state(t, state);
  }
}

// -1 at 05:00, +1 at 15:00, linear in between (no libm: the same output everywhere).
double daily_curve(std::int64_t minute) {
  constexpr double kLow = 5 * 60;
  constexpr double kHigh = 15 * 60;
  double m = static_cast<double>(minute);
  if (m < kLow) m += 24 * 60;
  if (m <= kHigh) return -1 + 2 * (m - kLow) / (kHigh - kLow);
  return 1 - 2 * (m - kHigh) / (24 * 60 - (kHigh - kLow));
}

void thermometer(Stream& stream, PortableRng& rng, const Profile& profile, std::int64_t start,
                 std::int64_t boot, std::int64_t end) {
  const Battery battery(rng, start);
  const auto days = static_cast<std::size_t>((end - start) / kDay) + 2;
  std::vector<double> day_celsius(days);
  std::vector<double> day_humidity(days);
  for (std::size_t d = 0; d < days; ++d) {
    // November: a little colder every day.
    day_celsius[d] = profile.base_celsius - 0.05 * static_cast<double>(d) + rng.uniform(-0.8, 0.8);
    day_humidity[d] = rng.uniform(50, 70);
  }
  stream.online(boot);
  for (std::int64_t t : checkins(rng, boot, end, 10, 30)) {
    const auto d = static_cast<std::size_t>((t - start) / kDay);
    const double swing = profile.swing_celsius * daily_curve(minute_of_day(t));
    const double celsius =
        std::clamp(day_celsius[d] + swing + rng.uniform(-0.15, 0.15), 14.0, 24.0);
    const double humidity =
        std::clamp(day_humidity[d] - 2 * swing + rng.uniform(-1, 1), 35.0, 85.0);
    Json state = Json::object();
    state["temperature"] = json_number(std::round(celsius * 10) / 10);
    state["humidity"] = json_number(std::round(humidity));
    battery.put(state, t);
    stream.state(t, state);
  }
}

}  // namespace

std::vector<Message> device_messages(const std::string& household, const Profile& profile,
                                     std::uint64_t seed, std::int64_t start, std::int64_t end,
                                     const std::vector<Sensed>& sensed) {
  std::vector<std::int64_t> detections[3];
  for (const auto& s : sensed) {
    if (s.target == Target::hall_motion) detections[0].push_back(s.t);
    if (s.target == Target::kitchen_motion) detections[1].push_back(s.t);
    if (s.target == Target::bathroom_motion) detections[2].push_back(s.t);
  }

  std::vector<Message> all;
  std::uint64_t index = 0;
  for (const auto& device : household_devices()) {
    // Each device draws from its own stream: changing one leaves the others as they were.
    PortableRng rng(mix_seed(seed, 100 + index));
    const std::int64_t boot = start + static_cast<std::int64_t>(index) * 2 * kSecond;
    ++index;
    Stream stream(household, device.id, end);
    const std::string_view id = device.id;
    if (id == "front-door") {
      const Battery battery(rng, start);
      binary_sensor(
          stream, "contact", true,
          [&] {
            auto open = level_changes(sensed, Target::door, false);
            for (auto& change : open) change.second = !change.second;  // contact true = closed
            return open;
          }(),
          checkins(rng, boot, end, 50, 60), battery, true, boot);
    } else if (id == "hall-motion" || id == "kitchen-motion" || id == "bathroom-motion") {
      const Battery battery(rng, start);
      const auto& seen = detections[id == "hall-motion" ? 0 : id == "kitchen-motion" ? 1 : 2];
      binary_sensor(stream, "occupancy", false, motion_changes(seen),
                    checkins(rng, boot, end, 50, 65), battery, true, boot);
    } else if (id == "bed-sensor") {
      const Battery battery(rng, start);
      binary_sensor(stream, "occupancy", false, level_changes(sensed, Target::bed, false),
                    checkins(rng, boot, end, 50, 70), battery, false, boot);
    } else if (id == "water-meter") {
      water_meter(stream, rng, sensed, boot, end);
    } else if (id == "kettle-plug") {
      plug(stream, rng, sensed, Target::kettle, 0, 20, 120, boot, end);
    } else if (id == "stove-plug") {
      plug(stream, rng, sensed, Target::stove, 0, 200, 900, boot, end);
    } else if (id == "tv-plug") {
      plug(stream, rng, sensed, Target::tv, 1, 100, 400, boot, end);
    } else if (id == "living-temp") {
      thermometer(stream, rng, profile, start, boot, end);
    } else if (id == "kitchen-smoke") {
      const Battery battery(rng, start);
      stream.online(boot);
      for (std::int64_t t : checkins(rng, boot, end, 50, 60)) {
        Json state = Json::object();
        state["smoke"] = false;
        battery.put(state, t);
        state["tamper"] = false;
        state["test"] = false;
        stream.state(t, state);
      }
    } else if (id == "kitchen-gas") {
      stream.online(boot);
      for (std::int64_t t : report_times({}, boot, end, kMinute, kMainsMaxInterval)) {
        stream.state(t, Json{{"gas", false}, {"tamper", false}, {"test", false}});
      }
    } else if (id == "bedroom-sos") {
      const Battery battery(rng, start);
      stream.online(boot);
      for (std::int64_t t : checkins(rng, boot, end, 50, 60)) {
        Json state = Json::object();
        battery.put(state, t);
        stream.state(t, state);
      }
    } else {
      throw std::logic_error("household device without a simulation: " + std::string(id));
    }
    auto& messages = stream.messages();
    all.insert(all.end(), std::make_move_iterator(messages.begin()),
               std::make_move_iterator(messages.end()));
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const Message& a, const Message& b) { return a.ts_ms < b.ts_ms; });
  return all;
}

}  // namespace homesafe::sim::life
