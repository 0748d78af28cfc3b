#include "homesafe/gateway/escalation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "homesafe/gateway/log.hpp"
#include "homesafe/gateway/notify/link.hpp"
#include "homesafe/gateway/notify/message_text.hpp"

namespace homesafe::gateway {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

constexpr std::string_view kResident = "resident";
constexpr std::string_view kDeviceCommand = "device_command";

EscalationPolicy policy(std::optional<rules::Severity> severity, std::vector<EscalationStep> steps,
                        std::optional<milliseconds> repeat) {
  EscalationPolicy p;
  p.severity = severity;
  p.steps = std::move(steps);
  p.repeat = repeat;
  return p;
}

}  // namespace

std::vector<EscalationPolicy> default_escalation_policies(const HubConfig& config) {
  std::vector<EscalationPolicy> out;
  out.push_back(policy(rules::Severity::emergency,
                       {{minutes(0), {"caregiver"}},
                        {minutes(3), {"emergency_contact"}},
                        {minutes(6), {"duty_desk"}}},
                       minutes(5)));
  out.push_back(policy(rules::Severity::warning,
                       {{minutes(0), {"caregiver"}},
                        {minutes(15), {"emergency_contact"}},
                        {minutes(30), {"duty_desk"}}},
                       minutes(15)));
  const bool has_installer = std::any_of(config.contacts.begin(), config.contacts.end(),
                                         [](const auto& c) { return c.role == Role::installer; });
  auto maintenance =
      policy(rules::Severity::info, {{minutes(0), {has_installer ? "installer" : "caregiver"}}},
             std::chrono::hours(24));
  maintenance.hours = HoursWindow{8 * 60, 20 * 60};  // never at night
  out.push_back(std::move(maintenance));
  // Anything else (a severity added later): the caregiver, reminded hourly.
  out.push_back(policy(std::nullopt, {{minutes(0), {"caregiver"}}}, std::chrono::hours(1)));
  return out;
}

std::string notification_id(const std::string& alert_id, int step, int repeat,
                            const std::string& contact_id, const std::string& channel) {
  return fmt::format("{}-s{}r{}-{}-{}", alert_id, step, repeat, contact_id, channel);
}

Escalator::Escalator(const HubConfig& config, Store& store, const rules::TimeZone& zone,
                     std::string boot_id)
    : config_(config), store_(store), zone_(zone), boot_id_(std::move(boot_id)) {
  build_policies();
  if (config_.uplink && !config_.uplink->link_key_file.empty()) {
    std::ifstream in(config_.uplink->link_key_file);
    std::string key;
    if (in) std::getline(in, key);
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
    if (key.size() < 32) {
      log::warn(
          "uplink: link key file {} unreadable or too short: messages go out without "
          "one-tap links",
          config_.uplink->link_key_file);
    } else {
      link_key_ = std::move(key);
    }
  }
}

void Escalator::build_policies() {
  policies_ = config_.escalation;
  for (auto& p : default_escalation_policies(config_)) policies_.push_back(std::move(p));
  if (config_.checkin) {
    resident_.id = std::string(kResident);
    resident_.channels.push_back({std::string(kDeviceCommand), config_.checkin->topic});
    for (const auto& p : policies_) {
      EscalationPolicy with_checkin = p;
      with_checkin.steps = {{milliseconds(0), {std::string(kResident)}}};
      for (auto step : p.steps) {
        step.after += config_.checkin->wait;
        with_checkin.steps.push_back(std::move(step));
      }
      checkin_policies_.push_back(std::move(with_checkin));
    }
  }
}

void Escalator::reconfigure(const rules::Instant& /*now*/) {
  policies_.clear();
  checkin_policies_.clear();
  resident_ = ContactConfig{};
  build_policies();
  for (auto it = ladders_.begin(); it != ladders_.end();) {
    Ladder& ladder = it->second;
    ladder.policy = &policy_for(ladder.alert);
    ladder.postponed_until_mono.reset();  // worked out again against the new hours
    if (ladder.alert.state == AlertState::acknowledged &&
        ladder.policy->until == StopWhen::acknowledged) {
      ladder.row.active = false;
      store_.save_escalation(ladder.row);
      log::info("escalation of {} stopped (acknowledged; new policy)", ladder.alert.alert_id);
      it = ladders_.erase(it);
      continue;
    }
    ++it;
  }
  log::info("escalation: policies replaced; {} running ladders continue at their next step",
            ladders_.size());
}

const EscalationPolicy& Escalator::policy_for(const AlertRecord& alert) const {
  const bool checkin = !checkin_policies_.empty() && rules::is_person_related(alert.kind);
  for (std::size_t i = 0; i < policies_.size(); ++i) {
    if (policies_[i].matches(alert.kind, alert.severity)) {
      return checkin ? checkin_policies_[i] : policies_[i];
    }
  }
  return checkin ? checkin_policies_.back() : policies_.back();  // the catch-all default
}

