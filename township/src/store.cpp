#include "homesafe/township/store.hpp"

#include <openssl/rand.h>

#include <fmt/format.h>

#include <array>
#include <nlohmann/json.hpp>

#include "homesafe/township/clock.hpp"

namespace homesafe::township {
namespace {

// Arbitrary, fixed: the advisory lock key that serialises migrations on PostgreSQL.
constexpr std::int64_t kMigrationLock = 0x686f6d6573616665;  // "homesafe"
constexpr std::int64_t kPartitionLock = kMigrationLock + 1;

// One forward migration: `common` on both backends, then the backend's own part (if any).
struct Migration {
  const char* common;
  const char* sqlite = nullptr;
  const char* postgresql = nullptr;
  void (*postgresql_step)(Db&) = nullptr;  // what needs more than a script
};

// The UTC month holding `ms`: [start, end) in Unix ms and its partition's name events_YYYYMM.
struct Month {
  std::int64_t start_ms;
  std::int64_t end_ms;
  std::string name;
};

Month month_of(std::int64_t ms) {
  const std::string date = local_date(ms, 0);
  const int year = std::stoi(date.substr(0, 4));
  const int month = std::stoi(date.substr(5, 2));
  return {local_midnight_ms(year, month, 1, 0),
          local_midnight_ms(month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1, 1, 0),
          "events_" + date.substr(0, 4) + date.substr(5, 2)};
}

void create_event_partition(Db& db, const Month& m) {
  db.exec_script(
      fmt::format("CREATE TABLE IF NOT EXISTS {} PARTITION OF events FOR VALUES FROM ({}) TO ({})",
                  m.name, m.start_ms, m.end_ms));
}

// 4 (PostgreSQL): `events` becomes a table partitioned by month of received_at (our clock, never
// the hub's), with the rows it had.
void partition_events(Db& db) {
  db.exec_script(R"sql(
ALTER TABLE events RENAME TO events_v3;
ALTER INDEX events_household RENAME TO events_v3_household;
ALTER TABLE events_v3 RENAME CONSTRAINT events_pkey TO events_v3_pkey;
CREATE TABLE events (
  event_id     TEXT NOT NULL,
  hub_id       TEXT NOT NULL,
  household_id TEXT NOT NULL,
  seq          BIGINT NOT NULL,
  type         TEXT NOT NULL,
  priority     INTEGER NOT NULL,
  ts           BIGINT NOT NULL,
  clock_synced INTEGER NOT NULL,
  body         TEXT NOT NULL,
  received_at  BIGINT NOT NULL,
  PRIMARY KEY (event_id, received_at)
) PARTITION BY RANGE (received_at);
CREATE INDEX events_household ON events (household_id, ts);
)sql");
  auto range = db.query_one("SELECT MIN(received_at), MAX(received_at) FROM events_v3");
  if (range && !range->is_null(0)) {
    for (std::int64_t at = range->integer(0); at <= range->integer(1);) {
      const Month m = month_of(at);
      create_event_partition(db, m);
      at = m.end_ms;
    }
  }
  db.exec_script("INSERT INTO events SELECT * FROM events_v3; DROP TABLE events_v3;");
}

// Forward migrations: entry i moves the schema from version i to i+1. Never edit a shipped entry;
// append a new one. Portable SQL in `common`: TEXT/BIGINT/INTEGER columns, explicit ids (no
// AUTOINCREMENT/SERIAL), times as Unix milliseconds, no SQLite-only syntax. What only one backend
// can do (PostgreSQL's partitioning) goes in its own part.
constexpr std::array<Migration, 5> kMigrations{
    Migration{R"sql(
CREATE TABLE hubs (
  hub_id            TEXT PRIMARY KEY,
  household_id      TEXT NOT NULL,
  last_seen_at      BIGINT,
  last_heartbeat_at BIGINT,
  last_heartbeat    TEXT,
  status            TEXT,
  status_at         BIGINT
);
CREATE TABLE households (
  household_id TEXT PRIMARY KEY,
  resident_id  TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  county       TEXT NOT NULL,
  township     TEXT NOT NULL,
  village      TEXT NOT NULL,
  risk_class   TEXT NOT NULL CHECK (risk_class IN ('高风险', '重点', '一般')),
  hub_id       TEXT UNIQUE,
  address      TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL
);
CREATE INDEX households_township ON households (county, township, village);
CREATE TABLE contacts (
  household_id TEXT NOT NULL REFERENCES households (household_id),
  contact_id   TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('caregiver', 'emergency_contact')),
  name         TEXT NOT NULL,
  phone        TEXT NOT NULL,
  PRIMARY KEY (household_id, contact_id, role)
);
CREATE INDEX contacts_contact ON contacts (contact_id, role);
CREATE TABLE events (
  event_id     TEXT PRIMARY KEY,
  hub_id       TEXT NOT NULL,
  household_id TEXT NOT NULL,
  seq          BIGINT NOT NULL,
  type         TEXT NOT NULL,
  priority     INTEGER NOT NULL,
  ts           BIGINT NOT NULL,
  clock_synced INTEGER NOT NULL,
  body         TEXT NOT NULL,
  received_at  BIGINT NOT NULL
);
CREATE INDEX events_household ON events (household_id, ts);
CREATE TABLE alerts (
  alert_id        TEXT PRIMARY KEY,
  household_id    TEXT NOT NULL,
  hub_id          TEXT NOT NULL,
  source          TEXT NOT NULL CHECK (source IN ('hub', 'township')),
  kind            TEXT NOT NULL,
  severity        TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
  device          TEXT,
  location        TEXT,
  detail          TEXT,
  opened_at       BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  acknowledged_at BIGINT,
  acknowledged_by TEXT,
  resolved_at     BIGINT,
  resolved_by     TEXT,
  repeat_count    INTEGER NOT NULL DEFAULT 0,
  last_event_id   TEXT NOT NULL
);
CREATE INDEX alerts_state ON alerts (state, household_id);
CREATE TABLE alert_history (
  alert_id   TEXT NOT NULL,
  event_id   TEXT NOT NULL,
  state      TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  body       TEXT NOT NULL,
  PRIMARY KEY (alert_id, event_id)
);
CREATE TABLE handling_records (
  record_id    TEXT PRIMARY KEY,
  alert_id     TEXT NOT NULL,
  household_id TEXT NOT NULL,
  event        TEXT NOT NULL,
  at           BIGINT NOT NULL,
  by_whom      TEXT,
  channel      TEXT,
  note         TEXT,
  source       TEXT NOT NULL
);
CREATE INDEX handling_alert ON handling_records (alert_id, at);
CREATE TABLE notifications (
  event_id        TEXT PRIMARY KEY,
  notification_id TEXT NOT NULL,
  alert_id        TEXT NOT NULL,
  household_id    TEXT NOT NULL,
  contact_id      TEXT NOT NULL,
  role            TEXT NOT NULL,
  channel         TEXT NOT NULL,
  step            INTEGER NOT NULL,
  repeat_no       INTEGER NOT NULL,
  state           TEXT NOT NULL,
  attempts        INTEGER NOT NULL,
  error           TEXT,
  at              BIGINT NOT NULL
);
CREATE TABLE device_health (
  event_id     TEXT PRIMARY KEY,
  household_id TEXT NOT NULL,
  device       TEXT NOT NULL,
  event        TEXT NOT NULL,
  at           BIGINT NOT NULL,
  detail       TEXT
);
CREATE TABLE daily_summaries (
  household_id TEXT NOT NULL,
  summary_date TEXT NOT NULL,
  event_id     TEXT NOT NULL,
  body         TEXT NOT NULL,
  PRIMARY KEY (household_id, summary_date)
);
CREATE TABLE visits (
  visit_id        TEXT PRIMARY KEY,
  household_id    TEXT NOT NULL,
  visit_type      TEXT NOT NULL CHECK (visit_type IN ('上门入户', '电话视频', '远程监测')),
  visit_date      TEXT NOT NULL,
  visited_at      BIGINT NOT NULL,
  visitor         TEXT NOT NULL,
  health          TEXT NOT NULL,
  economy         TEXT NOT NULL,
  support         TEXT NOT NULL,
  safety          TEXT NOT NULL,
  needs           TEXT NOT NULL,
  note            TEXT NOT NULL,
  source_event_id TEXT UNIQUE,
  created_by      TEXT NOT NULL,
  created_at      BIGINT NOT NULL
);
CREATE INDEX visits_household ON visits (household_id, visit_date);
CREATE TABLE commands (
  command_id TEXT PRIMARY KEY,
  hub_id     TEXT NOT NULL,
  type       TEXT NOT NULL,
  alert_id   TEXT,
  body       TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  result_ok  INTEGER,
  result_error TEXT,
  result_at  BIGINT
);
CREATE TABLE users (
  username      TEXT PRIMARY KEY,
  role          TEXT NOT NULL CHECK (role IN ('township_operator', 'county_staff', 'caregiver')),
  scope         TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  username   TEXT NOT NULL REFERENCES users (username),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE TABLE audit_log (
  audit_id TEXT PRIMARY KEY,
  at       BIGINT NOT NULL,
  username TEXT NOT NULL,
  action   TEXT NOT NULL,
  target   TEXT NOT NULL,
  ids      TEXT NOT NULL,
  detail   TEXT NOT NULL
);
CREATE INDEX audit_at ON audit_log (at);
)sql"},
    // 2: spot-check draws (抽查) and when a resident was last (re-)assessed.
    Migration{R"sql(
ALTER TABLE households ADD COLUMN assessed_at BIGINT;
UPDATE households SET assessed_at = created_at;
CREATE TABLE spot_checks (
  draw_id      TEXT PRIMARY KEY,
  drawn_at     BIGINT NOT NULL,
  drawn_by     TEXT NOT NULL,
  scope        TEXT NOT NULL,
  since_date   TEXT NOT NULL,
  rate_percent INTEGER NOT NULL,
  seed         TEXT NOT NULL,
  population   TEXT NOT NULL,
  selected     TEXT NOT NULL
);
)sql"},
    // 3: notifications the hubs asked the township to relay (docs/township.md, "Relay").
    Migration{R"sql(
CREATE TABLE relays (
  household_id    TEXT NOT NULL,
  notification_id TEXT NOT NULL,
  event_id        TEXT NOT NULL,
  alert_id        TEXT NOT NULL,
  contact_id      TEXT NOT NULL,
  role            TEXT NOT NULL,
  kind            TEXT NOT NULL,
  severity        TEXT NOT NULL,
  device          TEXT NOT NULL,
  location        TEXT NOT NULL,
  opened_at       BIGINT NOT NULL,
  step            INTEGER NOT NULL,
  repeat_no       INTEGER NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
  attempts        INTEGER NOT NULL,
  error           TEXT,
  created_at      BIGINT NOT NULL,
  settled_at      BIGINT,
  PRIMARY KEY (household_id, notification_id)
);
CREATE INDEX relays_state ON relays (state, created_at);
CREATE INDEX relays_alert ON relays (alert_id);
)sql"},
    // 4: county scale (issue #10). Events are keyed by what the hub assigned, (hub, event_id), in
    // `event_keys`: the idempotency gate, also when `events` is partitioned. Daily summaries keep
    // the hub time and sequence of the event they came from, so an older one stored later (another
    // worker) does not replace a newer one. PostgreSQL partitions `events` by month.
    Migration{R"sql(
CREATE TABLE event_keys (
  hub_id      TEXT NOT NULL,
  event_id    TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (hub_id, event_id)
);
INSERT INTO event_keys (hub_id, event_id, received_at)
  SELECT hub_id, event_id, received_at FROM events;
ALTER TABLE daily_summaries ADD COLUMN ts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE daily_summaries ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
UPDATE daily_summaries SET
  ts = COALESCE((SELECT e.ts FROM events e WHERE e.event_id = daily_summaries.event_id), 0),
  seq = COALESCE((SELECT e.seq FROM events e WHERE e.event_id = daily_summaries.event_id), 0);
)sql",
              nullptr, nullptr, &partition_events},
    // 5: county scale, ingest workers (docs/deployment.md): each worker process adds its batches'
    // counts to its own row, in the batch's transaction, so the totals survive a kill -9.
    Migration{R"sql(
CREATE TABLE ingest_stats (
  instance   TEXT PRIMARY KEY,
  stored     BIGINT NOT NULL DEFAULT 0,
  duplicates BIGINT NOT NULL DEFAULT 0,
  rejected   BIGINT NOT NULL DEFAULT 0
);
)sql"}};

}  // namespace

std::string random_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 32) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

