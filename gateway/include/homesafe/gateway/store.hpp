#pragma once
// The hub's SQLite store: alerts with their history, rule state, device events and bounded
// telemetry. WAL mode; alert changes are committed with synchronous=FULL before anything is
// published about them. The schema is versioned with forward migrations (PRAGMA user_version).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "homesafe/gateway/alert.hpp"
#include "homesafe/gateway/clock.hpp"
#include "homesafe/gateway/wal_checkpointer.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace homesafe::gateway {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TelemetryRow {
  std::int64_t ts_ms = 0;
  std::string device_id;
  std::string capability;
  std::optional<double> number;  // numbers and booleans (0/1)
  std::string text;              // strings
};

struct DeviceEventRow {
  std::int64_t ts_ms = 0;
  std::string device_id;
  std::string event;  // "self_test", "call_action", ...
  std::string detail;
};

// The persisted progress of one alert's escalation ladder.
struct EscalationRow {
  std::string alert_id;
  int next_step = 0;     // index of the next step to fire (== steps.size(): reminders)
  int repeats_done = 0;  // reminders of the last step sent so far
  std::int64_t opened_wall_ms = 0;
  std::int64_t opened_mono_ms = 0;  // valid only within the boot named by boot_id
  std::string boot_id;
  std::int64_t last_fired_offset_ms = 0;  // offset from opening of the last step fired
  bool active = true;
};

// The delivery record of one notification.
struct NotificationRow {
  std::string notification_id;
  std::string alert_id;
  std::string contact_id;
  std::string role;
  std::string channel;
  int step = 0;
  int repeat = 0;
  std::string text;
  std::int64_t created_at_ms = 0;
  std::string state = "pending";  // pending | sent | failed | acknowledged
  int attempts = 0;
  std::string last_error;
  std::optional<std::int64_t> finished_at_ms;
};

// One event waiting in the outbox for the township's acknowledgement (docs/uplink.md).
struct OutboxRow {
  std::int64_t seq = 0;
  std::string event_id;  // HUB/EPOCH/SEQ
  std::string type;      // alert, alert_event, notification, device_health, daily_summary, ...
  int priority = 1;      // 0 alarm, 1 alert, 2 device health, 3 summary
  std::int64_t ts_ms = 0;
  bool clock_synced = true;
  std::string body;  // JSON object
  std::int64_t bytes = 0;
};

struct OutboxStats {
  std::int64_t events = 0;
  std::int64_t bytes = 0;
  std::optional<std::int64_t> oldest_ts_ms;
  std::int64_t dropped = 0;  // dropped by the size cap since the store was created
};

// Who the outbox events are from (the envelope is added when an event is sent).
struct OutboxIdentity {
  std::string hub_id;
  std::string household_id;
};

// A downlink command that was applied (idempotency record).
struct CommandRecord {
  std::string command_id;
  bool ok = false;
  std::string error;
  std::int64_t applied_at_ms = 0;
};

enum class Durability {
  full,    // synchronous=FULL: survives power loss at commit (alerts, escalation)
  normal,  // synchronous=NORMAL: may lose the last commits on power loss (telemetry)
};

class Store {
 public:
  static constexpr int kSchemaVersion = 4;

  // Opens (creating if needed) and migrates. Throws StoreError with a clear message.
  // `schema_version` stops the migrations earlier: for tests that need a store as an older
  // gateway left it (the store's methods expect kSchemaVersion).
  explicit Store(const std::string& path, int schema_version = kSchemaVersion);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  int schema_version();

  // A full or failing disk. Once enabled (the daemon does, after start-up), a statement that fails
  // because the file cannot be written (SQLITE_FULL, SQLITE_IOERR) no longer throws: the failure
  // is counted, the statement acts as if it changed nothing, the rest of its transaction still
  // runs (reads work; writes that fail too are skipped), and the transaction is rolled back
  // instead of committed. The caller's in-memory state goes on, so an alarm is still notified
  // when it cannot be stored. Sequences (next_sequence) never hand out a number twice, even when
  // the write that recorded it was lost.
  void tolerate_write_failures(bool on) { tolerate_write_failures_ = on; }
  // Transactions (and statements outside one) lost to a storage failure so far.
  std::uint64_t failed_commits() const { return failed_commits_; }
  // Whether the last transaction was lost (rolled back instead of committed).
  bool last_commit_failed() const { return last_commit_failed_; }
  // SQLite's message for the last storage failure ("database or disk is full", ...).
  const std::string& last_write_error() const { return last_write_error_; }

