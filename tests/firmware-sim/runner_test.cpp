#include "homesafe/sim/runner.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace homesafe::sim {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kT0 = 1'793'487'600'000;  // 2026-11-01T07:00:00+08:00

Scenario parse(std::string_view yaml) {
  auto parsed = parse_scenario(yaml, "test.yaml");
  EXPECT_TRUE(parsed.scenario) << (parsed.errors.empty() ? "" : parsed.errors[0].to_string());
  return parsed.scenario.value_or(Scenario{});
}

class RecordingPublisher final : public Publisher {
 public:
  void publish(const Message& message) override { messages.push_back(message); }
  void flush() override { ++flushes; }
  std::vector<Message> messages;
  int flushes = 0;
};

TEST(SimRunner, SortsEventsByTimeKeepingFileOrderWithinAnInstant) {
  const auto scenario = parse(R"(household: h
devices:
  - {id: a, type: door}
  - {id: b, type: motion}
events:
  - {at: 1m, device: a, event: open}
  - {at: 0s, device: b, event: online}
  - {at: 0s, device: a, event: online}
  - {at: 1m, device: b, event: motion}
  - {at: 30s, device: a, event: close}
)");
  const auto messages = simulate(scenario, kT0);
  ASSERT_EQ(messages.size(), 5U);
  EXPECT_EQ(messages[0].topic, "homesafe/h/dev/b/availability");
  EXPECT_EQ(messages[1].topic, "homesafe/h/dev/a/availability");
  EXPECT_EQ(messages[2].ts_ms, kT0 + 30'000);
  EXPECT_EQ(messages[3].topic, "homesafe/h/dev/a/state");
  EXPECT_EQ(messages[3].ts_ms, kT0 + 60'000);
  EXPECT_EQ(messages[4].topic, "homesafe/h/dev/b/state");
}

TEST(SimRunner, PeriodicReportsWhileOnlineUntilTheEnd) {
  const auto scenario = parse(R"(household: h
end: 1h
devices:
  - {id: p, type: plug, report_every: 15m}
events:
  - {at: 0s, device: p, event: power, watts: 2000}
  - {at: 20m, device: p, event: offline}
  - {at: 40m, device: p, event: online}
)");
  const auto messages = simulate(scenario, kT0);
  std::vector<std::string> lines;
  for (const auto& message : messages) lines.push_back(to_display_line(message, 480));
  EXPECT_EQ(
      lines,
      (std::vector<std::string>{
          R"(2026-11-01T07:00:00+08:00  homesafe/h/dev/p/state  {"power":2000,"energy":0,"ts":1793487600000})",
          R"(2026-11-01T07:15:00+08:00  homesafe/h/dev/p/state  {"power":2000,"energy":0.5,"ts":1793488500000})",
          R"(2026-11-01T07:20:00+08:00  homesafe/h/dev/p/availability  offline)",
          R"(2026-11-01T07:40:00+08:00  homesafe/h/dev/p/availability  online)",
          R"(2026-11-01T07:45:00+08:00  homesafe/h/dev/p/state  {"power":2000,"energy":1.5,"ts":1793490300000})",
          R"(2026-11-01T08:00:00+08:00  homesafe/h/dev/p/state  {"power":2000,"energy":2,"ts":1793491200000})",
      }));
}

TEST(SimRunner, JsonlLinesAreReplayInput) {
  const Message state{kT0 + 10'000, "homesafe/h001/dev/s/state", R"({"smoke":true,"ts":1})", false};
  EXPECT_EQ(to_jsonl(state, 480),
            R"({"ts":"2026-11-01T07:00:10+08:00","topic":"homesafe/h001/dev/s/state",)"
            R"("payload":"{\"smoke\":true,\"ts\":1}","retain":false})");
  const Message availability{kT0, "homesafe/h001/dev/s/availability", "online", true};
  EXPECT_EQ(to_jsonl(availability, 0),
            R"({"ts":"2026-10-31T23:00:00+00:00","topic":"homesafe/h001/dev/s/availability",)"
            R"("payload":"online","retain":true})");

  std::ostringstream out;
  JsonlWriter writer(out, 480);
  writer.publish(state);
  writer.publish(availability);
  EXPECT_EQ(out.str(), to_jsonl(state, 480) + "\n" + to_jsonl(availability, 480) + "\n");
}

TEST(SimRunner, EchoPrintsAndForwards) {
  RecordingPublisher next;
  std::ostringstream out;
  EchoPublisher echo(out, 480, &next);
  echo.publish({kT0, "a/b/state", "{}", false});
  echo.flush();
  EXPECT_EQ(out.str(), "2026-11-01T07:00:00+08:00  a/b/state  {}\n");
  EXPECT_EQ(next.messages.size(), 1U);
  EXPECT_EQ(next.flushes, 1);
}

TEST(SimRunner, PlayPacesByVirtualTimeOverSpeed) {
  const std::vector<Message> messages{
      {kT0, "t", "0", false}, {kT0 + 60'000, "t", "1", false}, {kT0 + 120'000, "t", "2", false}};
  RecordingPublisher publisher;
  std::vector<std::chrono::steady_clock::time_point> sleeps;
  const auto before = std::chrono::steady_clock::now();
  play(messages, kT0, 60.0, publisher,
       [&](std::chrono::steady_clock::time_point due) { sleeps.push_back(due); });
  EXPECT_EQ(publisher.messages, messages);
  EXPECT_EQ(publisher.flushes, 1);
  // 60 virtual seconds per real second: the 2nd message is due ~1 s after the start, the 3rd ~2 s.
  ASSERT_EQ(sleeps.size(), 2U);
  EXPECT_GE(sleeps[0] - before, 1s);
  EXPECT_LT(sleeps[0] - before, 1s + 500ms);
  EXPECT_GE(sleeps[1] - before, 2s);
  EXPECT_LT(sleeps[1] - before, 2s + 500ms);
}

TEST(SimRunner, PlayAtMaxSpeedNeverSleeps) {
  const std::vector<Message> messages{{kT0, "t", "0", false}, {kT0 + 86'400'000, "t", "1", false}};
  RecordingPublisher publisher;
  int sleeps = 0;
  play(messages, kT0, std::nullopt, publisher, [&](auto) { ++sleeps; });
  EXPECT_EQ(sleeps, 0);
  EXPECT_EQ(publisher.messages.size(), 2U);
}

}  // namespace
}  // namespace homesafe::sim