Store::Store(const std::filesystem::path& path) : Store(StorageConfig::sqlite(path)) {}

Store::Store(const StorageConfig& config) : db_(config) {
  migrate();
}

int Store::schema_version() {
  auto row = db_.query_one("SELECT MAX(version) FROM schema_version");
  return row ? static_cast<int>(row->integer(0)) : 0;
}

void Store::migrate() {
  const bool pg = db_.dialect() == Dialect::kPostgresql;
  // Several processes (ingest workers, API) may start together on one PostgreSQL database: each
  // step runs under a transaction-scoped advisory lock and re-reads the version inside it.
  auto lock = [&] {
    if (pg) db_.query("SELECT pg_advisory_xact_lock(?)", {kMigrationLock});
  };
  {
    Transaction tx(db_);
    lock();
    db_.exec_script(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at "
        "BIGINT NOT NULL)");
    tx.commit();
  }
  for (;;) {
    Transaction tx(db_);
    lock();
    const int current = schema_version();
    if (current > static_cast<int>(kMigrations.size())) {
      throw DbError("database schema version " + std::to_string(current) +
                    " is newer than this program knows");
    }
    if (current == static_cast<int>(kMigrations.size())) break;
    const Migration& m = kMigrations[static_cast<std::size_t>(current)];
    if (m.common) db_.exec_script(m.common);
    if (const char* own = pg ? m.postgresql : m.sqlite) db_.exec_script(own);
    if (pg && m.postgresql_step) m.postgresql_step(db_);
    db_.exec("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
             {std::int64_t{current + 1}, std::int64_t{0}});
    tx.commit();
  }
}