  // Checkpoints from a thread of its own instead of inside the commit that fills the WAL (see
  // WalCheckpointer); the daemon does this, so that no alarm's commit waits for a checkpoint.
  // Does nothing for an in-memory store. Throws StoreError if the second connection fails.
  // `completed` is called on the checkpointer's thread after each complete checkpoint.
  void checkpoint_in_background(WalCheckpointer::Limits limits = {},
                                std::function<void()> completed = {});
  // A tiny commit (synchronous=NORMAL) that starts the WAL over after a complete checkpoint, so
  // that the fsync of the WAL's new header is this commit's and not the next alarm's. Does nothing
  // inside a transaction or while writes fail.
  void restart_wal();
  // SQLite's synchronous level on this connection now (PRAGMA synchronous: 1 NORMAL, 2 FULL).
  int synchronous_level();
  // The background checkpointer, once started (counters for tests and statistics).
  const WalCheckpointer* checkpointer() const { return checkpointer_.get(); }

  // RAII transaction: commits on commit(), rolls back if destroyed without. A transaction begun
  // while another is open joins it: its commit() does nothing, and destroying it without commit
  // makes the outer commit() roll back and throw. A joining transaction has the outer one's
  // durability (SQLite cannot change it inside a transaction). Between transactions the store
  // is at FULL: a NORMAL transaction switches back when it ends, so that the next alarm's
  // transaction does not pay for the switch (SQLite parses a PRAGMA again on every run).
  class Transaction {
   public:
    Transaction(Store& store, Durability durability);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

   private:
    Store& store_;
    bool done_ = false;
    bool nested_ = false;
  };

  // Meta values (counters, ids).
  std::optional<std::string> get_meta(const std::string& key);
  void set_meta(const std::string& key, const std::string& value);
  void erase_meta(const std::string& key);
  // Returns the next value of a persistent counter (1, 2, ...). Call inside a transaction.
  std::int64_t next_sequence(const std::string& name);

  // Alerts.
  void save_alert(const AlertRecord& alert, bool publish_pending = true);
  void append_alert_event(const AlertEvent& event);
  std::optional<AlertRecord> find_alert(const std::string& alert_id);
  std::vector<AlertRecord> active_alerts();
  // Active alerts plus the most recent resolved ones, newest first.
  std::vector<AlertRecord> recent_alerts(int limit);
  std::vector<AlertEvent> alert_events(const std::string& alert_id);
  std::vector<AlertRecord> unpublished_alerts();
  // Marks the alert's state as published if it was not changed again since `updated_at_ms`.
  void mark_published(const std::string& alert_id, std::int64_t updated_at_ms);

  // Rule state (key -> value; nullopt erases).
  void put_rule_state(const std::string& key, const std::optional<std::string>& value);
  std::vector<std::pair<std::string, std::string>> load_rule_state();
  // Replaces every rule state entry with `all` (after lost commits). Call inside a transaction.
  void replace_rule_state(const std::vector<std::pair<std::string, std::string>>& all);

  // Escalation ladders.
  void save_escalation(const EscalationRow& row);
  std::vector<EscalationRow> active_escalations();

  // Notifications and their delivery record.
  void add_notification(const NotificationRow& row);  // as pending; ignores a known id
  void record_delivery(const std::string& notification_id, const std::string& state, int attempts,
                       const std::string& error, std::int64_t at_ms);
  void mark_notifications_acknowledged(const std::string& alert_id, const std::string& contact_id);
  std::vector<NotificationRow> notifications(const std::string& alert_id);
  std::vector<NotificationRow> pending_notifications();
  // The newest notification on a channel to a contact whose alert is still active.
  std::optional<NotificationRow> latest_notification_to(const std::string& contact_id,
                                                        const std::string& channel);

