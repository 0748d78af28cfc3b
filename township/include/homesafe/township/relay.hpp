#pragma once
// Relayed notifications (docs/township.md, "Relay"): a hub asks the township to notify a caregiver
// or emergency contact (a `relay` event, docs/uplink.md). Ingest stores the request in `relays`;
// the RelaySender looks the contact up in the registry, renders the zh-CN text itself and sends it
// through the configured channels (the hub's webhook notifier: generic webhook, WeCom, DingTalk),
// then records the outcome in the same row.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "homesafe/gateway/notify/notifier.hpp"
#include "homesafe/township/clock.hpp"
#include "homesafe/township/messages.hpp"
#include "homesafe/township/store.hpp"

namespace homesafe::township {

// Stores a validated `relay` event as a pending relay (inside the caller's transaction). A relay
// of a notification already known for the household is ignored. Returns true when stored.
bool store_relay(Db& db, const Event& event, std::int64_t now_ms);

// The zh-CN message, at most 70 characters, e.g.
// 【平安守护】一村 3组 王奶奶 厨房烟雾报警（11月1日07:01），请尽快查看。
std::string relay_text(const Household& household, const std::string& kind,
                       const std::string& location, std::int64_t opened_at_ms,
                       int utc_offset_minutes);

// Number of Unicode code points of UTF-8 text.
std::size_t utf8_length(const std::string& text);

// One configured channel: a notifier and the URL it posts to.
struct RelayTarget {
  std::unique_ptr<gateway::notify::Notifier> notifier;
  std::string url;
};

// The body template of the generic webhook for relays: the hub's webhook template plus the
// contact's phone number (for an SMS gateway).
std::string relay_webhook_template();

class RelaySender {
 public:
  // `state_mutex` guards `store` (the service's state mutex); the sender takes it itself.
  RelaySender(Store& store, const Clock& clock, std::mutex& state_mutex,
              std::vector<RelayTarget> targets, int utc_offset_minutes);
  // Stops the notifiers; relays still in flight stay pending and are sent after a restart.
  ~RelaySender();
  // Relayed messages to caregivers and contacts then end with their one-tap link
  // (docs/console.md), signed with the hub's key derived from `secret`.
  void set_links(std::string public_url, std::string secret) {
    link_base_url_ = std::move(public_url);
    link_secret_ = std::move(secret);
  }
  RelaySender(const RelaySender&) = delete;
  RelaySender& operator=(const RelaySender&) = delete;

  // Starts the delivery of every pending relay not already in flight. Call without holding the
  // state mutex. Returns the number of relays started or settled.
  int poll();

  std::int64_t sent_total() const { return sent_total_; }
  std::int64_t failed_total() const { return failed_total_; }
  std::size_t in_flight() const;

 private:
  struct Delivery;
  void settle(const std::shared_ptr<Delivery>& delivery);
  void record(const std::string& household, const std::string& notification_id, bool ok,
              int attempts, const std::string& error);

  Store& store_;
  const Clock& clock_;
  std::mutex& state_mutex_;
  int utc_offset_minutes_;
  std::string link_base_url_;
  std::string link_secret_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex flight_mutex_;
  std::set<std::pair<std::string, std::string>> in_flight_;  // guarded by flight_mutex_
  std::atomic<std::int64_t> sent_total_{0};
  std::atomic<std::int64_t> failed_total_{0};
  std::vector<RelayTarget> targets_;  // last: destroyed first
};

}  // namespace homesafe::township
