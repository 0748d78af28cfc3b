#include "homesafe/gateway/hub.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <variant>

#include "homesafe/gateway/config_override.hpp"
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

namespace {

rules::HouseholdPtr household_of(const HubConfig& config, const rules::TimeZone& zone) {
  auto household = std::make_shared<rules::Household>();
  household->zone = zone;
  household->devices = config.devices;
  household->settings = config.rules;
  return household;
}

// {"action": "away", "until": ISO 8601 or Unix ms, "by", "note"} or {"action": "home", "by"}.
struct AwayRequest {
  bool valid = false;
  bool home = false;
  std::int64_t until_ms = 0;
  std::string by;
  std::string note;
};

std::optional<AwayRequest> parse_away(const nlohmann::json& json) {
  if (!json.is_object()) return std::nullopt;
  auto action = json.find("action");
  if (action == json.end() || !action->is_string()) return std::nullopt;
  AwayRequest away;
  away.home = *action == "home";
  if (!away.home && *action != "away") return std::nullopt;
  auto by = json.find("by");
  if (by == json.end() || !by->is_string() || by->get<std::string>().size() > 64) return away;
  away.by = by->get<std::string>();
  if (auto note = json.find("note"); note != json.end() && note->is_string()) {
    away.note = note->get<std::string>().substr(0, 200);
  }
  if (!away.home) {
    auto until = json.find("until");
    if (until == json.end()) return away;
    if (until->is_number_integer()) {
      away.until_ms = until->get<std::int64_t>();
    } else if (until->is_string()) {
      auto parsed = rules::parse_iso8601_ms(until->get<std::string>());
      if (!parsed) return away;
      away.until_ms = *parsed;
    } else {
      return away;
    }
  }
  away.valid = true;
  return away;
}

// The config with the township's stored override, if any (logged either way).
OverriddenConfig effective_config(const HubConfig& config, Store& store) {
  auto effective = with_config_override(config, store);
  if (!effective.errors.empty()) {
    log::error(
        "config override from the township ignored: it does not validate against {} (clear it "
        "with homesafe-gateway clear-override): {}",
        config.source_file, fmt::join(effective.errors, "; "));
  } else if (effective.patches > 0) {
    log::warn(
        "config override from the township in effect: {} patch(es) of rules/escalation "
        "over {}",
        effective.patches, config.source_file);
  }
  return effective;
}

}  // namespace

Hub::Hub(const HubConfig& config, Store& store, HubOutput& output, rules::TimeZone time_zone,
         std::string boot_id)
    : Hub(effective_config(config, store), store, output, std::move(time_zone),
          std::move(boot_id)) {}

Hub::Hub(OverriddenConfig config, Store& store, HubOutput& output, rules::TimeZone time_zone,
         std::string boot_id)
    : config_(std::move(config.config)),
      config_patches_(config.patches),
      store_(store),
      output_(output),
      time_zone_(std::move(time_zone)),
      topics_(config_.household.id),
      household_(household_of(config_, time_zone_)),
      engine_(household_, rules::default_rules(household_)),
      alerts_(config_, store),
      escalator_(config_, store, time_zone_, std::move(boot_id)),
      storage_(StorageMonitorOptions{static_cast<std::uint64_t>(config_.storage.min_free_mb) *
                                     1024 * 1024}) {
  for (const auto& device : config_.devices) {
    const drivers::Driver* driver = drivers::find_driver(device.format);
    if (driver == nullptr) continue;  // rejected by config validation already
    for (auto& topic : driver->topics(device)) routes_[topic].push_back(Route{&device, driver});
  }
}

void Hub::start(const rules::Instant& now) {
  std::size_t state_entries = 0;
  for (auto& [key, value] : store_.load_rule_state()) {
    engine_.state().load(std::move(key), std::move(value));
    ++state_entries;
  }
  alerts_.load();
  if (alerts_.find_active(rules::AlertKind::storage_full, "") != nullptr) {
    storage_.assume_raised();  // from before the restart: cleared once storage is fine
  }
  escalator_.load(alerts_.active(), now);
  // The rules catch up with the time the gateway was stopped (their clock continues).
  const auto events = engine_.resume(now);
  commit_events(events, now, Durability::full);
  log::info("hub {}: {} devices, {} active alerts, {} rule state entries", config_.household.id,
            config_.devices.size(), alerts_.active().size(), state_entries);
}

