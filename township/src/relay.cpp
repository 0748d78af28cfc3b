#include "homesafe/township/relay.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "homesafe/gateway/labels.hpp"
#include "homesafe/gateway/notify/link.hpp"
#include "homesafe/gateway/notify/webhook.hpp"
#include "homesafe/rules/alert_kind.hpp"
#include "homesafe/township/log.hpp"

namespace homesafe::township {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxText = 70;
constexpr std::size_t kMaxVillage = 12;
constexpr std::size_t kMaxName = 10;
constexpr std::size_t kMaxLocation = 8;

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// The first `max` code points of UTF-8 text.
std::string utf8_prefix(const std::string& text, std::size_t max) {
  std::size_t points = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_continuation(text[i])) continue;
    if (points == max) return text.substr(0, i);
    ++points;
  }
  return text;
}

std::string text_or_empty(const json& body, const char* key) {
  const auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// ISO 8601 local time with its offset, e.g. 2026-11-01T08:00:00+08:00.
std::string local_iso(std::int64_t ms, int offset_minutes) {
  std::int64_t second_of_day =
      ((ms + static_cast<std::int64_t>(offset_minutes) * 60'000) / 1000) % 86'400;
  if (second_of_day < 0) second_of_day += 86'400;
  const int offset = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  return fmt::format("{}T{:02}:{:02}:{:02}{}{:02}:{:02}", local_date(ms, offset_minutes),
                     second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60,
                     offset_minutes < 0 ? '-' : '+', offset / 60, offset % 60);
}

}  // namespace

std::size_t utf8_length(const std::string& text) {
  std::size_t points = 0;
  for (char c : text) {
    if (!is_continuation(c)) ++points;
  }
  return points;
}

bool store_relay(Db& db, const Event& e, std::int64_t now_ms) {
  const json& b = e.body;
  return db.exec(
             "INSERT INTO relays (household_id, notification_id, event_id, alert_id, contact_id, "
             "role, kind, severity, device, location, opened_at, step, repeat_no, state, "
             "attempts, error, created_at, settled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
             "?, ?, 'pending', 0, NULL, ?, NULL) ON CONFLICT (household_id, notification_id) DO "
             "NOTHING",
             {e.household, b.at("notification_id").get<std::string>(), e.event_id,
              b.at("alert_id").get<std::string>(), b.at("contact_id").get<std::string>(),
              b.at("role").get<std::string>(), b.at("kind").get<std::string>(),
              b.at("severity").get<std::string>(), text_or_empty(b, "device"),
              text_or_empty(b, "location"), b.at("opened_at").get<std::int64_t>(),
              b.at("step").get<std::int64_t>(), b.at("repeat").get<std::int64_t>(), now_ms}) > 0;
}

std::string relay_text(const Household& household, const std::string& kind,
                       const std::string& location, std::int64_t opened_at_ms,
                       int utc_offset_minutes) {
  std::string label = "报警";
  if (const auto parsed = rules::alert_kind_from_string(kind)) {
    label = std::string(gateway::zh_label(*parsed));
  }
  const std::string date = local_date(opened_at_ms, utc_offset_minutes);
  const int month = std::stoi(date.substr(5, 2));
  const int day = std::stoi(date.substr(8, 2));
  std::int64_t minute_of_day =
      ((opened_at_ms + static_cast<std::int64_t>(utc_offset_minutes) * 60'000) / 60'000) % 1440;
  if (minute_of_day < 0) minute_of_day += 1440;
  std::string text = "【平安守护】";
  if (!household.village.empty()) text += utf8_prefix(household.village, kMaxVillage) + " ";
  text += utf8_prefix(household.display_name, kMaxName) + " ";
  text += utf8_prefix(location, kMaxLocation) + label;
  text += fmt::format("（{}月{}日{:02}:{:02}），请尽快查看。", month, day, minute_of_day / 60,
                      minute_of_day % 60);
  return utf8_prefix(text, kMaxText);
}

std::string relay_webhook_template() {
  std::string tmpl(gateway::notify::default_template("webhook"));
  const auto text_field = tmpl.find("  \"text\":");
  tmpl.insert(text_field, "  \"phone\": \"{{phone}}\",\n");
  return tmpl;
}

struct RelaySender::Delivery {
  std::string household;
  std::string notification_id;
  std::mutex mutex;
  std::size_t outstanding = 0;  // guarded by mutex
  bool ok = false;
  int attempts = 0;
  std::vector<std::string> errors;
};

RelaySender::RelaySender(Store& store, const Clock& clock, std::mutex& state_mutex,
                         std::vector<RelayTarget> targets, int utc_offset_minutes)
    : store_(store),
      clock_(clock),
      state_mutex_(state_mutex),
      utc_offset_minutes_(utc_offset_minutes),
      targets_(std::move(targets)) {}

RelaySender::~RelaySender() {
  stopping_ = true;
  targets_.clear();
}

std::size_t RelaySender::in_flight() const {
  std::lock_guard lock(flight_mutex_);
  return in_flight_.size();
}

int RelaySender::poll() {
  struct Work {
    std::string household;
    std::string notification_id;
    gateway::notify::Notification notification;
  };
  std::vector<Work> work;
  int settled = 0;
  {
    std::lock_guard state(state_mutex_);
    Db& db = store_.db();
    const auto rows = db.query(
        "SELECT household_id, notification_id, alert_id, contact_id, role, kind, severity, "
        "location, opened_at, step, repeat_no FROM relays WHERE state = 'pending' ORDER BY "
        "created_at, household_id, notification_id LIMIT 100");
    for (const auto& row : rows) {
      const std::string household_id = row.text(0);
      const std::string notification_id = row.text(1);
      {
        std::lock_guard lock(flight_mutex_);
        if (in_flight_.contains({household_id, notification_id})) continue;
      }
      const auto household = store_.household(household_id);
      const Contact* contact = nullptr;
      if (household) {
        for (const auto& c : household->contacts) {
          if (c.contact_id != row.text(3)) continue;
          if (contact == nullptr || c.role == row.text(4)) contact = &c;
        }
      }
      if (contact == nullptr || targets_.empty()) {
        const std::string error =
            contact == nullptr ? "unknown contact" : "no relay channel configured";
        Transaction tx(db);
        db.exec(
            "UPDATE relays SET state = 'failed', error = ?, settled_at = ? WHERE household_id = "
            "? AND notification_id = ?",
            {error, clock_.now_ms(), household_id, notification_id});
        tx.commit();
        ++failed_total_;
        ++settled;
        log_warn(fmt::format("relay {} of household {} to contact {}: {} (relays failed {})",
                             notification_id, household_id, row.text(3), error,
                             failed_total_.load()));
        continue;
      }
      gateway::notify::Notification n;
      n.notification_id = notification_id;
      n.alert_id = row.text(2);
      n.household_id = household_id;
      n.contact_id = contact->contact_id;
      n.role = contact->role;
      n.kind = row.text(5);
      n.severity = row.text(6);
      n.location = row.text(7);
      n.step = static_cast<int>(row.integer(9));
      n.repeat = static_cast<int>(row.integer(10));
      n.ts = local_iso(row.integer(8), utc_offset_minutes_);
      n.text =
          relay_text(*household, row.text(5), row.text(7), row.integer(8), utc_offset_minutes_);
      n.phone = contact->phone;
      if (!link_secret_.empty() && !link_base_url_.empty() && !household->hub_id.empty()) {
        n.link = gateway::notify::link_url(
            link_base_url_, gateway::notify::link_key_for_hub(link_secret_, household->hub_id),
            n.alert_id, n.contact_id);
        if (!n.link.empty()) n.text += " " + n.link;
      }
      work.push_back({household_id, notification_id, std::move(n)});
    }
  }
  for (auto& item : work) {
    auto delivery = std::make_shared<Delivery>();
    delivery->household = item.household;
    delivery->notification_id = item.notification_id;
    delivery->outstanding = targets_.size();
    {
      std::lock_guard lock(flight_mutex_);
      in_flight_.insert({item.household, item.notification_id});
    }
    log_info(fmt::format("relay {} of household {} to contact {} on {} channel(s)",
                         item.notification_id, item.household, item.notification.contact_id,
                         targets_.size()));
    for (auto& target : targets_) {
      gateway::notify::Notification n = item.notification;
      n.channel = std::string(target.notifier->channel());
      n.address = target.url;
      target.notifier->send(
          n, [this, delivery, channel = n.channel](const gateway::notify::DeliveryResult& result) {
            bool last = false;
            {
              std::lock_guard lock(delivery->mutex);
              delivery->ok = delivery->ok || result.ok;
              delivery->attempts += std::max(result.attempts, 1);
              if (!result.ok) delivery->errors.push_back(channel + ": " + result.error);
              last = --delivery->outstanding == 0;
            }
            if (last) settle(delivery);
          });
    }
    ++settled;
  }
  return settled;
}

void RelaySender::settle(const std::shared_ptr<Delivery>& delivery) {
  if (!stopping_) {
    std::string error;
    for (const auto& e : delivery->errors) error += (error.empty() ? "" : "; ") + e;
    try {
      record(delivery->household, delivery->notification_id, delivery->ok, delivery->attempts,
             error);
    } catch (const std::exception& e) {
      log_error(fmt::format("relay {}: recording the outcome failed: {}", delivery->notification_id,
                            e.what()));
    }
  }
  std::lock_guard lock(flight_mutex_);
  in_flight_.erase({delivery->household, delivery->notification_id});
}

void RelaySender::record(const std::string& household, const std::string& notification_id, bool ok,
                         int attempts, const std::string& error) {
  {
    std::lock_guard state(state_mutex_);
    Db& db = store_.db();
    Transaction tx(db);
    db.exec(
        "UPDATE relays SET state = ?, attempts = attempts + ?, error = ?, settled_at = ? WHERE "
        "household_id = ? AND notification_id = ?",
        {std::string(ok ? "sent" : "failed"), std::int64_t{attempts},
         error.empty() ? Value{nullptr} : Value{error}, clock_.now_ms(), household,
         notification_id});
    tx.commit();
  }
  if (ok) {
    ++sent_total_;
    log_info(fmt::format("relay {} of household {}: sent{}", notification_id, household,
                         error.empty() ? "" : " (" + error + ")"));
  } else {
    ++failed_total_;
    log_warn(fmt::format("relay {} of household {}: failed: {} (relays failed {})", notification_id,
                         household, error, failed_total_.load()));
  }
}

}  // namespace homesafe::township