bool Escalator::in_checkin(const std::string& alert_id) const {
  auto it = ladders_.find(alert_id);
  if (it == ladders_.end() || checkin_policies_.empty()) return false;
  const auto* first = &checkin_policies_.front();
  const bool checkin_policy =
      it->second.policy >= first && it->second.policy < first + checkin_policies_.size();
  return checkin_policy && it->second.row.next_step == 1;
}

void Escalator::load(const std::map<std::string, AlertRecord>& alerts, const rules::Instant& now) {
  ladders_.clear();
  for (auto& row : store_.active_escalations()) {
    auto alert = alerts.find(row.alert_id);
    if (alert == alerts.end()) continue;  // resolved meanwhile
    Ladder ladder;
    ladder.alert = alert->second;
    ladder.policy = &policy_for(ladder.alert);
    if (row.boot_id != boot_id_) {
      // Another boot: the monotonic clock started again. Estimate the time since opening from
      // the wall clock when it is trusted, never less than the progress already made (so no
      // step is skipped and none fires early a second time).
      std::int64_t elapsed = row.last_fired_offset_ms;
      if (now.wall_synced && now.wall_ms > row.opened_wall_ms) {
        elapsed = std::max(elapsed, now.wall_ms - row.opened_wall_ms);
      }
      row.opened_mono_ms = now.mono_ms - elapsed;
      row.boot_id = boot_id_;
    }
    ladder.row = row;
    ladders_.emplace(row.alert_id, std::move(ladder));
  }
  if (!ladders_.empty()) log::info("escalation: {} ladders resumed", ladders_.size());
}

std::vector<const ContactConfig*> Escalator::recipients(const EscalationStep& step) const {
  std::vector<const ContactConfig*> contacts;
  for (const auto& target : step.notify) {
    if (target == kResident && !resident_.channels.empty()) {
      contacts.push_back(&resident_);
      continue;
    }
    const auto role = role_from_string(target);
    for (const auto& contact : config_.contacts) {
      const bool wanted = role ? contact.role == *role : contact.id == target;
      if (wanted && !contact.channels.empty() &&
          std::find(contacts.begin(), contacts.end(), &contact) == contacts.end()) {
        contacts.push_back(&contact);
      }
    }
  }
  return contacts;
}

std::vector<notify::Notification> Escalator::notifications_for(const AlertRecord& alert,
                                                               const EscalationStep& step,
                                                               int step_index, int repeat,
                                                               const rules::Instant& now) {
  const auto contacts = recipients(step);
  const notify::MessageContext context{config_.notify, config_.household.name, zone_};
  std::vector<notify::Notification> out;
  for (const ContactConfig* contact : contacts) {
    for (const auto& channel : contact->channels) {
      notify::Notification n;
      n.notification_id =
          notification_id(alert.alert_id, step_index, repeat, contact->id, channel.type);
      n.alert_id = alert.alert_id;
      n.household_id = config_.household.id;
      n.contact_id = contact->id;
      const bool resident = contact == &resident_;
      n.role = resident ? std::string(kResident) : std::string(to_string(contact->role));
      n.channel = channel.type;
      n.address = channel.address;
      n.step = step_index;
      n.repeat = repeat;
      n.kind = std::string(rules::to_string(alert.kind));
      n.severity = std::string(rules::to_string(alert.severity));
      n.location = alert.location;
      n.ts = zone_.format_iso(alert.opened_at_ms);
      n.text = resident ? config_.checkin->payload
                        : notify::render_message(context, alert, channel.type, repeat);
      // People who may go and look get the one-tap link (not a voice call, not the resident).
      if (!resident && !link_key_.empty() && channel.type != "voice" &&
          (contact->role == Role::caregiver || contact->role == Role::emergency_contact)) {
        n.link =
            notify::link_url(config_.uplink->link_base_url, link_key_, alert.alert_id, contact->id);
        if (!n.link.empty()) n.text += " " + n.link;
      }
      NotificationRow row;
      row.notification_id = n.notification_id;
      row.alert_id = n.alert_id;
      row.contact_id = n.contact_id;
      row.role = n.role;
      row.channel = n.channel;
      row.step = step_index;
      row.repeat = repeat;
      row.text = n.text;
      row.created_at_ms = now.wall_ms;
      store_.add_notification(row);
      out.push_back(std::move(n));
    }
  }
  return out;
}

void Escalator::on_alert_opened(const AlertRecord& alert, const rules::Instant& now,
                                std::vector<notify::Notification>& out) {
  Ladder ladder;
  ladder.alert = alert;
  ladder.policy = &policy_for(alert);
  ladder.row.alert_id = alert.alert_id;
  ladder.row.opened_wall_ms = now.wall_ms;
  ladder.row.opened_mono_ms = now.mono_ms;
  ladder.row.boot_id = boot_id_;
  auto [it, inserted] = ladders_.insert_or_assign(alert.alert_id, std::move(ladder));
  fire_due(it->second, now, out);
  if (ladders_.count(alert.alert_id) != 0) store_.save_escalation(it->second.row);
}

