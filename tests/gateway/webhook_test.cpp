// The HTTP webhook notifier against a real local HTTP(S) server that fails on demand.

#include "homesafe/gateway/notify/webhook.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/http_server.hpp"
#include "support/mosquitto.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace homesafe::gateway::notify {
namespace {

using namespace std::chrono_literals;
using test::HttpServer;
using test::HttpServerOptions;
using test::kDefaultTimeout;

// Collects `done` calls, per notification id.
class Deliveries {
 public:
  std::function<void(const DeliveryResult&)> callback(const std::string& key) {
    return [this, key](const DeliveryResult& result) {
      {
        std::lock_guard lock(mutex_);
        results_[key].push_back(result);
        ++total_;
      }
      changed_.notify_all();
    };
  }

  // Whether `n` calls in total arrived within the timeout.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = kDefaultTimeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return total_ >= n; });
  }
  bool wait_for(const std::string& key, std::chrono::milliseconds timeout = kDefaultTimeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return results_.count(key) > 0; });
  }

  std::size_t calls(const std::string& key) const {
    std::lock_guard lock(mutex_);
    const auto it = results_.find(key);
    return it == results_.end() ? 0 : it->second.size();
  }
  DeliveryResult result(const std::string& key) const {
    std::lock_guard lock(mutex_);
    return results_.at(key).front();
  }
  std::size_t total() const {
    std::lock_guard lock(mutex_);
    return total_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::vector<DeliveryResult>> results_;
  std::size_t total_ = 0;
};

// Tiny backoffs, generous timeouts: fast on a quiet machine, robust on a busy one.
WebhookOptions test_options(std::string channel = "webhook") {
  WebhookOptions options;
  options.channel = std::move(channel);
  options.connect_timeout = 10s;
  options.request_timeout = 10s;
  options.max_attempts = 5;
  options.initial_backoff = 10ms;
  options.max_backoff = 40ms;
  return options;
}

Notification make_notification(std::string address, std::string id = "h001-000001-li-webhook-0-0") {
  Notification n;
  n.notification_id = std::move(id);
  n.alert_id = "h001-000001";
  n.household_id = "h001";
  n.contact_id = "li";
  n.role = "caregiver";
  n.channel = "webhook";
  n.address = std::move(address);
  n.step = 1;
  n.repeat = 2;
  n.kind = "smoke";
  n.severity = "emergency";
  n.location = "厨房";
  n.ts = "2026-11-01T07:01:00+08:00";
  n.text = "【烟雾报警】3组 王奶奶 厨房 07:01，请速查看。回复1确认";
  return n;
}

// -------------------------------------------------------------------------------------------
// Templates (no network)

TEST(WebhookTemplate, RendersTheGenericTemplateWithEveryField) {
  const Notification n = make_notification("http://127.0.0.1:1/");
  const auto body = nlohmann::json::parse(render_template(default_template("webhook"), n));
  EXPECT_EQ(body.at("id"), n.notification_id);
  EXPECT_EQ(body.at("alert_id"), "h001-000001");
  EXPECT_EQ(body.at("household"), "h001");
  EXPECT_EQ(body.at("to"), "li");
  EXPECT_EQ(body.at("role"), "caregiver");
  EXPECT_EQ(body.at("kind"), "smoke");
  EXPECT_EQ(body.at("severity"), "emergency");
  EXPECT_EQ(body.at("location"), "厨房");
  EXPECT_EQ(body.at("ts"), "2026-11-01T07:01:00+08:00");
  EXPECT_EQ(body.at("step"), 1);  // numbers stay numbers
  EXPECT_EQ(body.at("repeat"), 2);
  EXPECT_EQ(body.at("text"), n.text);
  EXPECT_FALSE(body.contains("address"));
}

TEST(WebhookTemplate, EscapesStringsAsJsonStringContents) {
  Notification n = make_notification("http://127.0.0.1:1/");
  n.text = "say \"hi\" \\ back\nline\ttab \x01 end 中文";
  n.location = "}}{{text}}";
  const std::string rendered = render_template(R"({"t": "{{ text }}", "l": "{{location}}"})", n);
  const auto body = nlohmann::json::parse(rendered);
  EXPECT_EQ(body.at("t"), n.text);
  EXPECT_EQ(body.at("l"), n.location);  // values are never re-expanded
  EXPECT_NE(rendered.find("中文"), std::string::npos) << "UTF-8 is kept, not \\u-escaped";
}

