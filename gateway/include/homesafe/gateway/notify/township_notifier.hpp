#pragma once
// The `township` channel: the hub asks the township service to relay a notification to the
// contact's phone (docs/uplink-hub.md). "Delivering" writes one `relay` event to the uplink
// outbox, in a transaction; the notification counts as sent ("handed to the township") once that
// row is committed. The body carries ids only: never the message text, names or phone numbers.
#include <string>

#include "homesafe/gateway/clock.hpp"
#include "homesafe/gateway/notify/notifier.hpp"
#include "homesafe/gateway/store.hpp"

namespace homesafe::gateway::notify {

// The `relay` body for `notification` (docs/uplink.md); device and opened_at come from the
// stored alert (empty and 0 when it is unknown).
std::string relay_body(const Notification& notification, Store& store);
// 0 for emergency alerts, else 1.
int relay_priority(const Notification& notification);

class TownshipNotifier final : public Notifier {
 public:
  // Both must outlive the notifier; `send` must run on the thread that owns the store.
  TownshipNotifier(Store& store, const Clock& clock) : store_(store), clock_(clock) {}
  std::string_view channel() const override { return "township"; }
  // Calls `done` before it returns.
  void send(const Notification& notification,
            std::function<void(const DeliveryResult&)> done) override;

 private:
  Store& store_;
  const Clock& clock_;
};

}  // namespace homesafe::gateway::notify
