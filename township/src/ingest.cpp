#include "homesafe/township/ingest.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <tuple>

#include "homesafe/township/log.hpp"
#include "homesafe/township/messages.hpp"
#include "homesafe/township/relay.hpp"

namespace homesafe::township {
namespace {

using nlohmann::json;

// Thrown inside a transaction when the content contradicts what is stored (rolled back).
struct Conflict {
  std::string reason;
};

Value nullable_text(const json& v) {
  if (v.is_null()) return nullptr;
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

Value nullable_int(const json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  return nullptr;
}

int state_rank(const std::string& state) {
  if (state == "open") return 0;
  if (state == "acknowledged") return 1;
  return 2;
}

// The alert's household must be this one: a hub cannot touch another household's alert.
void check_alert_owner(Db& db, const std::string& alert_id, const std::string& household) {
  auto row = db.query_one("SELECT household_id FROM alerts WHERE alert_id = ?", {alert_id});
  if (row && row->text(0) != household) throw Conflict{"alert belongs to another household"};
}

void store_alert(Db& db, const Event& e) {
  const json& b = e.body;
  const std::string alert_id = b.at("alert_id").get<std::string>();
  check_alert_owner(db, alert_id, e.household);
  const std::string state = b.at("state").get<std::string>();
  const std::int64_t updated_at = b.at("updated_at").get<std::int64_t>();
  const std::int64_t repeat = b.at("repeat_count").get<std::int64_t>();
  db.exec(
      "INSERT INTO alert_history (alert_id, event_id, state, updated_at, body) VALUES (?, ?, ?, "
      "?, ?) ON CONFLICT (alert_id, event_id) DO NOTHING",
      {alert_id, e.event_id, state, updated_at, b.dump()});
  auto current = db.query_one(
      "SELECT updated_at, state, repeat_count FROM alerts WHERE alert_id = ?", {alert_id});
  const std::vector<Value> values{e.household,
                                  e.hub,
                                  b.at("kind").get<std::string>(),
                                  b.at("severity").get<std::string>(),
                                  state,
                                  nullable_text(b.at("device")),
                                  nullable_text(b.at("location")),
                                  nullable_text(b.at("detail")),
                                  b.at("opened_at").get<std::int64_t>(),
                                  updated_at,
                                  nullable_int(b.at("acknowledged_at")),
                                  nullable_text(b.at("acknowledged_by")),
                                  nullable_int(b.at("resolved_at")),
                                  nullable_text(b.at("resolved_by")),
                                  repeat,
                                  e.event_id,
                                  alert_id};
  if (!current) {
    db.exec(
        "INSERT INTO alerts (household_id, hub_id, kind, severity, state, device, location, "
        "detail, opened_at, updated_at, acknowledged_at, acknowledged_by, resolved_at, "
        "resolved_by, repeat_count, last_event_id, alert_id, source) VALUES (?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'hub')",
        values);
    return;
  }
  // Keep the newest state: an older update arriving late changes only the history.
  const auto stored =
      std::make_tuple(current->integer(0), state_rank(current->text(1)), current->integer(2));
  const auto incoming = std::make_tuple(updated_at, state_rank(state), repeat);
  if (incoming <= stored) return;
  db.exec(
      "UPDATE alerts SET household_id = ?, hub_id = ?, kind = ?, severity = ?, state = ?, "
      "device = ?, location = ?, detail = ?, opened_at = ?, updated_at = ?, acknowledged_at = ?, "
      "acknowledged_by = ?, resolved_at = ?, resolved_by = ?, repeat_count = ?, last_event_id = "
      "? WHERE alert_id = ?",
      values);
}

void store_alert_event(Db& db, const Event& e) {
  const json& b = e.body;
  const std::string alert_id = b.at("alert_id").get<std::string>();
  check_alert_owner(db, alert_id, e.household);
  db.exec(
      "INSERT INTO handling_records (record_id, alert_id, household_id, event, at, by_whom, "
      "channel, note, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'hub') ON CONFLICT (record_id) DO "
      "NOTHING",
      {e.event_id, alert_id, e.household, b.at("event").get<std::string>(),
       b.at("at").get<std::int64_t>(), nullable_text(b.at("by")), nullable_text(b.at("channel")),
       nullable_text(b.at("note"))});
}

void store_notification(Db& db, const Event& e) {
  const json& b = e.body;
  db.exec(
      "INSERT INTO notifications (event_id, notification_id, alert_id, household_id, contact_id, "
      "role, channel, step, repeat_no, state, attempts, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, "
      "?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
      {e.event_id, b.at("notification_id").get<std::string>(), b.at("alert_id").get<std::string>(),
       e.household, b.at("contact_id").get<std::string>(), b.at("role").get<std::string>(),
       b.at("channel").get<std::string>(), b.at("step").get<std::int64_t>(),
       b.at("repeat").get<std::int64_t>(), b.at("state").get<std::string>(),
       b.at("attempts").get<std::int64_t>(), nullable_text(b.at("error")),
       b.at("at").get<std::int64_t>()});
}

void store_device_health(Db& db, const Event& e) {
  const json& b = e.body;
  db.exec(
      "INSERT INTO device_health (event_id, household_id, device, event, at, detail) VALUES (?, "
      "?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
      {e.event_id, e.household, b.at("device").get<std::string>(), b.at("event").get<std::string>(),
       b.at("at").get<std::int64_t>(), nullable_text(b.at("detail"))});
}

void store_daily_summary(Db& db, const Event& e, std::int64_t now) {
  const json& b = e.body;
  const std::string date = b.at("date").get<std::string>();
  db.exec(
      "INSERT INTO daily_summaries (household_id, summary_date, event_id, body) VALUES (?, ?, ?, "
      "?) ON CONFLICT (household_id, summary_date) DO UPDATE SET event_id = excluded.event_id, "
      "body = excluded.body",
      {e.household, date, e.event_id, b.dump()});
  // One 远程监测 visit record per household and day; a re-sent summary refreshes it.
  const std::string visit_id = "remote-" + e.household + "-" + date;
  db.exec(
      "INSERT INTO visits (visit_id, household_id, visit_type, visit_date, visited_at, visitor, "
      "health, economy, support, safety, needs, note, source_event_id, created_by, created_at) "
      "VALUES (?, ?, '远程监测', ?, ?, ?, '', '', '', ?, '', '', ?, 'system', ?) ON CONFLICT "
      "(visit_id) DO UPDATE SET safety = excluded.safety, source_event_id = "
      "excluded.source_event_id, visited_at = excluded.visited_at",
      {visit_id, e.household, date, e.ts, "hub:" + e.hub, safety_from_summary(b), e.event_id, now});
}

void store_command_result(Db& db, const Event& e, std::int64_t now) {
  const json& b = e.body;
  db.exec(
      "UPDATE commands SET result_ok = ?, result_error = ?, result_at = ? WHERE command_id = ? "
      "AND hub_id = ?",
      {std::int64_t{b.at("ok").get<bool>() ? 1 : 0}, nullable_text(b.at("error")), now,
       b.at("command_id").get<std::string>(), e.hub});
}

}  // namespace

std::string safety_from_summary(const json& b) {
  std::string out;
  const auto& hazards = b.at("hazards");
  if (hazards.empty()) {
    out += "当日无危险报警";
  } else {
    out += "危险报警：";
    for (std::size_t i = 0; i < hazards.size(); ++i) {
      if (i) out += "、";
      out += hazards[i].get<std::string>();
    }
  }
  int online = 0;
  std::vector<std::string> offline, low_battery;
  for (const auto& d : b.at("devices")) {
    const std::string id = d.at("device").get<std::string>();
    auto on = d.find("online");
    if (on != d.end() && on->is_boolean() && !on->get<bool>()) {
      offline.push_back(id);
    } else {
      ++online;
    }
    auto battery = d.find("battery");
    if (battery != d.end() && battery->is_number() && battery->get<double>() < 20.0) {
      low_battery.push_back(id);
    }
  }
  out += fmt::format("；设备：{}台在线", online);
  if (!offline.empty()) out += fmt::format("，离线：{}", fmt::join(offline, "、"));
  if (!low_battery.empty()) out += fmt::format("，电量低：{}", fmt::join(low_battery, "、"));
  const std::int64_t activity = b.at("activity_events").get<std::int64_t>();
  out += fmt::format("；活动：{}次", activity);
  const auto& first = b.at("first_activity");
  const auto& last = b.at("last_activity");
  if (first.is_string() && last.is_string()) {
    out += fmt::format("（{}至{}）", first.get<std::string>(), last.get<std::string>());
  }
  if (activity == 0) out += "，当日无活动，需核实";
  return out;
}

Ingest::Ingest(Store& store, const Clock& clock, IngestOptions options)
    : store_(store), clock_(clock), options_(options), started_at_(clock.now_ms()) {}

IngestResult Ingest::reject(const std::string& topic, std::string reason) {
  ++rejected_total_;
  ++rejected_[reason];
  log_warn(fmt::format("rejected message on {}: {} (rejected total {})", topic, reason,
                       rejected_total_));
  IngestResult r;
  r.outcome = IngestOutcome::kRejected;
  r.reason = std::move(reason);
  return r;
}

void Ingest::hub_spoke(const std::string& hub, const std::string& household, std::int64_t now) {
  Db& db = store_.db();
  db.exec("UPDATE hubs SET last_seen_at = ? WHERE hub_id = ?", {now, hub});
  auto open = db.query(
      "SELECT alert_id FROM alerts WHERE household_id = ? AND kind = 'hub_silent' "
      "AND source = 'township' AND state <> 'resolved'",
      {household});
  for (const auto& row : open) {
    const std::string alert_id = row.text(0);
    db.exec(
        "UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_by = 'system', "
        "updated_at = ? WHERE alert_id = ?",
        {now, now, alert_id});
    db.exec(
        "INSERT INTO handling_records (record_id, alert_id, household_id, event, at, by_whom, "
        "channel, note, source) VALUES (?, ?, ?, 'condition_cleared', ?, 'system', 'township', "
        "?, 'township')",
        {random_id(), alert_id, household, now, "hub " + hub + " spoke again"});
    changes_.alerts.insert(alert_id);
    changes_.health.insert(household);
    log_info(fmt::format("hub {} spoke again: {} resolved", hub, alert_id));
  }
}

IngestResult Ingest::handle(const std::string& topic, const std::string& payload) {
  const auto parsed_topic = parse_uplink_topic(topic);
  if (!parsed_topic) return reject(topic, "unknown topic");
  const std::string& hub = parsed_topic->hub;
  Db& db = store_.db();
  const std::int64_t now = clock_.now_ms();

  // The registry's view of this hub: which household it serves.
  auto registered = db.query_one("SELECT household_id FROM households WHERE hub_id = ?", {hub});

  if (parsed_topic->kind == UplinkKind::kStatus) {
    auto status = parse_status(payload);
    if (!status) return reject(topic, "status must be online or offline");
    if (!registered) return reject(topic, "hub not in registry");
    Transaction tx(db);
    const std::string& s = *status;
    db.exec("UPDATE hubs SET status = ?, status_at = ? WHERE hub_id = ?", {s, now, hub});
    if (s == "online") hub_spoke(hub, registered->text(0), now);
    tx.commit();
    changes_.health.insert(registered->text(0));
    return {IngestOutcome::kAccepted, {}, std::nullopt};
  }

  if (parsed_topic->kind == UplinkKind::kHeartbeat) {
    auto parsed = parse_heartbeat(payload);
    if (auto* why = std::get_if<std::string>(&parsed)) return reject(topic, *why);
    const Heartbeat& h = std::get<Heartbeat>(parsed);
    if (h.hub != hub) return reject(topic, "payload hub differs from topic hub");
    if (!registered) return reject(topic, "hub not in registry");
    if (registered->text(0) != h.household) return reject(topic, "household is not the hub's");
    Transaction tx(db);
    db.exec("UPDATE hubs SET last_heartbeat_at = ?, last_heartbeat = ? WHERE hub_id = ?",
            {now, h.raw.dump(), hub});
    hub_spoke(hub, h.household, now);
    tx.commit();
    return {IngestOutcome::kAccepted, {}, std::nullopt};
  }

  auto parsed = parse_event(payload);
  if (auto* why = std::get_if<std::string>(&parsed)) return reject(topic, *why);
  const Event& e = std::get<Event>(parsed);
  if (e.hub != hub) return reject(topic, "payload hub differs from topic hub");
  if (!registered) return reject(topic, "hub not in registry");
  if (registered->text(0) != e.household) return reject(topic, "household is not the hub's");

  IngestOutcome outcome = IngestOutcome::kStored;
  try {
    Transaction tx(db);
    const int inserted = db.exec(
        "INSERT INTO events (event_id, hub_id, household_id, seq, type, priority, ts, "
        "clock_synced, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
        "(event_id) DO NOTHING",
        {e.event_id, e.hub, e.household, e.seq, e.type, std::int64_t{e.priority}, e.ts,
         std::int64_t{e.clock_synced ? 1 : 0}, e.body.dump(), now});
    if (inserted == 0) {
      outcome = IngestOutcome::kDuplicate;
    } else if (e.type == "alert") {
      store_alert(db, e);
    } else if (e.type == "alert_event") {
      store_alert_event(db, e);
    } else if (e.type == "notification") {
      store_notification(db, e);
    } else if (e.type == "device_health") {
      store_device_health(db, e);
    } else if (e.type == "daily_summary") {
      store_daily_summary(db, e, now);
    } else if (e.type == "command_result") {
      store_command_result(db, e, now);
    } else if (e.type == "relay") {
      store_relay(db, e, now);
    }
    hub_spoke(hub, e.household, now);
    tx.commit();
  } catch (const Conflict& c) {
    return reject(topic, c.reason);
  }
  if (outcome == IngestOutcome::kStored) {
    ++stored_total_;
    if (e.body.contains("alert_id") && e.body["alert_id"].is_string()) {
      changes_.alerts.insert(e.body["alert_id"].get<std::string>());
    }
    if (e.type == "device_health" || e.type == "daily_summary") changes_.health.insert(e.household);
  } else {
    ++duplicate_total_;
  }
  IngestResult r;
  r.outcome = outcome;
  r.ack = Outgoing{"homesafe-down/" + hub + "/ack",
                   json{{"v", 1}, {"acked", json::array({e.event_id})}}.dump()};
  return r;
}

std::vector<std::string> Ingest::check_silence() {
  Db& db = store_.db();
  const std::int64_t now = clock_.now_ms();
  std::vector<std::string> newly_silent;
  auto hubs = db.query(
      "SELECT h.hub_id, h.household_id, h.last_seen_at FROM hubs h JOIN households o ON "
      "o.household_id = h.household_id AND o.hub_id = h.hub_id ORDER BY h.hub_id");
  for (const auto& row : hubs) {
    const std::string hub = row.text(0);
    const std::string household = row.text(1);
    const std::int64_t since = row.opt_integer(2).value_or(started_at_);
    if (now - since <= options_.silence_allowance_ms) continue;
    Transaction tx(db);
    auto open = db.query_one(
        "SELECT alert_id FROM alerts WHERE household_id = ? AND kind = 'hub_silent' AND source "
        "= 'township' AND state <> 'resolved'",
        {household});
    if (open) continue;
    const std::string alert_id = fmt::format("township-{}-silent-{}", hub, since);
    const json detail{{"last_seen_at", row.is_null(2) ? json(nullptr) : json(since)},
                      {"allowance_ms", options_.silence_allowance_ms}};
    const int inserted = db.exec(
        "INSERT INTO alerts (alert_id, household_id, hub_id, source, kind, severity, state, "
        "device, location, detail, opened_at, updated_at, repeat_count, last_event_id) VALUES "
        "(?, ?, ?, 'township', 'hub_silent', 'warning', 'open', NULL, NULL, ?, ?, ?, 0, '') ON "
        "CONFLICT (alert_id) DO NOTHING",
        {alert_id, household, hub, detail.dump(), now, now});
    if (inserted == 0) continue;  // this silence was already raised and resolved by hand
    db.exec(
        "INSERT INTO handling_records (record_id, alert_id, household_id, event, at, by_whom, "
        "channel, note, source) VALUES (?, ?, ?, 'opened', ?, 'system', 'township', '', "
        "'township')",
        {random_id(), alert_id, household, now});
    tx.commit();
    changes_.alerts.insert(alert_id);
    changes_.health.insert(household);
    log_warn(
        fmt::format("hub {} silent since {} (household {}): {}", hub, since, household, alert_id));
    newly_silent.push_back(hub);
  }
  return newly_silent;
}

}  // namespace homesafe::township
