// Relayed notifications: validation of `relay` events, idempotent storage, the zh-CN text, the
// sender's outcome records (with a fake notifier), and the `relay:` config section.
#include "homesafe/township/relay.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "homesafe/gateway/notify/webhook.hpp"
#include "homesafe/township/config.hpp"
#include "homesafe/township/ingest.hpp"
#include "homesafe/township/registry.hpp"
#include "support/temp_dir.hpp"
#include "township_test_support.hpp"

namespace homesafe::township {
namespace {

using namespace test;
using gateway::notify::DeliveryResult;
using gateway::notify::Notification;

std::string reason(const Parsed<Event>& p) {
  const auto* r = std::get_if<std::string>(&p);
  return r ? *r : "";
}

// Records every notification and answers with `result` at once.
class FakeNotifier final : public gateway::notify::Notifier {
 public:
  FakeNotifier(std::string channel, std::vector<Notification>& sent, DeliveryResult result)
      : channel_(std::move(channel)), sent_(sent), result_(std::move(result)) {}
  std::string_view channel() const override { return channel_; }
  void send(const Notification& n, std::function<void(const DeliveryResult&)> done) override {
    sent_.push_back(n);
    done(result_);
  }

 private:
  std::string channel_;
  std::vector<Notification>& sent_;
  DeliveryResult result_;
};

TEST(RelayMessages, AcceptsAWellFormedRelay) {
  auto parsed = parse_event(event("h001", 1, "relay", relay_body("h001-000001"), 0).dump());
  ASSERT_TRUE(std::holds_alternative<Event>(parsed)) << reason(parsed);
  EXPECT_EQ(std::get<Event>(parsed).type, "relay");
  // device and location may be null.
  json body = relay_body("h001-000001");
  body["device"] = nullptr;
  body["location"] = nullptr;
  EXPECT_TRUE(std::holds_alternative<Event>(parse_event(event("h001", 2, "relay", body).dump())));
}

TEST(RelayMessages, RejectsMalformedRelays) {
  const std::vector<std::pair<std::string, json>> cases = {{"notification_id", nullptr},
                                                           {"alert_id", ""},
                                                           {"contact_id", 7},
                                                           {"role", nullptr},
                                                           {"kind", ""},
                                                           {"severity", 1},
                                                           {"device", 3},
                                                           {"location", json::array()},
                                                           {"opened_at", "07:01"},
                                                           {"step", "0"},
                                                           {"repeat", 1.5},
                                                           {"step", -1}};
  for (const auto& [key, value] : cases) {
    json body = relay_body("h001-000001");
    body[key] = value;
    auto parsed = parse_event(event("h001", 1, "relay", body).dump());
    EXPECT_FALSE(std::holds_alternative<Event>(parsed)) << key << " = " << value.dump();
    EXPECT_NE(reason(parsed).find(key), std::string::npos) << reason(parsed);
  }
  for (const char* key : {"notification_id", "alert_id", "contact_id", "role", "kind", "severity",
                          "device", "location", "opened_at", "step", "repeat"}) {
    json body = relay_body("h001-000001");
    body.erase(key);
    auto parsed = parse_event(event("h001", 1, "relay", body).dump());
    EXPECT_EQ(reason(parsed), std::string("missing key '") + key + "'");
  }
}

TEST(RelayText, RendersTheRegistryNamesWithinOneSms) {
  Household h;
  h.village = "一村";
  h.display_name = "王奶奶";
  // kT0 is 2026-11-01 08:00 +08:00; one minute later:
  EXPECT_EQ(relay_text(h, "smoke", "厨房", kT0 + 60'000, 480),
            "【平安守护】一村 王奶奶 厨房烟雾报警（11月1日08:01），请尽快查看。");
  EXPECT_EQ(relay_text(h, "not_a_kind", "", kT0, 480),
            "【平安守护】一村 王奶奶 报警（11月1日08:00），请尽快查看。");
  Household long_names;
  long_names.village = std::string(40, 'v');
  long_names.display_name = "很长很长很长很长很长很长很长的名字";
  const std::string text =
      relay_text(long_names, "power_running", "非常非常非常非常长的房间名称", kT0, 480);
  EXPECT_LE(utf8_length(text), 70u) << text;
  EXPECT_NE(text.find("请尽快查看。"), std::string::npos) << text;
}

TEST(RelayText, WebhookTemplateCarriesThePhone) {
  const std::string tmpl = relay_webhook_template();
  Notification n;
  n.phone = "13800000001";
  n.text = "x";
  const auto body = json::parse(gateway::notify::render_template(tmpl, n));
  EXPECT_EQ(body["phone"], "13800000001");
  EXPECT_EQ(body["text"], "x");
}

class RelayTest : public ::testing::Test {
 protected:
  RelayTest() : store_(dir_ / "township.db"), clock_(kT0), ingest_(store_, clock_) {
    import_households(store_, registry_csv(), kT0);
  }

  IngestResult send(const json& message) {
    std::lock_guard lock(mutex_);
    return ingest_.handle("homesafe-up/h001/event", message.dump());
  }

  std::unique_ptr<RelaySender> sender(DeliveryResult result, int channels = 1) {
    std::vector<RelayTarget> targets;
    for (int i = 0; i < channels; ++i) {
      targets.push_back(
          {std::make_unique<FakeNotifier>(i == 0 ? "wecom" : "webhook", sent_, result),
           "http://127.0.0.1:9/robot" + std::to_string(i)});
    }
    return std::make_unique<RelaySender>(store_, clock_, mutex_, std::move(targets), 480);
  }

  std::optional<Row> relay_row(const std::string& notification_id) {
    return store_.db().query_one(
        "SELECT state, attempts, COALESCE(error, ''), settled_at FROM relays WHERE household_id "
        "= 'h001' AND notification_id = ?",
        {notification_id});
  }

  homesafe::test::TempDir dir_{"township-relay"};
  Store store_;
  ManualClock clock_;
  Ingest ingest_;
  std::mutex mutex_;
  std::vector<Notification> sent_;
};

TEST_F(RelayTest, TheSameRelayTwiceIsDeliveredOnce) {
  const json e = event("h001", 1, "relay", relay_body("h001-000001"), 0);
  EXPECT_EQ(send(e).outcome, IngestOutcome::kStored);
  EXPECT_EQ(send(e).outcome, IngestOutcome::kDuplicate);
  // The hub re-sending the same notification in a new event is still one relay.
  const auto again = send(event("h001", 2, "relay", relay_body("h001-000001"), 0));
  EXPECT_EQ(again.outcome, IngestOutcome::kStored);
  ASSERT_TRUE(again.ack);
  EXPECT_EQ(store_.db().query_one("SELECT COUNT(*) FROM relays")->integer(0), 1);

  auto relay = sender({true, false, {}, 1});
  clock_.advance_ms(2000);
  EXPECT_EQ(relay->poll(), 1);
  EXPECT_EQ(relay->poll(), 0);
  ASSERT_EQ(sent_.size(), 1u);
  const Notification& n = sent_[0];
  EXPECT_EQ(n.notification_id, "h001-000001-s0r0-li-township");
  EXPECT_EQ(n.contact_id, "li");
  EXPECT_EQ(n.phone, "13800000001");
  EXPECT_EQ(n.channel, "wecom");
  EXPECT_EQ(n.address, "http://127.0.0.1:9/robot0");
  EXPECT_EQ(n.ts, "2026-11-01T08:00:00+08:00");
  EXPECT_EQ(n.text, "【平安守护】一村 王奶奶 厨房烟雾报警（11月1日08:00），请尽快查看。");
  auto row = relay_row("h001-000001-s0r0-li-township");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->text(0), "sent");
  EXPECT_EQ(row->integer(1), 1);
  EXPECT_EQ(row->text(2), "");
  EXPECT_EQ(row->integer(3), kT0 + 2000);
  EXPECT_EQ(relay->sent_total(), 1);
  EXPECT_EQ(relay->in_flight(), 0u);
}

TEST_F(RelayTest, EmergencyContactIsFoundInTheRegistry) {
  json body = relay_body("h001-000001", "son1");
  body["role"] = "emergency_contact";
  send(event("h001", 1, "relay", body, 0));
  auto relay = sender({true, false, {}, 1});
  relay->poll();
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].phone, "13800000002");
  EXPECT_EQ(sent_[0].role, "emergency_contact");
}

