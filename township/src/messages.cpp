#include "homesafe/township/messages.hpp"

#include <cctype>
#include <set>

#include "homesafe/township/clock.hpp"
#include "homesafe/township/store.hpp"

namespace homesafe::township {
namespace {

using nlohmann::json;

// Thrown inside this file only: the reason a message is malformed.
struct Malformed {
  std::string reason;
};

const json& require(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) throw Malformed{std::string("missing key '") + key + "'"};
  return *it;
}

[[noreturn]] void wrong_type(const char* key, const char* expected) {
  throw Malformed{std::string("key '") + key + "' must be " + expected};
}

std::string req_string(const json& o, const char* key) {
  const json& v = require(o, key);
  if (!v.is_string()) wrong_type(key, "a string");
  return v.get<std::string>();
}

std::int64_t req_int(const json& o, const char* key) {
  const json& v = require(o, key);
  if (!v.is_number_integer()) wrong_type(key, "an integer");
  return v.get<std::int64_t>();
}

bool req_bool(const json& o, const char* key) {
  const json& v = require(o, key);
  if (!v.is_boolean()) wrong_type(key, "a boolean");
  return v.get<bool>();
}

void req_object(const json& o, const char* key) {
  if (!require(o, key).is_object()) wrong_type(key, "an object");
}

void req_array(const json& o, const char* key) {
  if (!require(o, key).is_array()) wrong_type(key, "an array");
}

void req_nullable_string(const json& o, const char* key) {
  const json& v = require(o, key);
  if (!v.is_null() && !v.is_string()) wrong_type(key, "a string or null");
}

void req_nullable_int(const json& o, const char* key) {
  const json& v = require(o, key);
  if (!v.is_null() && !v.is_number_integer()) wrong_type(key, "an integer or null");
}

void req_nullable_number(const json& o, const char* key) {
  const json& v = require(o, key);
  if (!v.is_null() && !v.is_number()) wrong_type(key, "a number or null");
}

void req_one_of(const json& o, const char* key, const std::set<std::string>& allowed) {
  const std::string v = req_string(o, key);
  if (!allowed.contains(v)) throw Malformed{std::string("key '") + key + "' has unknown value"};
}

void req_nonempty_string(const json& o, const char* key) {
  if (req_string(o, key).empty()) throw Malformed{std::string("key '") + key + "' is empty"};
}

json parse_object(const std::string& payload) {
  json doc = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw Malformed{"not valid JSON"};
  if (!doc.is_object()) throw Malformed{"not a JSON object"};
  if (req_int(doc, "v") != 1) throw Malformed{"unsupported version"};
  return doc;
}

void check_hub_and_household(const json& doc, std::string& hub, std::string& household) {
  hub = req_string(doc, "hub");
  household = req_string(doc, "household");
  if (!valid_id(hub)) throw Malformed{"bad hub id"};
  if (!valid_id(household)) throw Malformed{"bad household id"};
}

void validate_body(const std::string& type, const json& b) {
  if (type == "alert") {
    req_nonempty_string(b, "alert_id");
    req_nonempty_string(b, "kind");
    req_nonempty_string(b, "severity");
    req_one_of(b, "state", {"open", "acknowledged", "resolved"});
    req_nullable_string(b, "device");
    req_nullable_string(b, "location");
    require(b, "detail");  // free-form: a text or an object
    req_int(b, "opened_at");
    req_int(b, "updated_at");
    req_nullable_int(b, "acknowledged_at");
    req_nullable_string(b, "acknowledged_by");
    req_nullable_int(b, "resolved_at");
    req_nullable_string(b, "resolved_by");
    req_bool(b, "condition_active");
    req_int(b, "repeat_count");
  } else if (type == "alert_event") {
    req_nonempty_string(b, "alert_id");
    req_nonempty_string(b, "event");
    req_int(b, "at");
    req_nullable_string(b, "by");
    req_nullable_string(b, "channel");
    req_nullable_string(b, "note");
  } else if (type == "notification") {
    req_nonempty_string(b, "notification_id");
    req_nonempty_string(b, "alert_id");
    req_nonempty_string(b, "contact_id");
    req_string(b, "role");
    req_string(b, "channel");
    req_int(b, "step");
    req_int(b, "repeat");
    req_one_of(b, "state", {"sent", "failed", "acknowledged"});
    req_int(b, "attempts");
    req_nullable_string(b, "error");
    req_int(b, "at");
  } else if (type == "device_health") {
    req_nonempty_string(b, "device");
    req_one_of(
        b, "event",
        {"online", "offline", "low_battery", "battery_ok", "fault", "fault_cleared", "tamper"});
    req_int(b, "at");
    require(b, "detail");
  } else if (type == "daily_summary") {
    int y = 0, m = 0, d = 0;
    if (!parse_date(req_string(b, "date"), y, m, d)) throw Malformed{"key 'date' is not a date"};
    req_nullable_number(b, "water_l");
    req_nullable_number(b, "energy_kwh");
    req_int(b, "activity_events");
    req_nullable_string(b, "first_activity");
    req_nullable_string(b, "last_activity");
    req_object(b, "alerts");
    for (const auto& [kind, count] : b.at("alerts").items()) {
      if (!count.is_number_integer()) throw Malformed{"alert counts must be integers"};
    }
    req_array(b, "devices");
    for (const auto& device : b.at("devices")) {
      if (!device.is_object()) throw Malformed{"devices[] must be objects"};
      req_nonempty_string(device, "device");
    }
    req_array(b, "hazards");
    for (const auto& hazard : b.at("hazards")) {
      if (!hazard.is_string()) throw Malformed{"hazards[] must be strings"};
    }
  } else if (type == "relay") {
    req_nonempty_string(b, "notification_id");
    req_nonempty_string(b, "alert_id");
    req_nonempty_string(b, "contact_id");
    req_string(b, "role");
    req_nonempty_string(b, "kind");
    req_nonempty_string(b, "severity");
    req_nullable_string(b, "device");
    req_nullable_string(b, "location");
    req_int(b, "opened_at");
    if (req_int(b, "step") < 0) throw Malformed{"key 'step' is negative"};
    if (req_int(b, "repeat") < 0) throw Malformed{"key 'repeat' is negative"};
  } else if (type == "command_result") {
    req_nonempty_string(b, "command_id");
    req_bool(b, "ok");
    req_nullable_string(b, "error");
  } else {
    throw Malformed{"unknown event type"};
  }
}

}  // namespace

