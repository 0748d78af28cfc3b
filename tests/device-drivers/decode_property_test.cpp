// Property test (no clang/libFuzzer needed): random bytes and mutations of every format's real
// fixture payloads never crash a driver, never throw, never give a reading of the wrong type or
// the same capability twice, and stay fast on adversarial payloads (deep nesting is refused
// before parsing, so nothing later recurses deeper than detail::kMaxJsonDepth).
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <variant>

#include "fixture_support.hpp"
#include "homesafe/drivers/driver.hpp"
#include "json_payload.hpp"

namespace homesafe::drivers {
namespace {

using Clock = std::chrono::steady_clock;

const std::vector<std::string> kGenericSeeds{
    R"({"smoke":true,"battery":87,"battery_low":false,"tamper":false,"test":false})",
    R"({"action":"sos","battery":100})",
    R"({"water_total_l":123456.5,"battery":90,"ts":1761951600000})",
    R"({"power":1850.5,"energy":12.25})",
    R"({"contact":false,"temperature":21.5,"humidity":40})",
    "online",
    "offline",
    "ON",
    "nan",
    "21.5",
};

std::string mutate(std::string text, std::mt19937& rng) {
  std::uniform_int_distribution<int> op(0, 4);
  std::uniform_int_distribution<int> byte(0, 255);
  static const std::vector<std::string> kTokens{
      "{", "}", "[", "]", "\"", ":", ",", "null", "true", "1e999", "-1", "\"\"", "\\u0000"};
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits; ++i) {
    const std::size_t at = text.empty() ? 0 : rng() % text.size();
    switch (op(rng)) {
      case 0:
        if (!text.empty()) text[at] = static_cast<char>(byte(rng));
        break;
      case 1:
        text.insert(at, 1, static_cast<char>(byte(rng)));
        break;
      case 2:
        if (!text.empty()) text.erase(at, 1 + rng() % 4);
        break;
      case 3:
        text.insert(at, text.substr(0, rng() % (text.size() + 1)));
        break;
      case 4:
        text.insert(at, kTokens[rng() % kTokens.size()]);
        break;
    }
    if (text.size() > 8192) text.resize(8192);
  }
  return text;
}

// The value type each capability must carry.
void expect_well_typed(const DecodeResult& result, const std::string& payload) {
  std::set<Capability> seen;
  for (const auto& reading : result.readings) {
    EXPECT_TRUE(seen.insert(reading.capability).second)
        << to_string(reading.capability) << " twice for " << payload;
    switch (reading.capability) {
      case Capability::action:
        EXPECT_TRUE(std::holds_alternative<std::string>(reading.value)) << payload;
        break;
      case Capability::power:
      case Capability::energy:
      case Capability::water_total_l:
      case Capability::temperature:
      case Capability::humidity:
      case Capability::battery: {
        ASSERT_TRUE(std::holds_alternative<double>(reading.value)) << payload;
        const double value = std::get<double>(reading.value);
        const auto range = detail::plausible_range(reading.capability);
        EXPECT_TRUE(value >= range.min && value <= range.max) << payload;
        break;
      }
      default:
        EXPECT_TRUE(std::holds_alternative<bool>(reading.value)) << payload;
    }
  }
}

struct Seed {
  DeviceConfig device;
  std::string topic;
  std::string payload;
};

// Seeds for one driver: its format's fixtures (device, topic, payload), plus generic payloads
// on the topics of a device of every kind.
std::vector<Seed> seeds_for(const Driver& driver) {
  std::vector<Seed> seeds;
  for (auto& fixture : testing::load_fixtures(driver.format())) {
    seeds.push_back({fixture.device, fixture.topic, fixture.payload});
  }
  for (const auto kind_name : device_kind_names()) {
    DeviceConfig device;
    device.id = "d";
    device.kind = *device_kind_from_string(kind_name);
    device.topic = "base/" + std::string(kind_name) + "/x";
    device.location = "x";
    for (const auto& topic : driver.topics(device)) {
      for (const auto& payload : kGenericSeeds) seeds.push_back({device, topic, payload});
    }
  }
  return seeds;
}

TEST(DecodeProperty, EveryFormatHasFixtureSeeds) {
  for (const Driver* driver : all_drivers()) {
    EXPECT_GE(testing::load_fixtures(driver->format()).size(), 10u) << driver->format();
  }
}

TEST(DecodeProperty, NoInputCrashesOrThrows) {
  std::mt19937 rng(20261122);
  // Bounded run time: at most this many decodes per driver, and at most ~1 s per driver.
  constexpr int kIterations = 40000;
  const auto budget = std::chrono::milliseconds(1000);
  for (const Driver* driver : all_drivers()) {
    SCOPED_TRACE(std::string(driver->format()));
    const auto seeds = seeds_for(*driver);
    ASSERT_FALSE(seeds.empty());
    const auto start = Clock::now();
    for (int i = 0; i < kIterations && Clock::now() - start < budget; ++i) {
      const Seed& seed = seeds[rng() % seeds.size()];
      std::string payload;
      if (i % 3 != 2) {
        payload = mutate(seed.payload, rng);
      } else {
        payload.resize(rng() % 64);
        for (auto& ch : payload) ch = static_cast<char>(rng() % 256);
      }
      const auto topics = driver->topics(seed.device);
      const std::string& topic = (i % 5 == 0) ? topics[rng() % topics.size()] : seed.topic;
      DecodeResult result;
      ASSERT_NO_THROW(result = driver->decode(seed.device, topic, payload)) << payload;
      expect_well_typed(result, payload);
    }
  }
}

// The flat scan (detail::scan_flat_object) agrees with nlohmann on every payload it accepts:
// the same members with the same values. Whatever it is unsure of it leaves to nlohmann, so it
// may refuse valid JSON but must never accept anything nlohmann reads differently.
void expect_same_scalar(const detail::Scalar& flat, const detail::Scalar& tree,
                        const std::string& key, const std::string& payload) {
  SCOPED_TRACE(key + " in " + payload);
  EXPECT_EQ(flat.kind, tree.kind);
  EXPECT_EQ(flat.flag, tree.flag);
  EXPECT_EQ(std::memcmp(&flat.number, &tree.number, sizeof(double)), 0)
      << flat.number << " vs " << tree.number;
  EXPECT_EQ(flat.integer, tree.integer);
  EXPECT_EQ(flat.text, tree.text);
}

TEST(DecodeProperty, FlatScanReadsWhatNlohmannReads) {
  std::vector<std::string> seeds(kGenericSeeds.begin(), kGenericSeeds.end());
  for (const Driver* driver : all_drivers()) {
    for (auto& fixture : testing::load_fixtures(driver->format())) seeds.push_back(fixture.payload);
  }
  for (const char* extra : {R"({"a":-0,"b":0.5e-3,"c":1E+2,"d":-12,"e":9223372036854775807})",
                            R"( { "smoke" : true , "smoke" : false , "x" : [ 1 , { } ] } )",
                            R"({"n":null,"s":"","t":"sos","u":{"v":[true,false,null]}})",
                            R"({"big":9223372036854775808,"neg":-9223372036854775808})"}) {
    seeds.emplace_back(extra);
  }
  std::mt19937 rng(20261123);
  int scanned = 0;
  int refused = 0;
  for (int i = 0; i < 60000; ++i) {
    const std::string& seed = seeds[static_cast<std::size_t>(i) % seeds.size()];
    const std::string payload = i < static_cast<int>(seeds.size()) ? seed : mutate(seed, rng);
    const auto flat = detail::scan_flat_object(payload, detail::kMaxJsonDepth);
    if (!flat) {
      ++refused;
      continue;
    }
    ++scanned;
    const auto tree = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(tree.is_object()) << "scanned, but nlohmann refuses: " << payload;
    std::set<std::string_view> keys;
    for (const auto& member : flat->members()) keys.insert(member.key);
    ASSERT_EQ(keys.size(), tree.size()) << payload;
    for (const auto key : keys) {
      const auto it = tree.find(key);
      ASSERT_NE(it, tree.end()) << key << " in " << payload;
      expect_same_scalar(flat->at(key), detail::scalar_of(*it), std::string(key), payload);
    }
  }
  // Both outcomes are exercised (the mutations break most payloads, not all).
  EXPECT_GT(scanned, 2000);
  EXPECT_GT(refused, 5000);
}

// Garbage is never an alarm: random bytes give no hazard reading set to true.
TEST(DecodeProperty, RandomBytesNeverRaiseAnAlarm) {
  std::mt19937 rng(7);
  for (const Driver* driver : all_drivers()) {
    DeviceConfig device;
    device.kind = DeviceKind::smoke;
    device.topic = "node/binary_sensor/smoke";
    const auto topics = driver->topics(device);
    for (int i = 0; i < 2000; ++i) {
      std::string payload(rng() % 48, '\0');
      for (auto& ch : payload) ch = static_cast<char>(rng() % 256);
      // ESPHome's binary_sensor ON is an alarm, by design.
      if (detail::iequals(detail::trim(payload), "ON")) continue;
      const auto result = driver->decode(device, topics[rng() % topics.size()], payload);
      for (const auto capability : {Capability::smoke, Capability::gas, Capability::carbon_monoxide,
                                    Capability::water_leak}) {
        const auto* reading = result.find(capability);
        EXPECT_TRUE(reading == nullptr || !std::get<bool>(reading->value)) << payload;
      }
    }
  }
}

// Adversarial 16 KiB payloads (the gateway's limit): deep nesting is refused before parsing,
// wide and repetitive structures decode in linear time. The time bound is ~100x what the
// slowest sanitizer build needs, so it only catches quadratic (or worse) behaviour.
TEST(DecodeProperty, AdversarialPayloadsAreLinear) {
  constexpr std::size_t kSize = 16 * 1024;
  std::vector<std::string> payloads;
  payloads.push_back(std::string(kSize / 2, '[') + std::string(kSize / 2, ']'));
  payloads.push_back(std::string(kSize / 2, '{'));
  std::string nested;
  while (nested.size() < kSize - 16) nested = "{\"a\":" + nested + "1}";
  payloads.push_back(nested);
  std::string wide = "{";
  for (int i = 0; wide.size() < kSize - 32; ++i) wide += "\"k" + std::to_string(i) + "\":1,";
  payloads.push_back(wide + "\"smoke\":true}");
  std::string repeated = "{";
  while (repeated.size() < kSize - 32) repeated += "\"smoke\":true,";
  payloads.push_back(repeated + "\"smoke\":false}");
  std::string array = "{\"ENERGY\":{\"Power\":[";
  while (array.size() < kSize - 16) array += "1,";
  payloads.push_back(array + "1]}}");
  std::string events = R"({"method":"NotifyEvent","params":{"events":[)";
  while (events.size() < kSize - 96) events += R"({"component":"input:0","event":"single_push"},)";
  payloads.push_back(events + "{}]}}");
  payloads.push_back(std::string(kSize, '"'));
  payloads.push_back("\"" + std::string(kSize - 2, '\\') + "\"");
  std::string status = R"({"status":")";
  while (status.size() < kSize - 8) status += "LEAK ";
  payloads.push_back(status + "\"}");

