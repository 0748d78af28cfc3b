#pragma once
// Hub messages in: validate, check the hub against the registry, store in one transaction, and
// say which ack to publish (after the commit). Also watches for silent hubs.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "homesafe/township/clock.hpp"
#include "homesafe/township/store.hpp"

namespace homesafe::township {

struct IngestOptions {
  // A hub is silent after this long without a heartbeat or an event (3 × 5 min + 5 min).
  std::int64_t silence_allowance_ms = 20 * 60'000;
  // Local time of the township (for visit dates), minutes east of UTC.
  int utc_offset_minutes = 8 * 60;
  // Each batch adds its counts (stored, duplicates, rejected) to this row of `ingest_stats`, in
  // the batch's own transaction. Empty: no row.
  std::string stats_instance;
  // PostgreSQL: each batch (and hub silence check) NOTIFYs kChangesChannel with what it changed,
  // inside its transaction, so API processes learn of it on commit. The origin names this process
  // (it skips its own notices). Empty: no NOTIFY. Nothing on SQLite.
  std::string notify_origin;
  // Fault hook for tests (HOMESAFE_TOWNSHIP_FAULT_HOLD_COMMIT_MS): sleep this long after a
  // batch's statements and before its COMMIT.
  std::chrono::milliseconds hold_commit{0};
};

struct Outgoing {
  std::string topic;
  std::string payload;
};

// What changed for the console's live feed: alert ids and households whose health changed.
struct Changes {
  std::set<std::string> alerts;
  std::set<std::string> health;  // household ids
  bool empty() const { return alerts.empty() && health.empty(); }
  void merge(Changes&& other) {
    alerts.merge(other.alerts);
    health.merge(other.health);
  }
};

enum class IngestOutcome { kStored, kDuplicate, kAccepted, kRejected };

struct IngestResult {
  IngestOutcome outcome = IngestOutcome::kRejected;
  std::string reason;           // for kRejected
  std::optional<Outgoing> ack;  // publish (QoS 1) after handle() returned
};

struct IngestMessage {
  std::string topic;
  std::string payload;
};

struct IngestBatchResult {
  std::vector<IngestResult> results;  // one per message, in order (each with its own ack)
  std::vector<Outgoing> acks;         // the same acks grouped: one message per hub
};

class Ingest {
 public:
  Ingest(Store& store, const Clock& clock, IngestOptions options = {});

  // Handles one message from the township broker. Never throws for bad input; a database error
  // propagates (the message is then not acknowledged and the hub sends it again).
  IngestResult handle(const std::string& topic, const std::string& payload);
  // Handles messages in one transaction (a refused message undoes only its own part, through a
  // savepoint); publish the acks only after this returned, i.e. after the commit. A deadlock or
  // a lost database connection runs the batch again (up to 5 times); a database error after
  // that propagates and nothing is acknowledged.
  IngestBatchResult handle_batch(const std::vector<IngestMessage>& messages);

  // Raises `hub_silent` for every hub past its allowance that has none open. Returns the hub ids
  // that became silent now.
  std::vector<std::string> check_silence();

  // What changed since the last call (for the live feed).
  Changes take_changes() { return std::exchange(changes_, {}); }

  std::uint64_t rejected_total() const { return rejected_total_; }
  const std::map<std::string, std::uint64_t>& rejected_by_reason() const { return rejected_; }
  std::uint64_t stored_total() const { return stored_total_; }
  std::uint64_t duplicate_total() const { return duplicate_total_; }

 private:
  // One message's outcome inside the batch's transaction; applied to counters, logs and the
  // live feed only once the batch committed.
  struct Pending {
    IngestOutcome outcome = IngestOutcome::kRejected;
    std::string reason;
    std::string hub;
    std::string event_id;  // events: what to ack
    Changes changes;
    std::string log;
  };

  IngestResult reject(const std::string& topic, std::string reason);
  Pending process(const IngestMessage& message, std::int64_t now);
  // The hub spoke: last_seen and the end of a hub_silent alert (inside the caller's transaction).
  void hub_spoke(const std::string& hub, const std::string& household, std::int64_t now,
                 Pending& pending);

  Store& store_;
  const Clock& clock_;
  IngestOptions options_;
  std::int64_t started_at_;
  std::uint64_t rejected_total_ = 0;
  std::uint64_t stored_total_ = 0;
  std::uint64_t duplicate_total_ = 0;
  std::map<std::string, std::uint64_t> rejected_;
  Changes changes_;
};

// Whether an uplink event's payload is an alarm (`priority` 0, docs/uplink.md): what the alarm
// watchers store. False for anything unparsable.
bool is_alarm_event(const std::string& payload);

// The PostgreSQL channel of change notices (NOTIFY/LISTEN).
inline constexpr const char* kChangesChannel = "homesafe_changes";
// What `origin` changed as NOTIFY payloads, each under PostgreSQL's 8000-byte limit.
std::vector<std::string> change_notices(const std::string& origin, const Changes& changes);
struct ChangeNotice {
  std::string origin;
  Changes changes;
};
std::optional<ChangeNotice> parse_change_notice(const std::string& payload);
// NOTIFY kChangesChannel with `changes` (inside the caller's transaction: delivered on commit).
// Does nothing on SQLite or when there is nothing to say.
void notify_changes(Db& db, const std::string& origin, const Changes& changes);

// Text of the safety aspect (居家安全隐患) of a remote-monitoring visit from a daily summary.
std::string safety_from_summary(const nlohmann::json& body);

}  // namespace homesafe::township
