#include "homesafe/sim/household.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <unistd.h>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "homesafe/sim/cli.hpp"
#include "homesafe/sim/runner.hpp"
#include "homesafe/sim/time.hpp"

namespace homesafe::sim {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;

std::int64_t at(const char* iso) {
  auto parsed = parse_iso8601(iso);
  EXPECT_TRUE(parsed.has_value()) << iso;
  return parsed ? parsed->unix_ms : 0;
}

HouseholdOptions options_for(std::uint64_t seed, int days) {
  HouseholdOptions options;
  options.seed = seed;
  options.start_ms = at("2026-11-01T00:00:00+08:00");
  options.days = days;
  return options;
}

std::string jsonl(const HouseholdRun& run) {
  std::string text;
  for (const auto& message : run.messages) {
    text += to_jsonl(message, kHouseholdUtcOffsetMinutes);
    text += '\n';
  }
  return text;
}

// "homesafe/h001/dev/<id>/state" → id; empty for other topics.
std::string state_device(const Message& message) {
  const std::string prefix = "homesafe/h001/dev/";
  if (!message.topic.starts_with(prefix) || !message.topic.ends_with("/state")) return {};
  return message.topic.substr(prefix.size(), message.topic.size() - prefix.size() - 6);
}

struct StateMessage {
  std::int64_t t;
  std::string device;
  nlohmann::json payload;
};

std::vector<StateMessage> states(const HouseholdRun& run) {
  std::vector<StateMessage> result;
  for (const auto& message : run.messages) {
    auto device = state_device(message);
    if (device.empty()) continue;
    result.push_back({message.ts_ms, device, nlohmann::json::parse(message.payload)});
  }
  return result;
}

// Activity: a motion detection, a door or bed change, water drawn, a plug's power changing.
struct ActivityMessage {
  std::int64_t t;
  std::string what;
};

std::vector<ActivityMessage> activity(const HouseholdRun& run) {
  std::vector<ActivityMessage> result;
  std::map<std::string, nlohmann::json> last;
  for (const auto& s : states(run)) {
    const auto* device = find_household_device(s.device);
    if (device == nullptr) continue;
    const std::string kind(device->kind);
    auto previous = last.find(s.device);
    auto changed = [&](const char* key) {
      return previous != last.end() && previous->second.contains(key) &&
             previous->second[key] != s.payload[key];
    };
    if (kind == "motion" && s.payload["occupancy"] == true) {
      result.push_back({s.t, s.device + " motion"});
    } else if (kind == "contact" && changed("contact")) {
      result.push_back({s.t, s.device + " contact"});
    } else if (kind == "occupancy" && changed("occupancy")) {
      result.push_back({s.t, s.device + " occupancy"});
    } else if (kind == "water_meter" && changed("water_total_l")) {
      result.push_back({s.t, s.device + " water"});
    } else if (kind == "plug" && changed("power")) {
      result.push_back({s.t, s.device + " power"});
    }
    last[s.device] = s.payload;
  }
  return result;
}

// The longest silence of every device in [from, to), including the edges.
std::map<std::string, std::int64_t> longest_silence(const HouseholdRun& run, std::int64_t from,
                                                    std::int64_t to) {
  std::map<std::string, std::int64_t> previous;
  std::map<std::string, std::int64_t> longest;
  for (const auto& device : household_devices()) {
    previous[std::string(device.id)] = from;
    longest[std::string(device.id)] = 0;
  }
  for (const auto& message : run.messages) {
    auto device = state_device(message);
    if (device.empty() || message.ts_ms < from || message.ts_ms >= to) continue;
    longest[device] = std::max(longest[device], message.ts_ms - previous[device]);
    previous[device] = message.ts_ms;
  }
  for (auto& [device, last] : previous) longest[device] = std::max(longest[device], to - last);
  return longest;
}

void expect_check_ins(const HouseholdRun& run, std::int64_t from, std::int64_t to) {
  for (const auto& [id, silence] : longest_silence(run, from, to)) {
    const auto* device = find_household_device(id);
    ASSERT_NE(device, nullptr);
    const std::int64_t limit = device->mains ? 5 * kMinute : 2 * kHour;
    EXPECT_LE(silence, limit) << id << " silent for " << silence / 1000 << " s";
  }
}

TEST(PortableRng, IsTheStandardEngineWithPortableDistributions) {
  PortableRng rng(5489);
  EXPECT_EQ(rng.next(), 14514284786278117030ULL);  // std::mt19937_64's documented first output
  PortableRng a(42);
  PortableRng b(42);
  for (int i = 0; i < 1000; ++i) {
    const double u = a.uniform();
    EXPECT_EQ(u, b.uniform());
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    const auto n = a.uniform_int(-3, 3);
    EXPECT_EQ(n, b.uniform_int(-3, 3));
    EXPECT_GE(n, -3);
    EXPECT_LE(n, 3);
    const double g = a.normal(10, 2);
    EXPECT_EQ(g, b.normal(10, 2));
    EXPECT_GE(g, -2.0);
    EXPECT_LE(g, 22.0);
  }
  EXPECT_NE(mix_seed(1, 1), mix_seed(1, 2));
  EXPECT_NE(mix_seed(1, 1), mix_seed(2, 1));
}

TEST(IncidentRequest, ParsesTypesTimesAndDevices) {
  std::string error;
  auto fall = parse_incident_request("fall@2026-11-18T09:30", error);
  ASSERT_TRUE(fall) << error;
  EXPECT_EQ(fall->type, IncidentType::fall);
  EXPECT_EQ(fall->start_ms, at("2026-11-18T09:30:00+08:00"));

  auto dies = parse_incident_request("device_dies:kitchen-motion@2026-11-20T10:00:30", error);
  ASSERT_TRUE(dies) << error;
  EXPECT_EQ(dies->device, "kitchen-motion");
  EXPECT_EQ(dies->start_ms, at("2026-11-20T10:00:30+08:00"));

  auto utc = parse_incident_request("tap@2026-11-20T02:00:00Z", error);
  ASSERT_TRUE(utc) << error;
  EXPECT_EQ(utc->start_ms, at("2026-11-20T10:00:00+08:00"));

  EXPECT_FALSE(parse_incident_request("flood@2026-11-18T09:30", error));
  EXPECT_THAT(error, HasSubstr("unknown incident type"));
  EXPECT_FALSE(parse_incident_request("fall", error));
  EXPECT_FALSE(parse_incident_request("fall@yesterday", error));
  EXPECT_FALSE(parse_incident_request("device_dies:fridge@2026-11-18T09:30", error));
  EXPECT_FALSE(parse_incident_request("fall:hall-motion@2026-11-18T09:30", error));
}

TEST(Household, TheSameSeedGivesTheSameBytes) {
  auto options = options_for(7, 5);
  options.random_incidents = 2;
  const auto first = simulate_household(options);
  const auto second = simulate_household(options);
  EXPECT_EQ(jsonl(first), jsonl(second));
  EXPECT_EQ(incidents_json(options, first), incidents_json(options, second));
  EXPECT_EQ(hub_yaml(options), hub_yaml(options));
}

TEST(Household, DifferentSeedsGiveDifferentLives) {
  const auto a = simulate_household(options_for(1, 3));
  const auto b = simulate_household(options_for(2, 3));
  EXPECT_NE(jsonl(a), jsonl(b));
}

TEST(Household, WritesTheThreeFiles) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("homesafe-household-test-" + std::to_string(::getpid()));
  auto options = options_for(3, 2);
  const auto run = simulate_household(options);
  write_household(options, run, dir);
  std::ifstream messages(dir / "messages.jsonl");
  std::stringstream text;
  text << messages.rdbuf();
  EXPECT_EQ(text.str(), jsonl(run));
  EXPECT_TRUE(std::filesystem::exists(dir / "hub.yaml"));
  EXPECT_TRUE(std::filesystem::exists(dir / "incidents.json"));
  std::filesystem::remove_all(dir);
}

