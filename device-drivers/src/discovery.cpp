#include "homesafe/drivers/discovery.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <optional>

#include "homesafe/drivers/driver.hpp"
#include "homesafe/drivers/esphome.hpp"
#include "json_payload.hpp"
#include "zigbee_models.hpp"

namespace homesafe::drivers {
namespace {

using nlohmann::json;

// bridge/devices nests exposes -> features -> features a few levels deep.
constexpr int kMaxDiscoveryDepth = 32;
constexpr std::size_t kMaxCandidates = 4096;
constexpr std::size_t kMaxKeysPerState = 128;

std::optional<json> parse(std::string_view payload) {
  if (payload.size() > Discovery::kMaxPayloadBytes ||
      !detail::nesting_within(payload, kMaxDiscoveryDepth)) {
    return std::nullopt;
  }
  auto parsed = json::parse(payload, nullptr, false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

std::string string_of(const json& object, std::string_view key,
                      std::string_view abbreviation = {}) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  if (it == object.end() && !abbreviation.empty()) it = object.find(abbreviation);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

const json* object_of(const json& object, std::string_view key, std::string_view abbreviation) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end()) it = object.find(abbreviation);
  if (it == object.end() || !it->is_object()) return nullptr;
  return &*it;
}

// A Zigbee2MQTT state key / expose property -> the signal it gives (or empty).
std::string_view signal_of_property(std::string_view property) {
  constexpr std::array<std::pair<std::string_view, std::string_view>, 18> kProperties{{
      {"smoke", "smoke"},
      {"smoke_state", "smoke"},
      {"smoke_alarm_1", "smoke"},
      {"gas", "gas"},
      {"gas_value", "gas"},
      {"gas_density", "gas"},
      {"carbon_monoxide", "co"},
      {"water_leak", "water_leak"},
      {"action", "action"},
      {"contact", "contact"},
      {"occupancy", "occupancy"},
      {"presence", "presence"},
      {"power", "power"},
      {"energy", "energy"},
      {"temperature", "temperature"},
      {"humidity", "humidity"},
      {"water_total_l", "water"},
      {"total_m3", "water"},
  }};
  for (const auto& [name, signal] : kProperties) {
    if (name == property) return signal;
  }
  return {};
}

// A Home Assistant device class (with its component) -> signal.
std::string_view signal_of_class(std::string_view component, std::string_view device_class) {
  if (component == "binary_sensor") {
    if (device_class == "smoke") return "smoke";
    if (device_class == "gas") return "gas";
    if (device_class == "carbon_monoxide") return "co";
    if (device_class == "moisture") return "water_leak";
    if (device_class == "door" || device_class == "window" || device_class == "opening" ||
        device_class == "garage_door") {
      return "contact";
    }
    if (device_class == "motion") return "occupancy";
    if (device_class == "occupancy" || device_class == "presence") return "presence";
  } else if (component == "sensor") {
    if (device_class == "power") return "power";
    if (device_class == "energy") return "energy";
    if (device_class == "temperature") return "temperature";
    if (device_class == "humidity") return "humidity";
    if (device_class == "water") return "water";
  }
  return {};
}

std::optional<Capability> capability_of_signal(std::string_view signal) {
  constexpr std::array<std::pair<std::string_view, Capability>, 12> kCapabilities{{
      {"smoke", Capability::smoke},
      {"gas", Capability::gas},
      {"co", Capability::carbon_monoxide},
      {"water_leak", Capability::water_leak},
      {"contact", Capability::contact},
      {"occupancy", Capability::occupancy},
      {"presence", Capability::occupancy},
      {"power", Capability::power},
      {"energy", Capability::energy},
      {"temperature", Capability::temperature},
      {"humidity", Capability::humidity},
      {"water", Capability::water_total_l},
  }};
  for (const auto& [name, capability] : kCapabilities) {
    if (name == signal) return capability;
  }
  return std::nullopt;
}

// The kind a set of signals makes a device: the most important signal wins.
std::optional<DeviceKind> kind_of(const std::set<std::string>& signals) {
  constexpr std::array<std::pair<std::string_view, DeviceKind>, 13> kOrder{{
      {"smoke", DeviceKind::smoke},
      {"gas", DeviceKind::gas},
      {"co", DeviceKind::co},
      {"water_leak", DeviceKind::water_leak},
      {"action", DeviceKind::call_button},
      {"contact", DeviceKind::contact},
      {"presence", DeviceKind::occupancy},
      {"occupancy", DeviceKind::motion},
      {"power", DeviceKind::plug},
      {"energy", DeviceKind::plug},
      {"water", DeviceKind::water_meter},
      {"temperature", DeviceKind::temperature},
      {"humidity", DeviceKind::temperature},
  }};
  for (const auto& [signal, kind] : kOrder) {
    if (signals.count(std::string(signal)) > 0) return kind;
  }
  return std::nullopt;
}

std::string join(const std::set<std::string>& items, std::size_t limit = 12) {
  std::string out;
  std::size_t n = 0;
  for (const auto& item : items) {
    if (n == limit) {
      out += ", ...";
      break;
    }
    if (n++ > 0) out += ", ";
    out += item;
  }
  return out;
}

// Exposes of a bridge/devices entry: every `property` (or `name`), nested `features` included.
void collect_exposes(const json& exposes, std::set<std::string>& signals,
                     std::set<std::string>& actions, int depth = 0) {
  if (!exposes.is_array() || depth > 3) return;
  for (const auto& expose : exposes) {
    if (!expose.is_object()) continue;
    std::string property = string_of(expose, "property");
    if (property.empty()) property = string_of(expose, "name");
    if (!property.empty()) {
      if (auto signal = signal_of_property(property); !signal.empty()) {
        signals.insert(std::string(signal));
      }
      if (property == "action") {
        if (auto values = expose.find("values"); values != expose.end() && values->is_array()) {
          for (const auto& value : *values) {
            if (value.is_string() && actions.size() < 32) actions.insert(value.get<std::string>());
          }
        }
      }
    }
    if (auto features = expose.find("features"); features != expose.end()) {
      collect_exposes(*features, signals, actions, depth + 1);
    }
  }
}

// Zigbee2MQTT 1.x Home Assistant discovery names the model "Description (MODEL)".
std::string model_in_parentheses(const std::string& text) {
  const auto open = text.rfind('(');
  const auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open + 2) return {};
  return text.substr(open + 1, close - open - 1);
}

// [A-Za-z0-9_-]{1,64} from a name; empty when nothing usable is left (e.g. a Chinese name).
std::string slug(std::string_view name) {
  std::string out;
  for (const char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    if (ok) {
      out += ch;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
    if (out.size() >= 64) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string one_line(std::string_view text, std::size_t limit = 240) {
  std::string out;
  for (const char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    out += (u < 0x20 || u == 0x7f) ? ' ' : ch;
    if (out.size() >= limit) {
      out += "...";
      break;
    }
  }
  return out;
}

std::string yaml_quoted(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20 || u == 0x7f) {
      constexpr std::string_view kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// The Shelly model from an RPC source id such as "shellyplusplugs-a8032ab1e2f4".
std::string shelly_model(std::string_view src) {
  constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kModels{{
      {"shellyplusplugs", "Plus Plug S"},
      {"shellyplus1pm", "Plus 1PM"},
      {"shellyplussmoke", "Plus Smoke"},
      {"shellyplusht", "Plus H&T"},
      {"shellyplusi4", "Plus i4"},
      {"shellypmmini", "Plus PM Mini"},
  }};
  for (const auto& [prefix, model] : kModels) {
    if (detail::starts_with(src, prefix)) return std::string(model);
  }
  const auto dash = src.find('-');
  return std::string(src.substr(0, dash));
}

// What one Shelly component status says (apower, alarm, tC ...).
void shelly_signals(std::string_view component, const json& status, std::set<std::string>& out) {
  if (!status.is_object()) return;
  if ((component == "switch:0" || component == "pm1:0") && status.contains("apower")) {
    out.insert("power");
  }
  if (component == "smoke:0" && status.contains("alarm")) out.insert("smoke");
  if (component == "temperature:0" && status.contains("tC")) out.insert("temperature");
  if (component == "humidity:0" && status.contains("rh")) out.insert("humidity");
}

// How a button's actions read after the driver's per-model renaming, and which of them are
// calls with the default call_actions: "calls on single->sos, hold->sos; not calls unless listed
// in call_actions: double". The driver itself does the renaming, so this cannot drift from it.
std::string describe_calls(const std::string& format, const std::string& topic,
                           const std::string& model, const std::set<std::string>& actions) {
  const Driver* driver = find_driver(format);
  DeviceConfig device;
  device.kind = DeviceKind::call_button;
  device.format = format;
  device.topic = topic;
  device.model = model;
  const auto& calls = call_actions_of(device);
  std::set<std::string> calling;
  std::set<std::string> other;
  for (const auto& raw : actions) {
    std::string normalised = raw;
    if (driver != nullptr && format == "zigbee2mqtt") {
      const auto decoded = driver->decode(device, topic, json{{"action", raw}}.dump());
      const auto* action = decoded.find(Capability::action);
      normalised = action != nullptr ? std::get<std::string>(action->value) : std::string();
    } else if (driver != nullptr && format == "shelly") {
      const json event{{"method", "NotifyEvent"},
                       {"params", {{"events", {{{"component", "input:0"}, {"event", raw}}}}}}};
      const auto decoded = driver->decode(device, topic + "/events/rpc", event.dump());
      const auto* action = decoded.find(Capability::action);
      normalised = action != nullptr ? std::get<std::string>(action->value) : std::string();
    }
    if (normalised.empty()) continue;  // not a press (release, zone back to normal)
    const std::string shown = normalised == raw ? raw : raw + "->" + normalised;
    if (std::find(calls.begin(), calls.end(), normalised) != calls.end()) {
      calling.insert(shown);
    } else {
      other.insert(shown);
    }
  }
  std::string out =
      calling.empty() ? std::string("no default call action") : "calls on " + join(calling);
  if (!other.empty()) out += "; not calls unless listed in call_actions: " + join(other);
  return out;
}

}  // namespace

Discovery::Candidate* Discovery::candidate(const std::string& format, const std::string& topic) {
  const std::string key = format + '\n' + topic;
  auto it = candidates_.find(key);
  if (it == candidates_.end()) {
    if (candidates_.size() >= kMaxCandidates) return nullptr;  // the rest are not listed
    it = candidates_.emplace(key, Candidate{}).first;
    it->second.format = format;
    it->second.topic = topic;
  }
  return &it->second;
}

void Discovery::observe(std::string_view topic, std::string_view payload) {
  ++messages_;
  if (payload.size() > kMaxPayloadBytes) return;
  const auto first_slash = topic.find('/');
  const std::string_view first = topic.substr(0, first_slash);
  const std::string_view rest =
      first_slash == std::string_view::npos ? std::string_view{} : topic.substr(first_slash + 1);

  if (first == "homeassistant") return observe_home_assistant(topic, payload);
  if (first == "tasmota" && detail::starts_with(rest, "discovery/") &&
      detail::ends_with(rest, "/config")) {
    return observe_tasmota_config(payload);
  }
  if (rest == "bridge/devices") {
    zigbee_bases_.insert(std::string(first));
    return observe_zigbee_devices(first, payload);
  }
  if (detail::starts_with(rest, "bridge/")) {
    zigbee_bases_.insert(std::string(first));
    return;
  }
  if (first == "wmbusmeters" && !rest.empty()) return observe_wmbusmeters(topic, payload);
  if (first == "tele" && !rest.empty()) {
    const auto slash = rest.rfind('/');
    if (slash != std::string_view::npos) {
      return observe_tasmota(topic.substr(0, first_slash + 1 + slash), rest.substr(slash + 1),
                             payload);
    }
  }
  // Shelly Gen2: <prefix>/online, <prefix>/events/rpc, <prefix>/status/<component>.
  if (rest == "online" || rest == "events/rpc" || detail::starts_with(rest, "status/")) {
    return observe_shelly(first, rest, payload);
  }
  // ESPHome: <node>/status online|offline.
  if (rest == "status") {
    const auto text = detail::trim(payload);
    if (text == "online" || text == "offline") esphome_nodes_.insert(std::string(first));
    return;
  }
  // Possibly a Zigbee2MQTT device state (resolved against the bases at the end).
  if (!payload.empty() && payload.front() == '{' && json_states_.size() < kMaxCandidates &&
      !detail::ends_with(topic, "/set") && !detail::ends_with(topic, "/get")) {
    auto state = parse(payload);
    if (state && state->is_object()) {
      auto& keys = json_states_[std::string(topic)];
      for (const auto& [key, value] : state->items()) {
        if (keys.size() >= kMaxKeysPerState) break;
        keys.insert(key);
      }
    }
  }
}

void Discovery::observe_zigbee_devices(std::string_view base, std::string_view payload) {
  auto devices = parse(payload);
  if (!devices || !devices->is_array()) return;
  for (const auto& device : *devices) {
    if (!device.is_object() || string_of(device, "type") == "Coordinator") continue;
    const std::string name = string_of(device, "friendly_name");
    if (name.empty()) continue;
    Candidate* found = candidate("zigbee2mqtt", std::string(base) + "/" + name);
    if (found == nullptr) return;
    Candidate& c = *found;
    c.name = name;
    c.sources.insert("bridge/devices");
    auto definition = device.find("definition");
    if (definition == device.end() || !definition->is_object()) {
      c.problem = "Zigbee2MQTT does not support this device (no definition)";
      continue;
    }
    c.model = string_of(*definition, "model");
    c.vendor = string_of(*definition, "vendor");
    c.description = string_of(*definition, "description");
    if (auto exposes = definition->find("exposes"); exposes != definition->end()) {
      collect_exposes(*exposes, c.signals, c.actions);
    }
  }
}

void Discovery::observe_home_assistant(std::string_view topic, std::string_view payload) {
  // homeassistant/<component>/[<node_id>/]<object_id>/config
  if (!detail::ends_with(topic, "/config")) return;
  const auto after = topic.substr(std::string_view("homeassistant/").size());
  const std::string component(after.substr(0, after.find('/')));
  auto config = parse(payload);
  if (!config || !config->is_object()) return;  // an empty payload removes an entity
  const std::string base = string_of(*config, "~");
  auto expand = [&base](std::string value) {
    if (!base.empty() && !value.empty() && value.front() == '~') return base + value.substr(1);
    if (!base.empty() && !value.empty() && value.back() == '~') {
      return value.substr(0, value.size() - 1) + base;
    }
    return value;
  };
  std::string state_topic = expand(string_of(*config, "state_topic", "stat_t"));
  if (component == "device_automation") state_topic = expand(string_of(*config, "topic", "t"));
  if (state_topic.empty()) return;
  const std::string device_class = string_of(*config, "device_class", "dev_cla");
  const std::string unit = string_of(*config, "unit_of_measurement", "unit_of_meas");
  const json* device = object_of(*config, "device", "dev");
  const json* origin = object_of(*config, "origin", "o");
  const std::string origin_name = origin ? string_of(*origin, "name") : std::string();
  std::string model;
  std::string device_name;
  std::string vendor;
  if (device != nullptr) {
    model = string_of(*device, "model_id", "mdl_id");
    if (model.empty()) {
      model = string_of(*device, "model", "mdl");
      if (origin_name == "Zigbee2MQTT" || model.find('(') != std::string::npos) {
        if (auto inner = model_in_parentheses(model); !inner.empty()) model = inner;
      }
    }
    device_name = string_of(*device, "name");
    vendor = string_of(*device, "manufacturer", "mf");
  }

  // Zigbee2MQTT: the entity's state topic is the device topic; the value template names the key.
  const auto slash = state_topic.find('/');
  const std::string first = state_topic.substr(0, slash);
  const bool zigbee = origin_name == "Zigbee2MQTT" || zigbee_bases_.count(first) > 0;
  if (zigbee) {
    std::string zigbee_topic = state_topic;
    if (component == "device_automation" && detail::ends_with(zigbee_topic, "/action")) {
      zigbee_topic.resize(zigbee_topic.size() - std::string_view("/action").size());
    }
    Candidate* found = candidate("zigbee2mqtt", zigbee_topic);
    if (found == nullptr) return;
    Candidate& c = *found;
    c.sources.insert("Home Assistant discovery");
    if (c.name.empty()) c.name = device_name;
    if (c.model.empty()) c.model = model;
    if (c.vendor.empty()) c.vendor = vendor;
    if (auto signal = signal_of_class(component, device_class); !signal.empty()) {
      c.signals.insert(std::string(signal));
    }
    const std::string tpl = string_of(*config, "value_template", "val_tpl");
    if (auto at = tpl.find("value_json."); at != std::string::npos) {
      std::string key;
      for (std::size_t i = at + 11; i < tpl.size(); ++i) {
        const char ch = tpl[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) break;
        key += ch;
      }
      if (auto signal = signal_of_property(key); !signal.empty())
        c.signals.insert(std::string(signal));
    }
    if (component == "device_automation" || component == "event") c.signals.insert("action");
    if (component == "device_automation") {
      const std::string subtype = string_of(*config, "subtype", "stype");
      if (!subtype.empty() && c.actions.size() < 32) c.actions.insert(subtype);
    }
    return;
  }

  // ESPHome: <prefix>/<component>/<object_id>/state, one config entry per entity.
  const std::string entity = detail::ends_with(state_topic, "/state")
                                 ? state_topic.substr(0, state_topic.size() - 6)
                                 : std::string();
  const auto last = entity.rfind('/');
  const auto middle =
      last == std::string::npos || last == 0 ? std::string::npos : entity.rfind('/', last - 1);
  if (middle == std::string::npos) {
    Candidate* found = candidate("mqtt", state_topic);
    if (found == nullptr) return;
    found->sources.insert("Home Assistant discovery");
    found->problem = "Home Assistant " + component + " entity" +
                     (device_class.empty() ? std::string() : " (" + device_class + ")") +
                     " from an integration homesafe has no driver for";
    return;
  }
  const std::string entity_component = entity.substr(middle + 1, last - middle - 1);
  if (entity_component != "binary_sensor" && entity_component != "sensor") {
    Candidate* found = candidate("esphome", entity);
    if (found == nullptr) return;
    Candidate& c = *found;
    c.sources.insert("Home Assistant discovery");
    c.problem = "ESPHome " + entity_component + " entity: not a sensor homesafe reads";
    return;
  }
  Candidate* found = candidate("esphome", entity);
  if (found == nullptr) return;
  Candidate& c = *found;
  c.sources.insert("Home Assistant discovery");
  c.name = entity.substr(0, middle) + "-" + entity.substr(last + 1);
  c.model = model;
  c.vendor = vendor;
  c.description = device_class.empty() ? std::string("no device class") : device_class;
  const auto signal = signal_of_class(entity_component, device_class);
  if (signal.empty()) {
    c.problem = "ESPHome " + entity_component + " with device class \"" + device_class +
                "\": homesafe has no use for it";
    return;
  }
  c.signals.insert(std::string(signal));
  // Units the ESPHome driver expects.
  constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kUnits{
      {{"power", "W"},
       {"energy", "kWh"},
       {"temperature", "°C"},
       {"humidity", "%"},
       {"water", "L"}}};
  for (const auto& [name, expected] : kUnits) {
    if (signal == name && !unit.empty() && unit != expected) {
      c.problem = "ESPHome " + std::string(name) + " in " + unit + "; homesafe expects " +
                  std::string(expected) + " (add a filter in ESPHome)";
    }
  }
}

void Discovery::observe_tasmota_config(std::string_view payload) {
  auto config = parse(payload);
  if (!config || !config->is_object()) return;
  const std::string tasmota_topic = string_of(*config, "t");
  if (tasmota_topic.empty()) return;
  Candidate* found = candidate("tasmota", "tele/" + tasmota_topic);
  if (found == nullptr) return;
  Candidate& c = *found;
  c.sources.insert("tasmota/discovery");
  c.name = tasmota_topic;
  c.model = string_of(*config, "md");
  const std::string full_topic = string_of(*config, "ft");
  if (!full_topic.empty() && full_topic != "%prefix%/%topic%/") {
    c.problem = "custom FullTopic " + full_topic + ": write the topic by hand";
  }
}

void Discovery::observe_tasmota(std::string_view base, std::string_view suffix,
                                std::string_view payload) {
  if (suffix != "SENSOR" && suffix != "STATE" && suffix != "LWT") return;
  Candidate* found = candidate("tasmota", std::string(base));
  if (found == nullptr) return;
  Candidate& c = *found;
  c.name = std::string(base.substr(base.find('/') + 1));
  c.sources.insert("tele/.../" + std::string(suffix));
  if (suffix != "SENSOR") return;
  auto sensor = parse(payload);
  if (!sensor || !sensor->is_object()) return;
  for (const auto& [name, value] : sensor->items()) {
    if (!value.is_object()) continue;
    if (name == "ENERGY") {
      if (value.contains("Power")) c.signals.insert("power");
      if (value.contains("Total")) c.signals.insert("energy");
    } else {
      if (value.contains("Temperature")) c.signals.insert("temperature");
      if (value.contains("Humidity")) c.signals.insert("humidity");
    }
  }
}

void Discovery::observe_shelly(std::string_view prefix, std::string_view suffix,
                               std::string_view payload) {
  if (suffix == "online") {
    const auto text = detail::trim(payload);
    if (text != "true" && text != "false") return;
    Candidate* found = candidate("shelly", std::string(prefix));
    if (found == nullptr) return;
    Candidate& c = *found;
    c.name = std::string(prefix);
    c.sources.insert("online");
    return;
  }
  auto message = parse(payload);
  if (!message || !message->is_object()) return;
  if (suffix == "events/rpc") {
    const std::string src = string_of(*message, "src");
    auto params = message->find("params");
    if (src.empty() || params == message->end() || !params->is_object()) return;
    Candidate* found = candidate("shelly", std::string(prefix));
    if (found == nullptr) return;
    Candidate& c = *found;
    c.name = std::string(prefix);
    c.sources.insert("events/rpc");
    if (c.model.empty()) c.model = shelly_model(src);
    for (const auto& [component, status] : params->items())
      shelly_signals(component, status, c.signals);
    if (auto events = params->find("events"); events != params->end() && events->is_array()) {
      for (const auto& event : *events) {
        const std::string name = string_of(event, "event");
        if (detail::starts_with(string_of(event, "component"), "input:") &&
            detail::ends_with(name, "_push")) {
          c.signals.insert("action");
          if (c.actions.size() < 32) c.actions.insert(name);
        }
      }
    }
    return;
  }
  const std::string_view component = suffix.substr(std::string_view("status/").size());
  Candidate* found = candidate("shelly", std::string(prefix));
  if (found == nullptr) return;
  Candidate& c = *found;
  c.name = std::string(prefix);
  c.sources.insert("status/" + std::string(component));
  shelly_signals(component, *message, c.signals);
}

void Discovery::observe_wmbusmeters(std::string_view topic, std::string_view payload) {
  auto telegram = parse(payload);
  if (!telegram || !telegram->is_object()) return;
  const std::string meter = string_of(*telegram, "meter");
  const std::string media = string_of(*telegram, "media");
  if (meter.empty()) return;
  Candidate* found = candidate("wmbusmeters", std::string(topic));
  if (found == nullptr) return;
  Candidate& c = *found;
  c.name = string_of(*telegram, "name");
  if (c.name.empty()) c.name = std::string(topic.substr(topic.find('/') + 1));
  c.model = meter;
  c.description = media;
  c.sources.insert("wmbusmeters telegram");
  if (media.find("water") != std::string::npos && telegram->contains("total_m3")) {
    c.signals.insert("water");
  } else {
    c.problem = "wmbusmeters " + (media.empty() ? std::string("meter") : media) + " meter (" +
                meter + "): homesafe reads water meters with total_m3 only";
  }
}

DiscoveryResult Discovery::result(const std::set<std::string>& configured_topics,
                                  const std::set<std::string>& taken_ids) const {
  std::map<std::string, Candidate> all = candidates_;
  // Zigbee2MQTT state messages under a known base, for devices bridge/devices did not list.
  for (const auto& [topic, keys] : json_states_) {
    const auto slash = topic.find('/');
    if (slash == std::string::npos || zigbee_bases_.count(topic.substr(0, slash)) == 0) continue;
    const std::string name = topic.substr(slash + 1);
    if (detail::starts_with(name, "bridge/") || detail::ends_with(name, "/availability")) continue;
    auto& c = all["zigbee2mqtt\n" + topic];
    c.format = "zigbee2mqtt";
    c.topic = topic;
    if (c.name.empty()) c.name = name;
    c.sources.insert("state message");
    for (const auto& key : keys) {
      if (auto signal = signal_of_property(key); !signal.empty())
        c.signals.insert(std::string(signal));
    }
  }

  DiscoveryResult out;
  std::set<std::string> used_ids = taken_ids;
  std::set<std::string> esphome_nodes_with_entities;
  const EsphomeDriver esphome;
  for (const auto& [key, c] : all) {
    if (c.format.empty()) continue;
    if (c.format == "esphome") {
      esphome_nodes_with_entities.insert(c.topic.substr(0, c.topic.find('/')));
    }
    if (configured_topics.count(c.topic) > 0) continue;
    const std::string sources = join(c.sources);
    if (!c.problem.empty()) {
      out.unrecognised.push_back({c.format, c.topic, c.problem + " [" + sources + "]"});
      continue;
    }
    const detail::ZigbeeModel* known =
        c.format == "zigbee2mqtt" ? detail::find_zigbee_model(c.model) : nullptr;
    std::optional<DeviceKind> kind = known ? std::optional(known->kind) : kind_of(c.signals);
    std::string what;
    if (!c.vendor.empty()) what += c.vendor + " ";
    if (!c.model.empty()) what += c.model + " ";
    if (!c.description.empty()) what += "\"" + c.description + "\" ";
    if (!kind) {
      std::string reason =
          what + (c.signals.empty() ? std::string("publishes nothing homesafe reads")
                                    : "exposes " + join(c.signals));
      out.unrecognised.push_back({c.format, c.topic, reason + " [" + sources + "]"});
      continue;
    }
    if (c.format == "esphome") {
      // The ESPHome driver must read this entity as its device class says.
      DeviceConfig probe;
      probe.kind = *kind;
      probe.topic = c.topic;
      const bool binary = c.topic.find("/binary_sensor/") != std::string::npos;
      const auto decoded = esphome.decode(probe, c.topic + "/state", binary ? "ON" : "1");
      const std::string& wanted = *c.signals.begin();
      if (const auto capability = capability_of_signal(wanted);
          capability && decoded.find(*capability) == nullptr) {
        out.unrecognised.push_back(
            {c.format, c.topic,
             "ESPHome " + wanted +
                 " entity whose object_id makes homesafe read it as something "
                 "else (see docs/devices.md, ESPHome)"});
        continue;
      }
    }
    ProposedDevice device;
    device.kind = *kind;
    device.format = c.format;
    device.topic = c.topic;
    device.model = c.model;
    std::string reason = c.format + ": " + what;
    if (known != nullptr) reason += "(known model) ";
    if (!c.signals.empty()) reason += "exposes " + join(c.signals);
    if (*kind == DeviceKind::call_button && !c.actions.empty()) {
      reason += "; " + describe_calls(c.format, c.topic, c.model, c.actions);
    }
    reason += " [" + sources + "]";
    device.reason = one_line(reason);
    std::string id = slug(c.name.empty() ? c.topic.substr(c.topic.rfind('/') + 1) : c.name);
    if (id.empty()) id = std::string(to_string(*kind));
    std::string unique = id;
    for (int n = 2; used_ids.count(unique) > 0; ++n) {
      unique = id.substr(0, 60) + "-" + std::to_string(n);
    }
    used_ids.insert(unique);
    device.id = unique;
    out.proposed.push_back(std::move(device));
  }
  for (const auto& node : esphome_nodes_) {
    if (esphome_nodes_with_entities.count(node) > 0) continue;
    out.unrecognised.push_back(
        {"esphome", node,
         "ESPHome node online without Home Assistant discovery: add its entities by hand as "
         "<node>/<component>/<object_id>, or turn on mqtt: discovery"});
  }
  auto by_topic = [](const auto& a, const auto& b) {
    return std::tie(a.format, a.topic) < std::tie(b.format, b.topic);
  };
  std::sort(out.proposed.begin(), out.proposed.end(), by_topic);
  std::sort(out.unrecognised.begin(), out.unrecognised.end(), by_topic);
  return out;
}

std::string render_devices_yaml(const DiscoveryResult& result) {
  std::string out;
  if (result.proposed.empty()) {
    out += "# no new devices recognised\n";
  } else {
    out += "devices:\n";
    for (const auto& device : result.proposed) {
      out += "  # " + one_line(device.reason) + "\n";
      out += "  - id: " + device.id + "\n";
      out += "    kind: " + std::string(to_string(device.kind)) + "\n";
      out += "    format: " + device.format + "\n";
      out += "    topic: " + yaml_quoted(device.topic) + "\n";
      out += "    location: \"待填写\"\n";
      if (!device.model.empty()) out += "    model: " + yaml_quoted(device.model) + "\n";
    }
  }
  if (!result.unrecognised.empty()) {
    out += "# not recognised (add by hand if they matter):\n";
    for (const auto& thing : result.unrecognised) {
      out += "#   " + thing.format + " " + one_line(thing.topic, 120) + ": " +
             one_line(thing.reason) + "\n";
    }
  }
  return out;
}

}  // namespace homesafe::drivers
