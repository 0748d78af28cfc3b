#include "homesafe/gateway/notify/webhook.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <type_traits>
#include <utility>

#include "homesafe/gateway/log.hpp"

namespace homesafe::gateway::notify {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The compiled-in templates: byte for byte the files in gateway/notify-templates/ (a test checks).
constexpr std::string_view kWebhookTemplate = R"({
  "id": "{{notification_id}}",
  "alert_id": "{{alert_id}}",
  "household": "{{household_id}}",
  "to": "{{contact_id}}",
  "role": "{{role}}",
  "kind": "{{kind}}",
  "severity": "{{severity}}",
  "location": "{{location}}",
  "ts": "{{ts}}",
  "step": {{step}},
  "repeat": {{repeat}},
  "text": "{{text}}"
}
)";
constexpr std::string_view kWecomTemplate =
    R"({"msgtype": "text", "text": {"content": "{{text}}"}})"
    "\n";
constexpr std::string_view kDingtalkTemplate =
    R"({"msgtype": "text", "text": {"content": "{{text}}"}})"
    "\n";

constexpr std::string_view kUserAgent = "homesafe-gateway";
constexpr std::string_view kContentType = "application/json; charset=utf-8";
// Rate-limit errcodes: the only provider errors worth retrying.
constexpr long long kWecomRateLimited = 45009;
constexpr long long kDingtalkRateLimited = 130101;
// An absurd Retry-After is capped: the escalation ladder must keep moving.
constexpr milliseconds kMaxRetryAfter{10 * 60 * 1000};
constexpr std::uint64_t kMaxResponseBody = 64 * 1024;
constexpr std::size_t kMaxErrmsg = 60;

