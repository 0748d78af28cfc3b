#include "homesafe/gateway/notify/channels.hpp"

#include "homesafe/gateway/log.hpp"

namespace homesafe::gateway::notify {

std::map<std::string, std::unique_ptr<Notifier>> make_channel_notifiers(
    const HubConfig& /*config*/, ReplyHandler /*on_sms_reply*/) {
  // Wired to the webhook and modem notifiers as they land.
  return {};
}

}  // namespace homesafe::gateway::notify