std::string Hub::apply_config_patch(const std::string& patch, const std::string& command_id,
                                    const rules::Instant& now) {
  std::vector<ConfigPatchRecord> patches;
  try {
    patches = load_config_override(store_);
  } catch (const ConfigOverrideError& e) {
    return fmt::format("the hub's stored override cannot be read ({}); clear it on the hub",
                       e.what());
  }
  patches.push_back({command_id, now.wall_ms, patch});
  auto result = apply_config_patches(config_, patch_texts(patches));
  if (!result.config) {
    std::vector<std::string> messages;
    for (const auto& error : result.errors) messages.push_back(error.message);
    return fmt::format("{}", fmt::join(messages, "; "));
  }
  std::vector<AlertChange> changes;
  std::vector<notify::Notification> notifications;
  {
    Store::Transaction tx(store_, Durability::full);
    save_config_override(store_, patches);
    // Only these sections change: devices, contacts and routes stay as they are (the MQTT
    // thread's is_alarm_topic reads only those).
    config_.rules = result.config->rules;
    config_.escalation = result.config->escalation;
    household_ = household_of(config_, time_zone_);
    const auto events = engine_.reconfigure(household_, rules::default_rules(household_), now);
    escalator_.reconfigure(now);
    for (const auto& event : events) alerts_.apply(event, now, changes);
    escalate(changes, now, notifications);
    escalator_.on_tick(now, notifications);  // a step of the new policy that is already due
    write_rule_state();
    tx.commit();
  }
  config_patches_ = patches.size();
  log::warn("config patch {} from the township applied (rules/escalation; {} patch(es) in effect)",
            command_id, config_patches_);
  emit(changes, notifications, now);
  return {};
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
  auto it = routes_.find(topic);
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
  auto it = routes_.find(topic);
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

  if (device.kind == drivers::DeviceKind::call_button) {
    if (const auto* action = decoded.find(drivers::Capability::action)) {
      const auto& acks = config_.notify.ack_actions;
      if (std::find(acks.begin(), acks.end(), std::get<std::string>(action->value)) != acks.end()) {
        acknowledge_on_site(device, now);
      }
    }
  }

  const auto mark = engine_.state().mark();
  const auto events = engine_.on_message({device, decoded, now});
  const bool alarm_class = drivers::is_alarm_class(device.kind);
  // Rule state that changed without an event (a meter's last reading, a silence timer) goes
  // with the next telemetry flush (within a second), like the reading itself; an event or an
  // alarm-class device commits at once, with the state this message changed.
  if (!events.empty() || (alarm_class && engine_.state().has_changes_since(mark))) {
    commit_events(events, now, Durability::full, mark);
  }
  if (engine_.last_facts().activity && config_.checkin) resident_responded(now);
  if (!ephemeral_) buffer_telemetry(device, decoded, now);
  if (telemetry_.size() >= kTelemetryBatch) flush_telemetry();
}

void Hub::commit_events(const std::vector<rules::RuleEvent>& events, const rules::Instant& now,
                        Durability durability, std::optional<std::uint64_t> state_since) {
  std::vector<AlertChange> changes;
  std::vector<notify::Notification> notifications;
  {
    Store::Transaction tx(store_, durability);
    for (const auto& event : events) alerts_.apply(event, now, changes);
    escalate(changes, now, notifications);
    write_rule_state(state_since);
    tx.commit();
  }
  // A failed commit (full disk) does not stop the alarm: it is notified from memory.
  emit(changes, notifications, now);
  if (store_.last_commit_failed()) check_storage(std::nullopt, now);
}

