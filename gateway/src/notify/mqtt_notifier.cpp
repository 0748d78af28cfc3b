#include "homesafe/gateway/notify/mqtt_notifier.hpp"

namespace homesafe::gateway::notify {

nlohmann::ordered_json notification_to_json(const Notification& n, const std::string& ts) {
  nlohmann::ordered_json j;
  j["type"] = "notification";
  j["ts"] = ts;
  j["notification_id"] = n.notification_id;
  j["alert_id"] = n.alert_id;
  j["household"] = n.household_id;
  j["recipient"] = n.contact_id;
  j["role"] = n.role;
  j["channel"] = n.channel;
  j["step"] = n.step;
  j["repeat"] = n.repeat;
  j["kind"] = n.kind;
  j["severity"] = n.severity;
  j["location"] = n.location;
  j["opened_at"] = n.ts;
  j["text"] = n.text;
  if (!n.link.empty()) j["link"] = n.link;
  return j;
}

namespace {

std::function<void(bool)> report_to(std::function<void(const DeliveryResult&)> done) {
  return [done = std::move(done)](bool ok) {
    DeliveryResult result;
    result.ok = ok;
    if (!ok) result.error = "broker did not accept the publish";
    done(result);
  };
}

}  // namespace

void MqttNotifier::send(const Notification& notification,
                        std::function<void(const DeliveryResult&)> done) {
  const std::string payload = notification_to_json(notification, now_()).dump();
  publish_({topic_, payload, 1, false}, report_to(std::move(done)));
}

void DeviceCommandNotifier::send(const Notification& notification,
                                 std::function<void(const DeliveryResult&)> done) {
  publish_({notification.address, notification.text, 1, retain_}, report_to(std::move(done)));
}

}  // namespace homesafe::gateway::notify
