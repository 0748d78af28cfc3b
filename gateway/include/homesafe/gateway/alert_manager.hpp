#pragma once
// The alert lifecycle: open -> acknowledged -> resolved (or open -> resolved when the condition
// clears by itself, for kinds where that is safe). Repeats of a condition join its open alert.
// Every change is written to the store by the caller's transaction.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "homesafe/gateway/alert.hpp"
#include "homesafe/gateway/config.hpp"
#include "homesafe/gateway/store.hpp"
#include "homesafe/rules/rule.hpp"

namespace homesafe::gateway {

struct AlertChange {
  AlertRecord alert;
  std::string event;  // opened, acknowledged, resolved, condition_cleared
};

enum class AckAction { ack, resolve };

struct AckRequest {
  std::string alert_id;
  std::string by;  // contact id
  AckAction action = AckAction::ack;
  std::string note;
  std::string channel;  // mqtt, cli, sms, button, township ...
};

enum class AckOutcome { applied, already_done, unknown_alert, unknown_contact };
std::string_view to_string(AckOutcome outcome);

class AlertManager {
 public:
  AlertManager(const HubConfig& config, Store& store);

  // Loads the active alerts from the store (at start).
  void load();

  // Applies one rule event. Call inside a store transaction; appends what changed.
  void apply(const rules::RuleEvent& event, const rules::Instant& now,
             std::vector<AlertChange>& changes);

  // Applies an acknowledgement or resolution. Call inside a store transaction.
  AckOutcome acknowledge(const AckRequest& request, const rules::Instant& now,
                         std::vector<AlertChange>& changes);

  // Resolves an active alert on the gateway's own authority (e.g. the resident answered the
  // check-in). Call inside a store transaction.
  bool resolve_by_system(const std::string& alert_id, const std::string& note,
                         const rules::Instant& now, std::vector<AlertChange>& changes);

  const std::map<std::string, AlertRecord>& active() const { return active_; }
  // The open or acknowledged alert for a condition, if any.
  const AlertRecord* find_active(rules::AlertKind kind, const std::string& device_id) const;

 private:
  AlertRecord& open_alert(const rules::RuleEvent& event, const rules::Instant& now,
                          std::vector<AlertChange>& changes);
  void record(AlertRecord& alert, const std::string& event, const rules::Instant& now,
              const std::string& by, const std::string& channel, const std::string& note,
              std::vector<AlertChange>& changes);
  static std::string condition_key(rules::AlertKind kind, const std::string& device_id);

  const HubConfig& config_;
  Store& store_;
  std::map<std::string, AlertRecord> active_;        // alert id -> alert
  std::map<std::string, std::string> by_condition_;  // condition key -> alert id
};

}  // namespace homesafe::gateway
