#pragma once
// The hub's state and its pipeline, from one MQTT message to persisted alerts:
//   topic -> device (router) -> driver decode -> input checks -> rules -> alert lifecycle ->
//   store (committed) -> output (published / printed).
// Single-threaded: the daemon calls it only from its io_context thread; replay calls it in
// virtual time. It performs no network I/O of its own.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "homesafe/drivers/driver.hpp"
#include "homesafe/gateway/alert_manager.hpp"
#include "homesafe/gateway/config.hpp"
#include "homesafe/gateway/config_override.hpp"
#include "homesafe/gateway/escalation.hpp"
#include "homesafe/gateway/notify/notifier.hpp"
#include "homesafe/gateway/storage_monitor.hpp"
#include "homesafe/gateway/store.hpp"
#include "homesafe/gateway/topics.hpp"
#include "homesafe/rules/engine.hpp"
#include "homesafe/rules/time_zone.hpp"

namespace homesafe::gateway {

// Where the hub's results go: MQTT in the daemon, JSON lines in replay.
class HubOutput {
 public:
  virtual ~HubOutput() = default;
  // Called after the change is committed.
  virtual void alert_changed(const AlertChange& change, const rules::Instant& now) = 0;
  // A notification to deliver (committed as pending); report the outcome with
  // Hub::record_delivery.
  virtual void notification_created(const notify::Notification& notification,
                                    const rules::Instant& now) = 0;
};

struct Subscription {
  std::string filter;
  int qos = 0;
};

// Counts rejected input per device and reason; tells when a log line is due (at most one a
// minute per device and reason).
class InputErrors {
 public:
  static constexpr std::int64_t kLogIntervalMs = 60'000;

  void count(const std::string& device, const std::string& reason, std::int64_t mono_ms);
  std::int64_t total(const std::string& device, const std::string& reason) const;
  std::int64_t total() const;
  const auto& counters() const { return counters_; }

 private:
  struct Counter {
    std::int64_t total = 0;
    std::int64_t since_log = 0;
    std::optional<std::int64_t> last_log_mono_ms;
  };
  std::map<std::pair<std::string, std::string>, Counter> counters_;
};

class Hub {
 public:
  static constexpr std::size_t kMaxPayloadBytes = 16 * 1024;
  static constexpr std::size_t kTelemetryBatch = 512;

  // `boot_id` names this boot of the machine (monotonic times persisted under another boot
  // are not comparable).
  Hub(const HubConfig& config, Store& store, HubOutput& output, rules::TimeZone time_zone,
      std::string boot_id = "virtual");

  // `config` is copied: a township config patch changes the hub's rules and escalation. When
  // the store holds such an override (config_override.hpp), it is merged into the config here;
  // one that no longer validates against the file is ignored with an error in the log.
  // Loads rule state, active alerts and escalation ladders from the store.
  void start(const rules::Instant& now);

  // A township config patch (docs/uplink-hub.md): a JSON object with `rules` and/or
  // `escalation` only, merged into the file's sections after the patches accepted before and
  // validated by the config loader. When valid it is added to the store's override (in the
  // caller's transaction, or its own) and takes effect at once: the rules start again with the
  // new settings (their state, the rule clock and away mode continue) and running escalation
  // ladders continue at their next step under the policy that now matches. Returns the loader's
  // messages, joined, when it is refused (nothing changed); empty when applied.
  std::string apply_config_patch(const std::string& patch, const std::string& command_id,
                                 const rules::Instant& now);
  // The township config patches in effect (0: the file's rules and escalation).
  std::size_t config_patches() const { return config_patches_; }

  const HubConfig& config() const { return config_; }
  const Topics& topics() const { return topics_; }
  const rules::TimeZone& time_zone() const { return time_zone_; }

  // What to subscribe to. Alarm-class devices at QoS 1.
  std::vector<Subscription> subscriptions() const;
  // Whether a message on this topic must be committed before the broker is acknowledged.
  // Safe to call from any thread (reads immutable data).
  bool is_alarm_topic(std::string_view topic) const;

  void on_message(std::string_view topic, std::string_view payload, const rules::Instant& now);
  // An acknowledgement or resolution from the ack topic (JSON per DESIGN.md).
  AckOutcome on_ack_message(std::string_view payload, const rules::Instant& now);
  AckOutcome acknowledge(const AckRequest& request, const rules::Instant& now);
  // An SMS reply from a phone number: "1" (or 确认/收到/好/ok) acknowledges the newest active
  // alert that was sent to that number.
  AckOutcome on_sms_reply(const std::string& from, const std::string& text,
                          const rules::Instant& now);
  // The outcome of a notification the output was asked to deliver.
  void record_delivery(const std::string& notification_id, const notify::DeliveryResult& result,
                       int attempts, const rules::Instant& now);
  // Notifications committed but never confirmed delivered (after a crash): to send again, with
  // the same ids.
  std::vector<notify::Notification> pending_notifications();
  void on_tick(const rules::Instant& now);
  std::optional<std::int64_t> next_deadline_mono_ms() const;

