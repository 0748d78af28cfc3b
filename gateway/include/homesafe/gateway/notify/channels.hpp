#pragma once
// Builds the notifiers the hub config needs besides MQTT: HTTP webhooks (generic SMS/voice
// provider, WeCom and DingTalk group robots) and the SMS modem.

#include <map>
#include <memory>
#include <string>

#include "homesafe/gateway/clock.hpp"
#include "homesafe/gateway/config.hpp"
#include "homesafe/gateway/notify/notifier.hpp"
#include "homesafe/gateway/store.hpp"

namespace homesafe::gateway::notify {

// Channel type -> notifier, for every channel type some contact uses. `on_sms_reply` receives
// replies to the modem's messages (on the modem's thread). The `township` channel (a relay event
// in the uplink outbox) needs the hub's store and clock; without them it gets no notifier.
std::map<std::string, std::unique_ptr<Notifier>> make_channel_notifiers(
    const HubConfig& config, ReplyHandler on_sms_reply, Store* store = nullptr,
    const Clock* clock = nullptr);

}  // namespace homesafe::gateway::notify