void Store::prepare_events(std::int64_t now_ms) {
  if (db_.dialect() != Dialect::kPostgresql || db_.in_transaction()) return;
  // This month's partition and the next one, each created once (by whichever process is first).
  const Month current = month_of(now_ms);
  for (const Month& m : {current, month_of(current.end_ms)}) {
    if (partitions_.contains(m.name)) continue;
    Transaction tx(db_);
    db_.query("SELECT pg_advisory_xact_lock(?)", {kPartitionLock});
    create_event_partition(db_, m);
    tx.commit();
    partitions_.insert(m.name);
  }
}

namespace {
constexpr const char* kHouseholdColumns =
    "household_id, resident_id, display_name, county, township, village, risk_class, "
    "COALESCE(hub_id, ''), address";

Household household_from(const Row& r) {
  Household h;
  h.household_id = r.text(0);
  h.resident_id = r.text(1);
  h.display_name = r.text(2);
  h.county = r.text(3);
  h.township = r.text(4);
  h.village = r.text(5);
  h.risk_class = r.text(6);
  h.hub_id = r.text(7);
  h.address = r.text(8);
  return h;
}
}  // namespace

std::optional<Household> Store::household(const std::string& household_id) {
  auto row = db_.query_one(
      std::string("SELECT ") + kHouseholdColumns + " FROM households WHERE household_id = ?",
      {household_id});
  if (!row) return std::nullopt;
  Household h = household_from(*row);
  for (const auto& c : db_.query(
           "SELECT contact_id, role, name, phone FROM contacts WHERE household_id = ? ORDER BY "
           "role, contact_id",
           {household_id})) {
    h.contacts.push_back({c.text(0), c.text(1), c.text(2), c.text(3)});
  }
  return h;
}