TEST(Household, TimestampsNeverGoBackAndStayInsideTheRun) {
  auto options = options_for(11, 20);
  options.random_incidents = 3;
  const auto run = simulate_household(options);
  ASSERT_FALSE(run.messages.empty());
  for (std::size_t i = 1; i < run.messages.size(); ++i) {
    ASSERT_LE(run.messages[i - 1].ts_ms, run.messages[i].ts_ms) << "message " << i;
  }
  EXPECT_GE(run.messages.front().ts_ms, run.start_ms);
  EXPECT_LT(run.messages.back().ts_ms, run.end_ms);
  // Every state payload carries its own time.
  for (const auto& s : states(run)) ASSERT_EQ(s.payload["ts"], s.t);
}

TEST(Household, EveryDeviceChecksInOftenEnoughForTheSilenceRule) {
  for (std::uint64_t seed : {1, 2, 3}) {
    const auto run = simulate_household(options_for(seed, 7));
    expect_check_ins(run, run.start_ms, run.end_ms);
  }
}

TEST(Household, TheWaterMeterNeverGoesBack) {
  auto options = options_for(5, 10);
  options.incidents.push_back({IncidentType::tap, at("2026-11-05T10:00:00+08:00"), {}});
  const auto run = simulate_household(options);
  double previous = 0;
  double first = -1;
  for (const auto& s : states(run)) {
    if (s.device != "water-meter") continue;
    const double total = s.payload["water_total_l"].get<double>();
    if (first < 0) first = total;
    EXPECT_GE(total, previous);
    previous = total;
  }
  EXPECT_GT(first, 1000);  // a meter in service, not a new one
  // About 60-200 L a day, plus 720 L from the tap.
  EXPECT_GT(previous - first, 10 * 60 + 700);
  EXPECT_LT(previous - first, 10 * 250 + 750);
}

