#include "homesafe/gateway/notify/channels.hpp"

#include <set>

#include "homesafe/gateway/log.hpp"
#include "homesafe/gateway/notify/sms_modem.hpp"
#include "homesafe/gateway/notify/township_notifier.hpp"
#include "homesafe/gateway/notify/webhook.hpp"

namespace homesafe::gateway::notify {

std::map<std::string, std::unique_ptr<Notifier>> make_channel_notifiers(const HubConfig& config,
                                                                        ReplyHandler on_sms_reply,
                                                                        Store* store,
                                                                        const Clock* clock) {
  std::set<std::string> used;
  for (const auto& contact : config.contacts) {
    for (const auto& channel : contact.channels) used.insert(channel.type);
  }
  std::map<std::string, std::unique_ptr<Notifier>> out;
  for (const char* type : {"webhook", "wecom", "dingtalk"}) {
    if (used.count(type) == 0) continue;
    WebhookOptions options;
    options.channel = type;
    options.request_timeout = config.notify.webhook.timeout;
    options.max_attempts = config.notify.webhook.attempts;
    options.ca_file = config.notify.webhook.ca_file;
    if (std::string_view(type) == "dingtalk") {
      if (!config.notify.webhook.dingtalk_secret_file.empty()) {
        options.dingtalk_secret = read_secret_file(config.notify.webhook.dingtalk_secret_file);
      }
    }
    out[type] = std::make_unique<WebhookNotifier>(options);
  }
  if (used.count("sms") != 0 && config.notify.modem) {
    SmsModemOptions options;
    options.device = config.notify.modem->device;
    options.baud = config.notify.modem->baud;
    out["sms"] = std::make_unique<SmsModemNotifier>(options, std::move(on_sms_reply));
  }
  if (used.count("township") != 0 && store != nullptr && clock != nullptr) {
    out["township"] = std::make_unique<TownshipNotifier>(*store, *clock);
  }
  for (const auto& [type, notifier] : out) log::info("notifier ready: {}", type);
  return out;
}

}  // namespace homesafe::gateway::notify