std::vector<Household> Store::households() {
  std::vector<Household> out;
  for (const auto& r : db_.query(std::string("SELECT ") + kHouseholdColumns +
                                 " FROM households ORDER BY household_id")) {
    out.push_back(household_from(r));
  }
  for (const auto& c :
       db_.query("SELECT household_id, contact_id, role, name, phone FROM contacts ORDER BY "
                 "household_id, role, contact_id")) {
    for (auto& h : out) {
      if (h.household_id == c.text(0))
        h.contacts.push_back({c.text(1), c.text(2), c.text(3), c.text(4)});
    }
  }
  return out;
}

void Store::upsert_household(const Household& h, std::int64_t now_ms) {
  const Value hub = h.hub_id.empty() ? Value{nullptr} : Value{h.hub_id};
  db_.exec(
      "INSERT INTO households (household_id, resident_id, display_name, county, township, "
      "village, risk_class, hub_id, address, created_at, updated_at, assessed_at) VALUES "
      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (household_id) DO UPDATE SET "
      "assessed_at = CASE WHEN households.risk_class <> excluded.risk_class THEN "
      "excluded.updated_at ELSE households.assessed_at END, "
      "resident_id = excluded.resident_id, display_name = excluded.display_name, "
      "county = excluded.county, township = excluded.township, village = excluded.village, "
      "risk_class = excluded.risk_class, hub_id = excluded.hub_id, address = excluded.address, "
      "updated_at = excluded.updated_at",
      {h.household_id, h.resident_id, h.display_name, h.county, h.township, h.village, h.risk_class,
       hub, h.address, now_ms, now_ms, now_ms});
  db_.exec("DELETE FROM contacts WHERE household_id = ?", {h.household_id});
  for (const auto& c : h.contacts) {
    db_.exec(
        "INSERT INTO contacts (household_id, contact_id, role, name, phone) VALUES (?, ?, ?, ?, "
        "?)",
        {h.household_id, c.contact_id, c.role, c.name, c.phone});
  }
  if (!h.hub_id.empty()) {
    db_.exec(
        "INSERT INTO hubs (hub_id, household_id) VALUES (?, ?) ON CONFLICT (hub_id) DO UPDATE "
        "SET household_id = excluded.household_id",
        {h.hub_id, h.household_id});
  }
}

void Store::audit(std::int64_t at_ms, const std::string& username, const std::string& action,
                  const std::string& target, const std::vector<std::string>& ids,
                  const std::string& detail) {
  db_.exec(
      "INSERT INTO audit_log (audit_id, at, username, action, target, ids, detail) VALUES (?, ?, "
      "?, ?, ?, ?, ?)",
      {random_id(), at_ms, username, action, target, nlohmann::json(ids).dump(), detail});
}

}  // namespace homesafe::township
