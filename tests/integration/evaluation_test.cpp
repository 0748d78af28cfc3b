// The anomaly rules judged on simulated life, in CI: `homesafe-sim evaluate` generates a few
// household-months with injected falls (and other incidents), replays them through the real
// gateway binary and scores the alerts. The full 100 household-month evaluation is run by hand
// (firmware-sim/README.md); this small sample keeps the whole path honest on every change.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace homesafe::test {
namespace {

using namespace std::chrono_literals;

TEST(Evaluation, FallsAreFoundAndFalseAlertsStayRareOnASmallSample) {
  TempDir work("evaluation");
  Process sim({HOMESAFE_SIM_BIN, "evaluate", "--gateway", HOMESAFE_GATEWAY_BIN, "--households", "3",
               "--days", "20", "--seed", "7", "--jobs", "2", "--work", work.path().string()});
  const auto status = sim.wait_for_exit(15min);
  ASSERT_EQ(status, 0) << sim.describe();

  const auto summary = nlohmann::json::parse(read_file(work.path() / "summary.json"));
  // Every simulated household has one fall (after two weeks of normal life to learn from).
  const auto& falls = summary.at("incidents").at("fall");
  EXPECT_EQ(falls.at("incidents").get<int>(), 3);
  EXPECT_EQ(falls.at("detected").get<int>(), 3) << summary.dump(2);
  // Found within the 4 h inactivity allowance (the learned routine is often earlier), evening
  // falls included: well before the 24 h no-water rule alone would.
  for (const auto& seconds : falls.at("times_to_detect_s")) {
    EXPECT_LE(seconds.get<std::int64_t>(), 4 * 3600 + 5 * 60) << summary.dump(2);
  }
  // The target is at most one false person-related alert per household-month (3 x 20 days = 2).
  EXPECT_LE(summary.at("false_alerts_per_household_month").get<double>(), 1.0) << summary.dump(2);
  // Every incident type the sample drew was judged, and nothing went unread.
  for (const auto& [type, stats] : summary.at("incidents").items()) {
    if (type == "hospital") {
      EXPECT_EQ(stats.at("person_alerts_while_away").get<int>(), 0) << type;
    } else {
      EXPECT_EQ(stats.at("detected"), stats.at("incidents")) << type << "\n" << summary.dump(2);
    }
  }
}

}  // namespace
}  // namespace homesafe::test