TEST_F(RelayTest, UnknownContactFailsWithAReasonAndIsNotSent) {
  send(event("h001", 1, "relay", relay_body("h001-000001", "nobody"), 0));
  // wang is h002's caregiver, not h001's.
  send(event("h001", 2, "relay", relay_body("h001-000001", "wang"), 0));
  auto relay = sender({true, false, {}, 1});
  EXPECT_EQ(relay->poll(), 2);
  EXPECT_TRUE(sent_.empty());
  for (const char* id : {"h001-000001-s0r0-nobody-township", "h001-000001-s0r0-wang-township"}) {
    auto row = relay_row(id);
    ASSERT_TRUE(row) << id;
    EXPECT_EQ(row->text(0), "failed");
    EXPECT_EQ(row->text(2), "unknown contact");
  }
  EXPECT_EQ(relay->failed_total(), 2);
  EXPECT_EQ(relay->poll(), 0);
}

TEST_F(RelayTest, FailedDeliveryIsRecordedWithItsErrorAndAttempts) {
  send(event("h001", 1, "relay", relay_body("h001-000001"), 0));
  auto relay = sender({false, false, "HTTP 404", 1}, 2);
  relay->poll();
  EXPECT_EQ(sent_.size(), 2u);  // every channel
  auto row = relay_row("h001-000001-s0r0-li-township");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->text(0), "failed");
  EXPECT_EQ(row->integer(1), 2);
  EXPECT_EQ(row->text(2), "wecom: HTTP 404; webhook: HTTP 404");
  EXPECT_EQ(relay->failed_total(), 1);
}