void Escalator::on_alert_changed(const AlertRecord& alert, const rules::Instant& /*now*/) {
  auto it = ladders_.find(alert.alert_id);
  if (it == ladders_.end()) return;
  it->second.alert = alert;
  const bool stop =
      alert.state == AlertState::resolved || (alert.state == AlertState::acknowledged &&
                                              it->second.policy->until == StopWhen::acknowledged);
  if (!stop) return;
  it->second.row.active = false;
  store_.save_escalation(it->second.row);
  log::info("escalation of {} stopped ({})", alert.alert_id, to_string(alert.state));
  ladders_.erase(it);
}

std::optional<std::int64_t> Escalator::next_offset(const Ladder& ladder) const {
  const auto& steps = ladder.policy->steps;
  if (static_cast<std::size_t>(ladder.row.next_step) < steps.size()) {
    return steps[static_cast<std::size_t>(ladder.row.next_step)].after.count();
  }
  if (!ladder.policy->repeat || steps.empty()) return std::nullopt;
  return steps.back().after.count() +
         static_cast<std::int64_t>(ladder.row.repeats_done + 1) * ladder.policy->repeat->count();
}

std::optional<std::int64_t> Escalator::due_mono(const Ladder& ladder) const {
  auto offset = next_offset(ladder);
  if (!offset) return std::nullopt;
  std::int64_t due = ladder.row.opened_mono_ms + *offset;
  if (ladder.postponed_until_mono) due = std::max(due, *ladder.postponed_until_mono);
  return due;
}

bool Escalator::outside_hours(const Ladder& ladder, const rules::Instant& now,
                              std::int64_t& wait_ms) const {
  const auto& hours = ladder.policy->hours;
  if (!hours || ladder.alert.severity == rules::Severity::emergency) return false;
  const std::int64_t ms_of_day = zone_.local_ms_of_day(now.wall_ms);
  const int minute = static_cast<int>(ms_of_day / 60'000);
  if (hours->contains(minute)) return false;
  std::int64_t until_start = static_cast<std::int64_t>(hours->from_minute) * 60'000 - ms_of_day;
  if (until_start <= 0) until_start += 86'400'000;
  wait_ms = until_start;
  return true;
}

void Escalator::fire_due(Ladder& ladder, const rules::Instant& now,
                         std::vector<notify::Notification>& out) {
  const auto& steps = ladder.policy->steps;
  for (;;) {
    auto due = due_mono(ladder);
    if (!due || *due > now.mono_ms) return;
    std::int64_t wait_ms = 0;
    if (outside_hours(ladder, now, wait_ms)) {
      ladder.postponed_until_mono = now.mono_ms + wait_ms;
      return;
    }
    ladder.postponed_until_mono.reset();
    const std::int64_t elapsed = now.mono_ms - ladder.row.opened_mono_ms;
    if (static_cast<std::size_t>(ladder.row.next_step) < steps.size()) {
      const int index = ladder.row.next_step;
      const auto& step = steps[static_cast<std::size_t>(index)];
      auto created = notifications_for(ladder.alert, step, index, 0, now);
      if (created.empty())
        log::warn("escalation of {}: step {} reaches nobody", ladder.alert.alert_id, index);
      for (auto& n : created) out.push_back(std::move(n));
      ladder.row.last_fired_offset_ms = step.after.count();
      ++ladder.row.next_step;
      continue;  // every overdue step fires, in order
    }
    // Reminders of the last step: one now, however many intervals were missed.
    const std::int64_t last = steps.back().after.count();
    const std::int64_t interval = ladder.policy->repeat->count();
    const int repeats_due = static_cast<int>((elapsed - last) / interval);
    const int repeat = std::max(ladder.row.repeats_done + 1, repeats_due);
    auto created = notifications_for(ladder.alert, steps.back(), static_cast<int>(steps.size()) - 1,
                                     repeat, now);
    for (auto& n : created) out.push_back(std::move(n));
    ladder.row.repeats_done = repeat;
    ladder.row.last_fired_offset_ms = last + static_cast<std::int64_t>(repeat) * interval;
  }
}

void Escalator::on_tick(const rules::Instant& now, std::vector<notify::Notification>& out) {
  for (auto& [id, ladder] : ladders_) {
    const auto before = std::pair(ladder.row.next_step, ladder.row.repeats_done);
    fire_due(ladder, now, out);
    if (std::pair(ladder.row.next_step, ladder.row.repeats_done) != before) {
      store_.save_escalation(ladder.row);
    }
  }
}

std::optional<std::int64_t> Escalator::next_deadline_mono_ms() const {
  std::optional<std::int64_t> next;
  for (const auto& [id, ladder] : ladders_) {
    if (auto due = due_mono(ladder)) next = next ? std::min(*next, *due) : *due;
  }
  return next;
}

}  // namespace homesafe::gateway
