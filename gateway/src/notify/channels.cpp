#include "homesafe/gateway/notify/channels.hpp"

#include <fstream>
#include <set>

#include "homesafe/gateway/log.hpp"
#include "homesafe/gateway/notify/sms_modem.hpp"
#include "homesafe/gateway/notify/webhook.hpp"

namespace homesafe::gateway::notify {
namespace {

std::string read_secret(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot read dingtalk_secret_file " + path);
  std::string secret;
  std::getline(file, secret);
  while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ')) secret.pop_back();
  return secret;
}

}  // namespace

std::map<std::string, std::unique_ptr<Notifier>> make_channel_notifiers(const HubConfig& config,
                                                                        ReplyHandler on_sms_reply) {
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
      options.dingtalk_secret = read_secret(config.notify.webhook.dingtalk_secret_file);
    }
    out[type] = std::make_unique<WebhookNotifier>(options);
  }
  if (used.count("sms") != 0 && config.notify.modem) {
    SmsModemOptions options;
    options.device = config.notify.modem->device;
    options.baud = config.notify.modem->baud;
    out["sms"] = std::make_unique<SmsModemNotifier>(options, std::move(on_sms_reply));
  }
  for (const auto& [type, notifier] : out) log::info("notifier ready: {}", type);
  return out;
}

}  // namespace homesafe::gateway::notify
