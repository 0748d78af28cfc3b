#include "homesafe/gateway/store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <nlohmann/json.hpp>

namespace homesafe::gateway {
namespace {

// Forward migrations: entry i moves the schema from version i to i+1. Never edit a shipped
// entry; append a new one.
constexpr std::array<const char*, 4> kMigrations{
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
    // 2 -> 3: the uplink outbox (docs/uplink.md), its epoch, and the downlink commands applied.
    R"sql(
CREATE TABLE outbox (
  seq          INTEGER PRIMARY KEY,
  event_id     TEXT NOT NULL UNIQUE,
  type         TEXT NOT NULL,
  priority     INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 3),
  ts_ms        INTEGER NOT NULL,
  clock_synced INTEGER NOT NULL,
  body         TEXT NOT NULL,
  bytes        INTEGER NOT NULL
);
CREATE INDEX outbox_order ON outbox (priority, seq);
CREATE TABLE applied_commands (
  command_id    TEXT PRIMARY KEY,
  ok            INTEGER NOT NULL,
  error         TEXT NOT NULL DEFAULT '',
  applied_at_ms INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('uplink_epoch', lower(hex(randomblob(4))))
  ON CONFLICT (key) DO NOTHING;
)sql",
    // 3 -> 4: alerts, notifications and escalations rebuilt (SQLite's procedure for a changed
    // table: new table, copy, drop, rename; migrate() runs it with foreign keys off and checks them
    // before commit).
    // - Their state checks are comparisons: SQLite 3.40 evaluates `state IN (...)` in a CHECK by
    //   building a temporary b-tree of the list on every write of the row (a fifth of the
    //   instructions of an alarm and its resolution).
    // - WITHOUT ROWID: the id is the key, so a row is one b-tree entry instead of a table row and
    //   an index entry (a page less to write per table an alarm writes). Their rows are small;
    //   rule_state, whose values can be kilobytes, stays a rowid table.
    R"sql(
CREATE TABLE new_alerts (
  alert_id           TEXT PRIMARY KEY,
  kind               TEXT NOT NULL,
  severity           TEXT NOT NULL,
  state              TEXT NOT NULL
                     CHECK (state = 'open' OR state = 'acknowledged' OR state = 'resolved'),
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
) WITHOUT ROWID;
INSERT INTO new_alerts (alert_id, kind, severity, state, device_id, location, detail,
  opened_at_ms, updated_at_ms, acknowledged_at_ms, acknowledged_by, resolved_at_ms, resolved_by,
  condition_active, repeat_count, clock_synced, publish_pending)
SELECT alert_id, kind, severity, state, device_id, location, detail, opened_at_ms, updated_at_ms,
  acknowledged_at_ms, acknowledged_by, resolved_at_ms, resolved_by, condition_active,
  repeat_count, clock_synced, publish_pending FROM alerts;
DROP TABLE alerts;
ALTER TABLE new_alerts RENAME TO alerts;
CREATE INDEX alerts_active ON alerts (state) WHERE state != 'resolved';
CREATE INDEX alerts_updated ON alerts (updated_at_ms);
CREATE TABLE new_notifications (
  notification_id TEXT PRIMARY KEY,
  alert_id        TEXT NOT NULL REFERENCES alerts (alert_id),
  contact_id      TEXT NOT NULL,
  role            TEXT NOT NULL,
  channel         TEXT NOT NULL,
  step            INTEGER NOT NULL,
  repeat          INTEGER NOT NULL,
  text            TEXT NOT NULL,
  created_at_ms   INTEGER NOT NULL,
  state           TEXT NOT NULL CHECK (state = 'pending' OR state = 'sent' OR state = 'failed'
                                       OR state = 'acknowledged'),
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT NOT NULL DEFAULT '',
  finished_at_ms  INTEGER
) WITHOUT ROWID;
INSERT INTO new_notifications (notification_id, alert_id, contact_id, role, channel, step, repeat,
  text, created_at_ms, state, attempts, last_error, finished_at_ms)
SELECT notification_id, alert_id, contact_id, role, channel, step, repeat, text, created_at_ms,
  state, attempts, last_error, finished_at_ms FROM notifications;
DROP TABLE notifications;
ALTER TABLE new_notifications RENAME TO notifications;
CREATE INDEX notifications_alert ON notifications (alert_id, created_at_ms);
CREATE INDEX notifications_pending ON notifications (state) WHERE state = 'pending';
CREATE TABLE new_escalations (
  alert_id             TEXT PRIMARY KEY REFERENCES alerts (alert_id),
  next_step            INTEGER NOT NULL,
  repeats_done         INTEGER NOT NULL,
  opened_wall_ms       INTEGER NOT NULL,
  opened_mono_ms       INTEGER NOT NULL,
  boot_id              TEXT NOT NULL,
  last_fired_offset_ms INTEGER NOT NULL,
  active               INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO new_escalations (alert_id, next_step, repeats_done, opened_wall_ms, opened_mono_ms,
  boot_id, last_fired_offset_ms, active)
SELECT alert_id, next_step, repeats_done, opened_wall_ms, opened_mono_ms, boot_id,
  last_fired_offset_ms, active FROM escalations;
DROP TABLE escalations;
ALTER TABLE new_escalations RENAME TO escalations;
)sql",
};

constexpr const char* kAlertColumns =
    "alert_id, kind, severity, state, device_id, location, detail, opened_at_ms, updated_at_ms, "
    "acknowledged_at_ms, acknowledged_by, resolved_at_ms, resolved_by, condition_active, "
    "repeat_count, clock_synced";

}  // namespace

