#include "homesafe/sim/evaluate.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "homesafe/sim/cli.hpp"
#include "homesafe/sim/time.hpp"

namespace homesafe::sim {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;

std::int64_t at(const std::string& iso) {
  auto parsed = parse_iso8601(iso);
  EXPECT_TRUE(parsed.has_value()) << iso;
  return parsed ? parsed->unix_ms : 0;
}

std::string alert_line(const std::string& ts, const std::string& id, const std::string& kind,
                       const std::string& state, const std::string& device = "-",
                       const std::string& event = "x") {
  return R"({"type":"alert","ts":")" + ts + R"(","alert_id":")" + id +
         R"(","household":"h001","kind":")" + kind + R"(","severity":"warning","state":")" + state +
         R"(","event":")" + event + R"(","device":")" + device + R"(","location":"门厅"})";
}

Incident incident(IncidentType type, const std::string& start, const std::string& end,
                  std::vector<std::string> kinds, std::string device = {}) {
  Incident result;
  result.type = type;
  result.start_ms = at(start);
  result.end_ms = at(end);
  result.detected_by = std::move(kinds);
  result.device = std::move(device);
  return result;
}

RaisedAlert raised(const std::string& ts, const std::string& kind, const std::string& device = "-",
                   const std::string& id = {}) {
  return {at(ts), id.empty() ? kind + "@" + ts : id, kind, device};
}

TEST(ParseReplayOutput, TakesTheFirstOpenLineOfEachAlert) {
  std::stringstream in;
  in << alert_line("2026-11-18T13:30:00+08:00", "a1", "inactivity", "open") << '\n'
     << R"({"type":"notification","ts":"2026-11-18T13:30:00+08:00","notification_id":"n1",)"
     << R"("alert_id":"a1","recipient":"li","role":"caregiver","channel":"mqtt","step":0})" << '\n'
     << alert_line("2026-11-18T14:00:00+08:00", "a1", "inactivity", "acknowledged") << '\n'
     << alert_line("2026-11-18T15:00:00+08:00", "a1", "inactivity", "open") << '\n'
     << '\n'
     << alert_line("2026-11-19T02:00:00.250+08:00", "a2", "night_door", "open", "front-door")
     << '\n'
     << alert_line("2026-11-20T08:00:00+08:00", "a3", "no_water", "resolved") << '\n'
     << "{not json \"alert\"\n"
     << alert_line("not a time", "a4", "no_water", "open") << '\n';
  int bad = 0;
  const auto alerts = parse_replay_output(in, &bad);
  ASSERT_EQ(alerts.size(), 2U);
  EXPECT_EQ(alerts[0].alert_id, "a1");
  EXPECT_EQ(alerts[0].kind, "inactivity");
  EXPECT_EQ(alerts[0].ts_ms, at("2026-11-18T13:30:00+08:00"));
  EXPECT_EQ(alerts[1].alert_id, "a2");
  EXPECT_EQ(alerts[1].device, "front-door");
  EXPECT_EQ(alerts[1].ts_ms, at("2026-11-19T02:00:00+08:00") + 250);
  EXPECT_EQ(bad, 2);
}

TEST(ParseReplayOutput, AConditionThatReturnsOnAnOpenAlertIsRaisedAgain) {
  std::stringstream in;
  in << alert_line("2026-11-18T13:30:00+08:00", "a1", "inactivity", "open", "-", "opened") << '\n'
     << alert_line("2026-11-18T15:00:00+08:00", "a1", "inactivity", "open", "-",
                   "condition_cleared")
     << '\n'
     << alert_line("2026-11-21T10:00:00+08:00", "a1", "inactivity", "open", "-",
                   "condition_returned")
     << '\n';
  const auto alerts = parse_replay_output(in, nullptr);
  ASSERT_EQ(alerts.size(), 2U);
  EXPECT_EQ(alerts[1].alert_id, "a1");
  EXPECT_EQ(alerts[1].ts_ms, at("2026-11-21T10:00:00+08:00"));
}