void Hub::resync_after_failures() {
  if (store_.failed_commits() == resynced_at_failures_) return;
  // Commits were lost: write what memory holds now (rule state, active alerts) so that a
  // restart does not start from the older state on disk. Tried again until it works.
  Store::Transaction tx(store_, Durability::full);
  store_.replace_rule_state(engine_.state().with_prefix(""));
  (void)engine_.state().take_changes();
  for (const auto& [id, alert] : alerts_.active()) store_.save_alert(alert, false);
  tx.commit();
  if (!store_.last_commit_failed()) {
    resynced_at_failures_ = store_.failed_commits();
    log::info("storage: writes work again; rule state and {} active alert(s) written",
              alerts_.active().size());
  }
}

void Hub::check_storage(std::optional<std::uint64_t> free_bytes, const rules::Instant& now) {
  if (checking_storage_) return;  // raising the alert commits too, and may fail the same way
  checking_storage_ = true;
  struct Done {
    bool& flag;
    ~Done() { flag = false; }
  } done{checking_storage_};

  const auto decision =
      storage_.update(store_.failed_commits(), store_.last_write_error(), free_bytes, now.mono_ms);
  using Action = StorageMonitor::Decision::Action;
  if (decision.action == Action::raise) {
    log::error("storage: {}; alarms are still notified, what cannot be stored is lost",
               decision.detail);
    commit_events({{rules::Signal::raise, rules::AlertKind::storage_full, "", decision.detail}},
                  now, Durability::full);
  }
  resync_after_failures();
  if (decision.action == Action::clear) {
    log::info("storage: enough free space and no failed write for a while");
    commit_events({{rules::Signal::clear, rules::AlertKind::storage_full, "", {}}}, now,
                  Durability::full);
  }
}

void Hub::escalate(const std::vector<AlertChange>& changes, const rules::Instant& now,
                   std::vector<notify::Notification>& notifications) {
  for (const auto& change : changes) {
    if (change.event == "opened") {
      escalator_.on_alert_opened(change.alert, now, notifications);
    } else {
      escalator_.on_alert_changed(change.alert, now);
    }
  }
}

void Hub::emit(const std::vector<AlertChange>& changes,
               const std::vector<notify::Notification>& notifications, const rules::Instant& now) {
  for (const auto& change : changes) output_.alert_changed(change, now);
  for (const auto& notification : notifications) output_.notification_created(notification, now);
}

void Hub::resident_responded(const rules::Instant& now) {
  std::vector<std::string> waiting;
  for (const auto& [id, alert] : alerts_.active()) {
    if (alert.state == AlertState::open && escalator_.in_checkin(id)) waiting.push_back(id);
  }
  if (waiting.empty()) return;
  std::vector<AlertChange> changes;
  std::vector<notify::Notification> notifications;
  {
    Store::Transaction tx(store_, Durability::full);
    for (const auto& id : waiting)
      alerts_.resolve_by_system(id, "resident responded", now, changes);
    escalate(changes, now, notifications);
    tx.commit();
  }
  emit(changes, notifications, now);
}

void Hub::set_away(std::int64_t until_wall_ms, const std::string& by, const std::string& note,
                   const rules::Instant& now) {
  engine_.set_away(until_wall_ms, now);
  log::info("household {}: away until {} (set by {})", config_.household.id,
            time_zone_.format_iso(until_wall_ms), by);
  std::string detail = "until=" + time_zone_.format_iso(until_wall_ms) + " by=" + by;
  if (!note.empty()) detail += " note=" + note;
  commit_household_event(detail, "away", now);
}

void Hub::end_away(const std::string& by, const rules::Instant& now) {
  engine_.end_away(now);
  log::info("household {}: back home (set by {})", config_.household.id, by);
  commit_household_event("by=" + by, "home", now);
}

void Hub::commit_household_event(const std::string& detail, const std::string& kind,
                                 const rules::Instant& now) {
  Store::Transaction tx(store_, Durability::full);
  store_.add_device_event({now.wall_ms, "household", detail, kind});
  write_rule_state();
  tx.commit();
}

