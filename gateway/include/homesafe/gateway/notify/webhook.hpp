#pragma once
// The HTTP webhook notifier: POSTs a JSON body rendered from a per-channel template to the URL in
// Notification::address (a generic SMS/voice provider, a WeCom group robot, a DingTalk group
// robot), over TLS when the URL is https://, with timeouts and retries with backoff. It runs on
// its own thread and io_context: `send` never blocks. See docs/notifiers-webhook.md.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "homesafe/gateway/notify/notifier.hpp"

namespace homesafe::gateway::notify {

struct WebhookOptions {
  // "webhook" (generic provider), "wecom" or "dingtalk": picks the body template and how the
  // answer is read (WeCom and DingTalk answer HTTP 200 with {"errcode": N, ...}).
  std::string channel = "webhook";
  // Resolving, TCP connect and TLS handshake must finish within connect_timeout; the whole
  // attempt (connect, request, response) within request_timeout.
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{10000};
  // Attempts per notification, the first one included.
  int max_attempts = 5;
  // Delay before attempt n+1: initial_backoff * 2^(n-1), at most max_backoff, ±25 % jitter. A
  // Retry-After (seconds) in the answer replaces it.
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{60000};
  // PEM file of trusted CAs; empty: the system store.
  std::string ca_file;
  // Verify the server certificate and its host name. Off only for tests and lab setups.
  bool verify_tls = true;
  // DingTalk robots with "加签" security: the secret (SEC...). Empty: URLs are used unsigned.
  std::string dingtalk_secret;
  // When set, the body template is read from <template_dir>/<channel>.json (the file must
  // exist); otherwise the compiled-in default (the same as gateway/notify-templates/) is used.
  std::string template_dir;
  // When set (and template_dir is not), the body template itself; for programs that build their
  // templates in code (the township's relay).
  std::string template_text;
};

// A template or option that cannot work: thrown by the constructors below, at load time.
class WebhookConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A JSON body template with {{placeholder}} fields (spaces inside the braces are allowed):
// notification_id, alert_id, household_id, contact_id, role, channel, kind, severity, location,
// ts, text, phone (inserted JSON-escaped, for use inside a JSON string) and step, repeat
// (numbers). `phone` is empty at the hub; the township's relay fills it.
// The address is deliberately not available: it is the URL, which may carry an access key.
class BodyTemplate {
 public:
  // Throws WebhookConfigError on an unknown or unterminated placeholder, or when the template
  // does not render to valid JSON.
  explicit BodyTemplate(std::string_view text);

  std::string render(const Notification& notification) const;

 private:
  enum class Field {
    none,
    notification_id,
    alert_id,
    household_id,
    contact_id,
    role,
    channel,
    kind,
    severity,
    location,
    ts,
    text,
    phone,
    step,
    repeat
  };
  struct Part {
    std::string literal;  // text before the field
    Field field = Field::none;
  };
  std::vector<Part> parts_;
};

// Renders `tmpl` for `notification` (parses it first: throws WebhookConfigError like above).
std::string render_template(std::string_view tmpl, const Notification& notification);

// The compiled-in template of "webhook", "wecom" or "dingtalk"; empty for any other channel.
std::string_view default_template(std::string_view channel);

// The template the notifier uses for `options` (template_dir or the default). Throws
// WebhookConfigError; usable by check-config.
BodyTemplate load_body_template(const WebhookOptions& options);

// DingTalk signing: url-encoded base64(HMAC-SHA256(secret, "<timestamp_ms>\n<secret>")).
std::string dingtalk_sign(std::string_view secret, std::int64_t timestamp_ms);
// `url` with "&timestamp=<ms>&sign=<dingtalk_sign>" appended ('?' if it has no query yet).
std::string dingtalk_signed_url(std::string_view url, std::string_view secret,
                                std::int64_t timestamp_ms);

class WebhookNotifier final : public Notifier {
 public:
  // Throws WebhookConfigError for an unknown channel, bad numbers or a bad template, and
  // std::runtime_error if ca_file cannot be loaded. Starts the notifier's thread.
  explicit WebhookNotifier(WebhookOptions options);
  // Returns promptly even with deliveries in flight: it stops the thread, then calls `done` of
  // every unfinished send with {ok=false, retryable=true, error="notifier stopped"} on the
  // destroying thread. (Exception: a DNS lookup blocked in getaddrinfo is waited for.)
  ~WebhookNotifier() override;
  WebhookNotifier(const WebhookNotifier&) = delete;
  WebhookNotifier& operator=(const WebhookNotifier&) = delete;

  std::string_view channel() const override;
  // Thread-safe; returns at once. `done` runs once, on the notifier's thread (or in the
  // destructor, see above).
  void send(const Notification& notification,
            std::function<void(const DeliveryResult&)> done) override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace homesafe::gateway::notify