  // Depth is checked before parsing: the deep ones are refused as malformed:depth.
  EXPECT_FALSE(detail::nesting_within(payloads[0], detail::kMaxJsonDepth));
  EXPECT_FALSE(detail::nesting_within(payloads[2], detail::kMaxJsonDepth));
  EXPECT_TRUE(detail::nesting_within(payloads[3], detail::kMaxJsonDepth));

  for (const Driver* driver : all_drivers()) {
    SCOPED_TRACE(std::string(driver->format()));
    for (const auto kind : {DeviceKind::smoke, DeviceKind::call_button, DeviceKind::plug,
                            DeviceKind::temperature, DeviceKind::water_meter}) {
      DeviceConfig device;
      device.kind = kind;
      device.topic = "base/sensor/x";
      const auto topics = driver->topics(device);
      const auto start = Clock::now();
      for (const auto& payload : payloads) {
        for (const auto& topic : topics) {
          const auto result = driver->decode(device, topic, payload);
          expect_well_typed(result, payload.substr(0, 64));
          if (payload.front() == '[' || payload.front() == '{') {
            if (!detail::nesting_within(payload, detail::kMaxJsonDepth)) {
              EXPECT_TRUE(result.readings.empty());
            }
          }
        }
      }
      EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
    }
  }
}

}  // namespace
}  // namespace homesafe::drivers