class Store::Statement {
 public:
  Statement(Store& store, const char* sql) : store_(store), db_(store.db_) {
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw StoreError(std::string("cannot prepare statement: ") + sqlite3_errmsg(db_));
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
  // Without a copy: `value` must stay alive and unchanged until the statement has run.
  Statement& bind_static(const std::string& value) {
    check(sqlite3_bind_text(stmt_, ++index_, value.data(), static_cast<int>(value.size()),
                            SQLITE_STATIC));
    return *this;
  }
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
    if (store_.transaction_write_failed_ && sqlite3_get_autocommit(db_) != 0 &&
        sqlite3_stmt_readonly(stmt_) == 0) {
      // SQLite already rolled the failed transaction back: a later write of it would commit on
      // its own (autocommit) and keep half of the transaction. Skipped like the failed one.
      return false;
    }
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    if (store_.tolerated_write_failure(rc, sqlite3_errmsg(db_))) {
      sqlite3_reset(stmt_);
      return false;  // as if it found or changed nothing
    }
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
  Store& store_;
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

Store::Store(const std::string& path, int schema_version) : path_(path) {
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
    // 1 MiB of page cache instead of SQLite's 2 MiB: the hot pages (the ends of the telemetry
    // indexes, alerts, rule state) fit, and the hub keeps the rest of its memory.
    exec("PRAGMA cache_size=-1024");
    migrate(schema_version);
  } catch (...) {
    statements_.clear();
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Store::~Store() {
  checkpointer_.reset();
  statements_.clear();
  if (db_ != nullptr) sqlite3_close(db_);
}

void Store::checkpoint_in_background(WalCheckpointer::Limits limits,
                                     std::function<void()> completed) {
  const char* file = sqlite3_db_filename(db_, "main");
  if (checkpointer_ || file == nullptr || *file == '\0') return;  // started, or in memory
  try {
    checkpointer_ = std::make_unique<WalCheckpointer>(db_, file, limits, std::move(completed));
  } catch (const std::exception& e) {
    throw StoreError("store " + path_ + ": " + e.what());
  }
}

void Store::restart_wal() {
  if (transaction_depth_ > 0 || last_commit_failed_) return;
  Transaction tx(*this, Durability::normal);
  // A page must change (SQLite does not write a row rewritten as it was): a counter of these.
  statement(
      "INSERT INTO meta (key, value) VALUES ('wal_restarts', '1') "
      "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")
      .run();
  tx.commit();
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
  statements_.emplace_back(sql, std::make_unique<Statement>(*this, sql));
  return *statements_.back().second;
}

int Store::pragma_int(const char* sql) {
  auto& st = statement(sql);
  st.step();
  const auto value = static_cast<int>(st.int64(0));
  st.reset();
  return value;
}

int Store::schema_version() {
  return pragma_int("PRAGMA user_version");
}

void Store::migrate(int target) {
  int version = schema_version();
  if (version > kSchemaVersion) {
    throw StoreError("store " + path_ + " has schema version " + std::to_string(version) +
                     ", newer than this gateway understands (" + std::to_string(kSchemaVersion) +
                     "); refusing to touch it");
  }
  if (target < 1 || target > kSchemaVersion) {
    throw StoreError("store " + path_ + ": no schema version " + std::to_string(target) +
                     " to migrate to (1 to " + std::to_string(kSchemaVersion) + ")");
  }
  if (version >= target) return;
  // A migration that rebuilds a table others refer to (drop, then rename the copy) runs with
  // foreign keys off, as SQLite requires; they can only be switched outside a transaction. Each
  // migration checks them before it commits.
  exec("PRAGMA foreign_keys=OFF");
  try {
    while (version < target) {
      Transaction tx(*this, Durability::full);
      // Another process (the daemon, a CLI command) may have migrated it meanwhile: read the
      // version again under the write lock.
      version = schema_version();
      if (version >= target) break;
      exec(kMigrations[static_cast<std::size_t>(version)]);
      ++version;
      auto& check = statement("PRAGMA foreign_key_check");
      if (check.step()) {
        const std::string table = check.text(0);
        check.reset();
        throw StoreError("store " + path_ + ": migration to schema version " +
                         std::to_string(version) + " left rows of " + table +
                         " without the row they refer to; nothing was changed");
      }
      exec(("PRAGMA user_version=" + std::to_string(version)).c_str());
      tx.commit();
    }
  } catch (...) {
    exec("PRAGMA foreign_keys=ON");
    throw;
  }
  exec("PRAGMA foreign_keys=ON");
}

Store::Transaction::Transaction(Store& store, Durability durability)
    : store_(store), nested_(store.transaction_depth_ > 0) {
  if (nested_) {
    // Joins the open transaction, with its durability (SQLite cannot change the synchronous
    // level inside a transaction): open the outer one with the stronger level.
    (void)durability;
    ++store_.transaction_depth_;
    return;
  }
  store_.set_durability(durability);
  store_.transaction_write_failed_ = false;
  store_.transaction_depth_ = 1;  // before BEGIN, so that a tolerated failure of BEGIN is recorded
  try {
    store_.statement("BEGIN IMMEDIATE").run();
  } catch (...) {
    store_.transaction_depth_ = 0;  // no transaction: the next one must not think it is nested
    throw;
  }
  store_.rollback_only_ = false;
}

Store::Transaction::~Transaction() {
  if (done_) return;
  --store_.transaction_depth_;
  if (nested_) {
    store_.rollback_only_ = true;  // the outer transaction must not commit half of it
    return;
  }
  sqlite3_exec(store_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
  store_.rollback_only_ = false;
  store_.transaction_write_failed_ = false;
  store_.back_to_full_durability();
}

void Store::Transaction::commit() {
  if (nested_) {
    done_ = true;
    --store_.transaction_depth_;
    return;
  }
  if (store_.rollback_only_) {
    sqlite3_exec(store_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
    done_ = true;
    store_.transaction_depth_ = 0;
    store_.rollback_only_ = false;
    store_.back_to_full_durability();
    throw StoreError("store " + store_.path_ + ": a joined transaction was abandoned; rolled back");
  }
  if (!store_.transaction_write_failed_) {
    auto& commit = store_.statement("COMMIT");
    commit.run();  // a storage failure here is tolerated (and recorded) like any other
    commit.reset();
  }
  done_ = true;
  store_.transaction_depth_ = 0;
  store_.last_commit_failed_ = store_.transaction_write_failed_;
  if (store_.transaction_write_failed_) {
    // Nothing of it is kept: roll back what SQLite still holds open (after a failed COMMIT too).
    if (sqlite3_get_autocommit(store_.db_) == 0) {
      sqlite3_exec(store_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    store_.transaction_write_failed_ = false;
    ++store_.failed_commits_;
  }
  store_.back_to_full_durability();
}

void Store::set_durability(Durability durability) {
  if (current_durability_ == durability) return;
  statement(durability == Durability::full ? "PRAGMA synchronous=FULL"
                                           : "PRAGMA synchronous=NORMAL")
      .run();
  current_durability_ = durability;
}

void Store::back_to_full_durability() noexcept {
  try {
    set_durability(Durability::full);
  } catch (const std::exception&) {
    // Left at NORMAL: the next FULL transaction switches (and reports a failure) itself.
  }
}

int Store::synchronous_level() {
  return pragma_int("PRAGMA synchronous");
}

bool Store::tolerated_write_failure(int rc, const char* message) {
  const int primary = rc & 0xff;
  if (!tolerate_write_failures_ || (primary != SQLITE_FULL && primary != SQLITE_IOERR)) {
    return false;
  }
  last_write_error_ = message;
  if (transaction_depth_ > 0) {
    transaction_write_failed_ = true;  // counted once, when the transaction ends
  } else {
    ++failed_commits_;
  }
  return true;
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

void Store::erase_meta(const std::string& key) {
  statement("DELETE FROM meta WHERE key = ?").bind(key).run();
}

std::int64_t Store::next_sequence(const std::string& name) {
  const std::string key = "seq/" + name;
  std::int64_t next = 1;
  if (auto current = get_meta(key)) next = std::stoll(*current) + 1;
  // A number whose write was lost (a failed commit) is not handed out again.
  auto& floor = sequence_floor_[name];
  next = std::max(next, floor + 1);
  floor = next;
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
  // publish_pending false marks a bookkeeping update (a repeat joined): not a state change.
  if (publish_pending) outbox_alert_changed(a);
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
  outbox_alert_event(e);
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
  static const std::string sql =
      std::string("SELECT ") + kAlertColumns +
      " FROM alerts WHERE state != 'resolved' ORDER BY opened_at_ms, alert_id";
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
    // Most writes change a key that exists: an UPDATE costs one index seek; the upsert (an
    // INSERT that meets the conflict, then the update) costs about twice that.
    statement("UPDATE rule_state SET value = ? WHERE key = ?")
        .bind_static(*value)
        .bind_static(key)
        .run();
    if (sqlite3_changes(db_) > 0) return;
    statement("INSERT INTO rule_state (key, value) VALUES (?, ?)")
        .bind_static(key)
        .bind_static(*value)
        .run();
  } else {
    statement("DELETE FROM rule_state WHERE key = ?").bind_static(key).run();
  }
}

void Store::replace_rule_state(const std::vector<std::pair<std::string, std::string>>& all) {
  statement("DELETE FROM rule_state").run();
  for (const auto& [key, value] : all) {
    statement("INSERT INTO rule_state (key, value) VALUES (?, ?)")
        .bind_static(key)
        .bind_static(value)
        .run();
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
  static constexpr std::array<std::string_view, 7> kHealthEvents{
      "online", "offline", "low_battery", "battery_ok", "fault", "fault_cleared", "tamper"};
  if (outbox_enabled() &&
      std::find(kHealthEvents.begin(), kHealthEvents.end(), row.event) != kHealthEvents.end()) {
    nlohmann::ordered_json body{
        {"device", row.device_id}, {"event", row.event}, {"at", row.ts_ms}, {"detail", row.detail}};
    add_outbox_event("device_health", 2, body.dump(), outbox_clock_->now());
  }
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
  if (rows.empty()) return;
  auto& insert = statement(
      "INSERT INTO telemetry (ts_ms, device_id, capability, number, text) "
      "VALUES (?, ?, ?, ?, ?)");
  for (const auto& row : rows) {
    insert.reset()
        .bind(row.ts_ms)
        .bind_static(row.device_id)
        .bind_static(row.capability)
        .bind(row.number)
        .bind_static(row.text)
        .run();
  }
  insert.reset();  // no pointer into `rows` stays bound
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
  if (sqlite3_changes(db_) > 0) outbox_notification(notification_id);
}

void Store::mark_notifications_acknowledged(const std::string& alert_id,
                                            const std::string& contact_id) {
  std::vector<std::string> ids;
  if (outbox_enabled()) {
    auto& st = statement(
                   "SELECT notification_id FROM notifications WHERE alert_id = ? AND "
                   "contact_id = ? AND state = 'sent' ORDER BY created_at_ms, notification_id")
                   .bind(alert_id)
                   .bind(contact_id);
    while (st.step()) ids.push_back(st.text(0));
  }
  statement(
      "UPDATE notifications SET state = 'acknowledged' WHERE alert_id = ? AND contact_id = ? "
      "AND state = 'sent'")
      .bind(alert_id)
      .bind(contact_id)
      .run();
  for (const auto& id : ids) outbox_notification(id);
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

// ---- uplink outbox ----

namespace {

nlohmann::json optional_ms(const std::optional<std::int64_t>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

int alert_priority(rules::Severity severity) {
  return severity == rules::Severity::emergency ? 0 : 1;
}

// Device health as the township sees it, from the health alerts' handling records: the event
// name when the condition starts and when it ends (nothing for a person closing the alert).
std::optional<std::string_view> health_event(rules::AlertKind kind, const AlertEvent& e) {
  const bool starts = e.event == "opened" || e.event == "condition_returned";
  const bool ends = e.event == "condition_cleared" || (e.event == "resolved" && e.by == "system");
  if (!starts && !ends) return std::nullopt;
  switch (kind) {
    case rules::AlertKind::device_offline:
      return starts ? "offline" : "online";
    case rules::AlertKind::low_battery:
      return starts ? "low_battery" : "battery_ok";
    case rules::AlertKind::device_fault:
      return starts ? "fault" : "fault_cleared";
    case rules::AlertKind::tamper:
      // The protocol names no "tamper cleared" event: only the start goes up.
      if (starts) return "tamper";
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace

void Store::enable_outbox(OutboxIdentity identity, const Clock& clock) {
  outbox_identity_ = std::move(identity);
  outbox_clock_ = &clock;
}

std::string Store::uplink_epoch() {
  if (!epoch_) {
    auto value = get_meta("uplink_epoch");
    if (!value) throw StoreError("store " + path_ + " has no uplink epoch");
    epoch_ = *value;
  }
  return *epoch_;
}

std::string Store::add_outbox_event(const std::string& type, int priority, const std::string& body,
                                    const Instant& now) {
  const std::int64_t seq = next_sequence("outbox");
  const std::string hub = outbox_identity_.hub_id.empty() ? "hub" : outbox_identity_.hub_id;
  std::string event_id = hub + "/" + uplink_epoch() + "/" + std::to_string(seq);
  statement(
      "INSERT INTO outbox (seq, event_id, type, priority, ts_ms, clock_synced, body, bytes) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(seq)
      .bind(event_id)
      .bind(type)
      .bind(std::int64_t{priority})
      .bind(now.wall_ms)
      .bind(std::int64_t{now.wall_synced ? 1 : 0})
      .bind(body)
      .bind(static_cast<std::int64_t>(body.size()))
      .run();
  return event_id;
}

void Store::outbox_alert_changed(const AlertRecord& a) {
  if (!outbox_enabled()) return;
  nlohmann::ordered_json body{{"alert_id", a.alert_id},
                              {"kind", rules::to_string(a.kind)},
                              {"severity", rules::to_string(a.severity)},
                              {"state", to_string(a.state)},
                              {"device", a.device_id},
                              {"location", a.location},
                              {"detail", a.detail},
                              {"opened_at", a.opened_at_ms},
                              {"updated_at", a.updated_at_ms},
                              {"acknowledged_at", optional_ms(a.acknowledged_at_ms)},
                              {"acknowledged_by", a.acknowledged_by},
                              {"resolved_at", optional_ms(a.resolved_at_ms)},
                              {"resolved_by", a.resolved_by},
                              {"condition_active", a.condition_active},
                              {"repeat_count", a.repeat_count}};
  add_outbox_event("alert", alert_priority(a.severity), body.dump(), outbox_clock_->now());
}

void Store::outbox_alert_event(const AlertEvent& e) {
  if (!outbox_enabled()) return;
  auto alert = find_alert(e.alert_id);
  const auto severity = alert ? alert->severity : rules::Severity::warning;
  const auto now = outbox_clock_->now();
  nlohmann::ordered_json body{{"alert_id", e.alert_id}, {"event", e.event},
                              {"at", e.ts_ms},          {"by", e.by},
                              {"channel", e.channel},   {"note", e.note}};
  add_outbox_event("alert_event", alert_priority(severity), body.dump(), now);
  if (!alert) return;
  if (auto health = health_event(alert->kind, e)) {
    nlohmann::ordered_json h{{"device", alert->device_id},
                             {"event", *health},
                             {"at", e.ts_ms},
                             {"detail", e.event == "opened" ? alert->detail : e.note}};
    add_outbox_event("device_health", 2, h.dump(), now);
  }
}

void Store::outbox_notification(const std::string& notification_id) {
  if (!outbox_enabled()) return;
  static const std::string sql = std::string("SELECT ") + kNotificationColumns +
                                 " FROM notifications WHERE notification_id = ?";
  auto& st = statement(sql.c_str()).bind(notification_id);
  if (!st.step()) return;
  NotificationRow n = read_notification(st);
  st.reset();
  nlohmann::ordered_json body{
      {"notification_id", n.notification_id},
      {"alert_id", n.alert_id},
      {"contact_id", n.contact_id},
      {"role", n.role},
      {"channel", n.channel},
      {"step", n.step},
      {"repeat", n.repeat},
      {"state", n.state},
      {"attempts", n.attempts},
      {"error", n.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.last_error)},
      {"at", n.finished_at_ms.value_or(outbox_clock_->now().wall_ms)}};
  add_outbox_event("notification", 1, body.dump(), outbox_clock_->now());
}

std::vector<OutboxRow> Store::outbox_next(std::int64_t limit) {
  auto& st = statement(
                 "SELECT seq, event_id, type, priority, ts_ms, clock_synced, body, bytes FROM "
                 "outbox ORDER BY priority, seq LIMIT ?")
                 .bind(limit);
  std::vector<OutboxRow> out;
  while (st.step()) {
    out.push_back({st.int64(0), st.text(1), st.text(2), static_cast<int>(st.int64(3)), st.int64(4),
                   st.int64(5) != 0, st.text(6), st.int64(7)});
  }
  return out;
}

bool Store::delete_outbox_event(const std::string& event_id) {
  statement("DELETE FROM outbox WHERE event_id = ?").bind(event_id).run();
  return sqlite3_changes(db_) > 0;
}

OutboxStats Store::outbox_stats() {
  OutboxStats stats;
  auto& st = statement("SELECT count(*), coalesce(sum(bytes), 0), min(ts_ms) FROM outbox");
  st.step();
  stats.events = st.int64(0);
  stats.bytes = st.int64(1);
  stats.oldest_ts_ms = st.optional_int64(2);
  st.reset();
  if (auto dropped = get_meta("uplink_dropped")) stats.dropped = std::stoll(*dropped);
  return stats;
}

std::int64_t Store::trim_outbox(std::int64_t max_rows, std::int64_t max_bytes) {
  auto& totals = statement("SELECT count(*), coalesce(sum(bytes), 0) FROM outbox");
  totals.step();
  std::int64_t rows = totals.int64(0);
  std::int64_t bytes = totals.int64(1);
  totals.reset();
  std::int64_t dropped = 0;
  for (std::int64_t priority : {3, 2}) {
    while (rows > max_rows || bytes > max_bytes) {
      auto& oldest =
          statement("SELECT seq, bytes FROM outbox WHERE priority = ? ORDER BY seq LIMIT 1")
              .bind(priority);
      if (!oldest.step()) break;
      const std::int64_t seq = oldest.int64(0);
      const std::int64_t size = oldest.int64(1);
      oldest.reset();
      statement("DELETE FROM outbox WHERE seq = ?").bind(seq).run();
      --rows;
      bytes -= size;
      ++dropped;
    }
  }
  if (dropped > 0) {
    std::int64_t total = dropped;
    if (auto before = get_meta("uplink_dropped")) total += std::stoll(*before);
    set_meta("uplink_dropped", std::to_string(total));
  }
  return dropped;
}

std::optional<CommandRecord> Store::find_command(const std::string& command_id) {
  auto& st = statement(
                 "SELECT command_id, ok, error, applied_at_ms FROM applied_commands WHERE "
                 "command_id = ?")
                 .bind(command_id);
  if (!st.step()) return std::nullopt;
  CommandRecord record{st.text(0), st.int64(1) != 0, st.text(2), st.int64(3)};
  st.reset();
  return record;
}

void Store::record_command(const CommandRecord& record) {
  statement(
      "INSERT INTO applied_commands (command_id, ok, error, applied_at_ms) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (command_id) DO NOTHING")
      .bind(record.command_id)
      .bind(std::int64_t{record.ok ? 1 : 0})
      .bind(record.error)
      .bind(record.applied_at_ms)
      .run();
}

// ---- queries for the daily summary ----

std::vector<TelemetryRow> Store::telemetry_between(std::int64_t from_ms, std::int64_t to_ms,
                                                   const std::string& capability) {
  auto& st = statement(
                 "SELECT ts_ms, device_id, capability, number, text FROM telemetry WHERE "
                 "capability = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms, seq")
                 .bind(capability)
                 .bind(from_ms)
                 .bind(to_ms);
  std::vector<TelemetryRow> out;
  while (st.step()) {
    TelemetryRow row{st.int64(0), st.text(1), st.text(2), {}, st.text(4)};
    if (!st.is_null(3)) row.number = st.real(3);
    out.push_back(std::move(row));
  }
  return out;
}

std::optional<TelemetryRow> Store::last_telemetry(const std::string& device_id,
                                                  const std::string& capability,
                                                  std::int64_t before_ms) {
  auto& st = statement(
                 "SELECT ts_ms, device_id, capability, number, text FROM telemetry WHERE "
                 "device_id = ? AND capability = ? AND ts_ms < ? ORDER BY ts_ms DESC, seq DESC "
                 "LIMIT 1")
                 .bind(device_id)
                 .bind(capability)
                 .bind(before_ms);
  if (!st.step()) return std::nullopt;
  TelemetryRow row{st.int64(0), st.text(1), st.text(2), {}, st.text(4)};
  if (!st.is_null(3)) row.number = st.real(3);
  st.reset();
  return row;
}

std::optional<std::int64_t> Store::last_seen(const std::string& device_id, std::int64_t before_ms) {
  auto& st = statement("SELECT max(ts_ms) FROM telemetry WHERE device_id = ? AND ts_ms < ?")
                 .bind(device_id)
                 .bind(before_ms);
  st.step();
  auto value = st.optional_int64(0);
  st.reset();
  return value;
}

std::vector<AlertRecord> Store::alerts_opened_between(std::int64_t from_ms, std::int64_t to_ms) {
  static const std::string sql = std::string("SELECT ") + kAlertColumns +
                                 " FROM alerts WHERE opened_at_ms >= ? AND opened_at_ms < ? "
                                 "ORDER BY opened_at_ms, alert_id";
  auto& st = statement(sql.c_str()).bind(from_ms).bind(to_ms);
  std::vector<AlertRecord> out;
  while (st.step()) out.push_back(read_alert(st));
  return out;
}

std::vector<AlertRecord> Store::alerts_active_at(std::int64_t at_ms) {
  static const std::string sql =
      std::string("SELECT ") + kAlertColumns +
      " FROM alerts WHERE opened_at_ms < ? AND (resolved_at_ms IS NULL OR resolved_at_ms >= ?) "
      "ORDER BY opened_at_ms, alert_id";
  auto& st = statement(sql.c_str()).bind(at_ms).bind(at_ms);
  std::vector<AlertRecord> out;
  while (st.step()) out.push_back(read_alert(st));
  return out;
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