TEST(WebhookTemplate, InvalidUtf8BecomesReplacementCharacter) {
  Notification n = make_notification("http://127.0.0.1:1/");
  n.text = std::string("ok \xff\xfe end");
  const auto body = nlohmann::json::parse(render_template(default_template("wecom"), n));
  EXPECT_EQ(body.at("text").at("content"), "ok \xEF\xBF\xBD\xEF\xBF\xBD end");
}

TEST(WebhookTemplate, UnknownPlaceholderIsAnErrorAtLoadTime) {
  try {
    BodyTemplate tmpl("{\n  \"to\": \"{{address}}\"\n}");
    FAIL() << "expected WebhookConfigError";
  } catch (const WebhookConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("{{address}}"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("line 2, column 10"), std::string::npos)
        << error.what();
  }
  EXPECT_THROW(BodyTemplate(R"({"a": "{{text"})"), WebhookConfigError);
  EXPECT_THROW(render_template(R"({"a": "{{txet}}"})", make_notification("")), WebhookConfigError);
}

TEST(WebhookTemplate, TemplateThatIsNotJsonIsAnErrorAtLoadTime) {
  EXPECT_THROW(BodyTemplate(R"({"text": {{text}}})"), WebhookConfigError);  // outside quotes
  EXPECT_THROW(BodyTemplate(R"({"text": "{{text}}",})"), WebhookConfigError);
  EXPECT_NO_THROW(BodyTemplate(R"({"step": "{{step}}", "n": {{repeat}}})"));
}

TEST(WebhookTemplate, ShippedFilesEqualTheCompiledInDefaults) {
  const std::filesystem::path dir =
      std::filesystem::path(HOMESAFE_SOURCE_DIR) / "gateway" / "notify-templates";
  for (const char* channel : {"webhook", "wecom", "dingtalk"}) {
    SCOPED_TRACE(channel);
    const std::string file = test::read_file(dir / (std::string(channel) + ".json"));
    ASSERT_FALSE(file.empty());
    EXPECT_EQ(file, default_template(channel));
    EXPECT_NO_THROW(BodyTemplate{file});
  }
  EXPECT_TRUE(default_template("sms").empty());
}

TEST(WebhookTemplate, WecomAndDingtalkBodiesCarryTheText) {
  const Notification n = make_notification("");
  for (const char* channel : {"wecom", "dingtalk"}) {
    const auto body = nlohmann::json::parse(render_template(default_template(channel), n));
    EXPECT_EQ(body, (nlohmann::json{{"msgtype", "text"}, {"text", {{"content", n.text}}}}));
  }
}

TEST(WebhookOptionsTest, BadOptionsAreRejectedAtConstruction) {
  auto options = test_options("sms");
  EXPECT_THROW(WebhookNotifier{options}, WebhookConfigError);
  options = test_options();
  options.max_attempts = 0;
  EXPECT_THROW(WebhookNotifier{options}, WebhookConfigError);
  options = test_options();
  options.request_timeout = 0ms;
  EXPECT_THROW(WebhookNotifier{options}, WebhookConfigError);

  test::TempDir dir;
  options = test_options("wecom");
  options.template_dir = dir.path().string();
  EXPECT_THROW(WebhookNotifier{options}, WebhookConfigError) << "template_dir without wecom.json";
  test::write_file(dir / "wecom.json", R"({"msgtype": "text", "text": {"content": "{{body}}"}})");
  try {
    WebhookNotifier notifier(options);
    FAIL() << "expected WebhookConfigError";
  } catch (const WebhookConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("wecom.json"), std::string::npos) << error.what();
  }

  options = test_options();
  options.ca_file = (dir / "missing.pem").string();
  EXPECT_THROW(WebhookNotifier{options}, std::runtime_error);
}

TEST(DingtalkSign, MatchesReferenceVectors) {
  // Computed independently (Python hmac/base64/urllib.parse.quote_plus) from the formula
  // urlencode(base64(HMAC-SHA256(key=secret, msg="<ms>\n<secret>"))).
  EXPECT_EQ(dingtalk_sign("SEC0123456789abcdef", 1700000000000),
            "TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D");
  EXPECT_EQ(dingtalk_sign("a", 1700000000003),
            "1ZK3WvXk%2Bo%2F6hTIr05rG89DT%2FDWYy5dU2Uo76PMv9d0%3D");
  EXPECT_EQ(dingtalk_sign("SECx", 1700000000000),
            "rgcjbH%2ByFyES%2BS0llX%2BcAPCwVRpsr7sbiX5Lnyo%2FocU%3D");
}

TEST(DingtalkSign, AppendsToTheQuery) {
  const std::string sign = dingtalk_sign("SECx", 1700000000000);
  EXPECT_EQ(
      dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=T", "SECx",
                          1700000000000),
      "https://oapi.dingtalk.com/robot/send?access_token=T&timestamp=1700000000000&sign=" + sign);
  EXPECT_EQ(dingtalk_signed_url("http://127.0.0.1:8/robot", "SECx", 1700000000000),
            "http://127.0.0.1:8/robot?timestamp=1700000000000&sign=" + sign);
}