TEST(Household, AFallStopsAllActivityButNotTheCheckIns) {
  auto options = options_for(9, 21);
  options.incidents.push_back({IncidentType::fall, at("2026-11-18T16:00:00+08:00"), {}});
  const auto run = simulate_household(options);
  ASSERT_EQ(run.incidents.size(), 1U);
  const auto& fall = run.incidents[0];
  EXPECT_EQ(fall.end_ms - fall.start_ms, 36 * kHour);
  EXPECT_THAT(fall.detected_by,
              ::testing::UnorderedElementsAre("inactivity", "routine_deviation", "no_water"));
  int before = 0;
  int after = 0;
  for (const auto& a : activity(run)) {
    // What happened just before the fall may be reported up to a minute later (the meter's
    // minimum reporting interval).
    EXPECT_FALSE(a.t > fall.start_ms + kMinute && a.t < fall.end_ms)
        << a.what << " at " << format_iso8601(a.t, kHouseholdUtcOffsetMinutes);
    if (a.t <= fall.start_ms && a.t > fall.start_ms - 12 * kHour) ++before;
    if (a.t >= fall.end_ms && a.t < fall.end_ms + 12 * kHour) ++after;
  }
  EXPECT_GT(before, 50);
  EXPECT_GT(after, 20);  // life resumes
  expect_check_ins(run, fall.start_ms, fall.end_ms);
}

TEST(Household, TheSameLifeWithAndWithoutAnIncident) {
  auto quiet = options_for(4, 10);
  auto with_tap = quiet;
  with_tap.incidents.push_back({IncidentType::tap, at("2026-11-08T10:00:00+08:00"), {}});
  const auto a = simulate_household(quiet);
  const auto b = simulate_household(with_tap);
  std::vector<std::string> before_a;
  std::vector<std::string> before_b;
  for (const auto& m : a.messages) {
    if (m.ts_ms < at("2026-11-08T10:00:00+08:00")) before_a.push_back(m.payload);
  }
  for (const auto& m : b.messages) {
    if (m.ts_ms < at("2026-11-08T10:00:00+08:00")) before_b.push_back(m.payload);
  }
  EXPECT_EQ(before_a, before_b);
}

TEST(Household, NightToiletVisitsHappenOnMostNights) {
  const auto run = simulate_household(options_for(21, 20));
  std::set<std::int64_t> nights_with_visit;
  for (const auto& s : states(run)) {
    if (s.device != "bathroom-motion" || s.payload["occupancy"] != true) continue;
    const std::int64_t local = s.t + 8 * kHour;
    const std::int64_t minute = (local % kDay) / kMinute;
    if (minute >= 23 * 60 || minute < 5 * 60) {
      nights_with_visit.insert((local - 12 * kHour) / kDay);  // the night of the evening before
    }
  }
  EXPECT_GE(nights_with_visit.size(), 10U);
}

