#include "homesafe/gateway/notify/township_notifier.hpp"

#include <exception>
#include <nlohmann/json.hpp>

#include "homesafe/gateway/log.hpp"

namespace homesafe::gateway::notify {

std::string relay_body(const Notification& notification, Store& store) {
  std::string device;
  std::int64_t opened_at = 0;
  if (const auto alert = store.find_alert(notification.alert_id)) {
    device = alert->device_id;
    opened_at = alert->opened_at_ms;
  }
  const nlohmann::json body = {
      {"notification_id", notification.notification_id},
      {"alert_id", notification.alert_id},
      {"contact_id", notification.contact_id},
      {"role", notification.role},
      {"kind", notification.kind},
      {"severity", notification.severity},
      {"device", device},
      {"location", notification.location},
      {"opened_at", opened_at},
      {"step", notification.step},
      {"repeat", notification.repeat},
  };
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int relay_priority(const Notification& notification) {
  return notification.severity == "emergency" ? 0 : 1;
}

void TownshipNotifier::send(const Notification& notification,
                            std::function<void(const DeliveryResult&)> done) {
  DeliveryResult result;
  try {
    Store::Transaction transaction(store_, Durability::full);
    const std::string event_id = store_.add_outbox_event(
        "relay", relay_priority(notification), relay_body(notification, store_), clock_.now());
    transaction.commit();
    log::info("township: notification {} handed to the township as {}",
              notification.notification_id, event_id);
    result = {true, false, {}};
  } catch (const std::exception& error) {
    log::error("township: notification {} could not be queued: {}", notification.notification_id,
               error.what());
    result = {false, true, "outbox write failed"};
  }
  if (done) done(result);
}

}  // namespace homesafe::gateway::notify