void Hub::buffer_telemetry(const drivers::DeviceConfig& device,
                           const drivers::DecodeResult& decoded, const rules::Instant& now) {
  const std::int64_t ts = decoded.device_ts_ms.value_or(now.wall_ms);
  for (const auto& reading : decoded.readings) {
    if (reading.capability == drivers::Capability::action) continue;  // events, not telemetry
    if (const auto* number = std::get_if<double>(&reading.value);
        number && !config_.storage.telemetry_every_reading) {
      // A measurement (power, a meter's total, a temperature): the latest of the second is
      // kept. States (booleans, text) keep every change: the daily summary counts them.
      auto [slot, fresh] =
          waiting_numbers_.try_emplace({&device, reading.capability}, telemetry_.size());
      if (!fresh) {
        TelemetryRow& row = telemetry_[slot->second];
        row.ts_ms = ts;
        row.number = *number;
        continue;
      }
    }
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

void Hub::write_rule_state(std::optional<std::uint64_t> since) {
  auto changes =
      since ? engine_.state().take_changes_since(*since) : engine_.state().take_changes();
  if (ephemeral_) return;
  for (const auto& [key, value] : changes) store_.put_rule_state(key, value);
}

void Hub::flush_telemetry() {
  if (!telemetry_.empty() || engine_.state().has_changes()) {
    Store::Transaction tx(store_, Durability::normal);
    store_.add_telemetry(telemetry_);
    write_rule_state();
    tx.commit();
    if (store_.last_commit_failed()) telemetry_rows_dropped_ += telemetry_.size();
    telemetry_.clear();
    waiting_numbers_.clear();
  }
  // Writes work (again): what memory kept goes to disk within a second of space coming back,
  // and at the latest when the daemon stops.
  if (!store_.last_commit_failed()) resync_after_failures();
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
  if (auto away = parse_away(json)) {
    if (!away->valid || config_.find_contact(away->by) == nullptr) {
      reject("ack", drivers::DecodeError::malformed, away->valid ? "unknown_contact" : "away", now);
      return away->valid ? AckOutcome::unknown_contact : AckOutcome::unknown_alert;
    }
    constexpr std::int64_t kMaxAwayMs = 90LL * 86'400'000;
    if (!away->home && away->until_ms > now.wall_ms + kMaxAwayMs) {
      log::warn("away request by {} refused: more than 90 days ahead", away->by);
      reject("ack", drivers::DecodeError::malformed, "away_too_long", now);
      return AckOutcome::unknown_alert;
    }
    if (away->home) {
      end_away(away->by, now);
    } else {
      set_away(away->until_ms, away->by, away->note, now);
    }
    return AckOutcome::applied;
  }
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
    // "township" is reserved for the uplink's commands (they may name staff who are not hub
    // contacts); a local message cannot claim it.
    if (request.channel == "township") request.channel = "mqtt";
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
  std::vector<notify::Notification> notifications;
  AckOutcome outcome;
  {
    Store::Transaction tx(store_, Durability::full);
    outcome = alerts_.acknowledge(request, now, changes);
    if (outcome == AckOutcome::applied) {
      store_.mark_notifications_acknowledged(request.alert_id, request.by);
    }
    escalate(changes, now, notifications);
    tx.commit();
  }
  if (outcome == AckOutcome::unknown_alert || outcome == AckOutcome::unknown_contact) {
    // Refused and logged (ids only); rate-limited like any bad input.
    reject("ack", drivers::DecodeError::malformed, std::string(to_string(outcome)), now);
  }
  emit(changes, notifications, now);
  return outcome;
}

void Hub::acknowledge_on_site(const drivers::DeviceConfig& device, const rules::Instant& now) {
  const auto caregiver = std::find_if(config_.contacts.begin(), config_.contacts.end(),
                                      [](const auto& c) { return c.role == Role::caregiver; });
  if (caregiver == config_.contacts.end()) return;
  std::vector<std::string> open;
  for (const auto& [id, alert] : alerts_.active()) {
    if (alert.state == AlertState::open) open.push_back(id);
  }
  for (const auto& id : open) {
    acknowledge({id, caregiver->id, AckAction::ack, "on site (button " + device.id + ")", "button"},
                now);
  }
}

AckOutcome Hub::on_sms_reply(const std::string& from, const std::string& text,
                             const rules::Instant& now) {
  auto digits = [](std::string_view number) {
    std::string out;
    for (char c : number) {
      if (c >= '0' && c <= '9') out += c;
    }
    // Compare national numbers: +8613800000000 and 13800000000 are the same phone.
    if (out.size() > 11 && out.rfind("86", 0) == 0) out.erase(0, 2);
    return out;
  };
  const ContactConfig* sender = nullptr;
  for (const auto& contact : config_.contacts) {
    for (const auto& channel : contact.channels) {
      if (channel.type == "sms" && digits(channel.address) == digits(from)) sender = &contact;
    }
  }
  if (sender == nullptr) {
    reject("sms", drivers::DecodeError::unknown_device, "unknown_sender", now);
    return AckOutcome::unknown_contact;
  }
  std::string answer;
  for (char c : text) {
    if (c != ' ' && c != '\r' && c != '\n' && c != '\t') answer += c;
  }
  static const std::vector<std::string> kYes{"1", "确认", "收到", "好", "ok", "OK", "Ok"};
  if (std::find(kYes.begin(), kYes.end(), answer) == kYes.end()) {
    log::warn("sms reply from contact {} not understood; expected 1", sender->id);
    reject("sms", drivers::DecodeError::malformed, "reply", now);
    return AckOutcome::unknown_alert;
  }
  auto latest = store_.latest_notification_to(sender->id, "sms");
  if (!latest) {
    log::info("sms reply from contact {}: no active alert was sent to them", sender->id);
    return AckOutcome::unknown_alert;
  }
  return acknowledge({latest->alert_id, sender->id, AckAction::ack, "sms reply", "sms"}, now);
}

void Hub::record_delivery(const std::string& notification_id, const notify::DeliveryResult& result,
                          int attempts, const rules::Instant& now) {
  Store::Transaction tx(store_, Durability::normal);
  store_.record_delivery(notification_id, result.ok ? "sent" : "failed", attempts, result.error,
                         now.wall_ms);
  tx.commit();
  if (!result.ok) log::warn("notification {} failed: {}", notification_id, result.error);
}

std::vector<notify::Notification> Hub::pending_notifications() {
  std::vector<notify::Notification> out;
  for (const auto& row : store_.pending_notifications()) {
    const ContactConfig* contact = config_.find_contact(row.contact_id);
    auto alert = store_.find_alert(row.alert_id);
    if (contact == nullptr || !alert) continue;
    notify::Notification n;
    n.notification_id = row.notification_id;
    n.alert_id = row.alert_id;
    n.household_id = config_.household.id;
    n.contact_id = row.contact_id;
    n.role = row.role;
    n.channel = row.channel;
    for (const auto& channel : contact->channels) {
      if (channel.type == row.channel) n.address = channel.address;
    }
    n.step = row.step;
    n.repeat = row.repeat;
    n.kind = std::string(rules::to_string(alert->kind));
    n.severity = std::string(rules::to_string(alert->severity));
    n.location = alert->location;
    n.ts = time_zone_.format_iso(alert->opened_at_ms);
    n.text = row.text;
    out.push_back(std::move(n));
  }
  return out;
}

void Hub::on_tick(const rules::Instant& now) {
  const auto events = engine_.on_tick(now);
  const auto escalation_due = escalator_.next_deadline_mono_ms();
  if (events.empty() && !(escalation_due && *escalation_due <= now.mono_ms)) {
    return;  // only rule state changed: it goes with the next telemetry flush
  }
  std::vector<AlertChange> changes;
  std::vector<notify::Notification> notifications;
  {
    Store::Transaction tx(store_, Durability::full);
    for (const auto& event : events) alerts_.apply(event, now, changes);
    escalate(changes, now, notifications);
    escalator_.on_tick(now, notifications);
    write_rule_state();
    tx.commit();
  }
  emit(changes, notifications, now);
}

std::optional<std::int64_t> Hub::next_deadline_mono_ms() const {
  auto rules_deadline = engine_.next_deadline_mono_ms();
  auto escalation_deadline = escalator_.next_deadline_mono_ms();
  if (!rules_deadline) return escalation_deadline;
  if (!escalation_deadline) return rules_deadline;
  return std::min(*rules_deadline, *escalation_deadline);
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