TEST(MatchAlerts, DetectedMissedFalseAndOther) {
  const std::vector<Incident> incidents{
      incident(IncidentType::fall, "2026-11-18T09:30:00+08:00", "2026-11-19T21:30:00+08:00",
               {"inactivity", "routine_deviation", "no_water"}),
      incident(IncidentType::wander, "2026-11-10T01:00:00+08:00", "2026-11-10T03:00:00+08:00",
               {"night_door"}),
      incident(IncidentType::device_dies, "2026-11-05T12:00:00+08:00", "2026-12-01T00:00:00+08:00",
               {"device_offline"}, "hall-motion"),
  };
  const std::vector<RaisedAlert> alerts{
      // The fall: routine_deviation first (2:15), then inactivity; both are matched.
      raised("2026-11-18T13:30:00+08:00", "inactivity"),
      raised("2026-11-18T11:45:00+08:00", "routine_deviation"),
      // Within the grace hour after the end: still the fall.
      raised("2026-11-19T22:15:00+08:00", "no_water"),
      // After the grace hour: false.
      raised("2026-11-19T23:00:00+08:00", "no_water", "-", "late"),
      // Before the fall: false.
      raised("2026-11-12T15:00:00+08:00", "inactivity", "-", "early"),
      // The wrong device going offline: an "other" alert; the right one detects.
      raised("2026-11-05T13:00:00+08:00", "device_offline", "kitchen-motion"),
      raised("2026-11-06T13:00:00+08:00", "device_offline", "hall-motion"),
      raised("2026-11-07T09:00:00+08:00", "low_battery", "front-door"),
  };
  const auto outcome = match_alerts(incidents, alerts);
  ASSERT_EQ(outcome.incidents.size(), 3U);

  const auto& fall = outcome.incidents[0];
  EXPECT_TRUE(fall.detected);
  EXPECT_EQ(fall.alert_kind, "routine_deviation");
  EXPECT_EQ(fall.time_to_detect_ms, 2 * kHour + 15 * kMinute);

  EXPECT_FALSE(outcome.incidents[1].detected);  // no night_door: missed

  const auto& dies = outcome.incidents[2];
  EXPECT_TRUE(dies.detected);
  EXPECT_EQ(dies.time_to_detect_ms, 25 * kHour);

  ASSERT_EQ(outcome.false_alerts.size(), 2U);
  EXPECT_EQ(outcome.false_alerts[0].alert_id, "early");
  EXPECT_EQ(outcome.false_alerts[1].alert_id, "late");
  EXPECT_EQ(outcome.other_alerts.at("device_offline"), 1);
  EXPECT_EQ(outcome.other_alerts.at("low_battery"), 1);
  EXPECT_EQ(outcome.raised.at("no_water"), 2);
  EXPECT_EQ(outcome.matched.at("no_water"), 1);
  EXPECT_EQ(outcome.matched.at("inactivity"), 1);
  EXPECT_EQ(outcome.matched.at("device_offline"), 1);
}

TEST(MatchAlerts, AnAwayWeekExpectsNoPersonAlerts) {
  Incident hospital = incident(IncidentType::hospital, "2026-11-03T10:00:00+08:00",
                               "2026-11-10T10:00:00+08:00", {});
  hospital.expect_none = {"no_water", "inactivity", "routine_deviation", "night_door"};
  const std::vector<RaisedAlert> alerts{
      raised("2026-11-04T10:00:00+08:00", "no_water"),
      raised("2026-11-04T11:00:00+08:00", "low_battery"),
      raised("2026-11-11T10:00:00+08:00", "inactivity"),
  };
  const auto outcome = match_alerts(std::vector{hospital}, alerts);
  ASSERT_EQ(outcome.incidents.size(), 1U);
  EXPECT_FALSE(outcome.incidents[0].detectable);
  EXPECT_FALSE(outcome.incidents[0].detected);
  EXPECT_EQ(outcome.incidents[0].unexpected, 1);
  EXPECT_EQ(outcome.false_alerts.size(), 2U);  // during and after the away week
  EXPECT_EQ(outcome.other_alerts.at("low_battery"), 1);
}