TEST(Household, OrdinaryLifeLooksLikeLife) {
  const auto run = simulate_household(options_for(13, 14));
  std::map<std::string, int> counts;
  for (const auto& a : activity(run)) ++counts[a.what];
  // Daily: kettle, cooking, washing, going out most days.
  EXPECT_GE(counts["kettle-plug power"], 2 * 14);
  EXPECT_GE(counts["stove-plug power"], 2 * 14);
  EXPECT_GE(counts["front-door contact"], 4 * 6);
  EXPECT_GE(counts["bed-sensor occupancy"], 2 * 14);
  EXPECT_GE(counts["tv-plug power"], 14);
  EXPECT_GE(counts["bathroom-motion motion"], 10 * 14);
  // No door at night (23:00-05:00) without an incident.
  for (const auto& a : activity(run)) {
    if (a.what != "front-door contact") continue;
    const std::int64_t minute = ((a.t + 8 * kHour) % kDay) / kMinute;
    EXPECT_TRUE(minute >= 5 * 60 && minute < 23 * 60)
        << format_iso8601(a.t, kHouseholdUtcOffsetMinutes);
  }
}

TEST(Household, IncidentsChangeWhatTheyShould) {
  auto options = options_for(17, 20);
  options.incidents = {
      {IncidentType::stove, at("2026-11-03T14:00:00+08:00"), {}},
      {IncidentType::wander, at("2026-11-06T01:00:00+08:00"), {}},
      {IncidentType::device_dies, at("2026-11-10T12:00:00+08:00"), "kitchen-motion"},
      {IncidentType::hospital, at("2026-11-12T10:00:00+08:00"), {}},
  };
  const auto run = simulate_household(options);
  ASSERT_EQ(run.incidents.size(), 4U);
  const auto& stove = run.incidents[0];
  const auto& wander = run.incidents[1];
  const auto& dies = run.incidents[2];
  const auto& hospital = run.incidents[3];
  EXPECT_EQ(stove.detected_by, std::vector<std::string>{"power_running"});
  EXPECT_EQ(wander.detected_by, std::vector<std::string>{"night_door"});
  EXPECT_EQ(dies.device, "kitchen-motion");
  EXPECT_EQ(dies.end_ms, run.end_ms);
  EXPECT_TRUE(hospital.detected_by.empty());
  EXPECT_EQ(hospital.expect_none.size(), 4U);
  EXPECT_EQ(hospital.end_ms - hospital.start_ms, 7 * kDay);

  bool door_at_night = false;
  std::int64_t stove_low = 100'000;
  for (const auto& s : states(run)) {
    if (s.device == "stove-plug" && s.t > stove.start_ms + kMinute && s.t < stove.end_ms) {
      stove_low = std::min(stove_low, s.payload["power"].get<std::int64_t>());
    }
    if (s.device == "front-door" && s.payload["contact"] == false && s.t >= wander.start_ms &&
        s.t < wander.start_ms + 5 * kMinute) {
      door_at_night = true;
    }
    EXPECT_FALSE(s.device == "kitchen-motion" && s.t >= dies.start_ms);
  }
  EXPECT_GE(stove_low, 1400);
  EXPECT_TRUE(door_at_night);

  // Away: the caregiver's ack first, then nobody home.
  std::optional<nlohmann::json> ack;
  for (const auto& m : run.messages) {
    if (m.topic == "homesafe/h001/ack") {
      EXPECT_EQ(m.ts_ms, hospital.start_ms);
      ack = nlohmann::json::parse(m.payload);
    }
  }
  ASSERT_TRUE(ack);
  EXPECT_EQ((*ack)["action"], "away");
  EXPECT_EQ((*ack)["by"], "li");
  EXPECT_EQ((*ack)["until"], format_iso8601(hospital.end_ms, kHouseholdUtcOffsetMinutes));
  for (const auto& a : activity(run)) {
    EXPECT_FALSE(a.t > hospital.start_ms + 10 * kMinute && a.t < hospital.end_ms - 5 * kMinute)
        << a.what << " at " << format_iso8601(a.t, kHouseholdUtcOffsetMinutes);
  }
}

