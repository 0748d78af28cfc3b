#pragma once
// A notifier delivers one notification on one channel (MQTT, HTTP webhook, SMS modem ...).
// Each notifier works on its own: a slow or failing channel never blocks another, nor the
// gateway's event loop. `send` returns at once; `done` is called exactly once, from any thread.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace homesafe::gateway::notify {

struct Notification {
  // Derived from (alert, recipient, channel, step, repeat): a retried send carries the same id,
  // so the receiver can recognise it (idempotency key).
  std::string notification_id;
  std::string alert_id;
  std::string household_id;
  std::string contact_id;
  std::string role;     // caregiver | emergency_contact | duty_desk | installer
  std::string channel;  // mqtt | sms | voice | webhook | wecom | dingtalk
  std::string address;  // phone number or URL from the config; personal data: never logged
  int step = 0;         // 0-based index of the escalation step
  int repeat = 0;       // 0 for the step itself, 1.. for reminders of the last step
  std::string kind;     // alert kind (smoke, call ...)
  std::string severity;
  std::string location;  // room, e.g. 厨房
  std::string ts;        // ISO 8601 local time of the alert's opening
  std::string text;      // the zh-CN message, at most 70 characters (one SMS), then the link
  std::string link;      // the one-tap link for this alert and contact (docs/console.md), or empty
  // The recipient's phone number for a relaying SMS gateway (the township service fills it; the
  // hub leaves it empty). Personal data: never logged.
  std::string phone;
};

struct DeliveryResult {
  bool ok = false;
  bool retryable = true;  // false: retrying cannot help (bad address, rejected by provider)
  std::string error;      // short, without personal data
  int attempts = 0;       // attempts made, when the notifier counts them (0: not counted)
};

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual std::string_view channel() const = 0;
  virtual void send(const Notification& notification,
                    std::function<void(const DeliveryResult&)> done) = 0;
};

// A notifier that can also hear replies (an SMS modem): `on_reply(from_number, text)`, called
// from the notifier's own thread.
using ReplyHandler = std::function<void(const std::string& from, const std::string& text)>;

}  // namespace homesafe::gateway::notify