// A string's JSON encoding without the quotes; invalid UTF-8 becomes U+FFFD.
std::string json_string_contents(const std::string& value) {
  std::string quoted =
      nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

// "line L, column C" of a byte offset, for template errors.
std::string position_of(std::string_view text, std::size_t offset) {
  int line = 1;
  int column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

bool is_known_channel(std::string_view channel) {
  return !default_template(channel).empty();
}

struct Url {
  bool https = false;
  std::string host;         // without IPv6 brackets: for DNS, SNI and certificate checks
  std::string port;         // always set
  std::string host_header;  // the authority as written
  std::string target;       // path and query, at least "/"
};

// http:// and https:// URLs with an optional port, path and query. No user info, no spaces or
// control characters (they would end up in the request line).
std::optional<Url> parse_url(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) return std::nullopt;
  }
  Url url;
  auto starts_with_nocase = [&](std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
    }
    return true;
  };
  if (starts_with_nocase("https://")) {
    url.https = true;
    text.remove_prefix(8);
  } else if (starts_with_nocase("http://")) {
    text.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  if (const auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
  const auto authority_end = text.find_first_of("/?");
  const std::string_view authority = text.substr(0, authority_end);
  const std::string_view rest =
      authority_end == std::string_view::npos ? std::string_view{} : text.substr(authority_end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;

  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return std::nullopt;
  if (authority.back() == ':' || (!port.empty() && port.size() > 5)) return std::nullopt;
  if (!port.empty()) {
    if (!std::all_of(port.begin(), port.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; })) {
      return std::nullopt;
    }
    const int number = std::stoi(std::string(port));
    if (number < 1 || number > 65535) return std::nullopt;
  }
  url.host = std::string(host);
  url.port = port.empty() ? (url.https ? "443" : "80") : std::string(port);
  url.host_header = std::string(authority);
  url.target =
      rest.empty() ? "/" : (rest.front() == '?' ? "/" + std::string(rest) : std::string(rest));
  return url;
}

bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Retry-After in seconds; HTTP dates are not supported (the normal backoff applies).
std::optional<milliseconds> parse_retry_after(std::string_view value) {
  value = trim(value);
  if (value.empty() || value.size() > 7) return std::nullopt;
  if (!std::all_of(value.begin(), value.end(),
                   [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return std::nullopt;
  }
  return std::min(milliseconds{std::stoll(std::string(value)) * 1000}, kMaxRetryAfter);
}

// A provider's errmsg, cut to something short and harmless for logs: printable ASCII, up to the
// first ',' (WeCom and DingTalk append hints, IPs and links after it).
std::string short_errmsg(const nlohmann::json& answer) {
  const auto it = answer.find("errmsg");
  if (it == answer.end() || !it->is_string()) return {};
  std::string out;
  for (char c : it->get_ref<const std::string&>()) {
    if (c == ',' || c == ';' || out.size() >= kMaxErrmsg) break;
    if (c >= 0x20 && c < 0x7f) out.push_back(c);
  }
  return std::string(trim(out));
}

DeliveryResult success() {
  return {true, false, {}};
}
DeliveryResult retryable(std::string error) {
  return {false, true, std::move(error)};
}
DeliveryResult permanent(std::string error) {
  return {false, false, std::move(error)};
}

// One attempt's outcome: the result plus what the retry loop and the log need.
struct Outcome {
  DeliveryResult result;
  int status = 0;  // HTTP status, 0 if no answer
  std::optional<milliseconds> retry_after;
};

Outcome failed(DeliveryResult result) {
  return {std::move(result), 0, std::nullopt};
}

std::string network_error(std::string_view phase, const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return std::string(phase) + " timeout";
  return std::string(phase) + ": " + ec.message();
}

struct Job {
  std::uint64_t sequence = 0;
  Notification notification;
  std::string body;
  std::function<void(const DeliveryResult&)> done;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Templates

BodyTemplate::BodyTemplate(std::string_view text) {
  static const std::map<std::string_view, Field> kFields = {
      {"notification_id", Field::notification_id},
      {"alert_id", Field::alert_id},
      {"household_id", Field::household_id},
      {"contact_id", Field::contact_id},
      {"role", Field::role},
      {"channel", Field::channel},
      {"kind", Field::kind},
      {"severity", Field::severity},
      {"location", Field::location},
      {"ts", Field::ts},
      {"text", Field::text},
      {"phone", Field::phone},
      {"step", Field::step},
      {"repeat", Field::repeat},
  };
  std::size_t position = 0;
  while (true) {
    const auto open = text.find("{{", position);
    if (open == std::string_view::npos) {
      parts_.push_back({std::string(text.substr(position)), Field::none});
      break;
    }
    const auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      throw WebhookConfigError("unterminated placeholder at " + position_of(text, open));
    }
    const std::string_view name = trim(text.substr(open + 2, close - open - 2));
    const auto field = kFields.find(name);
    if (field == kFields.end()) {
      throw WebhookConfigError("unknown placeholder {{" + std::string(name) + "}} at " +
                               position_of(text, open));
    }
    parts_.push_back({std::string(text.substr(position, open - position)), field->second});
    position = close + 2;
  }

  // A string placeholder outside quotes, or a typo in the JSON around it, fails here rather than
  // at 3 a.m. on the provider's side.
  Notification sample;
  sample.notification_id = "h001-000001-li-webhook-0-0";
  sample.alert_id = "h001-000001";
  sample.household_id = "h001";
  sample.contact_id = "li";
  sample.role = "caregiver";
  sample.channel = "webhook";
  sample.kind = "smoke";
  sample.severity = "emergency";
  sample.location = "厨房 \"north\" \\";
  sample.ts = "2026-11-01T07:00:00+08:00";
  sample.text = "【烟雾报警】3组 王奶奶 厨房\n07:00 回复1确认";
  sample.step = 1;
  sample.repeat = 2;
  sample.phone = "+8613800000000";
  if (!nlohmann::json::accept(render(sample))) {
    throw WebhookConfigError(
        "the template does not render to valid JSON (is a text placeholder outside quotes?)");
  }
}

std::string BodyTemplate::render(const Notification& n) const {
  std::string out;
  for (const Part& part : parts_) {
    out += part.literal;
    switch (part.field) {
      case Field::none:
        break;
      case Field::notification_id:
        out += json_string_contents(n.notification_id);
        break;
      case Field::alert_id:
        out += json_string_contents(n.alert_id);
        break;
      case Field::household_id:
        out += json_string_contents(n.household_id);
        break;
      case Field::contact_id:
        out += json_string_contents(n.contact_id);
        break;
      case Field::role:
        out += json_string_contents(n.role);
        break;
      case Field::channel:
        out += json_string_contents(n.channel);
        break;
      case Field::kind:
        out += json_string_contents(n.kind);
        break;
      case Field::severity:
        out += json_string_contents(n.severity);
        break;
      case Field::location:
        out += json_string_contents(n.location);
        break;
      case Field::ts:
        out += json_string_contents(n.ts);
        break;
      case Field::text:
        out += json_string_contents(n.text);
        break;
      case Field::phone:
        out += json_string_contents(n.phone);
        break;
      case Field::step:
        out += std::to_string(n.step);
        break;
      case Field::repeat:
        out += std::to_string(n.repeat);
        break;
    }
  }
  return out;
}

std::string render_template(std::string_view tmpl, const Notification& notification) {
  return BodyTemplate(tmpl).render(notification);
}

std::string_view default_template(std::string_view channel) {
  if (channel == "webhook") return kWebhookTemplate;
  if (channel == "wecom") return kWecomTemplate;
  if (channel == "dingtalk") return kDingtalkTemplate;
  return {};
}

BodyTemplate load_body_template(const WebhookOptions& options) {
  if (!is_known_channel(options.channel)) {
    throw WebhookConfigError("unknown webhook channel \"" + options.channel +
                             "\" (expected webhook, wecom or dingtalk)");
  }
  if (options.template_dir.empty() && !options.template_text.empty()) {
    return BodyTemplate(options.template_text);
  }
  if (options.template_dir.empty()) return BodyTemplate(default_template(options.channel));
  const std::string path = options.template_dir + "/" + options.channel + ".json";
  std::ifstream file(path, std::ios::binary);
  if (!file) throw WebhookConfigError("cannot read body template " + path);
  std::ostringstream content;
  content << file.rdbuf();
  try {
    return BodyTemplate(content.str());
  } catch (const WebhookConfigError& error) {
    throw WebhookConfigError(path + ": " + error.what());
  }
}

// ---------------------------------------------------------------------------------------------
// DingTalk signing

std::string dingtalk_sign(std::string_view secret, std::int64_t timestamp_ms) {
  const std::string message = std::to_string(timestamp_ms) + "\n" + std::string(secret);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(),
           &mac_length) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> base64{};
  const int base64_length =
      EVP_EncodeBlock(base64.data(), mac.data(), static_cast<int>(mac_length));
  std::string encoded;
  for (int i = 0; i < base64_length; ++i) {
    const unsigned char c = base64[static_cast<std::size_t>(i)];
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      encoded.push_back('%');
      encoded.push_back(kHex[c >> 4]);
      encoded.push_back(kHex[c & 0x0f]);
    }
  }
  return encoded;
}

std::string dingtalk_signed_url(std::string_view url, std::string_view secret,
                                std::int64_t timestamp_ms) {
  const auto hash = url.find('#');
  const std::string_view base = url.substr(0, hash);
  std::string out(base);
  out += base.find('?') == std::string_view::npos ? '?' : '&';
  out +=
      "timestamp=" + std::to_string(timestamp_ms) + "&sign=" + dingtalk_sign(secret, timestamp_ms);
  if (hash != std::string_view::npos) out += url.substr(hash);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The notifier

class WebhookNotifier::Impl {
 public:
  explicit Impl(WebhookOptions options)
      : options_(std::move(options)),
        template_(load_body_template(options_)),
        ssl_(asio::ssl::context::tls_client),
        rng_(std::random_device{}()),
        work_(asio::make_work_guard(io_)) {
    SSL_CTX_set_min_proto_version(ssl_.native_handle(), TLS1_2_VERSION);
    if (options_.verify_tls) {
      ssl_.set_verify_mode(asio::ssl::verify_peer);
      try {
        if (options_.ca_file.empty()) {
          ssl_.set_default_verify_paths();
        } else {
          ssl_.load_verify_file(options_.ca_file);
        }
      } catch (const boost::system::system_error& error) {
        throw std::runtime_error(
            "cannot load CA certificates" +
            (options_.ca_file.empty() ? std::string{} : " from " + options_.ca_file) + ": " +
            error.code().message());
      }
    } else {
      ssl_.set_verify_mode(asio::ssl::verify_none);
    }
    thread_ = std::thread([this] { run(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    work_.reset();
    io_.stop();
    thread_.join();
    std::map<std::uint64_t, std::shared_ptr<Job>> unfinished;
    {
      std::lock_guard lock(mutex_);
      unfinished.swap(pending_);
    }
    if (!unfinished.empty()) {
      log::info("{}: stopping with {} notification(s) undelivered", options_.channel,
                unfinished.size());
    }
    for (auto& [sequence, job] : unfinished) call_done(*job, retryable("notifier stopped"));
    // io_ goes next (members are destroyed in reverse order): it destroys the suspended
    // deliveries, their sockets and timers, without running them.
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  const std::string& channel() const { return options_.channel; }

  void send(const Notification& notification, std::function<void(const DeliveryResult&)> done) {
    auto job = std::make_shared<Job>();
    job->notification = notification;
    job->done = std::move(done);
    job->body = template_.render(notification);
    {
      std::unique_lock lock(mutex_);
      if (stopped_) {
        lock.unlock();
        call_done(*job, retryable("notifier stopped"));
        return;
      }
      job->sequence = next_sequence_++;
      pending_.emplace(job->sequence, job);
    }
    asio::post(io_, [this, job] {
      asio::co_spawn(io_, deliver(job), [this, sequence = job->sequence](std::exception_ptr e) {
        if (e) finish(sequence, retryable("internal error"));
      });
    });
  }

 private:
  void run() {
    while (true) {
      try {
        io_.run();
        return;
      } catch (const std::exception& error) {
        log::error("{}: unexpected exception in the notifier thread: {}", options_.channel,
                   error.what());
      }
    }
  }

  static void call_done(Job& job, const DeliveryResult& result) {
    auto done = std::move(job.done);
    job.done = nullptr;
    if (!done) return;
    try {
      done(result);
    } catch (const std::exception& error) {
      log::error("notification {}: the delivery callback threw: {}",
                 job.notification.notification_id, error.what());
    } catch (...) {
      log::error("notification {}: the delivery callback threw", job.notification.notification_id);
    }
  }

  // Removes the job from the pending set and calls its `done`; a second call does nothing.
  void finish(std::uint64_t sequence, const DeliveryResult& result) {
    std::shared_ptr<Job> job;
    {
      std::lock_guard lock(mutex_);
      const auto it = pending_.find(sequence);
      if (it == pending_.end()) return;
      job = std::move(it->second);
      pending_.erase(it);
    }
    call_done(*job, result);
  }

  milliseconds backoff(int failed_attempts, std::optional<milliseconds> retry_after) {
    if (retry_after) return *retry_after;
    milliseconds delay = options_.initial_backoff;
    for (int i = 1; i < failed_attempts && delay < options_.max_backoff; ++i) delay *= 2;
    delay = std::min(delay, options_.max_backoff);
    std::uniform_real_distribution<double> jitter(0.75, 1.25);
    return milliseconds{
        static_cast<std::int64_t>(static_cast<double>(delay.count()) * jitter(rng_))};
  }

  asio::awaitable<void> deliver(std::shared_ptr<Job> job) {
    const std::string& id = job->notification.notification_id;
    const int max_attempts = options_.max_attempts;
    for (int attempt = 1;; ++attempt) {
      Outcome outcome = co_await attempt_once(*job);
      outcome.result.attempts = attempt;
      if (outcome.result.ok) {
        log::info("{}: notification {} attempt {}/{}: delivered (HTTP {})", options_.channel, id,
                  attempt, max_attempts, outcome.status);
        finish(job->sequence, outcome.result);
        co_return;
      }
      if (!outcome.result.retryable || attempt >= max_attempts) {
        log::warn("{}: notification {} attempt {}/{}: {}; giving up{}", options_.channel, id,
                  attempt, max_attempts, outcome.result.error,
                  outcome.result.retryable ? "" : " (not retryable)");
        if (attempt > 1) {
          outcome.result.error += " (after " + std::to_string(attempt) + " attempts)";
        }
        finish(job->sequence, outcome.result);
        co_return;
      }
      const milliseconds delay = backoff(attempt, outcome.retry_after);
      log::warn("{}: notification {} attempt {}/{}: {}; retrying in {} ms{}", options_.channel, id,
                attempt, max_attempts, outcome.result.error, delay.count(),
                outcome.retry_after ? " (Retry-After)" : "");
      asio::steady_timer timer(co_await asio::this_coro::executor, delay);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  asio::awaitable<Outcome> attempt_once(const Job& job) {
    const auto start = Clock::now();
    const auto attempt_deadline = start + options_.request_timeout;
    const auto connect_deadline = std::min(start + options_.connect_timeout, attempt_deadline);

    std::string address = job.notification.address;
    if (options_.channel == "dingtalk" && !options_.dingtalk_secret.empty()) {
      const auto now_ms = std::chrono::duration_cast<milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      address = dingtalk_signed_url(address, options_.dingtalk_secret, now_ms);
    }
    const std::optional<Url> url = parse_url(address);
    if (!url) co_return failed(permanent("invalid URL (expected http:// or https://)"));

    http::request<http::string_body> request{http::verb::post, url->target, 11};
    request.set(http::field::host, url->host_header);
    request.set(http::field::user_agent, kUserAgent);
    request.set(http::field::content_type, kContentType);
    request.set("Idempotency-Key", job.notification.notification_id);
    request.set(http::field::connection, "close");
    request.body() = job.body;
    request.prepare_payload();

    // The resolver runs getaddrinfo on a helper thread that cannot be interrupted: wait for it
    // or for the connect deadline, whichever comes first, and leave a late answer behind.
    auto executor = co_await asio::this_coro::executor;
    struct Resolve {
      explicit Resolve(const asio::any_io_executor& executor)
          : resolver(executor), wake(executor) {}
      tcp::resolver resolver;
      asio::steady_timer wake;
      bool finished = false;
      boost::system::error_code ec;
      tcp::resolver::results_type endpoints;
    };
    auto resolve = std::make_shared<Resolve>(executor);
    resolve->wake.expires_at(connect_deadline);
    resolve->resolver.async_resolve(
        url->host, url->port,
        [resolve](const boost::system::error_code& ec, tcp::resolver::results_type endpoints) {
          resolve->finished = true;
          resolve->ec = ec;
          resolve->endpoints = std::move(endpoints);
          resolve->wake.cancel();
        });
    co_await resolve->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!resolve->finished) {
      resolve->resolver.cancel();
      co_return failed(retryable("DNS timeout"));
    }
    if (resolve->ec) co_return failed(retryable("DNS: " + resolve->ec.message()));
    const tcp::resolver::results_type endpoints = resolve->endpoints;

    if (url->https) {
      beast::ssl_stream<beast::tcp_stream> stream(executor, ssl_);
      SSL* ssl = stream.native_handle();
      if (!is_ip_address(url->host)) {
        // SSL_set_tlsext_host_name, spelled out: the macro uses a C-style cast.
        SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(url->host.c_str()));
      }
      if (options_.verify_tls) {
        stream.set_verify_callback(asio::ssl::host_name_verification(url->host));
      }
      co_return co_await exchange(stream, endpoints, request, connect_deadline, attempt_deadline);
    }
    beast::tcp_stream stream(executor);
    co_return co_await exchange(stream, endpoints, request, connect_deadline, attempt_deadline);
  }

  template <typename Stream>
  asio::awaitable<Outcome> exchange(Stream& stream, const tcp::resolver::results_type& endpoints,
                                    http::request<http::string_body>& request,
                                    Clock::time_point connect_deadline,
                                    Clock::time_point attempt_deadline) {
    auto& tcp_stream = beast::get_lowest_layer(stream);
    tcp_stream.expires_at(connect_deadline);
    {
      auto [ec, endpoint] =
          co_await tcp_stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
      if (ec) co_return failed(retryable(network_error("connect", ec)));
    }
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      // A failed handshake is retried too: a hub that booted with a wrong clock sees valid
      // certificates as "not yet valid" until NTP has synced.
      auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client,
                                                  asio::as_tuple(asio::use_awaitable));
      if (ec) co_return failed(retryable(network_error("TLS", ec)));
    }
    tcp_stream.expires_at(attempt_deadline);
    {
      auto [ec, bytes] =
          co_await http::async_write(stream, request, asio::as_tuple(asio::use_awaitable));
      if (ec) co_return failed(retryable(network_error("send", ec)));
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    {
      auto [ec, bytes] =
          co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec) co_return failed(retryable(network_error("receive", ec)));
    }
    boost::system::error_code ignored;
    tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp_stream.close();
    co_return classify(parser.get());
  }

  Outcome classify(const http::response<http::string_body>& response) const {
    Outcome outcome;
    outcome.status = static_cast<int>(response.result_int());
    const std::string status_text = "HTTP " + std::to_string(outcome.status);
    if (outcome.status >= 200 && outcome.status < 300) {
      outcome.result = options_.channel == "webhook" ? success() : check_errcode(response.body());
      return outcome;
    }
    if (const auto it = response.find(http::field::retry_after); it != response.end()) {
      outcome.retry_after = parse_retry_after(it->value());
    }
    if (outcome.status == 408 || outcome.status == 429 || outcome.status >= 500) {
      outcome.result = retryable(status_text);
    } else {
      outcome.retry_after.reset();
      outcome.result = permanent(status_text);
    }
    return outcome;
  }

  // WeCom and DingTalk robots answer 200 with {"errcode": 0, "errmsg": "ok"} on success.
  DeliveryResult check_errcode(const std::string& body) const {
    const auto answer = nlohmann::json::parse(body, nullptr, false);
    if (answer.is_discarded() || !answer.is_object()) {
      return retryable("unexpected answer (not a JSON object)");
    }
    const auto it = answer.find("errcode");
    if (it == answer.end() || !it->is_number_integer()) {
      return retryable("unexpected answer (no errcode)");
    }
    const auto errcode = it->get<long long>();
    if (errcode == 0) return success();
    std::string error = options_.channel + " errcode " + std::to_string(errcode);
    if (const std::string message = short_errmsg(answer); !message.empty()) {
      error += " (" + message + ")";
    }
    const long long rate_limited =
        options_.channel == "wecom" ? kWecomRateLimited : kDingtalkRateLimited;
    return errcode == rate_limited ? retryable(std::move(error)) : permanent(std::move(error));
  }

  WebhookOptions options_;
  BodyTemplate template_;
  asio::ssl::context ssl_;
  std::mt19937 rng_;  // io thread only

  std::mutex mutex_;
  std::map<std::uint64_t, std::shared_ptr<Job>> pending_;  // guarded by mutex_
  std::uint64_t next_sequence_ = 0;                        // guarded by mutex_
  bool stopped_ = false;                                   // guarded by mutex_

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

namespace {

WebhookOptions validated(WebhookOptions options) {
  if (!is_known_channel(options.channel)) {
    throw WebhookConfigError("unknown webhook channel \"" + options.channel +
                             "\" (expected webhook, wecom or dingtalk)");
  }
  if (options.max_attempts < 1) throw WebhookConfigError("max_attempts must be at least 1");
  if (options.connect_timeout <= milliseconds::zero() ||
      options.request_timeout <= milliseconds::zero()) {
    throw WebhookConfigError("timeouts must be positive");
  }
  if (options.initial_backoff < milliseconds::zero() ||
      options.max_backoff < options.initial_backoff) {
    throw WebhookConfigError("backoff must satisfy 0 <= initial_backoff <= max_backoff");
  }
  return options;
}

}  // namespace

WebhookNotifier::WebhookNotifier(WebhookOptions options)
    : impl_(std::make_unique<Impl>(validated(std::move(options)))) {}

WebhookNotifier::~WebhookNotifier() = default;

std::string_view WebhookNotifier::channel() const {
  return impl_->channel();
}

void WebhookNotifier::send(const Notification& notification,
                           std::function<void(const DeliveryResult&)> done) {
  impl_->send(notification, std::move(done));
}

}  // namespace homesafe::gateway::notify