  // The uplink outbox (docs/uplink.md). Once enabled, every alert state change, handling record,
  // notification outcome and device-health change is written to the outbox by the same call
  // (and so in the same transaction) that records it. Disabled: nothing is written.
  void enable_outbox(OutboxIdentity identity, const Clock& clock);
  bool outbox_enabled() const { return outbox_clock_ != nullptr; }
  // The 8 hex digits chosen when the store was created (or migrated to version 3).
  std::string uplink_epoch();
  // Appends one event; call inside a transaction. Returns its event id. Works also when the
  // automatic outbox is not enabled (for the forwarder's own events).
  std::string add_outbox_event(const std::string& type, int priority, const std::string& body,
                               const Instant& now);
  // The oldest events of the lowest priority numbers first, at most `limit`.
  std::vector<OutboxRow> outbox_next(std::int64_t limit);
  // Deletes an acknowledged event; false if it was not (any longer) in the outbox.
  bool delete_outbox_event(const std::string& event_id);
  OutboxStats outbox_stats();
  // Enforces the size cap: deletes the oldest priority-3 events, then priority-2 ones, while
  // the outbox holds more than `max_rows` events or `max_bytes` bytes; never priority 0 or 1.
  // Counts the dropped events (OutboxStats::dropped) and returns how many were dropped now.
  std::int64_t trim_outbox(std::int64_t max_rows, std::int64_t max_bytes);

  // Downlink commands already applied.
  std::optional<CommandRecord> find_command(const std::string& command_id);
  void record_command(const CommandRecord& record);

  // Device history and telemetry.
  void add_device_event(const DeviceEventRow& row);
  std::vector<DeviceEventRow> device_events(const std::string& device_id, int limit);
  void add_telemetry(const std::vector<TelemetryRow>& rows);
  std::int64_t telemetry_count();
  // Deletes rows older than `older_than_ms` and the oldest rows beyond `max_rows`. Returns the
  // number of rows deleted.
  std::int64_t prune_telemetry(std::int64_t older_than_ms, std::int64_t max_rows);
  // Telemetry with from_ms <= ts < to_ms of the given capability, oldest first.
  std::vector<TelemetryRow> telemetry_between(std::int64_t from_ms, std::int64_t to_ms,
                                              const std::string& capability);
  // A device's newest reading of a capability before `before_ms`.
  std::optional<TelemetryRow> last_telemetry(const std::string& device_id,
                                             const std::string& capability, std::int64_t before_ms);
  // When a device last sent anything before `before_ms`.
  std::optional<std::int64_t> last_seen(const std::string& device_id, std::int64_t before_ms);
  // Alerts opened in [from_ms, to_ms), oldest first.
  std::vector<AlertRecord> alerts_opened_between(std::int64_t from_ms, std::int64_t to_ms);
  // Alerts open (not yet resolved) at `at_ms`.
  std::vector<AlertRecord> alerts_active_at(std::int64_t at_ms);

 private:
  class Statement;
  // A statement failed with `rc`; true if it is a storage failure to be tolerated (recorded).
  bool tolerated_write_failure(int rc, const char* message);
  void exec(const char* sql);
  Statement& statement(const char* sql);
  int pragma_int(const char* sql);  // the one integer a PRAGMA returns
  void migrate(int target);
  void set_durability(Durability durability);
  void back_to_full_durability() noexcept;  // after a transaction ends; see Transaction
  // The automatic outbox rows (no-ops when the outbox is not enabled).
  void outbox_alert_changed(const AlertRecord& alert);
  void outbox_alert_event(const AlertEvent& event);
  void outbox_notification(const std::string& notification_id);

  std::string path_;
  sqlite3* db_ = nullptr;
  std::vector<std::pair<const char*, std::unique_ptr<Statement>>> statements_;
  Durability current_durability_ = Durability::full;
  int transaction_depth_ = 0;
  bool rollback_only_ = false;
  bool tolerate_write_failures_ = false;
  bool transaction_write_failed_ = false;
  bool last_commit_failed_ = false;
  std::uint64_t failed_commits_ = 0;
  std::string last_write_error_;
  std::map<std::string, std::int64_t> sequence_floor_;  // the last number handed out, per name
  OutboxIdentity outbox_identity_;
  const Clock* outbox_clock_ = nullptr;
  std::optional<std::string> epoch_;
  std::unique_ptr<WalCheckpointer> checkpointer_;  // stopped before the connection closes
};

}  // namespace homesafe::gateway
