// The hub's broker locked down by `homesafe-gateway setup`: a real Mosquitto with the generated
// password file and ACL (as /etc/mosquitto/conf.d/homesafe.conf sets it up), the real gateway
// logging in with its generated password, devices and a caregiver app as mosquitto_pub/_sub.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/mosquitto.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace homesafe {
namespace {

using namespace std::chrono_literals;
using test::Process;

constexpr const char* kConfig = R"(household: {id: h001, name: "测试户", timezone: Asia/Shanghai}
broker: {url: "@URL@", keepalive: 5s, username: homesafe-gateway, password_file: "@DIR@/broker/gateway.password"}
storage: {path: "@DIR@/h001.db"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
  - {id: bedroom-sos, kind: call_button, location: 卧室}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
)";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

class BrokerCredentialsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    write_config("tcp://127.0.0.1:1");  // setup does not connect
    Process setup({HOMESAFE_GATEWAY_BIN, "setup", "--config", config_.string(), "--out-dir",
                   (dir_ / "broker").string()});
    ASSERT_EQ(setup.wait_for_exit(60s), std::optional<int>(0)) << setup.describe();
    std::ifstream file(dir_ / "broker" / "credentials");
    std::string line;
    while (std::getline(file, line)) {
      if (line.empty() || line[0] == '#') continue;
      const auto space = line.find(' ');
      const auto end = line.find(' ', space + 1);
      passwords_[line.substr(0, space)] = line.substr(space + 1, end - space - 1);
    }
    ASSERT_EQ(passwords_.size(), 4u);  // gateway, app, two devices

    test::MosquittoOptions options;
    options.extra_config = "allow_anonymous false\npassword_file " +
                           (dir_ / "broker" / "passwd").string() + "\nacl_file " +
                           (dir_ / "broker" / "acl").string() + "\n";
    broker_ = std::make_unique<test::Mosquitto>(options);
    write_config(broker_->url());
  }

  void write_config(const std::string& url) {
    test::write_file(
        config_, replace_all(replace_all(kConfig, "@URL@", url), "@DIR@", dir_.path().string()));
  }

  std::vector<std::string> client_args(const std::string& program, const std::string& user,
                                       const std::string& password) const {
    std::vector<std::string> args{program, "-h", "127.0.0.1", "-p",
                                  std::to_string(broker_->port())};
    if (!user.empty()) {
      args.insert(args.end(), {"-u", user, "-P", password});
    }
    return args;
  }

  // mosquitto_pub as `user`; returns its exit status.
  std::optional<int> publish(const std::string& user, const std::string& password,
                             const std::string& topic, const std::string& payload) {
    auto args = client_args("mosquitto_pub", user, password);
    args.insert(args.end(), {"-q", "1", "-t", topic, "-m", payload});
    Process pub(args);
    return pub.wait_for_exit(20s);
  }

  std::unique_ptr<Process> subscribe(const std::string& user, const std::string& filter) {
    auto args = client_args("mosquitto_sub", user, passwords_.at(user));
    args.insert(args.end(), {"-q", "1", "-v", "-t", filter});
    return std::make_unique<Process>(args);
  }

  static bool wait_output(Process& process, const std::string& text) {
    return test::wait_until([&] { return process.read_stdout().find(text) != std::string::npos; },
                            60s);
  }

  test::TempDir dir_{"homesafe-broker-credentials"};
  std::filesystem::path config_ = dir_ / "h001.yaml";
  std::map<std::string, std::string> passwords_;
  std::unique_ptr<test::Mosquitto> broker_;
};

TEST_F(BrokerCredentialsE2E, OnlyKnownUsersConnectAndEachWritesOnlyItsOwnTopics) {
  // Nobody without a password, nobody with a wrong one.
  EXPECT_NE(publish("", "", "homesafe/h001/dev/kitchen-smoke/state", "{}"), std::optional<int>(0));
  EXPECT_NE(
      publish("kitchen-smoke", "wrong-password", "homesafe/h001/dev/kitchen-smoke/state", "{}"),
      std::optional<int>(0));

  auto app = subscribe("homesafe-app", "homesafe/h001/#");
  Process gateway({HOMESAFE_GATEWAY_BIN, "--config", config_.string()});
  ASSERT_TRUE(wait_output(*app, "homesafe/h001/gateway/status online"))
      << gateway.describe() << app->describe() << broker_->log();

  const std::string smoke_pw = passwords_.at("kitchen-smoke");
  // A device cannot fake another device, an alert or an acknowledgement (the broker drops them).
  EXPECT_EQ(publish("kitchen-smoke", smoke_pw, "homesafe/h001/dev/bedroom-sos/state",
                    R"({"action":"sos"})"),
            std::optional<int>(0));
  EXPECT_EQ(publish("kitchen-smoke", smoke_pw, "homesafe/h001/alert/h001-999999",
                    R"({"alert_id":"h001-999999","kind":"gas","state":"open"})"),
            std::optional<int>(0));
  // Its own topic works: the gateway (with its generated password) raises the alarm.
  EXPECT_EQ(publish("kitchen-smoke", smoke_pw, "homesafe/h001/dev/kitchen-smoke/state",
                    R"({"smoke":true})"),
            std::optional<int>(0));
  ASSERT_TRUE(wait_output(*app, R"("kind":"smoke")")) << gateway.describe() << app->describe();
  ASSERT_TRUE(wait_output(*app, "homesafe/h001/notify ")) << app->describe();

  const std::string seen = app->read_stdout();
  EXPECT_EQ(seen.find("h001-999999"), std::string::npos) << seen;
  EXPECT_EQ(seen.find(R"("kind":"call")"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("homesafe/h001/dev/"), std::string::npos)
      << "the app user may not read device topics: " << seen;

  // The caregiver app acknowledges through the ack topic.
  const auto at = seen.find("\"alert_id\":\"");
  ASSERT_NE(at, std::string::npos) << seen;
  const std::string id = seen.substr(at + 12, seen.find('"', at + 12) - at - 12);
  EXPECT_EQ(publish("homesafe-app", passwords_.at("homesafe-app"), "homesafe/h001/ack",
                    R"({"alert_id":")" + id + R"(","by":"li","action":"ack"})"),
            std::optional<int>(0));
  EXPECT_TRUE(wait_output(*app, R"("state":"acknowledged")")) << app->describe();

  EXPECT_EQ(gateway.stop(), std::optional<int>(0)) << gateway.describe();
  app->stop();
}

}  // namespace
}  // namespace homesafe