TEST(Household, ARunningTapRaisesTheMeterAboutFourLitresAMinute) {
  auto options = options_for(19, 3);
  options.incidents.push_back({IncidentType::tap, at("2026-11-02T10:00:00+08:00"), {}});
  const auto run = simulate_household(options);
  const auto& tap = run.incidents.at(0);
  std::optional<std::pair<std::int64_t, double>> previous;
  for (const auto& s : states(run)) {
    if (s.device != "water-meter") continue;
    const double total = s.payload["water_total_l"].get<double>();
    if (previous && s.t > tap.start_ms + kMinute && s.t < tap.end_ms) {
      const double per_minute =
          (total - previous->second) / (static_cast<double>(s.t - previous->first) / kMinute);
      EXPECT_GE(per_minute, 3.5) << format_iso8601(s.t, kHouseholdUtcOffsetMinutes);
    }
    previous = {s.t, total};
  }
}

TEST(Household, RandomIncidentsStartWithAFallAfterTwoWeeks) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    auto options = options_for(seed, 20);
    options.random_incidents = 2;
    const auto run = simulate_household(options);
    ASSERT_EQ(run.incidents.size(), 2U) << seed;
    bool fall = false;
    for (const auto& incident : run.incidents) {
      if (incident.type != IncidentType::fall) continue;
      fall = true;
      EXPECT_GE(incident.start_ms, run.start_ms + 15 * kDay);
      const std::int64_t minute = ((incident.start_ms + 8 * kHour) % kDay) / kMinute;
      EXPECT_GE(minute, 7 * 60);
      EXPECT_LT(minute, 20 * 60 + 5);  // moved a little if the person was out
      EXPECT_TRUE(incident.note.empty() || incident.note.find("out") != std::string::npos);
    }
    EXPECT_TRUE(fall) << seed;
    // Apart from each other.
    const auto& a = run.incidents[0];
    const auto& b = run.incidents[1];
    const bool dies = a.type == IncidentType::device_dies || b.type == IncidentType::device_dies;
    EXPECT_TRUE(dies || a.end_ms < b.start_ms || b.end_ms < a.start_ms) << seed;
  }
}

TEST(HubYaml, ListsEveryDeviceThatPublishes) {
  auto options = options_for(23, 2);
  const auto run = simulate_household(options);
  const YAML::Node config = YAML::Load(hub_yaml(options));
  EXPECT_EQ(config["household"]["id"].as<std::string>(), "h001");
  EXPECT_EQ(config["household"]["timezone"].as<std::string>(), "Asia/Shanghai");
  EXPECT_EQ(config["broker"]["url"].as<std::string>(), "tcp://127.0.0.1:1883");
  EXPECT_EQ(config["storage"]["path"].as<std::string>(), ":memory:");
  std::map<std::string, YAML::Node> devices;
  for (const auto& device : config["devices"]) {
    devices[device["id"].as<std::string>()] = YAML::Node(device);
    EXPECT_FALSE(device["location"].as<std::string>().empty());
    EXPECT_EQ(device["topic"].as<std::string>(),
              "homesafe/h001/dev/" + device["id"].as<std::string>());
  }
  std::set<std::string> publishing;
  for (const auto& message : run.messages) {
    auto device = state_device(message);
    if (!device.empty()) publishing.insert(device);
  }
  EXPECT_EQ(publishing.size(), household_devices().size());
  for (const auto& id : publishing) EXPECT_TRUE(devices.contains(id)) << id;
  EXPECT_TRUE(devices["front-door"]["entrance"].as<bool>());
  EXPECT_EQ(devices["stove-plug"]["high_power_w"].as<int>(), 800);
  EXPECT_EQ(devices["water-meter"]["power"].as<std::string>(), "mains");
  EXPECT_EQ(devices["hall-motion"]["power"].as<std::string>(), "battery");
  EXPECT_TRUE(config["rules"].IsMap());
  std::set<std::string> roles;
  for (const auto& contact : config["contacts"]) roles.insert(contact["role"].as<std::string>());
  EXPECT_EQ(roles, (std::set<std::string>{"caregiver", "duty_desk"}));

  options.plain_config = true;
  const YAML::Node plain = YAML::Load(hub_yaml(options));
  EXPECT_FALSE(plain["rules"]);
  for (const auto& device : plain["devices"]) {
    EXPECT_FALSE(device["entrance"]);
    EXPECT_FALSE(device["high_power_w"]);
  }
}

