#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <vector>

#include "homesafe/sim/message.hpp"
#include "homesafe/sim/scenario.hpp"

namespace homesafe::sim {

// Where simulated messages go: an MQTT broker, a JSONL file, a test's vector.
class Publisher {
 public:
  virtual ~Publisher() = default;
  virtual void publish(const Message& message) = 0;
  // Returns once everything published so far has been delivered (or written).
  virtual void flush() {}
};

// Every message of `scenario` when it starts at `start_ms`, in virtual-time order. Events at the
// same time keep their file order; periodic reports come after the events of their instant.
// The scenario must come from parse_scenario() (valid); throws std::invalid_argument otherwise.
std::vector<Message> simulate(const Scenario& scenario, std::int64_t start_ms);

using SleepUntil = std::function<void(std::chrono::steady_clock::time_point)>;

// Publishes `messages` paced in real time: a message `d` of virtual time after `start_ms` goes
// out `d / speed` after the call. No speed: as fast as possible.
void play(const std::vector<Message>& messages, std::int64_t start_ms, std::optional<double> speed,
          Publisher& publisher, const SleepUntil& sleep_until);

// Replay input for `homesafe-gateway replay`: one line
// {"ts":"<ISO 8601 in the offset>","topic":"...","payload":"<raw payload>","retain":false}.
std::string to_jsonl(const Message& message, int utc_offset_minutes);
// "<ISO 8601>  <topic>  <payload>", as printed for every published message.
std::string to_display_line(const Message& message, int utc_offset_minutes);

// Writes to_jsonl() lines.
class JsonlWriter final : public Publisher {
 public:
  JsonlWriter(std::ostream& out, int utc_offset_minutes)
      : out_(out), utc_offset_minutes_(utc_offset_minutes) {}
  void publish(const Message& message) override;
  void flush() override;

 private:
  std::ostream& out_;
  int utc_offset_minutes_;
};

// Prints to_display_line() for every message, then passes it on (if there is a next publisher).
class EchoPublisher final : public Publisher {
 public:
  EchoPublisher(std::ostream& out, int utc_offset_minutes, Publisher* next)
      : out_(out), utc_offset_minutes_(utc_offset_minutes), next_(next) {}
  void publish(const Message& message) override;
  void flush() override;

 private:
  std::ostream& out_;
  int utc_offset_minutes_;
  Publisher* next_;
};

}  // namespace homesafe::sim
