#include "homesafe/gateway/alert_manager.hpp"

#include <fmt/format.h>

#include "homesafe/gateway/log.hpp"

namespace homesafe::gateway {

std::string_view to_string(AckOutcome outcome) {
  switch (outcome) {
    case AckOutcome::applied:
      return "applied";
    case AckOutcome::already_done:
      return "already_done";
    case AckOutcome::unknown_alert:
      return "unknown_alert";
    case AckOutcome::unknown_contact:
      return "unknown_contact";
  }
  return "unknown";
}

AlertManager::AlertManager(const HubConfig& config, Store& store)
    : config_(config), store_(store) {}

std::string AlertManager::condition_key(rules::AlertKind kind, const std::string& device_id) {
  return std::string(rules::to_string(kind)) + "/" + device_id;
}

void AlertManager::load() {
  active_.clear();
  by_condition_.clear();
  for (auto& alert : store_.active_alerts()) {
    by_condition_[condition_key(alert.kind, alert.device_id)] = alert.alert_id;
    active_.emplace(alert.alert_id, std::move(alert));
  }
}

const AlertRecord* AlertManager::find_active(rules::AlertKind kind,
                                             const std::string& device_id) const {
  auto it = by_condition_.find(condition_key(kind, device_id));
  if (it == by_condition_.end()) return nullptr;
  return &active_.at(it->second);
}

void AlertManager::record(AlertRecord& alert, const std::string& event, const rules::Instant& now,
                          const std::string& by, const std::string& channel,
                          const std::string& note, std::vector<AlertChange>& changes) {
  alert.updated_at_ms = now.wall_ms;
  store_.save_alert(alert);
  store_.append_alert_event({alert.alert_id, now.wall_ms, event, by, channel, note});
  changes.push_back({alert, event});
}

AlertRecord& AlertManager::open_alert(const rules::RuleEvent& event, const rules::Instant& now,
                                      std::vector<AlertChange>& changes) {
  AlertRecord alert;
  alert.alert_id = fmt::format("{}-{:06}", config_.household.id, store_.next_sequence("alert"));
  alert.kind = event.kind;
  alert.severity = rules::severity_of(event.kind);
  alert.state = AlertState::open;
  alert.device_id = event.device_id;
  if (const auto* device = config_.find_device(event.device_id)) alert.location = device->location;
  alert.detail = event.detail;
  alert.opened_at_ms = now.wall_ms;
  alert.condition_active = true;
  alert.clock_synced = now.wall_synced;
  by_condition_[condition_key(alert.kind, alert.device_id)] = alert.alert_id;
  auto [it, inserted] = active_.emplace(alert.alert_id, std::move(alert));
  record(it->second, "opened", now, "system", "", event.detail, changes);
  log::info("alert {} opened: {} ({}) on device {}", it->second.alert_id,
            rules::to_string(it->second.kind), rules::to_string(it->second.severity),
            it->second.device_id);
  return it->second;
}

void AlertManager::apply(const rules::RuleEvent& event, const rules::Instant& now,
                         std::vector<AlertChange>& changes) {
  auto existing = by_condition_.find(condition_key(event.kind, event.device_id));
  AlertRecord* alert = existing == by_condition_.end() ? nullptr : &active_.at(existing->second);

  switch (event.signal) {
    case rules::Signal::raise:
    case rules::Signal::repeat:
      if (alert == nullptr) {
        // A repeat without an open alert is a stale cached value (the alert was handled):
        // not a new alarm.
        if (event.signal == rules::Signal::raise) open_alert(event, now, changes);
        return;
      }
      ++alert->repeat_count;
      if (!alert->condition_active) {
        alert->condition_active = true;
        record(*alert, "condition_returned", now, "system", "", event.detail, changes);
      } else {
        alert->updated_at_ms = now.wall_ms;
        store_.save_alert(*alert, /*publish_pending=*/false);
      }
      return;
    case rules::Signal::clear:
      if (alert == nullptr || !alert->condition_active) return;
      alert->condition_active = false;
      if (rules::resolves_when_clear(alert->kind)) {
        const std::string id = alert->alert_id;
        resolve_by_system(id, "condition cleared", now, changes);
      } else {
        record(*alert, "condition_cleared", now, "system", "", "", changes);
      }
      return;
    case rules::Signal::suppressed:
      return;  // counted by the rule engine
    case rules::Signal::record:
      store_.add_device_event(
          {now.wall_ms, event.device_id, event.detail, std::string(rules::to_string(event.kind))});
      log::info("device {}: {} recorded ({})", event.device_id, event.detail,
                rules::to_string(event.kind));
      return;
  }
}

AckOutcome AlertManager::acknowledge(const AckRequest& request, const rules::Instant& now,
                                     std::vector<AlertChange>& changes) {
  // The township's duty desk acts under its own staff ids, which are not hub contacts (the
  // uplink checked the command's shape and its origin is the township broker's ACL).
  if (request.channel != "township" && config_.find_contact(request.by) == nullptr) {
    return AckOutcome::unknown_contact;
  }
  auto it = active_.find(request.alert_id);
  if (it == active_.end()) {
    return store_.find_alert(request.alert_id) ? AckOutcome::already_done
                                               : AckOutcome::unknown_alert;
  }
  AlertRecord& alert = it->second;
  if (request.action == AckAction::ack) {
    if (alert.state != AlertState::open) return AckOutcome::already_done;
    alert.state = AlertState::acknowledged;
    alert.acknowledged_at_ms = now.wall_ms;
    alert.acknowledged_by = request.by;
    record(alert, "acknowledged", now, request.by, request.channel, request.note, changes);
    log::info("alert {} acknowledged by {} via {}", alert.alert_id, request.by, request.channel);
    return AckOutcome::applied;
  }
  if (!alert.acknowledged_at_ms) {
    // Resolving implies having seen it.
    alert.acknowledged_at_ms = now.wall_ms;
    alert.acknowledged_by = request.by;
  }
  alert.state = AlertState::resolved;
  alert.resolved_at_ms = now.wall_ms;
  alert.resolved_by = request.by;
  record(alert, "resolved", now, request.by, request.channel, request.note, changes);
  log::info("alert {} resolved by {} via {}", alert.alert_id, request.by, request.channel);
  by_condition_.erase(condition_key(alert.kind, alert.device_id));
  active_.erase(it);
  return AckOutcome::applied;
}

bool AlertManager::resolve_by_system(const std::string& alert_id, const std::string& note,
                                     const rules::Instant& now, std::vector<AlertChange>& changes) {
  auto it = active_.find(alert_id);
  if (it == active_.end()) return false;
  AlertRecord& alert = it->second;
  alert.state = AlertState::resolved;
  alert.resolved_at_ms = now.wall_ms;
  alert.resolved_by = "system";
  record(alert, "resolved", now, "system", "", note, changes);
  log::info("alert {} resolved: {}", alert_id, note);
  by_condition_.erase(condition_key(alert.kind, alert.device_id));
  active_.erase(it);
  return true;
}

}  // namespace homesafe::gateway
