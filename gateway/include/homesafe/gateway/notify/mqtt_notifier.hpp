#pragma once
// Notifications on homesafe/<H>/notify (QoS 1), for a caregiver app or the township service.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "homesafe/gateway/mqtt_client.hpp"
#include "homesafe/gateway/notify/notifier.hpp"

namespace homesafe::gateway::notify {

// The JSON form shared by the MQTT notifier and replay output: {"type": "notification", "ts",
// "notification_id", "alert_id", "recipient", "role", "channel", "step", "repeat", ...}.
// The address (phone number, URL) is never included.
nlohmann::ordered_json notification_to_json(const Notification& notification,
                                            const std::string& ts);

class MqttNotifier final : public Notifier {
 public:
  using Publish = std::function<void(const MqttMessage&, std::function<void(bool)>)>;
  using Now = std::function<std::string()>;  // ISO 8601 local time for the "ts" field

  MqttNotifier(std::string topic, Publish publish, Now now)
      : topic_(std::move(topic)), publish_(std::move(publish)), now_(std::move(now)) {}

  std::string_view channel() const override { return "mqtt"; }
  void send(const Notification& notification,
            std::function<void(const DeliveryResult&)> done) override;

 private:
  std::string topic_;
  Publish publish_;
  Now now_;
};

// The check-in command to a device in the home (a chime, a speaker, the call button's LED): the
// notification's text is published as is to its address (the command topic), QoS 1.
class DeviceCommandNotifier final : public Notifier {
 public:
  DeviceCommandNotifier(MqttNotifier::Publish publish, bool retain)
      : publish_(std::move(publish)), retain_(retain) {}

  std::string_view channel() const override { return "device_command"; }
  void send(const Notification& notification,
            std::function<void(const DeliveryResult&)> done) override;

 private:
  MqttNotifier::Publish publish_;
  bool retain_;
};

}  // namespace homesafe::gateway::notify
