// One-tap links in caregivers' messages (docs/console.md): signed per hub, only for people who may
// go and look, and the same MAC the township checks.
#include "homesafe/gateway/notify/link.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "gateway_test_support.hpp"
#include "homesafe/gateway/clock.hpp"
#include "homesafe/gateway/hub.hpp"
#include "homesafe/gateway/store.hpp"

namespace homesafe::gateway {
namespace {

using notify::link_key_for_hub;
using notify::link_mac;
using notify::link_mac_matches;
using notify::link_url;

TEST(Link, KeysDifferPerHubAndMacsPerAlertAndContact) {
  const std::string secret = "a-township-secret-of-enough-length-0001";
  const std::string key = link_key_for_hub(secret, "h001");
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(key, link_key_for_hub(secret, "h001"));
  EXPECT_NE(key, link_key_for_hub(secret, "h002"));
  EXPECT_NE(key, link_key_for_hub(secret + "x", "h001"));
  const std::string mac = link_mac(key, "h001-000042", "li");
  EXPECT_EQ(mac.size(), 16u);
  EXPECT_EQ(
      mac.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  EXPECT_NE(mac, link_mac(key, "h001-000043", "li"));
  EXPECT_NE(mac, link_mac(key, "h001-000042", "son"));
  // "h001-00004|2li" must not collide with "h001-000042|li".
  EXPECT_NE(mac, link_mac(key, "h001-00004", "2li"));
  EXPECT_TRUE(link_mac_matches(key, "h001-000042", "li", mac));
  EXPECT_FALSE(link_mac_matches(key, "h001-000042", "li", mac.substr(0, 15)));
  EXPECT_FALSE(link_mac_matches(key, "h001-000042", "son", mac));
}

TEST(Link, UrlsAreShortAndRefuseUnsafeIds) {
  const std::string key(64, 'a');
  const std::string url = link_url("https://hs.example.cn/", key, "h001-000042", "li");
  EXPECT_EQ(url, "https://hs.example.cn/c/h001-000042/li/" + link_mac(key, "h001-000042", "li"));
  EXPECT_LE(url.size(), 60u);
  EXPECT_EQ(link_url("https://x", key, "h001/../x", "li"), "");
  EXPECT_EQ(link_url("https://x", key, "h001", "l i"), "");
  EXPECT_EQ(link_url("https://x", key, "..", "li"), "");
  EXPECT_EQ(link_url("", key, "h001", "li"), "");
  EXPECT_EQ(link_url("https://x", "", "h001", "li"), "");
}

constexpr const char* kHub = R"(
household: {id: h001, name: "3组 王奶奶", timezone: Asia/Shanghai}
storage: {path: ":memory:"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}, {type: sms, number: "+8613800000000"}]}
  - {id: son, name: 王先生, role: emergency_contact, channels: [{type: mqtt}]}
  - {id: desk, name: 值班台, role: duty_desk, channels: [{type: mqtt}]}
notify:
  modem: {device: /dev/null}
)";

class LinkInMessages : public ::testing::Test {
 protected:
  LinkInMessages() {
    dir_ = std::filesystem::temp_directory_path() /
           ("homesafe-link-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  ~LinkInMessages() override { std::filesystem::remove_all(dir_); }

  HubConfig config(const std::string& uplink) {
    auto result = parse_config(std::string(kHub) + uplink, "test.yaml");
    if (!result.errors.empty()) throw std::runtime_error(result.errors.front().to_string());
    return *result.config;
  }

  // A smoke alarm and its whole default ladder (caregiver, emergency contact, duty desk).
  std::vector<notify::Notification> notify_all(const HubConfig& config) {
    Store store(":memory:");
    test::RecordingOutput output;
    ManualClock clock(1'793'487'600'000, 1'000'000);
    Hub hub(config, store, output, rules::TimeZone::fixed("Asia/Shanghai", 8 * 3600), "b1");
    hub.start(clock.now());
    hub.on_message("homesafe/h001/dev/kitchen-smoke/state", R"({"smoke":true})", clock.now());
    for (int i = 0; i < 10 * 60; ++i) {
      clock.advance_ms(1000);
      hub.on_tick(clock.now());
    }
    return output.notifications;
  }

  std::filesystem::path dir_;
};

TEST_F(LinkInMessages, CaregiversAndContactsGetTheSignedLinkTheDutyDeskDoesNot) {
  const std::string key = link_key_for_hub("township-secret-township-secret-0001", "h001");
  std::ofstream(dir_ / "link.key") << key << "\n";
  const auto notifications = notify_all(
      config("uplink: {url: \"tcp://127.0.0.1:1\", link_base_url: \"https://hs.example.cn\", "
             "link_key_file: \"" +
             (dir_ / "link.key").string() + "\"}\n"));
  std::set<std::string> people;
  for (const auto& n : notifications) people.insert(n.contact_id);
  ASSERT_EQ(people, (std::set<std::string>{"li", "son", "desk"}));
  for (const auto& n : notifications) {
    const bool gets_link = n.contact_id == "li" || n.contact_id == "son";
    if (gets_link) {
      const std::string expected = "https://hs.example.cn/c/" + n.alert_id + "/" + n.contact_id +
                                   "/" + link_mac(key, n.alert_id, n.contact_id);
      EXPECT_EQ(n.link, expected) << n.notification_id;
      EXPECT_TRUE(n.text.ends_with(" " + expected)) << n.text;
    } else {
      EXPECT_TRUE(n.link.empty()) << n.notification_id;
      EXPECT_EQ(n.text.find("http"), std::string::npos) << n.text;
    }
  }
}

TEST_F(LinkInMessages, WithoutAReadableKeyMessagesGoOutWithoutLinks) {
  const auto notifications = notify_all(
      config("uplink: {url: \"tcp://127.0.0.1:1\", link_base_url: \"https://hs.example.cn\", "
             "link_key_file: \"" +
             (dir_ / "missing.key").string() + "\"}\n"));
  ASSERT_FALSE(notifications.empty());
  for (const auto& n : notifications) EXPECT_TRUE(n.link.empty());
}

TEST(LinkConfig, BaseUrlAndKeyFileGoTogetherAndTheUrlIsChecked) {
  auto errors_of = [](const std::string& uplink) {
    auto result = parse_config(std::string(kHub) + uplink, "test.yaml");
    std::string all;
    for (const auto& e : result.errors) all += e.to_string() + "\n";
    return all;
  };
  EXPECT_NE(errors_of("uplink: {url: \"tcp://127.0.0.1:1\", link_base_url: \"https://x.cn\"}\n")
                .find("link_base_url and link_key_file go together"),
            std::string::npos);
  EXPECT_NE(errors_of("uplink: {url: \"tcp://127.0.0.1:1\", link_base_url: \"ftp://x\", "
                      "link_key_file: /etc/homesafe/link.key}\n")
                .find("link_base_url must be"),
            std::string::npos);
  EXPECT_EQ(errors_of("uplink: {url: \"tcp://127.0.0.1:1\", link_base_url: \"https://x.cn\", "
                      "link_key_file: /etc/homesafe/link.key}\n"),
            "");
}

}  // namespace
}  // namespace homesafe::gateway
