// Driver for wmbusmeters (https://github.com/wmbusmeters/wmbusmeters), whose usual MQTT shell
// publishes each decoded telegram as JSON on wmbusmeters/<meter name>:
//   {"media":"cold water","meter":"multical21","name":"MyTapWater","id":"76348799",
//    "status":"DRY","total_m3":6.408,...,"current_status":"DRY","timestamp":"2018-02-08T09:07:22Z"}
// The configured topic is that topic exactly.
//
// water_total_l = total_m3 x 1000 (cumulative; a replaced meter or a reset shows up as a drop
// that the rules handle). The meter's status text maps to readings: LEAK/BURST -> water_leak,
// DRY (the meter runs empty: supply cut or air in the pipe, so it cannot measure) ->
// device_fault, TAMPER/MAGNET -> tamper, battery words -> battery_low. A status of "OK" clears
// them all. Older wmbusmeters versions have only `current_status` ("" when all is well),
// newer ones have `status` ("OK" when all is well); `status` wins when both are there.
#include "homesafe/drivers/wmbusmeters.hpp"

#include <array>

#include "json_payload.hpp"

namespace homesafe::drivers {
namespace {

using C = Capability;
constexpr std::array kWater{C::water_total_l, C::water_leak, C::tamper, C::battery_low,
                            C::device_fault};

struct StatusWord {
  std::string_view word;
  Capability capability;
  bool prefix;  // also matches longer words (LEAKING, BURSTING, ERROR_FLAGS...)
};
constexpr std::array<StatusWord, 8> kStatusWords{{
    {"LEAK", C::water_leak, true},
    {"BURST", C::water_leak, true},
    {"DRY", C::device_fault, false},
    {"ERROR", C::device_fault, true},
    {"TAMPER", C::tamper, true},
    {"MAGNET", C::tamper, true},
    {"BATTERY_LOW", C::battery_low, false},
    {"LOW_BATTERY", C::battery_low, false},
}};

// Whether a status text ("DRY LEAK", "LEAKING", "OK": words separated by blanks or commas) has
// the word.
bool contains_word(std::string_view status, const StatusWord& word) {
  std::size_t pos = 0;
  while (pos < status.size()) {
    while (pos < status.size() && (status[pos] == ' ' || status[pos] == ',')) ++pos;
    std::size_t end = pos;
    while (end < status.size() && status[end] != ' ' && status[end] != ',') ++end;
    const auto token = status.substr(pos, end - pos);
    if (word.prefix ? detail::starts_with(token, word.word) : token == word.word) return true;
    pos = end;
  }
  return false;
}

void read_status(const nlohmann::json& telegram, DecodeResult& out) {
  auto status = detail::string_at(telegram, "status", out);
  bool all_clear_text = false;
  if (!status) {
    status = detail::string_at(telegram, "current_status", out);
    all_clear_text = status && detail::trim(*status).empty();
  }
  if (!status) return;  // the meter says nothing about its state: unknown
  const auto text = detail::trim(*status);
  const bool ok = all_clear_text || text == "OK";
  std::array<bool, kStatusWords.size()> seen{};
  for (std::size_t i = 0; i < kStatusWords.size(); ++i) {
    seen[i] = !ok && contains_word(text, kStatusWords[i]);
  }
  // Report each capability once: true if any of its words is present, else false (the status
  // field is there and does not mention it).
  for (const auto capability : {C::water_leak, C::device_fault, C::tamper, C::battery_low}) {
    bool on = false;
    for (std::size_t i = 0; i < kStatusWords.size(); ++i) {
      if (kStatusWords[i].capability == capability) on = on || seen[i];
    }
    detail::put_flag(out, capability, on);
  }
}

}  // namespace

std::string_view WmbusmetersDriver::format() const {
  return "wmbusmeters";
}

std::span<const Capability> WmbusmetersDriver::exposes(DeviceKind /*kind*/) const {
  return kWater;  // wmbusmeters reads meters only
}

std::vector<std::string> WmbusmetersDriver::topics(const DeviceConfig& device) const {
  return {device.topic};
}

DecodeResult WmbusmetersDriver::decode(const DeviceConfig& device, std::string_view topic,
                                       std::string_view payload) const {
  DecodeResult out;
  if (topic != device.topic) {
    detail::add_problem(out, DecodeError::unknown_topic);
    return out;
  }
  auto telegram = detail::parse_object(payload, out);
  if (!telegram) return out;
  if (telegram->empty()) {
    detail::add_problem(out, DecodeError::empty);
    return out;
  }
  const auto litres = detail::plausible_range(C::water_total_l);
  if (auto m3 =
          detail::number_at(*telegram, "total_m3", {litres.min / 1000, litres.max / 1000}, out)) {
    detail::put_number(out, C::water_total_l, *m3 * 1000.0);
  }
  read_status(*telegram, out);
  if (auto it = telegram->find("timestamp"); it != telegram->end() && it->is_string()) {
    out.device_ts_ms = detail::parse_iso8601_ms(it->get_ref<const std::string&>());
  }
  return out;
}

}  // namespace homesafe::drivers