// -------------------------------------------------------------------------------------------
// Delivery against the local server

TEST(WebhookNotifierTest, PostsTheRenderedBodyWithTheRightHeaders) {
  HttpServer server;
  Deliveries deliveries;
  {
    WebhookNotifier notifier(test_options());
    EXPECT_EQ(notifier.channel(), "webhook");
    const Notification n = make_notification(server.url("/v1/notify?key=k1&x=2"));
    notifier.send(n, deliveries.callback(n.notification_id));
    ASSERT_TRUE(deliveries.wait_for(n.notification_id));
    const DeliveryResult result = deliveries.result(n.notification_id);
    EXPECT_TRUE(result.ok) << result.error;
  }
  ASSERT_EQ(server.request_count(), 1u);
  const auto request = server.requests().front();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/v1/notify?key=k1&x=2");
  EXPECT_EQ(request.header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(request.header("User-Agent"), "homesafe-gateway");
  EXPECT_EQ(request.header("Idempotency-Key"), "h001-000001-li-webhook-0-0");
  EXPECT_EQ(request.header("Host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(request.header("Content-Length"), std::to_string(request.body.size()));
  const auto body = nlohmann::json::parse(request.body);
  EXPECT_EQ(body.at("id"), "h001-000001-li-webhook-0-0");
  EXPECT_EQ(body.at("text"), make_notification("").text);
  EXPECT_EQ(body.at("step"), 1);
  EXPECT_EQ(deliveries.calls("h001-000001-li-webhook-0-0"), 1u);
}

TEST(WebhookNotifierTest, TemplateDirOverridesTheDefault) {
  HttpServer server;
  test::TempDir dir;
  test::write_file(dir / "webhook.json", R"({"msg": "{{text}}", "alert": "{{ alert_id }}"})");
  auto options = test_options();
  options.template_dir = dir.path().string();
  Deliveries deliveries;
  {
    WebhookNotifier notifier(options);
    notifier.send(make_notification(server.url("/")), deliveries.callback("n"));
    ASSERT_TRUE(deliveries.wait_for("n"));
  }
  EXPECT_TRUE(deliveries.result("n").ok);
  ASSERT_EQ(server.request_count(), 1u);
  EXPECT_EQ(nlohmann::json::parse(server.requests()[0].body),
            (nlohmann::json{{"msg", make_notification("").text}, {"alert", "h001-000001"}}));
}

TEST(WebhookNotifierTest, ServerErrorsAreRetriedWithTheSameIdempotencyKey) {
  HttpServer server;
  server.fail_next(2, 500);
  Deliveries deliveries;
  {
    WebhookNotifier notifier(test_options());
    notifier.send(make_notification(server.url("/hook")), deliveries.callback("n"));
    ASSERT_TRUE(deliveries.wait_for("n"));
  }
  EXPECT_TRUE(deliveries.result("n").ok) << deliveries.result("n").error;
  EXPECT_EQ(deliveries.calls("n"), 1u);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& request : requests) {
    EXPECT_EQ(request.header("Idempotency-Key"), "h001-000001-li-webhook-0-0");
    EXPECT_EQ(request.body, requests[0].body);
  }
}

TEST(WebhookNotifierTest, GivesUpAfterMaxAttempts) {
  HttpServer server;
  server.fail_next(10, 503);
  auto options = test_options();
  options.max_attempts = 3;
  Deliveries deliveries;
  {
    WebhookNotifier notifier(options);
    notifier.send(make_notification(server.url("/")), deliveries.callback("n"));
    ASSERT_TRUE(deliveries.wait_for("n"));
  }
  const DeliveryResult result = deliveries.result("n");
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.retryable);
  EXPECT_EQ(result.error, "HTTP 503 (after 3 attempts)");
  EXPECT_EQ(server.request_count(), 3u);
  EXPECT_EQ(deliveries.calls("n"), 1u);
}

TEST(WebhookNotifierTest, ClientErrorsAreNotRetried) {
  for (const int status : {400, 401, 403, 404, 410}) {
    SCOPED_TRACE(status);
    HttpServer server;
    server.fail_next(1, status);
    Deliveries deliveries;
    {
      WebhookNotifier notifier(test_options());
      notifier.send(make_notification(server.url("/")), deliveries.callback("n"));
      ASSERT_TRUE(deliveries.wait_for("n"));
    }
    const DeliveryResult result = deliveries.result("n");
    EXPECT_FALSE(result.ok);
    EXPECT_FALSE(result.retryable);
    EXPECT_EQ(result.error, "HTTP " + std::to_string(status));
    EXPECT_EQ(server.request_count(), 1u);
  }
}

TEST(WebhookNotifierTest, RequestTimeoutAndTooManyRequestsAreRetried) {
  HttpServer server;
  server.fail_next(1, 408);
  server.fail_next(1, 429);
  Deliveries deliveries;
  {
    WebhookNotifier notifier(test_options());
    notifier.send(make_notification(server.url("/")), deliveries.callback("n"));
    ASSERT_TRUE(deliveries.wait_for("n"));
  }
  EXPECT_TRUE(deliveries.result("n").ok);
  EXPECT_EQ(server.request_count(), 3u);
}

TEST(WebhookNotifierTest, SlowServerTimesOutAndIsRetried) {
  HttpServer server;
  server.delay_next(5s);  // much longer than request_timeout; the second answer comes at once
  auto options = test_options();
  options.request_timeout = 300ms;
  Deliveries deliveries;
  const auto start = std::chrono::steady_clock::now();
  {
    WebhookNotifier notifier(options);
    notifier.send(make_notification(server.url("/")), deliveries.callback("n"));
    ASSERT_TRUE(deliveries.wait_for("n"));
  }
  EXPECT_TRUE(deliveries.result("n").ok) << deliveries.result("n").error;
  EXPECT_EQ(server.request_count(), 2u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
}

TEST(WebhookNotifierTest, TimeoutOnEveryAttemptIsReportedAsTimeout) {
  HttpServer server;
  for (int i = 0; i < 2; ++i) server.delay_next(5s);
  auto options = test_options();
  options.request_timeout = 200ms;
  options.max_attempts = 2;
  Deliveries deliveries;
  {
    WebhookNotifier notifier(options);
    notifier.send(make_notification(server.url("/")), deliveries.callback("n"));
    ASSERT_TRUE(deliveries.wait_for("n"));
  }
  const DeliveryResult result = deliveries.result("n");
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.retryable);
  EXPECT_EQ(result.error, "receive timeout (after 2 attempts)");
}

TEST(WebhookNotifierTest, ConnectionRefusedIsRetriedThenFails) {
  const int port = test::free_tcp_port();  // nothing listens there
  auto options = test_options();
  options.max_attempts = 3;
  Deliveries deliveries;
  {
    WebhookNotifier notifier(options);
    notifier.send(make_notification("http://127.0.0.1:" + std::to_string(port) + "/"),
                  deliveries.callback("n"));
    ASSERT_TRUE(deliveries.wait_for("n"));
  }
  const DeliveryResult result = deliveries.result("n");
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.retryable);
  EXPECT_NE(result.error.find("connect"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("after 3 attempts"), std::string::npos) << result.error;
  EXPECT_EQ(deliveries.calls("n"), 1u);
}

TEST(WebhookNotifierTest, DroppedConnectionIsRetried) {
  HttpServer server;
  server.close_next(2);
  Deliveries deliveries;
  {
    WebhookNotifier notifier(test_options());
    notifier.send(make_notification(server.url("/")), deliveries.callback("n"));
    ASSERT_TRUE(deliveries.wait_for("n"));
  }
  EXPECT_TRUE(deliveries.result("n").ok) << deliveries.result("n").error;
  EXPECT_EQ(server.request_count(), 3u);
}

TEST(WebhookNotifierTest, RetryAfterIsHonoured) {
  HttpServer server;
  server.fail_next(1, 429, {{"Retry-After", "1"}});
  server.fail_next(1, 503, {{"Retry-After", "1"}});
  Deliveries deliveries;
  {
    WebhookNotifier notifier(test_options());  // backoff alone would be 10..40 ms
    notifier.send(make_notification(server.url("/")), deliveries.callback("n"));
    ASSERT_TRUE(deliveries.wait_for("n"));
  }
  EXPECT_TRUE(deliveries.result("n").ok);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_GE(requests[1].received_at - requests[0].received_at, 1s);
  EXPECT_GE(requests[2].received_at - requests[1].received_at, 1s);
}

TEST(WebhookNotifierTest, InvalidUrlFailsAtOnceWithoutRetry) {
  Deliveries deliveries;
  {
    WebhookNotifier notifier(test_options());
    for (const char* url : {"ftp://127.0.0.1/", "", "http://", "http://127.0.0.1:99999/",
                            "http://user@127.0.0.1/", "http://127.0.0.1/a b"}) {
      notifier.send(make_notification(url, url), deliveries.callback(url));
    }
    ASSERT_TRUE(deliveries.wait_for(6));
  }
  for (const char* url : {"ftp://127.0.0.1/", "", "http://", "http://127.0.0.1:99999/",
                          "http://user@127.0.0.1/", "http://127.0.0.1/a b"}) {
    SCOPED_TRACE(url);
    EXPECT_FALSE(deliveries.result(url).ok);
    EXPECT_FALSE(deliveries.result(url).retryable);
    EXPECT_EQ(deliveries.result(url).error.find("http://127"), std::string::npos);
  }
}

TEST(WebhookNotifierTest, WecomErrcodeDecidesTheOutcome) {
  HttpServer server;
  Deliveries deliveries;
  {
    WebhookNotifier notifier(test_options("wecom"));
    EXPECT_EQ(notifier.channel(), "wecom");

    server.enqueue({.status = 200, .body = R"({"errcode": 0, "errmsg": "ok"})"});
    notifier.send(make_notification(server.url("/cgi-bin/webhook/send?key=abc"), "ok"),
                  deliveries.callback("ok"));
    ASSERT_TRUE(deliveries.wait_for("ok"));
    EXPECT_TRUE(deliveries.result("ok").ok);
    ASSERT_EQ(server.request_count(), 1u);
    EXPECT_EQ(
        nlohmann::json::parse(server.requests()[0].body),
        (nlohmann::json{{"msgtype", "text"}, {"text", {{"content", make_notification("").text}}}}));
    EXPECT_EQ(server.requests()[0].target, "/cgi-bin/webhook/send?key=abc");

    // Rate limited: retried.
    server.enqueue(
        {.status = 200, .body = R"({"errcode": 45009, "errmsg": "api freq out of limit"})"});
    server.enqueue({.status = 200, .body = R"({"errcode": 0, "errmsg": "ok"})"});
    notifier.send(make_notification(server.url("/send?key=abc"), "limited"),
                  deliveries.callback("limited"));
    ASSERT_TRUE(deliveries.wait_for("limited"));
    EXPECT_TRUE(deliveries.result("limited").ok);
    EXPECT_EQ(server.request_count(), 3u);

    // A bad key: not retried; the errmsg is cut before the hint.
    server.enqueue({.status = 200,
                    .body = R"({"errcode": 93000, "errmsg": "invalid webhook url, hint: [x], )"
                            R"(from ip: 1.2.3.4, more info at https://open.work.weixin.qq.com"})"});
    notifier.send(make_notification(server.url("/send?key=bad"), "bad"),
                  deliveries.callback("bad"));
    ASSERT_TRUE(deliveries.wait_for("bad"));
    EXPECT_FALSE(deliveries.result("bad").ok);
    EXPECT_FALSE(deliveries.result("bad").retryable);
    EXPECT_EQ(deliveries.result("bad").error, "wecom errcode 93000 (invalid webhook url)");
    EXPECT_EQ(server.request_count(), 4u);

    // Not JSON (a captive portal?): retried.
    server.enqueue({.status = 200, .body = "<html>login</html>", .headers = {}});
    notifier.send(make_notification(server.url("/send?key=abc"), "html"),
                  deliveries.callback("html"));
    ASSERT_TRUE(deliveries.wait_for("html"));
    EXPECT_FALSE(deliveries.result("html").ok);
    EXPECT_TRUE(deliveries.result("html").retryable);
  }
}

