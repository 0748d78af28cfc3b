#include "homesafe/township/ingest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

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
// A single message was refused: its transaction is rolled back, nothing else to do.
struct Rollback {};

// A hub's `ts` further than this from our clock means its clock was wrong.
constexpr std::int64_t kMaxClockAheadMs = 24LL * 3600'000;
constexpr std::int64_t kMaxClockBehindMs = 400LL * 24 * 3600'000;
// The hub spoke at `now`: its last_seen_at, which never moves back (a worker storing an older
// message later). The statement always writes the row, so it also takes the hub's row lock first:
// every worker then takes a hub's other rows (event keys, alerts) only while holding it, and
// batches (sorted by hub) lock hubs in one order, so they wait for each other instead of
// deadlocking.
void touch_hub(Db& db, const std::string& hub, std::int64_t now) {
  db.exec(
      "UPDATE hubs SET last_seen_at = CASE WHEN last_seen_at IS NULL OR last_seen_at < ? THEN ? "
      "ELSE last_seen_at END WHERE hub_id = ?",
      {now, now, hub});
}

// Runs of a batch that failed for a retryable reason (deadlock, lost connection).
constexpr int kBatchAttempts = 5;

Value nullable_text(const json& v) {
  if (v.is_null()) return nullptr;
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

Value nullable_int(const json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  return nullptr;
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
  // Keep the newest state: an older update arriving late (another worker, a resend) changes only
  // the history. One statement, so two workers storing updates of one alert at the same time
  // cannot both win: the row lock orders them and the WHERE is checked against the stored row.
  db.exec(
      "INSERT INTO alerts (household_id, hub_id, kind, severity, state, device, location, detail, "
      "opened_at, updated_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, "
      "repeat_count, last_event_id, alert_id, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?, ?, ?, ?, ?, 'hub') ON CONFLICT (alert_id) DO UPDATE SET household_id = "
      "excluded.household_id, hub_id = excluded.hub_id, kind = excluded.kind, severity = "
      "excluded.severity, state = excluded.state, device = excluded.device, location = "
      "excluded.location, detail = excluded.detail, opened_at = excluded.opened_at, updated_at = "
      "excluded.updated_at, acknowledged_at = excluded.acknowledged_at, acknowledged_by = "
      "excluded.acknowledged_by, resolved_at = excluded.resolved_at, resolved_by = "
      "excluded.resolved_by, repeat_count = excluded.repeat_count, last_event_id = "
      "excluded.last_event_id WHERE (excluded.updated_at, CASE excluded.state WHEN 'open' THEN 0 "
      "WHEN 'acknowledged' THEN 1 ELSE 2 END, excluded.repeat_count) > (alerts.updated_at, CASE "
      "alerts.state WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END, "
      "alerts.repeat_count)",
      {e.household, e.hub, b.at("kind").get<std::string>(), b.at("severity").get<std::string>(),
       state, nullable_text(b.at("device")), nullable_text(b.at("location")),
       nullable_text(b.at("detail")), b.at("opened_at").get<std::int64_t>(), updated_at,
       nullable_int(b.at("acknowledged_at")), nullable_text(b.at("acknowledged_by")),
       nullable_int(b.at("resolved_at")), nullable_text(b.at("resolved_by")), repeat, e.event_id,
       alert_id});
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
  // A re-sent day replaces the stored one only when it is newer (hub time, then sequence): with
  // several workers an older summary may be stored after a newer one.
  const int changed = db.exec(
      "INSERT INTO daily_summaries (household_id, summary_date, event_id, body, ts, seq) VALUES "
      "(?, ?, ?, ?, ?, ?) ON CONFLICT (household_id, summary_date) DO UPDATE SET event_id = "
      "excluded.event_id, body = excluded.body, ts = excluded.ts, seq = excluded.seq WHERE "
      "(excluded.ts, excluded.seq) > (daily_summaries.ts, daily_summaries.seq)",
      {e.household, date, e.event_id, b.dump(), e.ts, e.seq});
  if (changed == 0) return;
  // One 远程监测 visit record per household and day; a newer summary refreshes it.
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

// Adds a batch's counts to its row of ingest_stats (inside the batch's transaction).
void add_stats(Db& db, const std::string& instance, std::int64_t stored, std::int64_t duplicates,
               std::int64_t rejected) {
  db.exec(
      "INSERT INTO ingest_stats (instance, stored, duplicates, rejected) VALUES (?, ?, ?, ?) ON "
      "CONFLICT (instance) DO UPDATE SET stored = ingest_stats.stored + excluded.stored, "
      "duplicates = ingest_stats.duplicates + excluded.duplicates, rejected = "
      "ingest_stats.rejected + excluded.rejected",
      {instance, stored, duplicates, rejected});
}

// PostgreSQL's limit is 8000 bytes per payload; keep well under it.
constexpr std::size_t kNoticeMax = 7000;

}  // namespace

bool is_alarm_event(const std::string& payload) {
  try {
    const json j = json::parse(payload);
    const auto p = j.find("priority");
    return p != j.end() && p->is_number_integer() && p->get<std::int64_t>() == 0;
  } catch (const std::exception&) {
    return false;
  }
}

std::vector<std::string> change_notices(const std::string& origin, const Changes& changes) {
  std::vector<std::string> out;
  json current{{"o", origin}, {"a", json::array()}, {"h", json::array()}};
  std::size_t size = current.dump().size();
  std::size_t items = 0;
  auto add = [&](const char* key, const std::string& id) {
    const std::size_t cost = json(id).dump().size() + 1;
    if (items > 0 && size + cost > kNoticeMax) {
      out.push_back(current.dump());
      current["a"] = json::array();
      current["h"] = json::array();
      size = current.dump().size();
      items = 0;
    }
    current[key].push_back(id);
    size += cost;
    ++items;
  };
  for (const auto& id : changes.alerts) add("a", id);
  for (const auto& id : changes.health) add("h", id);
  if (items > 0) out.push_back(current.dump());
  return out;
}

std::optional<ChangeNotice> parse_change_notice(const std::string& payload) {
  try {
    const json j = json::parse(payload);
    ChangeNotice n;
    n.origin = j.at("o").get<std::string>();
    for (const auto& id : j.at("a")) n.changes.alerts.insert(id.get<std::string>());
    for (const auto& id : j.at("h")) n.changes.health.insert(id.get<std::string>());
    return n;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void notify_changes(Db& db, const std::string& origin, const Changes& changes) {
  if (db.dialect() != Dialect::kPostgresql || origin.empty() || changes.empty()) return;
  for (const auto& notice : change_notices(origin, changes)) {
    db.query("SELECT pg_notify(?, ?)", {std::string(kChangesChannel), notice});
  }
}

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

void Ingest::hub_spoke(const std::string& hub, const std::string& household, std::int64_t now,
                       Pending& p) {
  Db& db = store_.db();
  auto open = db.query(
      "SELECT alert_id FROM alerts WHERE household_id = ? AND kind = 'hub_silent' "
      "AND source = 'township' AND state <> 'resolved'",
      {household});
  for (const auto& row : open) {
    const std::string alert_id = row.text(0);
    // Only the transaction that resolves it writes the handling record (two workers may race).
    const int changed = db.exec(
        "UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_by = 'system', "
        "updated_at = ? WHERE alert_id = ? AND state <> 'resolved'",
        {now, now, alert_id});
    if (changed == 0) continue;
    db.exec(
        "INSERT INTO handling_records (record_id, alert_id, household_id, event, at, by_whom, "
        "channel, note, source) VALUES (?, ?, ?, 'condition_cleared', ?, 'system', 'township', "
        "?, 'township')",
        {random_id(), alert_id, household, now, "hub " + hub + " spoke again"});
    p.changes.alerts.insert(alert_id);
    p.changes.health.insert(household);
    p.log = fmt::format("hub {} spoke again: {} resolved", hub, alert_id);
  }
}

IngestResult Ingest::handle(const std::string& topic, const std::string& payload) {
  auto batch = handle_batch({IngestMessage{topic, payload}});
  return std::move(batch.results.front());
}

Ingest::Pending Ingest::process(const IngestMessage& m, std::int64_t now) {
  Pending p;
  p.outcome = IngestOutcome::kRejected;
  const auto parsed_topic = parse_uplink_topic(m.topic);
  if (!parsed_topic) {
    p.reason = "unknown topic";
    return p;
  }
  const std::string& hub = parsed_topic->hub;
  p.hub = hub;
  Db& db = store_.db();

  // The registry's view of this hub: which household it serves.
  auto registered = db.query_one("SELECT household_id FROM households WHERE hub_id = ?", {hub});

  if (parsed_topic->kind == UplinkKind::kStatus) {
    auto status = parse_status(m.payload);
    if (!status) {
      p.reason = "status must be online or offline";
      return p;
    }
    if (!registered) {
      p.reason = "hub not in registry";
      return p;
    }
    const std::string& s = *status;
    touch_hub(db, hub, now);
    db.exec(
        "UPDATE hubs SET status = ?, status_at = ? WHERE hub_id = ? AND (status_at IS NULL OR "
        "status_at <= ?)",
        {s, now, hub, now});
    if (s == "online") hub_spoke(hub, registered->text(0), now, p);
    p.changes.health.insert(registered->text(0));
    p.outcome = IngestOutcome::kAccepted;
    return p;
  }

  if (parsed_topic->kind == UplinkKind::kHeartbeat) {
    auto parsed = parse_heartbeat(m.payload);
    if (auto* why = std::get_if<std::string>(&parsed)) {
      p.reason = *why;
      return p;
    }
    const Heartbeat& h = std::get<Heartbeat>(parsed);
    if (h.hub != hub) {
      p.reason = "payload hub differs from topic hub";
      return p;
    }
    if (!registered) {
      p.reason = "hub not in registry";
      return p;
    }
    if (registered->text(0) != h.household) {
      p.reason = "household is not the hub's";
      return p;
    }
    touch_hub(db, hub, now);
    db.exec(
        "UPDATE hubs SET last_heartbeat_at = ?, last_heartbeat = ? WHERE hub_id = ? AND "
        "(last_heartbeat_at IS NULL OR last_heartbeat_at <= ?)",
        {now, h.raw.dump(), hub, now});
    hub_spoke(hub, h.household, now, p);
    p.outcome = IngestOutcome::kAccepted;
    return p;
  }

  auto parsed = parse_event(m.payload);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    p.reason = *why;
    return p;
  }
  const Event& e = std::get<Event>(parsed);
  if (e.hub != hub) {
    p.reason = "payload hub differs from topic hub";
    return p;
  }
  if (!registered) {
    p.reason = "hub not in registry";
    return p;
  }
  if (registered->text(0) != e.household) {
    p.reason = "household is not the hub's";
    return p;
  }
  p.event_id = e.event_id;
  touch_hub(db, hub, now);
  // The key the hub assigned, (hub, event_id), decides: a repeated event changes nothing else.
  const int inserted = db.exec(
      "INSERT INTO event_keys (hub_id, event_id, received_at) VALUES (?, ?, ?) ON CONFLICT "
      "(hub_id, event_id) DO NOTHING",
      {e.hub, e.event_id, now});
  if (inserted == 0) {
    p.outcome = IngestOutcome::kDuplicate;
    hub_spoke(hub, e.household, now, p);
    return p;
  }
  // Partitions follow received_at (our clock). The hub's `ts` is kept as sent; one far from our
  // clock is stored as not synced (docs/township.md, "Storage").
  const bool plausible = e.ts >= now - kMaxClockBehindMs && e.ts <= now + kMaxClockAheadMs;
  db.exec(
      "INSERT INTO events (event_id, hub_id, household_id, seq, type, priority, ts, "
      "clock_synced, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {e.event_id, e.hub, e.household, e.seq, e.type, std::int64_t{e.priority}, e.ts,
       std::int64_t{e.clock_synced && plausible ? 1 : 0}, e.body.dump(), now});
  if (e.type == "alert") {
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
  hub_spoke(hub, e.household, now, p);
  p.outcome = IngestOutcome::kStored;
  if (e.body.contains("alert_id") && e.body["alert_id"].is_string()) {
    p.changes.alerts.insert(e.body["alert_id"].get<std::string>());
  }
  if (e.type == "device_health" || e.type == "daily_summary") p.changes.health.insert(e.household);
  return p;
}

IngestBatchResult Ingest::handle_batch(const std::vector<IngestMessage>& messages) {
  IngestBatchResult out;
  if (messages.empty()) return out;
  Db& db = store_.db();
  const std::int64_t now = clock_.now_ms();
  // Rows are locked in one order by every worker (by hub, then event id), so two batches that
  // overlap wait for each other instead of deadlocking.
  std::vector<std::size_t> order(messages.size());
  std::vector<std::pair<std::string, std::string>> keys;
  keys.reserve(messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    order[i] = i;
    const auto topic = parse_uplink_topic(messages[i].topic);
    std::string event_id;
    if (topic && topic->kind == UplinkKind::kEvent) {
      try {
        event_id = json::parse(messages[i].payload).value("event_id", "");
      } catch (const std::exception&) {
      }
    }
    keys.emplace_back(topic ? topic->hub : std::string(), std::move(event_id));
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
  std::vector<Pending> pending;
  for (int attempt = 1;; ++attempt) {
    pending.assign(messages.size(), Pending{});
    try {
      store_.prepare_events(now);  // in the retries too: it may meet a lost connection first
      Transaction tx(db);
      for (const std::size_t i : order) {
        // A refused message leaves nothing behind; in a batch only its own work is undone.
        std::optional<Savepoint> sp;
        if (messages.size() > 1) sp.emplace(db, "message");
        try {
          pending[i] = process(messages[i], now);
          if (sp) sp->release();
        } catch (const Conflict& c) {
          Pending p;
          p.outcome = IngestOutcome::kRejected;
          p.reason = c.reason;
          pending[i] = std::move(p);
          if (!sp) throw Rollback{};
        } catch (const DbError& e) {
          // One message the database refuses must not block the others of its batch forever.
          if (!sp || e.retryable()) throw;
          Pending p;
          p.outcome = IngestOutcome::kRejected;
          p.reason = std::string("database error: ") + e.what();
          pending[i] = std::move(p);
        }
      }
      if (!options_.stats_instance.empty()) {
        std::int64_t stored = 0, duplicates = 0, rejected = 0;
        for (const Pending& p : pending) {
          stored += p.outcome == IngestOutcome::kStored;
          duplicates += p.outcome == IngestOutcome::kDuplicate;
          rejected += p.outcome == IngestOutcome::kRejected;
        }
        add_stats(db, options_.stats_instance, stored, duplicates, rejected);
      }
      if (!options_.notify_origin.empty()) {
        Changes changed;
        for (const Pending& p : pending) {
          if (p.outcome == IngestOutcome::kRejected) continue;
          Changes copy = p.changes;
          changed.merge(std::move(copy));
        }
        notify_changes(db, options_.notify_origin, changed);
      }
      if (options_.hold_commit.count() > 0) std::this_thread::sleep_for(options_.hold_commit);
      tx.commit();
      break;
    } catch (const Rollback&) {
      // The one message was refused; its transaction is rolled back. Count it on its own.
      if (!options_.stats_instance.empty()) add_stats(db, options_.stats_instance, 0, 0, 1);
      break;
    } catch (const DbError& e) {
      // Deadlock, serialization failure, busy database or a lost connection: nothing was
      // committed, so the whole batch runs again; past the attempts the caller acks nothing.
      if (!e.retryable() || attempt >= kBatchAttempts) throw;
      log_warn(fmt::format("ingest: batch of {} failed ({}), attempt {} of {}", messages.size(),
                           e.what(), attempt, kBatchAttempts));
    }
  }

  // Committed: count, log, collect the live feed's changes and the acks (one per hub).
  std::map<std::string, json> acks;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    Pending& p = pending[i];
    IngestResult r;
    r.outcome = p.outcome;
    if (p.outcome == IngestOutcome::kRejected) {
      r = reject(messages[i].topic, std::move(p.reason));
      out.results.push_back(std::move(r));
      continue;
    }
    if (!p.log.empty()) log_info(p.log);
    changes_.merge(std::move(p.changes));
    if (p.outcome == IngestOutcome::kStored) ++stored_total_;
    if (p.outcome == IngestOutcome::kDuplicate) ++duplicate_total_;
    if (!p.event_id.empty()) {
      r.ack = Outgoing{"homesafe-down/" + p.hub + "/ack",
                       json{{"v", 1}, {"acked", json::array({p.event_id})}}.dump()};
      auto& list = acks[p.hub];
      if (list.is_null()) list = json::array();
      list.push_back(p.event_id);
    }
    out.results.push_back(std::move(r));
  }
  for (auto& [hub, list] : acks) {
    out.acks.push_back(
        Outgoing{"homesafe-down/" + hub + "/ack", json{{"v", 1}, {"acked", list}}.dump()});
  }
  return out;
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
    // Several processes check silence over one database, and workers store messages meanwhile.
    // Take the hub's row lock first (as ingest does, touch_hub) and read last_seen_at again under
    // it: a hub that spoke since the list above was read is not silent, and a second checker
    // waits here until the first committed, then finds its alert open.
    db.exec("UPDATE hubs SET last_seen_at = last_seen_at WHERE hub_id = ?", {hub});
    auto fresh = db.query_one("SELECT last_seen_at FROM hubs WHERE hub_id = ?", {hub});
    if (!fresh) continue;
    if (!fresh->is_null(0) && fresh->integer(0) != since) continue;  // it spoke: next round
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
    Changes changed;
    changed.alerts.insert(alert_id);
    changed.health.insert(household);
    notify_changes(db, options_.notify_origin, changed);
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
