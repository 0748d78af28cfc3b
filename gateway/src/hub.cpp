#include "homesafe/gateway/hub.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <variant>

#include "homesafe/gateway/log.hpp"

namespace homesafe::gateway {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.substr(0, prefix.size()) == prefix;
}

// A printable, bounded device id guessed from an unrouted topic (for counting only).
std::string device_from_topic(std::string_view topic, std::string_view device_root) {
  if (!starts_with(topic, device_root) || topic.size() <= device_root.size() + 1) return "-";
  std::string_view rest = topic.substr(device_root.size() + 1);
  rest = rest.substr(0, rest.find('/'));
  std::string id;
  for (char ch : rest.substr(0, 64)) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
    id += ok ? ch : '?';
  }
  return "?" + id;  // marked as not configured
}

}  // namespace

void InputErrors::count(const std::string& device, const std::string& reason,
                        std::int64_t mono_ms) {
  Counter& counter = counters_[{device, reason}];
  ++counter.total;
  ++counter.since_log;
  if (!counter.last_log_mono_ms || mono_ms - *counter.last_log_mono_ms >= kLogIntervalMs) {
    log::warn("device {}: rejected {} message(s) ({}); {} in total", device, counter.since_log,
              reason, counter.total);
    counter.since_log = 0;
    counter.last_log_mono_ms = mono_ms;
  }
}

std::int64_t InputErrors::total(const std::string& device, const std::string& reason) const {
  auto it = counters_.find({device, reason});
  return it == counters_.end() ? 0 : it->second.total;
}

std::int64_t InputErrors::total() const {
  std::int64_t sum = 0;
  for (const auto& [key, counter] : counters_) sum += counter.total;
  return sum;
}

Hub::Hub(const HubConfig& config, Store& store, HubOutput& output, rules::TimeZone time_zone,
         std::vector<std::unique_ptr<rules::Rule>> rules)
    : config_(config),
      store_(store),
      output_(output),
      time_zone_(std::move(time_zone)),
      topics_(config.household.id),
      engine_(std::move(rules)),
      alerts_(config, store) {
  for (const auto& device : config_.devices) {
    const drivers::Driver* driver = drivers::find_driver(device.format);
    if (driver == nullptr) continue;  // rejected by config validation already
    for (auto& topic : driver->topics(device)) routes_[topic].push_back(Route{&device, driver});
  }
}

void Hub::start() {
  std::size_t state_entries = 0;
  for (auto& [key, value] : store_.load_rule_state()) {
    engine_.state().load(std::move(key), std::move(value));
    ++state_entries;
  }
  alerts_.load();
  log::info("hub {}: {} devices, {} active alerts, {} rule state entries", config_.household.id,
            config_.devices.size(), alerts_.active().size(), state_entries);
}

std::vector<Subscription> Hub::subscriptions() const {
  // One wildcard covers every native device under homesafe/<H>/dev (and shows unconfigured
  // ones); other topics are subscribed exactly. Overlapping filters would deliver duplicates.
  const std::string device_root = topics_.device_root() + "/";
  std::vector<Subscription> out{{device_root + "#", 1}, {topics_.ack(), 1}};
  for (const auto& [topic, routes] : routes_) {
    if (starts_with(topic, device_root)) continue;
    const bool alarm = std::any_of(routes.begin(), routes.end(), [](const Route& route) {
      return drivers::is_alarm_class(route.device->kind);
    });
    out.push_back({topic, alarm ? 1 : 0});
  }
  std::sort(out.begin() + 2, out.end(),
            [](const Subscription& a, const Subscription& b) { return a.filter < b.filter; });
  return out;
}

bool Hub::is_alarm_topic(std::string_view topic) const {
  if (topic == topics_.ack()) return true;  // acks stop escalations: commit before PUBACK
  auto it = routes_.find(std::string(topic));
  if (it == routes_.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(), [](const Route& route) {
    return drivers::is_alarm_class(route.device->kind);
  });
}

void Hub::reject(const std::string& device, drivers::DecodeError error, const std::string& key,
                 const rules::Instant& now) {
  std::string reason(drivers::to_string(error));
  if (!key.empty()) reason += ":" + key;
  input_errors_.count(device, reason, now.mono_ms);
}

void Hub::on_message(std::string_view topic, std::string_view payload, const rules::Instant& now) {
  ++messages_processed_;
  if (topic == topics_.ack()) {
    on_ack_message(payload, now);
    return;
  }
  auto it = routes_.find(std::string(topic));
  if (it == routes_.end()) {
    const std::string device = device_from_topic(topic, topics_.device_root());
    reject(
        device,
        device == "-" ? drivers::DecodeError::unknown_topic : drivers::DecodeError::unknown_device,
        {}, now);
    return;
  }
  for (const Route& route : it->second) handle_for_device(route, topic, payload, now);
}