TEST_F(RelayTest, WithoutChannelsARelayFails) {
  send(event("h001", 1, "relay", relay_body("h001-000001"), 0));
  RelaySender relay(store_, clock_, mutex_, {}, 480);
  relay.poll();
  auto row = relay_row("h001-000001-s0r0-li-township");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->text(0), "failed");
  EXPECT_EQ(row->text(2), "no relay channel configured");
}

TEST(RelayConfig, ParsesChannelsAndRejectsBadOnes) {
  const std::string base = "storage: {path: t.db}\n";
  auto c =
      parse_config(base +
                   "relay:\n"
                   "  attempts: 3\n"
                   "  channels:\n"
                   "    - {type: wecom, url: \"https://qyapi.weixin.qq.com/x?key=k\"}\n"
                   "    - {type: dingtalk, url: \"https://oapi.dingtalk.com/r\", secret: SEC1}\n"
                   "    - {type: webhook, url: \"http://127.0.0.1:8000/sms\"}\n");
  ASSERT_EQ(c.relay.channels.size(), 3u);
  EXPECT_EQ(c.relay.attempts, 3);
  EXPECT_EQ(c.relay.channels[0].type, "wecom");
  EXPECT_EQ(c.relay.channels[1].secret, "SEC1");
  EXPECT_EQ(c.relay.channels[2].url, "http://127.0.0.1:8000/sms");
  EXPECT_TRUE(parse_config(base).relay.channels.empty());
  EXPECT_THROW(parse_config(base + "relay: {channels: [{type: sms, url: \"http://x\"}]}\n"),
               ConfigError);
  EXPECT_THROW(parse_config(base + "relay: {channels: [{type: wecom, url: \"ftp://x\"}]}\n"),
               ConfigError);
  EXPECT_THROW(parse_config(base + "relay: {channels: [{type: wecom}]}\n"), ConfigError);
  EXPECT_THROW(
      parse_config(base + "relay: {channels: [{type: wecom, url: \"http://x\", secret: s}]}\n"),
      ConfigError);
  EXPECT_THROW(parse_config(base + "relay: {channels: {type: wecom}}\n"), ConfigError);
  EXPECT_THROW(parse_config(base + "relay: {chanels: []}\n"), ConfigError);
}

}  // namespace
}  // namespace homesafe::township