  // Away mode (外出/住院): person-related rules pause until `until_wall_ms`; hazards never do.
  // `by` is a contact id (or "cli"); recorded in the household's history.
  void set_away(std::int64_t until_wall_ms, const std::string& by, const std::string& note,
                const rules::Instant& now);
  void end_away(const std::string& by, const rules::Instant& now);
  std::optional<std::int64_t> away_until_wall_ms() const { return engine_.away_until_wall_ms(); }
  // Alerts not raised on purpose, by "kind/reason" (flaps, away, too short ...).
  std::map<std::string, std::int64_t> suppressed() const { return engine_.suppressed(); }

  // Writes buffered telemetry (the daemon calls it every second; replay at the end).
  void flush_telemetry();
  // For a store that does not outlive this run (a replay into memory): what only a restart
  // would read (rule state) and what nothing reads (telemetry) is not written. Rules, alerts and
  // escalation are unaffected.
  void set_ephemeral_store(bool ephemeral) { ephemeral_ = ephemeral; }
  // Applies the telemetry retention limits.
  std::int64_t prune_telemetry(const rules::Instant& now);
  // Storage health (the daemon calls it every few seconds, with the free space now and then):
  // raises or clears the hub's `storage_full` alert, and once writes work again after failures,
  // writes the rule state and active alerts kept in memory meanwhile.
  void check_storage(std::optional<std::uint64_t> free_bytes, const rules::Instant& now);
  const StorageMonitor& storage() const { return storage_; }
  // Telemetry rows lost to failed commits (a full disk).
  std::uint64_t telemetry_rows_dropped() const { return telemetry_rows_dropped_; }

  // Alert states committed but not yet confirmed published (after a crash or a broker outage).
  std::vector<AlertRecord> pending_publications();
  void mark_published(const std::string& alert_id, std::int64_t updated_at_ms);

  const AlertManager& alerts() const { return alerts_; }
  const Escalator& escalator() const { return escalator_; }
  const InputErrors& input_errors() const { return input_errors_; }
  std::int64_t messages_processed() const { return messages_processed_; }

 private:
  Hub(OverriddenConfig config, Store& store, HubOutput& output, rules::TimeZone time_zone,
      std::string boot_id);

  struct Route {
    const drivers::DeviceConfig* device;
    const drivers::Driver* driver;
  };

  void handle_for_device(const Route& route, std::string_view topic, std::string_view payload,
                         const rules::Instant& now);
  void reject(const std::string& device, drivers::DecodeError error, const std::string& key,
              const rules::Instant& now);
  // Commits the alert changes of `events` with rule state: all pending changes, or with
  // `state_since` only those after that mark (the message's own; the rest waits for the next
  // telemetry flush, within a second).
  void commit_events(const std::vector<rules::RuleEvent>& events, const rules::Instant& now,
                     Durability durability, std::optional<std::uint64_t> state_since = {});
  // Inside a transaction: starts or stops escalation ladders for alert changes.
  void escalate(const std::vector<AlertChange>& changes, const rules::Instant& now,
                std::vector<notify::Notification>& notifications);
  void emit(const std::vector<AlertChange>& changes,
            const std::vector<notify::Notification>& notifications, const rules::Instant& now);
  // A caregiver on site pressed the call button's acknowledge action.
  void acknowledge_on_site(const drivers::DeviceConfig& device, const rules::Instant& now);
  // A sign of life while person-related alerts wait for the resident's answer: resolve them.
  void resident_responded(const rules::Instant& now);
  // Commits rule state changes with a household history line (away mode).
  void commit_household_event(const std::string& detail, const std::string& kind,
                              const rules::Instant& now);
  void buffer_telemetry(const drivers::DeviceConfig& device, const drivers::DecodeResult& decoded,
                        const rules::Instant& now);
  // Inside a transaction: the rule state changed since the last call (or only since the mark).
  void write_rule_state(std::optional<std::uint64_t> since = {});
  // After lost commits, once writes work: writes the rule state and active alerts from memory.
  void resync_after_failures();

  HubConfig config_;
  std::size_t config_patches_ = 0;
  Store& store_;
  HubOutput& output_;
  rules::TimeZone time_zone_;
  Topics topics_;
  rules::HouseholdPtr household_;
  rules::RuleEngine engine_;
  AlertManager alerts_;
  Escalator escalator_;
  // Exact topic -> the devices that read it (several for a shared topic such as an
  // integration's bridge state). Searched by the message's topic as it is, without a copy.
  std::unordered_map<std::string, std::vector<Route>, rules::StringHash, std::equal_to<>> routes_;
  std::vector<TelemetryRow> telemetry_;
  // Numeric readings waiting in telemetry_, by (device, capability): a newer one replaces the
  // waiting one, so the history keeps at most one such row per flush (a second). Cleared at
  // every flush. Unused with storage.telemetry_every_reading.
  std::map<std::pair<const drivers::DeviceConfig*, drivers::Capability>, std::size_t>
      waiting_numbers_;
  InputErrors input_errors_;
  std::int64_t messages_processed_ = 0;
  StorageMonitor storage_;
  bool checking_storage_ = false;
  std::uint64_t resynced_at_failures_ = 0;  // the store's failed_commits at the last resync
  std::uint64_t telemetry_rows_dropped_ = 0;
  bool ephemeral_ = false;
};

}  // namespace homesafe::gateway