TEST(WebhookNotifierTest, DingtalkErrcodeDecidesTheOutcome) {
  HttpServer server;
  Deliveries deliveries;
  {
    WebhookNotifier notifier(test_options("dingtalk"));
    server.enqueue({.status = 200, .body = R"({"errcode": 130101, "errmsg": "send too fast"})"});
    server.enqueue({.status = 200, .body = R"({"errcode": 0, "errmsg": "ok"})"});
    notifier.send(make_notification(server.url("/robot/send?access_token=t"), "limited"),
                  deliveries.callback("limited"));
    ASSERT_TRUE(deliveries.wait_for("limited"));
    EXPECT_TRUE(deliveries.result("limited").ok);
    EXPECT_EQ(server.request_count(), 2u);

    server.enqueue(
        {.status = 200, .body = R"({"errcode": 310000, "errmsg": "keywords not in content"})"});
    notifier.send(make_notification(server.url("/robot/send?access_token=t"), "rejected"),
                  deliveries.callback("rejected"));
    ASSERT_TRUE(deliveries.wait_for("rejected"));
    EXPECT_FALSE(deliveries.result("rejected").ok);
    EXPECT_FALSE(deliveries.result("rejected").retryable);
    EXPECT_EQ(deliveries.result("rejected").error,
              "dingtalk errcode 310000 (keywords not in content)");
    EXPECT_EQ(server.request_count(), 3u);
  }
}

