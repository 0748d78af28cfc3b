#include "homesafe/gateway/store.hpp"

#include <sqlite3.h>

#include <array>
#include <cstring>

namespace homesafe::gateway {
namespace {

// Forward migrations: entry i moves the schema from version i to i+1. Never edit a shipped
// entry; append a new one.
constexpr std::array<const char*, 2> kMigrations{
    R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE alerts (
  alert_id           TEXT PRIMARY KEY,
  kind               TEXT NOT NULL,
  severity           TEXT NOT NULL,
  state              TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
  device_id          TEXT NOT NULL,
  location           TEXT NOT NULL,
  detail             TEXT NOT NULL,
  opened_at_ms       INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL,
  acknowledged_at_ms INTEGER,
  acknowledged_by    TEXT NOT NULL DEFAULT '',
  resolved_at_ms     INTEGER,
  resolved_by        TEXT NOT NULL DEFAULT '',
  condition_active   INTEGER NOT NULL,
  repeat_count       INTEGER NOT NULL DEFAULT 0,
  clock_synced       INTEGER NOT NULL DEFAULT 1,
  publish_pending    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX alerts_active ON alerts (state) WHERE state != 'resolved';
CREATE INDEX alerts_updated ON alerts (updated_at_ms);
CREATE TABLE alert_events (
  seq      INTEGER PRIMARY KEY,
  alert_id TEXT NOT NULL REFERENCES alerts (alert_id),
  ts_ms    INTEGER NOT NULL,
  event    TEXT NOT NULL,
  by       TEXT NOT NULL DEFAULT '',
  channel  TEXT NOT NULL DEFAULT '',
  note     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, seq);
CREATE TABLE rule_state (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE device_events (
  seq       INTEGER PRIMARY KEY,
  ts_ms     INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  event     TEXT NOT NULL,
  detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX device_events_device ON device_events (device_id, seq);
CREATE TABLE telemetry (
  seq        INTEGER PRIMARY KEY,
  ts_ms      INTEGER NOT NULL,
  device_id  TEXT NOT NULL,
  capability TEXT NOT NULL,
  number     REAL,
  text       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX telemetry_ts ON telemetry (ts_ms);
CREATE INDEX telemetry_device ON telemetry (device_id, capability, ts_ms);
)sql",
    // 1 -> 2: escalation ladders and the delivery record of every notification.
    R"sql(
CREATE TABLE escalations (
  alert_id             TEXT PRIMARY KEY REFERENCES alerts (alert_id),
  next_step            INTEGER NOT NULL,
  repeats_done         INTEGER NOT NULL,
  opened_wall_ms       INTEGER NOT NULL,
  opened_mono_ms       INTEGER NOT NULL,
  boot_id              TEXT NOT NULL,
  last_fired_offset_ms INTEGER NOT NULL,
  active               INTEGER NOT NULL
);
CREATE TABLE notifications (
  notification_id TEXT PRIMARY KEY,
  alert_id        TEXT NOT NULL REFERENCES alerts (alert_id),
  contact_id      TEXT NOT NULL,
  role            TEXT NOT NULL,
  channel         TEXT NOT NULL,
  step            INTEGER NOT NULL,
  repeat          INTEGER NOT NULL,
  text            TEXT NOT NULL,
  created_at_ms   INTEGER NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'acknowledged')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT NOT NULL DEFAULT '',
  finished_at_ms  INTEGER
);
CREATE INDEX notifications_alert ON notifications (alert_id, created_at_ms);
CREATE INDEX notifications_pending ON notifications (state) WHERE state = 'pending';
)sql",
};

constexpr const char* kAlertColumns =
    "alert_id, kind, severity, state, device_id, location, detail, opened_at_ms, updated_at_ms, "
    "acknowledged_at_ms, acknowledged_by, resolved_at_ms, resolved_by, condition_active, "
    "repeat_count, clock_synced";

}  // namespace

class Store::Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw StoreError(std::string("cannot prepare statement: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    index_ = 0;
    return *this;
  }
  Statement& bind(std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, ++index_, value));
    return *this;
  }
  Statement& bind(const std::string& value) {
    check(sqlite3_bind_text(stmt_, ++index_, value.data(), static_cast<int>(value.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(std::string_view value) { return bind(std::string(value)); }
  Statement& bind(const char* value) { return bind(std::string(value)); }
  Statement& bind(const std::optional<std::int64_t>& value) {
    if (value) return bind(*value);
    check(sqlite3_bind_null(stmt_, ++index_));
    return *this;
  }
  Statement& bind(const std::optional<double>& value) {
    if (value) {
      check(sqlite3_bind_double(stmt_, ++index_, *value));
    } else {
      check(sqlite3_bind_null(stmt_, ++index_));
    }
    return *this;
  }
  // Returns true while there is a row.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(std::string("statement failed: ") + sqlite3_errmsg(db_));
  }
  void run() {
    while (step()) {
    }
  }
  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string text(int column) const {
    const auto* data = sqlite3_column_text(stmt_, column);
    if (data == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(data),
                       static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  std::optional<std::int64_t> optional_int64(int column) const {
    if (is_null(column)) return std::nullopt;
    return int64(column);
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw StoreError(std::string("bind failed: ") + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int index_ = 0;
};

namespace {

AlertRecord read_alert(const auto& row) {
  AlertRecord alert;
  alert.alert_id = row.text(0);
  alert.kind = rules::alert_kind_from_string(row.text(1)).value_or(rules::AlertKind::device_fault);
  alert.severity = rules::severity_from_string(row.text(2)).value_or(rules::Severity::warning);
  alert.state = alert_state_from_string(row.text(3)).value_or(AlertState::open);
  alert.device_id = row.text(4);
  alert.location = row.text(5);
  alert.detail = row.text(6);
  alert.opened_at_ms = row.int64(7);
  alert.updated_at_ms = row.int64(8);
  alert.acknowledged_at_ms = row.optional_int64(9);
  alert.acknowledged_by = row.text(10);
  alert.resolved_at_ms = row.optional_int64(11);
  alert.resolved_by = row.text(12);
  alert.condition_active = row.int64(13) != 0;
  alert.repeat_count = row.int64(14);
  alert.clock_synced = row.int64(15) != 0;
  return alert;
}

}  // namespace

Store::Store(const std::string& path) : path_(path) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("cannot open store " + path + ": " + message);
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("PRAGMA foreign_keys=ON");
    migrate();
  } catch (...) {
    statements_.clear();
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Store::~Store() {
  statements_.clear();
  if (db_ != nullptr) sqlite3_close(db_);
}

void Store::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw StoreError("store " + path_ + ": " + message);
  }
}

Store::Statement& Store::statement(const char* sql) {
  for (auto& [key, stmt] : statements_) {
    if (key == sql) return stmt->reset();
  }
  statements_.emplace_back(sql, std::make_unique<Statement>(db_, sql));
  return *statements_.back().second;
}

int Store::schema_version() {
  auto& st = statement("PRAGMA user_version");
  st.step();
  const auto version = static_cast<int>(st.int64(0));
  st.reset();
  return version;
}

void Store::migrate() {
  int version = schema_version();
  if (version > kSchemaVersion) {
    throw StoreError("store " + path_ + " has schema version " + std::to_string(version) +
                     ", newer than this gateway understands (" + std::to_string(kSchemaVersion) +
                     "); refusing to touch it");
  }
  while (version < kSchemaVersion) {
    Transaction tx(*this, Durability::full);
    exec(kMigrations[static_cast<std::size_t>(version)]);
    ++version;
    exec(("PRAGMA user_version=" + std::to_string(version)).c_str());
    tx.commit();
  }
}

Store::Transaction::Transaction(Store& store, Durability durability) : store_(store) {
  if (store_.current_durability_ != durability) {
    store_.exec(durability == Durability::full ? "PRAGMA synchronous=FULL"
                                               : "PRAGMA synchronous=NORMAL");
    store_.current_durability_ = durability;
  }
  store_.exec("BEGIN IMMEDIATE");
}

Store::Transaction::~Transaction() {
  if (!done_) sqlite3_exec(store_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Store::Transaction::commit() {
  store_.exec("COMMIT");
  done_ = true;
}

std::optional<std::string> Store::get_meta(const std::string& key) {
  auto& st = statement("SELECT value FROM meta WHERE key = ?").bind(key);
  if (!st.step()) return std::nullopt;
  std::string value = st.text(0);
  st.reset();
  return value;
}

void Store::set_meta(const std::string& key, const std::string& value) {
  statement(
      "INSERT INTO meta (key, value) VALUES (?, ?) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .bind(key)
      .bind(value)
      .run();
}

std::int64_t Store::next_sequence(const std::string& name) {
  const std::string key = "seq/" + name;
  std::int64_t next = 1;
  if (auto current = get_meta(key)) next = std::stoll(*current) + 1;
  set_meta(key, std::to_string(next));
  return next;
}

void Store::save_alert(const AlertRecord& a, bool publish_pending) {
  statement(
      "INSERT INTO alerts (alert_id, kind, severity, state, device_id, location, detail, "
      "opened_at_ms, updated_at_ms, acknowledged_at_ms, acknowledged_by, resolved_at_ms, "
      "resolved_by, condition_active, repeat_count, clock_synced, publish_pending) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (alert_id) DO UPDATE SET state = excluded.state, detail = excluded.detail, "
      "updated_at_ms = excluded.updated_at_ms, acknowledged_at_ms = excluded.acknowledged_at_ms, "
      "acknowledged_by = excluded.acknowledged_by, resolved_at_ms = excluded.resolved_at_ms, "
      "resolved_by = excluded.resolved_by, condition_active = excluded.condition_active, "
      "repeat_count = excluded.repeat_count, "
      "publish_pending = max(alerts.publish_pending, excluded.publish_pending)")
      .bind(a.alert_id)
      .bind(rules::to_string(a.kind))
      .bind(rules::to_string(a.severity))
      .bind(to_string(a.state))
      .bind(a.device_id)
      .bind(a.location)
      .bind(a.detail)
      .bind(a.opened_at_ms)
      .bind(a.updated_at_ms)
      .bind(a.acknowledged_at_ms)
      .bind(a.acknowledged_by)
      .bind(a.resolved_at_ms)
      .bind(a.resolved_by)
      .bind(std::int64_t{a.condition_active ? 1 : 0})
      .bind(a.repeat_count)
      .bind(std::int64_t{a.clock_synced ? 1 : 0})
      .bind(std::int64_t{publish_pending ? 1 : 0})
      .run();
}

void Store::append_alert_event(const AlertEvent& e) {
  statement(
      "INSERT INTO alert_events (alert_id, ts_ms, event, by, channel, note) "
      "VALUES (?, ?, ?, ?, ?, ?)")
      .bind(e.alert_id)
      .bind(e.ts_ms)
      .bind(e.event)
      .bind(e.by)
      .bind(e.channel)
      .bind(e.note)
      .run();
}

std::optional<AlertRecord> Store::find_alert(const std::string& alert_id) {
  static const std::string sql =
      std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE alert_id = ?";
  auto& st = statement(sql.c_str()).bind(alert_id);
  if (!st.step()) return std::nullopt;
  AlertRecord alert = read_alert(st);
  st.reset();
  return alert;
}

std::vector<AlertRecord> Store::active_alerts() {
  static const std::string sql = std::string("SELECT ") + kAlertColumns +
                                 " FROM alerts WHERE state != 'resolved' ORDER BY opened_at_ms";
  auto& st = statement(sql.c_str());
  std::vector<AlertRecord> out;
  while (st.step()) out.push_back(read_alert(st));
  return out;
}

std::vector<AlertRecord> Store::recent_alerts(int limit) {
  static const std::string sql = std::string("SELECT ") + kAlertColumns +
                                 " FROM alerts ORDER BY (state != 'resolved') DESC, "
                                 "updated_at_ms DESC, alert_id DESC LIMIT ?";
  auto& st = statement(sql.c_str()).bind(std::int64_t{limit});
  std::vector<AlertRecord> out;
  while (st.step()) out.push_back(read_alert(st));
  return out;
}

std::vector<AlertEvent> Store::alert_events(const std::string& alert_id) {
  auto& st = statement(
                 "SELECT alert_id, ts_ms, event, by, channel, note FROM alert_events "
                 "WHERE alert_id = ? ORDER BY seq")
                 .bind(alert_id);
  std::vector<AlertEvent> out;
  while (st.step()) {
    out.push_back({st.text(0), st.int64(1), st.text(2), st.text(3), st.text(4), st.text(5)});
  }
  return out;
}

std::vector<AlertRecord> Store::unpublished_alerts() {
  static const std::string sql = std::string("SELECT ") + kAlertColumns +
                                 " FROM alerts WHERE publish_pending = 1 ORDER BY updated_at_ms";
  auto& st = statement(sql.c_str());
  std::vector<AlertRecord> out;
  while (st.step()) out.push_back(read_alert(st));
  return out;
}

void Store::mark_published(const std::string& alert_id, std::int64_t updated_at_ms) {
  statement(
      "UPDATE alerts SET publish_pending = 0 WHERE alert_id = ? AND updated_at_ms = ? "
      "AND publish_pending = 1")
      .bind(alert_id)
      .bind(updated_at_ms)
      .run();
}

void Store::put_rule_state(const std::string& key, const std::optional<std::string>& value) {
  if (value) {
    statement(
        "INSERT INTO rule_state (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(*value)
        .run();
  } else {
    statement("DELETE FROM rule_state WHERE key = ?").bind(key).run();
  }
}

std::vector<std::pair<std::string, std::string>> Store::load_rule_state() {
  auto& st = statement("SELECT key, value FROM rule_state ORDER BY key");
  std::vector<std::pair<std::string, std::string>> out;
  while (st.step()) out.emplace_back(st.text(0), st.text(1));
  return out;
}

void Store::add_device_event(const DeviceEventRow& row) {
  statement("INSERT INTO device_events (ts_ms, device_id, event, detail) VALUES (?, ?, ?, ?)")
      .bind(row.ts_ms)
      .bind(row.device_id)
      .bind(row.event)
      .bind(row.detail)
      .run();
}

std::vector<DeviceEventRow> Store::device_events(const std::string& device_id, int limit) {
  auto& st = statement(
                 "SELECT ts_ms, device_id, event, detail FROM device_events WHERE device_id = ? "
                 "ORDER BY seq DESC LIMIT ?")
                 .bind(device_id)
                 .bind(std::int64_t{limit});
  std::vector<DeviceEventRow> out;
  while (st.step()) out.push_back({st.int64(0), st.text(1), st.text(2), st.text(3)});
  return out;
}

void Store::add_telemetry(const std::vector<TelemetryRow>& rows) {
  for (const auto& row : rows) {
    statement(
        "INSERT INTO telemetry (ts_ms, device_id, capability, number, text) "
        "VALUES (?, ?, ?, ?, ?)")
        .bind(row.ts_ms)
        .bind(row.device_id)
        .bind(row.capability)
        .bind(row.number)
        .bind(row.text)
        .run();
  }
}

std::int64_t Store::telemetry_count() {
  auto& st = statement("SELECT count(*) FROM telemetry");
  st.step();
  const std::int64_t count = st.int64(0);
  st.reset();
  return count;
}

std::int64_t Store::prune_telemetry(std::int64_t older_than_ms, std::int64_t max_rows) {
  statement("DELETE FROM telemetry WHERE ts_ms < ?").bind(older_than_ms).run();
  std::int64_t deleted = sqlite3_changes(db_);
  statement(
      "DELETE FROM telemetry WHERE seq <= "
      "(SELECT seq FROM telemetry ORDER BY seq DESC LIMIT 1 OFFSET ?)")
      .bind(max_rows)
      .run();
  deleted += sqlite3_changes(db_);
  return deleted;
}

void Store::save_escalation(const EscalationRow& row) {
  statement(
      "INSERT INTO escalations (alert_id, next_step, repeats_done, opened_wall_ms, opened_mono_ms, "
      "boot_id, last_fired_offset_ms, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (alert_id) DO UPDATE SET next_step = excluded.next_step, "
      "repeats_done = excluded.repeats_done, last_fired_offset_ms = excluded.last_fired_offset_ms, "
      "active = excluded.active")
      .bind(row.alert_id)
      .bind(std::int64_t{row.next_step})
      .bind(std::int64_t{row.repeats_done})
      .bind(row.opened_wall_ms)
      .bind(row.opened_mono_ms)
      .bind(row.boot_id)
      .bind(row.last_fired_offset_ms)
      .bind(std::int64_t{row.active ? 1 : 0})
      .run();
}

std::vector<EscalationRow> Store::active_escalations() {
  auto& st = statement(
      "SELECT alert_id, next_step, repeats_done, opened_wall_ms, opened_mono_ms, boot_id, "
      "last_fired_offset_ms, active FROM escalations WHERE active = 1 ORDER BY opened_wall_ms");
  std::vector<EscalationRow> out;
  while (st.step()) {
    out.push_back({st.text(0), static_cast<int>(st.int64(1)), static_cast<int>(st.int64(2)),
                   st.int64(3), st.int64(4), st.text(5), st.int64(6), st.int64(7) != 0});
  }
  return out;
}

void Store::add_notification(const NotificationRow& n) {
  statement(
      "INSERT INTO notifications (notification_id, alert_id, contact_id, role, channel, step, "
      "repeat, text, created_at_ms, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending') "
      "ON CONFLICT (notification_id) DO NOTHING")
      .bind(n.notification_id)
      .bind(n.alert_id)
      .bind(n.contact_id)
      .bind(n.role)
      .bind(n.channel)
      .bind(std::int64_t{n.step})
      .bind(std::int64_t{n.repeat})
      .bind(n.text)
      .bind(n.created_at_ms)
      .run();
}

void Store::record_delivery(const std::string& notification_id, const std::string& state,
                            int attempts, const std::string& error, std::int64_t at_ms) {
  statement(
      "UPDATE notifications SET state = ?, attempts = attempts + ?, last_error = ?, "
      "finished_at_ms = ? WHERE notification_id = ? AND state = 'pending'")
      .bind(state)
      .bind(std::int64_t{attempts})
      .bind(error)
      .bind(at_ms)
      .bind(notification_id)
      .run();
}

void Store::mark_notifications_acknowledged(const std::string& alert_id,
                                            const std::string& contact_id) {
  statement(
      "UPDATE notifications SET state = 'acknowledged' WHERE alert_id = ? AND contact_id = ? "
      "AND state = 'sent'")
      .bind(alert_id)
      .bind(contact_id)
      .run();
}

namespace {

constexpr const char* kNotificationColumns =
    "notification_id, alert_id, contact_id, role, channel, step, repeat, text, created_at_ms, "
    "state, attempts, last_error, finished_at_ms";

NotificationRow read_notification(const auto& st) {
  NotificationRow n;
  n.notification_id = st.text(0);
  n.alert_id = st.text(1);
  n.contact_id = st.text(2);
  n.role = st.text(3);
  n.channel = st.text(4);
  n.step = static_cast<int>(st.int64(5));
  n.repeat = static_cast<int>(st.int64(6));
  n.text = st.text(7);
  n.created_at_ms = st.int64(8);
  n.state = st.text(9);
  n.attempts = static_cast<int>(st.int64(10));
  n.last_error = st.text(11);
  n.finished_at_ms = st.optional_int64(12);
  return n;
}

}  // namespace

std::vector<NotificationRow> Store::notifications(const std::string& alert_id) {
  static const std::string sql = std::string("SELECT ") + kNotificationColumns +
                                 " FROM notifications WHERE alert_id = ? ORDER BY created_at_ms, "
                                 "step, repeat, notification_id";
  auto& st = statement(sql.c_str()).bind(alert_id);
  std::vector<NotificationRow> out;
  while (st.step()) out.push_back(read_notification(st));
  return out;
}

std::vector<NotificationRow> Store::pending_notifications() {
  static const std::string sql = std::string("SELECT ") + kNotificationColumns +
                                 " FROM notifications WHERE state = 'pending' ORDER BY "
                                 "created_at_ms, notification_id";
  auto& st = statement(sql.c_str());
  std::vector<NotificationRow> out;
  while (st.step()) out.push_back(read_notification(st));
  return out;
}

std::optional<NotificationRow> Store::latest_notification_to(const std::string& contact_id,
                                                             const std::string& channel) {
  static const std::string sql =
      std::string("SELECT ") + kNotificationColumns +
      " FROM notifications n WHERE contact_id = ? AND channel = ? AND EXISTS (SELECT 1 FROM "
      "alerts a WHERE a.alert_id = n.alert_id AND a.state != 'resolved') ORDER BY created_at_ms "
      "DESC, notification_id DESC LIMIT 1";
  auto& st = statement(sql.c_str()).bind(contact_id).bind(channel);
  if (!st.step()) return std::nullopt;
  auto row = read_notification(st);
  st.reset();
  return row;
}

std::string_view to_string(AlertState state) {
  switch (state) {
    case AlertState::open:
      return "open";
    case AlertState::acknowledged:
      return "acknowledged";
    case AlertState::resolved:
      return "resolved";
  }
  return "unknown";
}

std::optional<AlertState> alert_state_from_string(std::string_view text) {
  if (text == "open") return AlertState::open;
  if (text == "acknowledged") return AlertState::acknowledged;
  if (text == "resolved") return AlertState::resolved;
  return std::nullopt;
}

}  // namespace homesafe::gateway