std::optional<UplinkTopic> parse_uplink_topic(const std::string& topic) {
  static constexpr std::string_view kPrefix = "homesafe-up/";
  if (!topic.starts_with(kPrefix)) return std::nullopt;
  const std::string rest = topic.substr(kPrefix.size());
  const auto slash = rest.find('/');
  if (slash == std::string::npos) return std::nullopt;
  UplinkTopic out{rest.substr(0, slash), UplinkKind::kEvent};
  const std::string leaf = rest.substr(slash + 1);
  if (!valid_id(out.hub)) return std::nullopt;
  if (leaf == "event") {
    out.kind = UplinkKind::kEvent;
  } else if (leaf == "heartbeat") {
    out.kind = UplinkKind::kHeartbeat;
  } else if (leaf == "status") {
    out.kind = UplinkKind::kStatus;
  } else {
    return std::nullopt;
  }
  return out;
}

Parsed<Event> parse_event(const std::string& payload) {
  try {
    json doc = parse_object(payload);
    Event e;
    check_hub_and_household(doc, e.hub, e.household);
    e.event_id = req_string(doc, "event_id");
    e.seq = req_int(doc, "seq");
    if (e.seq < 1) throw Malformed{"seq must be at least 1"};
    // event_id = HUB/EPOCH/SEQ with EPOCH 8 hex digits.
    const std::string expected_prefix = e.hub + "/";
    if (!e.event_id.starts_with(expected_prefix)) throw Malformed{"event_id does not name the hub"};
    const std::string rest = e.event_id.substr(expected_prefix.size());
    const auto slash = rest.find('/');
    if (slash != 8) throw Malformed{"event_id epoch is not 8 hex digits"};
    e.epoch = rest.substr(0, 8);
    for (char c : e.epoch) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
        throw Malformed{"event_id epoch is not 8 hex digits"};
    }
    if (rest.substr(9) != std::to_string(e.seq)) throw Malformed{"event_id does not end in seq"};
    e.type = req_string(doc, "type");
    const std::int64_t priority = req_int(doc, "priority");
    if (priority < 0 || priority > 3) throw Malformed{"priority out of range"};
    e.priority = static_cast<int>(priority);
    e.ts = req_int(doc, "ts");
    e.clock_synced = req_bool(doc, "clock_synced");
    req_object(doc, "body");
    e.body = doc.at("body");
    validate_body(e.type, e.body);
    return e;
  } catch (const Malformed& m) {
    return m.reason;
  } catch (const json::exception& ex) {
    return std::string("bad JSON value: ") + ex.what();
  }
}

Parsed<Heartbeat> parse_heartbeat(const std::string& payload) {
  try {
    json doc = parse_object(payload);
    Heartbeat h;
    check_hub_and_household(doc, h.hub, h.household);
    h.ts = req_int(doc, "ts");
    h.clock_synced = req_bool(doc, "clock_synced");
    req_string(doc, "boot_id");
    req_int(doc, "uptime_s");
    req_object(doc, "outbox");
    const json& outbox = doc.at("outbox");
    req_int(outbox, "events");
    req_int(outbox, "bytes");
    req_nullable_int(outbox, "oldest_ts");
    req_int(outbox, "dropped");
    req_string(doc, "version");
    h.raw = std::move(doc);
    return h;
  } catch (const Malformed& m) {
    return m.reason;
  } catch (const json::exception& ex) {
    return std::string("bad JSON value: ") + ex.what();
  }
}

std::optional<std::string> parse_status(const std::string& payload) {
  std::string s = payload;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  s = s.substr(start);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  if (s == "online" || s == "offline") return s;
  return std::nullopt;
}

}  // namespace homesafe::township