TEST(IncidentsJson, RecordsTheGroundTruth) {
  auto options = options_for(29, 12);
  options.incidents = {{IncidentType::hospital, at("2026-11-02T10:00:00+08:00"), {}},
                       {IncidentType::fall, at("2026-11-10T10:00:00+08:00"), {}}};
  const auto run = simulate_household(options);
  const auto json = nlohmann::json::parse(incidents_json(options, run));
  EXPECT_EQ(json["household"], "h001");
  ASSERT_EQ(json["incidents"].size(), 2U);
  EXPECT_EQ(json["incidents"][0]["type"], "hospital");
  EXPECT_EQ(json["incidents"][0]["expect_none"].size(), 4U);
  EXPECT_EQ(json["incidents"][1]["type"], "fall");
  EXPECT_EQ(json["incidents"][1]["detected_by"].size(), 3U);
  EXPECT_TRUE(parse_iso8601(json["incidents"][1]["start"].get<std::string>()));
}

TEST(HouseholdCommand, WritesTheFilesOrExplainsWhatIsWrong) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("homesafe-household-cli-test-" + std::to_string(::getpid()));
  auto run = [](std::vector<std::string> args, std::string* err = nullptr) {
    std::ostringstream out;
    std::ostringstream errors;
    const int code = run_cli(args, out, errors);
    if (err != nullptr) *err = errors.str();
    return code;
  };
  std::string err;
  ASSERT_EQ(run({"household", "--seed", "3", "--days", "2", "--household", "h042", "--out",
                 dir.string(), "--incident", "tap@2026-11-02T10:00", "--quiet"},
                &err),
            0)
      << err;
  std::ifstream file(dir / "incidents.json");
  const auto incidents = nlohmann::json::parse(file);
  EXPECT_EQ(incidents["household"], "h042");
  EXPECT_EQ(incidents["incidents"][0]["type"], "tap");
  EXPECT_EQ(incidents["incidents"][0]["start"], "2026-11-02T10:00:00+08:00");
  std::ifstream messages(dir / "messages.jsonl");
  std::string first;
  std::getline(messages, first);
  EXPECT_THAT(first, HasSubstr("homesafe/h042/dev/"));
  std::filesystem::remove_all(dir);

  EXPECT_EQ(run({"household", "--days", "2"}, &err), 2);
  EXPECT_THAT(err, HasSubstr("missing --out"));
  EXPECT_EQ(run({"household", "--out", dir.string(), "--incident", "flood@2026-11-02T10:00"}, &err),
            2);
  EXPECT_THAT(err, HasSubstr("unknown incident type"));
  EXPECT_EQ(run({"household", "--out", dir.string(), "--days", "2", "--incident",
                 "fall@2026-11-20T10:00"},
                &err),
            2);
  EXPECT_THAT(err, HasSubstr("outside the simulated days"));
  EXPECT_EQ(run({"household", "--out", dir.string(), "--days", "0"}), 2);
  EXPECT_EQ(run({"household", "--out", dir.string(), "--start", "1.11.2026"}), 2);
  EXPECT_EQ(run({"household", "--out", dir.string(), "--household", "H1"}), 2);
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(Household, RejectsBadOptions) {
  auto options = options_for(1, 0);
  EXPECT_THROW(simulate_household(options), std::invalid_argument);
  options = options_for(1, 2);
  options.household = "H 1";
  EXPECT_THROW(simulate_household(options), std::invalid_argument);
  options = options_for(1, 2);
  options.incidents.push_back({IncidentType::fall, at("2026-12-20T10:00:00+08:00"), {}});
  EXPECT_THROW(simulate_household(options), std::invalid_argument);
}

}  // namespace
}  // namespace homesafe::sim