// Independent of the implementation: OpenSSL HMAC, our own base64 and percent-decoding.
std::string base64(const unsigned char* data, std::size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < size; i += 3) {
    const unsigned value = (static_cast<unsigned>(data[i]) << 16) |
                           (i + 1 < size ? static_cast<unsigned>(data[i + 1]) << 8 : 0u) |
                           (i + 2 < size ? static_cast<unsigned>(data[i + 2]) : 0u);
    out += kAlphabet[(value >> 18) & 63];
    out += kAlphabet[(value >> 12) & 63];
    out += i + 1 < size ? kAlphabet[(value >> 6) & 63] : '=';
    out += i + 2 < size ? kAlphabet[value & 63] : '=';
  }
  return out;
}
std::string percent_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

TEST(WebhookNotifierTest, DingtalkUrlIsSignedWithTheSecret) {
  HttpServer server;
  server.respond_with(200, R"({"errcode": 0, "errmsg": "ok"})");
  const std::string secret = "SEC8f6a0b1c2d3e4f5a6b7c8d9e0f1a2b3c";
  auto options = test_options("dingtalk");
  options.dingtalk_secret = secret;
  Deliveries deliveries;
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  {
    WebhookNotifier notifier(options);
    notifier.send(make_notification(server.url("/robot/send?access_token=tok")),
                  deliveries.callback("n"));
    ASSERT_TRUE(deliveries.wait_for("n"));
  }
  EXPECT_TRUE(deliveries.result("n").ok) << deliveries.result("n").error;
  ASSERT_EQ(server.request_count(), 1u);
  const auto request = server.requests()[0];
  EXPECT_EQ(request.query_parameter("access_token"), "tok");
  const std::string timestamp = request.query_parameter("timestamp");
  const std::string sign = request.query_parameter("sign");
  ASSERT_FALSE(timestamp.empty());
  ASSERT_FALSE(sign.empty());
  EXPECT_GE(std::stoll(timestamp), before);
  EXPECT_LE(std::stoll(timestamp), before + 60'000);

  const std::string message = timestamp + "\n" + secret;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  ASSERT_NE(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                 reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac,
                 &mac_length),
            nullptr);
  EXPECT_EQ(percent_decode(sign), base64(mac, mac_length));
  EXPECT_EQ(sign.find_first_of("+/="), std::string::npos) << "sign must be URL-encoded";
}

