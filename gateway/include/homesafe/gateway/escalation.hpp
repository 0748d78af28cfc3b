#pragma once
// Escalation ladders: caregiver -> emergency contacts -> township duty desk, reminders of the
// last step, until someone acknowledges (or resolves). Ladders live in SQLite with the alert:
// after a kill -9 or a power cut the next step fires at its due time (at once if overdue), no
// step is skipped, and no notification is created twice (its id is derived from alert, step,
// repeat, recipient and channel). Due times are on the monotonic clock; a wall-clock jump
// neither fires nor delays a step.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "homesafe/gateway/alert.hpp"
#include "homesafe/gateway/config.hpp"
#include "homesafe/gateway/notify/notifier.hpp"
#include "homesafe/gateway/store.hpp"
#include "homesafe/rules/rule.hpp"
#include "homesafe/rules/time_zone.hpp"

namespace homesafe::gateway {

// The built-in policies (after the configured ones): emergencies to the caregiver at once, the
// emergency contacts after 3 minutes and the duty desk after 6, reminders every 5 minutes;
// warnings slower; maintenance (info) to the installer (or the caregiver) in the daytime only.
std::vector<EscalationPolicy> default_escalation_policies(const HubConfig& config);

// "<alert>-s<step>r<repeat>-<contact>-<channel>"
std::string notification_id(const std::string& alert_id, int step, int repeat,
                            const std::string& contact_id, const std::string& channel);

class Escalator {
 public:
  Escalator(const HubConfig& config, Store& store, const rules::TimeZone& zone,
            std::string boot_id);

  // Loads the active ladders of `alerts` (the active alerts) from the store.
  void load(const std::map<std::string, AlertRecord>& alerts, const rules::Instant& now);

  // Within the caller's transaction. Notifications created are appended to `out` and stored as
  // pending; the caller sends them after the commit.
  void on_alert_opened(const AlertRecord& alert, const rules::Instant& now,
                       std::vector<notify::Notification>& out);
  void on_alert_changed(const AlertRecord& alert, const rules::Instant& now);
  void on_tick(const rules::Instant& now, std::vector<notify::Notification>& out);

  // The config's escalation policies changed (a township config patch): every running ladder
  // continues under the policy that now matches its alert, at its next step (the steps already
  // fired are not repeated; a step of the new policy that is already due fires at the next
  // on_tick). A ladder whose alert is acknowledged and whose new policy stops there ends now.
  // Within the caller's transaction.
  void reconfigure(const rules::Instant& now);

  std::optional<std::int64_t> next_deadline_mono_ms() const;
  // Whether the alert is in its check-in stage: the resident was asked and nobody else yet.
  bool in_checkin(const std::string& alert_id) const;
  const std::vector<EscalationPolicy>& policies() const { return policies_; }
  const EscalationPolicy& policy_for(const AlertRecord& alert) const;
  std::size_t active_count() const { return ladders_.size(); }

  // Builds the notification records of one step for one alert (exposed for tests and replay).
  std::vector<notify::Notification> notifications_for(const AlertRecord& alert,
                                                      const EscalationStep& step, int step_index,
                                                      int repeat, const rules::Instant& now);

 private:
  struct Ladder {
    AlertRecord alert;
    const EscalationPolicy* policy = nullptr;
    EscalationRow row;
    std::optional<std::int64_t> postponed_until_mono;  // outside the policy's hours
  };

  void build_policies();
  std::vector<const ContactConfig*> recipients(const EscalationStep& step) const;
  std::optional<std::int64_t> next_offset(const Ladder& ladder) const;
  std::optional<std::int64_t> due_mono(const Ladder& ladder) const;
  void fire_due(Ladder& ladder, const rules::Instant& now, std::vector<notify::Notification>& out);
  bool outside_hours(const Ladder& ladder, const rules::Instant& now, std::int64_t& wait_ms) const;

  const HubConfig& config_;
  std::string link_key_;  // this hub's one-tap link key; empty: no links
  Store& store_;
  const rules::TimeZone& zone_;
  std::string boot_id_;
  std::vector<EscalationPolicy> policies_;  // configured, then defaults
  // With a check-in configured: each policy with the check-in first and its steps `wait` later
  // (used for person-related alerts).
  std::vector<EscalationPolicy> checkin_policies_;
  ContactConfig resident_;                 // the recipient of the check-in command
  std::map<std::string, Ladder> ladders_;  // alert id -> active ladder
};

}  // namespace homesafe::gateway
