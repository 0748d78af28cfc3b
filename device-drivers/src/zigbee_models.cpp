// Per-model knowledge for Zigbee2MQTT devices. Sources: each model's page on zigbee2mqtt.io
// (docs/devices/<MODEL>.md, "Exposes") and its definition in zigbee-herdsman-converters
// (src/devices/<vendor>.ts); tests/device-drivers/fixtures/zigbee2mqtt/README.md cites them.
#include "zigbee_models.hpp"

#include <array>

#include "json_payload.hpp"

namespace homesafe::drivers::detail {
namespace {

using K = DeviceKind;

// Heiman HS1EB: fz.command_status_change_notification_action reports the zone status as
// off/single/double/hold. The button exists only to call for help, so every press is `sos`;
// `off` is the zone returning to normal, not a press.
constexpr std::array<ActionRename, 4> kHeimanSos{
    {{"single", "sos"}, {"double", "sos"}, {"hold", "sos"}, {"off", ""}}};
// Aqara/Xiaomi wireless switches: `hold` is a long press, `release` its end.
constexpr std::array<ActionRename, 2> kAqaraSwitch{{{"hold", "long"}, {"release", ""}}};
constexpr std::array<ActionRename, 3> kXiaomiSwitch{
    {{"hold", "long"}, {"long_release", ""}, {"release", ""}}};

// Sunricher's photoelectric alarm reports its two IAS alarm bits separately.
constexpr std::array<std::string_view, 2> kTwoSmokeAlarms{"smoke_alarm_1", "smoke_alarm_2"};

constexpr std::array<ZigbeeModel, 31> kModels{{
    // Heiman
    {"HS1SA", "HEIMAN", "Smoke detector", K::smoke},
    {"HS3SA/HS1SA", "HEIMAN", "Smoke detector", K::smoke},
    {"HS1CG", "HEIMAN", "Smart combustible gas sensor", K::gas},
    {"HS3CG", "HEIMAN", "Combustible gas sensor", K::gas},
    {"HS1CA-E", "HEIMAN", "Smart carbon monoxide sensor", K::co},
    {"HS1CA-M", "HEIMAN", "Smart carbon monoxide sensor", K::co},
    {"HS1EB/HS1EB-E", "HEIMAN", "Smart emergency button", K::call_button, kHeimanSos},
    {"HS1WL/HS3WL", "HEIMAN", "Water leakage sensor", K::water_leak},
    // Tuya and white labels
    {"TS0215A_sos", "Tuya", "SOS button", K::call_button},
    {"TS0601_smoke_2", "Tuya", "Photoelectric smoke detector", K::smoke},
    {"TS0601_smoke_5", "Tuya", "Smoke sensor", K::smoke},
    {"288WZ", "ONENUO", "Smoke detector (smoke_state)", K::smoke},
    {"TS0601_gas_sensor_4",
     "Tuya",
     "Gas sensor (% LEL)",
     K::gas,
     {},
     {},
     "gas_value",
     kDefaultLelAlarmPercent},
    {"TS011F_plug_1", "Tuya", "Smart plug with power monitoring", K::plug},
    {"TS0601_bed_presence_sensor", "Tuya", "Pressure strap bed occupancy sensor", K::occupancy},
    {"SR-ZG9070A-SS", "Sunricher", "Photoelectric smoke alarm", K::smoke, {}, kTwoSmokeAlarms},
    // Xiaomi / Aqara
    {"JTYJ-GD-01LM/BW", "Xiaomi", "Mijia Honeywell smoke detector", K::smoke},
    {"JY-GZ-01AQ", "Aqara", "Smart smoke detector", K::smoke},
    {"JT-BZ-01AQ/A",
     "Aqara",
     "Smart natural gas detector (% LEL)",
     K::gas,
     {},
     {},
     "gas_density",
     kDefaultLelAlarmPercent},
    {"SJCGQ11LM", "Aqara", "Water leak sensor", K::water_leak},
    {"MCCGQ11LM", "Aqara", "Door and window sensor", K::contact},
    {"RTCGQ11LM", "Aqara", "Motion sensor", K::motion},
    {"WSDCGQ11LM", "Aqara", "Temperature, humidity and pressure sensor", K::temperature},
    {"ZNCZ02LM", "Xiaomi", "Mi power plug", K::plug},
    {"WXKG11LM", "Aqara", "Wireless mini switch", K::call_button, kAqaraSwitch},
    {"WXKG01LM", "Xiaomi", "Mi wireless switch", K::call_button, kXiaomiSwitch},
    // Sonoff
    {"SNZB-01", "SONOFF", "Wireless button", K::call_button},
    {"SNZB-02", "SONOFF", "Temperature and humidity sensor", K::temperature},
    {"SNZB-03", "SONOFF", "Motion sensor", K::motion},
    {"SNZB-04", "SONOFF", "Contact sensor", K::contact},
    {"SNZB-05P", "SONOFF", "Water leak sensor", K::water_leak},
}};

}  // namespace

std::span<const ZigbeeModel> zigbee_models() {
  return kModels;
}

const ZigbeeModel* find_zigbee_model(std::string_view model) {
  model = trim(model);
  if (model.empty()) return nullptr;
  for (const auto& entry : kModels) {
    if (iequals(entry.model, model)) return &entry;
  }
  return nullptr;
}

}  // namespace homesafe::drivers::detail