TEST(WebhookNotifierTest, SlowServerDoesNotBlockFastServer) {
  HttpServer slow;
  HttpServer fast;
  slow.hold_next();
  Deliveries deliveries;
  {
    WebhookNotifier notifier(test_options());
    notifier.send(make_notification(slow.url("/"), "slow"), deliveries.callback("slow"));
    ASSERT_TRUE(slow.wait_for_requests(1));
    notifier.send(make_notification(fast.url("/"), "fast"), deliveries.callback("fast"));
    ASSERT_TRUE(deliveries.wait_for("fast"));
    EXPECT_TRUE(deliveries.result("fast").ok);
    EXPECT_EQ(deliveries.calls("slow"), 0u) << "the slow one is still held by its server";
    slow.release_held();
    ASSERT_TRUE(deliveries.wait_for("slow"));
    EXPECT_TRUE(deliveries.result("slow").ok);
  }
  EXPECT_EQ(deliveries.calls("slow"), 1u);
  EXPECT_EQ(deliveries.calls("fast"), 1u);
}

TEST(WebhookNotifierTest, ManyConcurrentSendsEachCompleteOnce) {
  HttpServer server;
  server.fail_next(5, 500);
  Deliveries deliveries;
  constexpr int kCount = 20;
  {
    WebhookNotifier notifier(test_options());
    for (int i = 0; i < kCount; ++i) {
      const std::string id = "n" + std::to_string(i);
      notifier.send(make_notification(server.url("/"), id), deliveries.callback(id));
    }
    ASSERT_TRUE(deliveries.wait_for(kCount));
  }
  EXPECT_EQ(deliveries.total(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    const std::string id = "n" + std::to_string(i);
    EXPECT_EQ(deliveries.calls(id), 1u) << id;
    EXPECT_TRUE(deliveries.result(id).ok) << id;
  }
  EXPECT_EQ(server.request_count(), static_cast<std::size_t>(kCount + 5));
}

// Documented behaviour: the destructor returns promptly and calls `done` of every unfinished
// send with a retryable failure "notifier stopped".
TEST(WebhookNotifierTest, DestructorWithRequestsInFlightReturnsPromptlyAndFailsThem) {
  HttpServer server;
  server.hold_next();        // in flight: the server never answers
  server.fail_next(1, 500);  // the second waits out a long backoff
  auto options = test_options();
  options.initial_backoff = 60s;
  options.max_backoff = 60s;
  Deliveries deliveries;
  auto notifier = std::make_unique<WebhookNotifier>(options);
  notifier->send(make_notification(server.url("/"), "held"), deliveries.callback("held"));
  ASSERT_TRUE(server.wait_for_requests(1));
  notifier->send(make_notification(server.url("/"), "backoff"), deliveries.callback("backoff"));
  ASSERT_TRUE(server.wait_for_requests(2));
  EXPECT_EQ(deliveries.total(), 0u);

  const auto start = std::chrono::steady_clock::now();
  notifier.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_EQ(deliveries.total(), 2u) << "done runs before the destructor returns";
  for (const char* id : {"held", "backoff"}) {
    EXPECT_EQ(deliveries.calls(id), 1u);
    EXPECT_FALSE(deliveries.result(id).ok);
    EXPECT_TRUE(deliveries.result(id).retryable);
    EXPECT_EQ(deliveries.result(id).error, "notifier stopped");
  }
}

TEST(WebhookNotifierTest, LogsNeverContainTheUrlOrTheText) {
  HttpServer server;
  server.fail_next(1, 500);
  Deliveries deliveries;
  Notification n = make_notification(server.url("/send?key=SECRET-ACCESS-KEY"));
  n.text = "TEXT-MARKER 王奶奶";
  testing::internal::CaptureStderr();
  {
    WebhookNotifier notifier(test_options());
    notifier.send(n, deliveries.callback("n"));
    deliveries.wait_for("n");
  }
  const std::string logged = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(deliveries.result("n").ok);
  EXPECT_NE(logged.find(n.notification_id), std::string::npos) << logged;
  EXPECT_NE(logged.find("attempt 1/5"), std::string::npos) << logged;
  EXPECT_NE(logged.find("HTTP 500"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("SECRET-ACCESS-KEY"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("127.0.0.1"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("TEXT-MARKER"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("王奶奶"), std::string::npos) << logged;
}

// -------------------------------------------------------------------------------------------
// TLS

TEST(WebhookTls, TrustedThroughCaFile) {
  HttpServer server(HttpServerOptions{.tls = true});
  auto options = test_options();
  options.ca_file = server.certificate_file().string();
  Deliveries deliveries;
  {
    WebhookNotifier notifier(options);
    notifier.send(make_notification(server.url("/secure")), deliveries.callback("n"));
    ASSERT_TRUE(deliveries.wait_for("n"));
  }
  EXPECT_TRUE(deliveries.result("n").ok) << deliveries.result("n").error;
  ASSERT_EQ(server.request_count(), 1u);
  EXPECT_EQ(server.requests()[0].target, "/secure");
  EXPECT_EQ(server.requests()[0].header("Idempotency-Key"), "h001-000001-li-webhook-0-0");
  EXPECT_EQ(server.requests()[0].server_name, "") << "no SNI for an IP address (RFC 6066)";
}

TEST(WebhookTls, UntrustedCertificateIsRejected) {
  HttpServer server(HttpServerOptions{.tls = true});
  auto options = test_options();  // verify_tls on, system store: the self-signed cert is unknown
  options.max_attempts = 2;
  Deliveries deliveries;
  {
    WebhookNotifier notifier(options);
    notifier.send(make_notification(server.url("/")), deliveries.callback("n"));
    ASSERT_TRUE(deliveries.wait_for("n"));
  }
  const DeliveryResult result = deliveries.result("n");
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.retryable) << "a hub with a wrong clock rejects good certificates until NTP";
  EXPECT_EQ(result.error.rfind("TLS: ", 0), 0u) << result.error;
  EXPECT_NE(result.error.find("certificate verify failed"), std::string::npos) << result.error;
  EXPECT_EQ(server.request_count(), 0u);
  EXPECT_GE(server.handshake_failures(), 1u);
}

TEST(WebhookTls, VerificationCanBeTurnedOff) {
  HttpServer server(HttpServerOptions{.tls = true});
  auto options = test_options();
  options.verify_tls = false;
  Deliveries deliveries;
  {
    WebhookNotifier notifier(options);
    notifier.send(make_notification(server.url("/")), deliveries.callback("n"));
    ASSERT_TRUE(deliveries.wait_for("n"));
  }
  EXPECT_TRUE(deliveries.result("n").ok) << deliveries.result("n").error;
}

TEST(WebhookTls, HttpsToAPlainHttpServerFails) {
  HttpServer server;
  auto options = test_options();
  options.max_attempts = 2;
  Deliveries deliveries;
  {
    WebhookNotifier notifier(options);
    notifier.send(make_notification("https://127.0.0.1:" + std::to_string(server.port()) + "/"),
                  deliveries.callback("n"));
    ASSERT_TRUE(deliveries.wait_for("n"));
  }
  EXPECT_FALSE(deliveries.result("n").ok);
  EXPECT_EQ(deliveries.result("n").error.rfind("TLS", 0), 0u) << deliveries.result("n").error;
}

}  // namespace
}  // namespace homesafe::gateway::notify
