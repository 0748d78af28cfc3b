#include "homesafe/sim/runner.hpp"

#include <algorithm>
#include <map>
#include <ostream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace homesafe::sim {
namespace {

struct Step {
  Millis at;
  int order;                   // 0: scenario event, 1: periodic report
  const ScenarioEvent* event;  // null for a periodic report
  const ScenarioDevice* device;
};

}  // namespace

std::vector<Message> simulate(const Scenario& scenario, std::int64_t start_ms) {
  std::vector<Step> steps;
  Millis last{0};
  for (const auto& event : scenario.events) {
    const auto* device = scenario.find_device(event.device);
    if (device == nullptr) {
      throw std::invalid_argument(fmt::format("event for unknown device '{}'", event.device));
    }
    steps.push_back({event.at, 0, &event, device});
    last = std::max(last, event.at);
  }
  const Millis end = scenario.end.value_or(last);
  for (const auto& device : scenario.devices) {
    if (!device.report_every) continue;
    for (Millis at = *device.report_every; at <= end; at += *device.report_every) {
      steps.push_back({at, 1, nullptr, &device});
    }
  }
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) {
    return std::tie(a.at, a.order) < std::tie(b.at, b.order);
  });

  std::map<std::string, Device, std::less<>> devices;
  for (const auto& spec : scenario.devices) {
    devices.emplace(spec.id, Device(spec.id, spec.type, spec.topic, spec.power));
  }
  std::vector<Message> messages;
  for (const auto& step : steps) {
    Device& device = devices.at(step.device->id);
    const std::int64_t now = start_ms + step.at.count();
    std::vector<Message> produced;
    if (step.event != nullptr) {
      produced = device.apply(step.event->event, step.event->args, now);
    } else if (device.online()) {  // an offline device is silent
      produced = device.apply("report", {}, now);
    }
    messages.insert(messages.end(), std::make_move_iterator(produced.begin()),
                    std::make_move_iterator(produced.end()));
  }
  return messages;
}

void play(const std::vector<Message>& messages, std::int64_t start_ms, std::optional<double> speed,
          Publisher& publisher, const SleepUntil& sleep_until) {
  const auto real_start = std::chrono::steady_clock::now();
  for (const auto& message : messages) {
    if (speed) {
      const double virtual_ms = static_cast<double>(message.ts_ms - start_ms);
      const auto due =
          real_start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double, std::milli>(virtual_ms / *speed));
      if (due > std::chrono::steady_clock::now()) sleep_until(due);
    }
    publisher.publish(message);
  }
  publisher.flush();
}

std::string to_jsonl(const Message& message, int utc_offset_minutes) {
  nlohmann::ordered_json line;
  line["ts"] = format_iso8601(message.ts_ms, utc_offset_minutes);
  line["topic"] = message.topic;
  line["payload"] = message.payload;
  line["retain"] = message.retain;
  return line.dump();
}

std::string to_display_line(const Message& message, int utc_offset_minutes) {
  return fmt::format("{}  {}  {}", format_iso8601(message.ts_ms, utc_offset_minutes), message.topic,
                     message.payload);
}

void JsonlWriter::publish(const Message& message) {
  out_ << to_jsonl(message, utc_offset_minutes_) << '\n';
}

void JsonlWriter::flush() {
  out_.flush();
}

void EchoPublisher::publish(const Message& message) {
  if (next_ != nullptr) next_->publish(message);
  out_ << to_display_line(message, utc_offset_minutes_) << std::endl;  // live demos: line by line
}

void EchoPublisher::flush() {
  if (next_ != nullptr) next_->flush();
  out_.flush();
}

}  // namespace homesafe::sim
