#pragma once
// Builds the notifiers the hub config needs besides MQTT: HTTP webhooks (generic SMS/voice
// provider, WeCom and DingTalk group robots) and the SMS modem.

#include <map>
#include <memory>
#include <string>

#include "homesafe/gateway/config.hpp"
#include "homesafe/gateway/notify/notifier.hpp"

namespace homesafe::gateway::notify {

// Channel type -> notifier, for every channel type some contact uses. `on_sms_reply` receives
// replies to the modem's messages (on the modem's thread).
std::map<std::string, std::unique_ptr<Notifier>> make_channel_notifiers(const HubConfig& config,
                                                                        ReplyHandler on_sms_reply);

}  // namespace homesafe::gateway::notify
