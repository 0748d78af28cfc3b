// Decoding throughput per format: each benchmark decodes the readable messages of that format's
// test fixtures (real payload shapes: Zigbee2MQTT state messages, Tasmota SENSOR, Shelly RPC
// notifications, ESPHome states, wmbusmeters telegrams) in a loop and reports messages/s and
// readings/s. The payloads with problems are left out: they measure the error path.
#include <benchmark/benchmark.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "homesafe/drivers/discovery.hpp"
#include "homesafe/drivers/driver.hpp"

namespace {

using homesafe::drivers::DeviceConfig;
using homesafe::drivers::Driver;

struct Message {
  DeviceConfig device;
  std::string topic;
  std::string payload;
};

std::vector<Message> readable_messages(const std::string& format) {
  std::ifstream file(std::string(HOMESAFE_FIXTURES_DIR) + "/" + format + "/messages.jsonl");
  if (!file) throw std::runtime_error("no fixtures for " + format);
  std::vector<Message> out;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty()) continue;
    const auto json = nlohmann::json::parse(line);
    if (!json.at("problems").empty()) continue;
    Message message;
    message.topic = json.at("topic").get<std::string>();
    message.payload = json.at("payload").get<std::string>();
    message.device.id = "bench";
    message.device.format = format;
    if (json.contains("device")) {
      message.device.topic = json["device"].at("topic").get<std::string>();
      message.device.kind =
          *homesafe::drivers::device_kind_from_string(json["device"].at("kind").get<std::string>());
      message.device.model = json["device"].value("model", std::string());
    } else {
      message.device.topic = message.topic.substr(0, message.topic.rfind('/'));
    }
    out.push_back(std::move(message));
  }
  return out;
}

void BM_Decode(benchmark::State& state, const std::string& format) {
  const Driver* driver = homesafe::drivers::find_driver(format);
  const auto messages = readable_messages(format);
  std::size_t bytes = 0;
  for (const auto& message : messages) bytes += message.payload.size();
  std::int64_t readings = 0;
  for (auto _ : state) {
    for (const auto& message : messages) {
      auto result = driver->decode(message.device, message.topic, message.payload);
      readings += static_cast<std::int64_t>(result.readings.size());
      benchmark::DoNotOptimize(result);
    }
  }
  const auto decoded =
      static_cast<double>(state.iterations()) * static_cast<double>(messages.size());
  state.counters["messages/s"] = benchmark::Counter(decoded, benchmark::Counter::kIsRate);
  state.counters["readings/s"] =
      benchmark::Counter(static_cast<double>(readings), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
  state.SetLabel(std::to_string(messages.size()) + " fixture messages");
}

BENCHMARK_CAPTURE(BM_Decode, native, std::string("native"));
BENCHMARK_CAPTURE(BM_Decode, zigbee2mqtt, std::string("zigbee2mqtt"));
BENCHMARK_CAPTURE(BM_Decode, tasmota, std::string("tasmota"));
BENCHMARK_CAPTURE(BM_Decode, shelly, std::string("shelly"));
BENCHMARK_CAPTURE(BM_Decode, esphome, std::string("esphome"));
BENCHMARK_CAPTURE(BM_Decode, wmbusmeters, std::string("wmbusmeters"));

// A recorded broker session through discovery (for `discover` on a large network).
void BM_Discovery(benchmark::State& state) {
  std::ifstream file(std::string(HOMESAFE_FIXTURES_DIR) + "/discovery/messages.jsonl");
  std::vector<std::pair<std::string, std::string>> messages;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty()) continue;
    const auto json = nlohmann::json::parse(line);
    messages.emplace_back(json.at("topic").get<std::string>(),
                          json.at("payload").get<std::string>());
  }
  for (auto _ : state) {
    homesafe::drivers::Discovery discovery;
    for (const auto& [topic, payload] : messages) discovery.observe(topic, payload);
    auto result = discovery.result();
    benchmark::DoNotOptimize(result);
  }
  state.counters["messages/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(messages.size()),
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Discovery);

}  // namespace

BENCHMARK_MAIN();