TEST(Statistics, MedianWorstAndFormatting) {
  EXPECT_EQ(median_ms({}), std::nullopt);
  EXPECT_EQ(median_ms({5}), 5);
  EXPECT_EQ(median_ms({9, 1, 5}), 5);
  EXPECT_EQ(median_ms({4, 1, 10, 2}), 3);
  EXPECT_EQ(format_hours_minutes(std::nullopt), "-");
  EXPECT_EQ(format_hours_minutes(0), "0:00");
  EXPECT_EQ(format_hours_minutes(4 * kHour + 5 * kMinute + 59'999), "4:05");
  EXPECT_EQ(format_hours_minutes(36 * kHour), "36:00");
}

TEST(Statistics, SummaryTableAndJson) {
  const std::vector<Incident> falls{
      incident(IncidentType::fall, "2026-11-18T09:00:00+08:00", "2026-11-19T21:00:00+08:00",
               {"inactivity", "routine_deviation", "no_water"}),
  };
  EvaluationSummary summary;
  summary.households = 3;
  summary.days = 30;
  summary.seed = 1;
  summary.add(match_alerts(falls, std::vector{raised("2026-11-18T13:00:00+08:00", "inactivity")}));
  summary.add(match_alerts(falls, std::vector{raised("2026-11-18T11:00:00+08:00", "inactivity"),
                                              raised("2026-11-02T11:00:00+08:00", "no_water")}));
  summary.add(match_alerts(falls, std::vector{raised("2026-11-25T11:00:00+08:00", "no_water"),
                                              raised("2026-11-25T11:00:00+08:00", "tamper")}));
  const auto& fall = summary.types.at("fall");
  EXPECT_EQ(fall.incidents, 3);
  EXPECT_EQ(fall.detected, 2);
  EXPECT_EQ(summary.kinds.at("no_water").unmatched, 2);
  EXPECT_EQ(summary.kinds.at("inactivity").matched, 2);

  const std::string table = format_summary_table(summary);
  EXPECT_THAT(table, HasSubstr("3 households x 30 days = 3.0 household-months"));
  EXPECT_THAT(table, ::testing::ContainsRegex("fall +3 +2 +67% +3:00 +4:00"));
  EXPECT_THAT(table, ::testing::ContainsRegex("no_water +2 +0 +2 +0.667"));
  EXPECT_THAT(table,
              HasSubstr("other alerts (not person-related, matching no incident): tamper 1"));

  const auto json = summary_json(summary);
  EXPECT_EQ(json["household_months"], 3.0);
  EXPECT_EQ(json["incidents"]["fall"]["detected"], 2);
  EXPECT_EQ(json["incidents"]["fall"]["median_time_to_detect_s"], 3 * 3600);
  EXPECT_EQ(json["incidents"]["fall"]["worst_time_to_detect_s"], 4 * 3600);
  EXPECT_EQ(json["alerts"]["no_water"]["false_alerts"], 2);
  EXPECT_EQ(json["alerts"]["tamper"]["other_alerts"], 1);
  EXPECT_EQ(json["false_alerts"], 2);
}

TEST(EvaluationPlan, EveryHouseholdGetsAFallAndSomeAnother) {
  EvaluateOptions options;
  options.seed = 1;
  options.start_ms = at("2026-11-01T00:00:00+08:00");
  int two = 0;
  for (int i = 0; i < 100; ++i) {
    const auto household = evaluation_household(options, i);
    EXPECT_EQ(household.seed, 1U + static_cast<unsigned>(i));
    const int count = household.random_incidents;
    EXPECT_TRUE(count == 1 || count == 2);
    two += count == 2 ? 1 : 0;
  }
  EXPECT_EQ(evaluation_household(options, 0).household, "h001");
  EXPECT_EQ(evaluation_household(options, 99).household, "h100");
  EXPECT_GT(two, 30);
  EXPECT_LT(two, 70);
}

// A stand-in for homesafe-gateway: checks its arguments, prints a canned replay output.
class EvaluateCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("homesafe-evaluate-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string gateway(const std::string& body) {
    const auto path = dir_ / "fake-gateway";
    std::ofstream(path) << "#!/bin/sh\n"
                        << "[ \"$1\" = replay ] && [ \"$2\" = --config ] && [ -f \"$3\" ] &&\n"
                        << "  [ \"$4\" = --input ] && [ -s \"$5\" ] || exit 9\n"
                        << body;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    return path.string();
  }

  int run(std::vector<std::string> args) {
    out_.str({});
    err_.str({});
    return run_cli(args, out_, err_);
  }

  std::filesystem::path dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(EvaluateCommand, ReplaysEveryHouseholdAndSummarises) {
  // A no_water alert on the first day matches no incident (the fall is on the second).
  const auto fake =
      gateway("echo '" + alert_line("2026-11-01T12:00:00+08:00", "x1", "no_water", "open") +
              "'\necho '{\"type\":\"notification\",\"alert_id\":\"x1\"}'\n");
  const auto work = (dir_ / "work").string();
  ASSERT_EQ(run({"evaluate", "--gateway", fake, "--households", "3", "--days", "2", "--work", work,
                 "--jobs", "2"}),
            0)
      << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("3 households x 2 days"));
  EXPECT_THAT(err_.str(), HasSubstr("household 3/3"));
  for (const char* household : {"h001", "h002", "h003"}) {
    for (const char* file : {"messages.jsonl", "hub.yaml", "incidents.json", "replay.out"}) {
      EXPECT_TRUE(std::filesystem::exists(dir_ / "work" / household / file))
          << household << "/" << file;
    }
  }
  std::ifstream file(dir_ / "work" / "summary.json");
  const auto summary = nlohmann::json::parse(file);
  EXPECT_EQ(summary["households"], 3);
  EXPECT_EQ(summary["incidents"]["fall"]["incidents"], 3);
  EXPECT_EQ(summary["incidents"]["fall"]["detected"], 0);
  EXPECT_EQ(summary["alerts"]["no_water"]["false_alerts"], 3);
}

TEST_F(EvaluateCommand, AFailedReplayIsAFailure) {
  const auto fake = gateway("echo 'config error' >&2\nexit 3\n");
  EXPECT_EQ(run({"evaluate", "--gateway", fake, "--households", "2", "--days", "2", "--work",
                 (dir_ / "work").string()}),
            1);
  EXPECT_THAT(err_.str(), HasSubstr("replay failed (exit status 3)"));
  EXPECT_THAT(err_.str(), HasSubstr("config error"));
}

TEST_F(EvaluateCommand, BadCommandLines) {
  const auto work = (dir_ / "work").string();
  EXPECT_EQ(run({"evaluate", "--work", work}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("missing --gateway"));
  EXPECT_EQ(run({"evaluate", "--gateway", (dir_ / "none").string(), "--work", work}), 2);
  EXPECT_THAT(err_.str(), HasSubstr("not an executable"));
  const auto fake = gateway("");
  EXPECT_EQ(run({"evaluate", "--gateway", fake, "--work", work, "--households", "0"}), 2);
  EXPECT_EQ(run({"evaluate", "--gateway", fake, "--work", work, "--jobs", "x"}), 2);
  EXPECT_EQ(run({"evaluate", "--gateway", fake, "--work", work, "--start", "2026-11"}), 2);
  EXPECT_EQ(run({"evaluate", "--gateway", fake}), 2);
}

}  // namespace
}  // namespace homesafe::sim