void Hub::handle_for_device(const Route& route, std::string_view topic, std::string_view payload,
                            const rules::Instant& now) {
  const drivers::DeviceConfig& device = *route.device;
  drivers::DecodeResult decoded;
  if (payload.size() > kMaxPayloadBytes) {
    decoded.problems.push_back({drivers::DecodeError::oversized, {}});
  } else {
    decoded = route.driver->decode(device, topic, payload);
  }
  for (const auto& problem : decoded.problems) reject(device.id, problem.error, problem.key, now);

  const auto events = engine_.on_message({device, decoded, now});
  const bool alarm_class = drivers::is_alarm_class(device.kind);
  if (!events.empty() || engine_.state().has_changes()) {
    commit_events(events, now,
                  alarm_class || !events.empty() ? Durability::full : Durability::normal);
  }
  buffer_telemetry(device, decoded, now);
  if (telemetry_.size() >= kTelemetryBatch) flush_telemetry();
}

void Hub::commit_events(const std::vector<rules::RuleEvent>& events, const rules::Instant& now,
                        Durability durability) {
  std::vector<AlertChange> changes;
  {
    Store::Transaction tx(store_, durability);
    for (const auto& event : events) alerts_.apply(event, now, changes);
    for (const auto& [key, value] : engine_.state().take_changes()) {
      store_.put_rule_state(key, value);
    }
    tx.commit();
  }
  for (const auto& change : changes) output_.alert_changed(change, now);
}

void Hub::buffer_telemetry(const drivers::DeviceConfig& device,
                           const drivers::DecodeResult& decoded, const rules::Instant& now) {
  const std::int64_t ts = decoded.device_ts_ms.value_or(now.wall_ms);
  for (const auto& reading : decoded.readings) {
    if (reading.capability == drivers::Capability::action) continue;  // events, not telemetry
    TelemetryRow row{ts, device.id, std::string(drivers::to_string(reading.capability)), {}, {}};
    if (const auto* flag = std::get_if<bool>(&reading.value)) {
      row.number = *flag ? 1.0 : 0.0;
    } else if (const auto* number = std::get_if<double>(&reading.value)) {
      row.number = *number;
    } else {
      row.text = std::get<std::string>(reading.value);
    }
    telemetry_.push_back(std::move(row));
  }
}

void Hub::flush_telemetry() {
  if (telemetry_.empty()) return;
  Store::Transaction tx(store_, Durability::normal);
  store_.add_telemetry(telemetry_);
  tx.commit();
  telemetry_.clear();
}

std::int64_t Hub::prune_telemetry(const rules::Instant& now) {
  const std::int64_t cutoff =
      now.wall_ms -
      static_cast<std::int64_t>(config_.storage.telemetry_retention_days) * 86'400'000;
  Store::Transaction tx(store_, Durability::normal);
  const std::int64_t deleted = store_.prune_telemetry(cutoff, config_.storage.telemetry_max_rows);
  tx.commit();
  if (deleted > 0) log::info("telemetry retention: deleted {} rows", deleted);
  return deleted;
}

AckOutcome Hub::on_ack_message(std::string_view payload, const rules::Instant& now) {
  auto json = nlohmann::json::parse(payload, nullptr, false);
  AckRequest request;
  request.channel = "mqtt";
  bool ok = json.is_object() && json.contains("alert_id") && json["alert_id"].is_string() &&
            json.contains("by") && json["by"].is_string();
  if (ok) {
    request.alert_id = json["alert_id"].get<std::string>();
    request.by = json["by"].get<std::string>();
    const std::string action = json.value("action", std::string("ack"));
    if (action == "ack") {
      request.action = AckAction::ack;
    } else if (action == "resolve") {
      request.action = AckAction::resolve;
    } else {
      ok = false;
    }
    if (json.contains("note") && json["note"].is_string()) request.note = json["note"];
    if (json.contains("channel") && json["channel"].is_string()) request.channel = json["channel"];
  }
  if (!ok || request.alert_id.size() > 128 || request.by.size() > 64 ||
      request.note.size() > 2000) {
    reject("ack", drivers::DecodeError::malformed, {}, now);
    return AckOutcome::unknown_alert;
  }
  return acknowledge(request, now);
}

AckOutcome Hub::acknowledge(const AckRequest& request, const rules::Instant& now) {
  std::vector<AlertChange> changes;
  AckOutcome outcome;
  {
    Store::Transaction tx(store_, Durability::full);
    outcome = alerts_.acknowledge(request, now, changes);
    tx.commit();
  }
  if (outcome == AckOutcome::unknown_alert || outcome == AckOutcome::unknown_contact) {
    // Refused and logged (ids only); rate-limited like any bad input.
    reject("ack", drivers::DecodeError::malformed, std::string(to_string(outcome)), now);
  }
  for (const auto& change : changes) output_.alert_changed(change, now);
  return outcome;
}

void Hub::on_tick(const rules::Instant& now) {
  const auto events = engine_.on_tick(now);
  if (!events.empty() || engine_.state().has_changes()) {
    commit_events(events, now, Durability::full);
  }
}

std::optional<std::int64_t> Hub::next_deadline_mono_ms() const {
  return engine_.next_deadline_mono_ms();
}

std::vector<AlertRecord> Hub::pending_publications() {
  return store_.unpublished_alerts();
}

void Hub::mark_published(const std::string& alert_id, std::int64_t updated_at_ms) {
  Store::Transaction tx(store_, Durability::normal);
  store_.mark_published(alert_id, updated_at_ms);
  tx.commit();
}

}  // namespace homesafe::gateway
