// `homesafe-gateway setup`: the broker credentials and ACL derived from the hub config, the
// files' modes, and re-runs that keep passwords unless asked to rotate.
#include "setup.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <regex>
#include <sstream>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace homesafe::gateway::cli {
namespace {

constexpr const char* kConfig = R"(household: {id: h001, name: "测试户", timezone: Asia/Shanghai}
broker: {url: "tcp://127.0.0.1:1883", username: homesafe-gateway, password_file: "@DIR@/gw.pass"}
storage: {path: "@DIR@/h001.db"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
  - {id: bedroom-sos, kind: call_button, location: 卧室}
  - {id: hall-smoke, kind: smoke, format: zigbee2mqtt, topic: zigbee2mqtt/hall-smoke, location: 门厅}
  - {id: front-door, kind: contact, format: zigbee2mqtt, topic: zigbee2mqtt/front-door, location: 门厅}
  - {id: kettle-plug, kind: plug, format: tasmota, topic: tele/kettle, location: 厨房}
  - {id: esp-gas, kind: gas, format: esphome, topic: esp-kitchen/binary_sensor/gas, location: 厨房}
  - {id: esp-temp, kind: temperature, format: esphome, topic: esp-kitchen/sensor/temp, location: 厨房}
  - {id: bath-leak, kind: water_leak, format: shelly, topic: shellyflood-a1b2c3, location: 卫生间}
  - {id: water-meter, kind: water_meter, format: wmbusmeters, topic: wmbusmeters/water, location: 厨房, power: mains}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
)";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

HubConfig parse(const std::string& text) {
  auto result = parse_config(text, "test.yaml");
  if (!result.errors.empty()) throw std::runtime_error(result.errors.front().to_string());
  return *result.config;
}

const BrokerCredential* find(const std::vector<BrokerCredential>& all, const std::string& user) {
  for (const auto& c : all) {
    if (c.username == user) return &c;
  }
  return nullptr;
}

using Strings = std::vector<std::string>;

TEST(SetupCredentials, EachClientMayWriteOnlyItsOwnTopics) {
  std::vector<std::string> errors;
  const auto all = broker_credentials(parse(replace_all(kConfig, "@DIR@", "/tmp/x")), errors);
  ASSERT_TRUE(errors.empty()) << errors.front();

  ASSERT_GE(all.size(), 2u);
  EXPECT_EQ(all[0].username, "homesafe-gateway");
  EXPECT_EQ(all[0].role, "gateway");
  EXPECT_EQ(all[0].readwrite, Strings{"#"});

  const auto* app = find(all, "homesafe-app");
  ASSERT_NE(app, nullptr);
  EXPECT_TRUE(app->readwrite.empty());
  EXPECT_EQ(app->write, Strings{"homesafe/h001/ack"});
  EXPECT_EQ(app->read, (Strings{"homesafe/h001/alert/#", "homesafe/h001/notify",
                                "homesafe/h001/gateway/status"}));

  // Native devices: one credential each, on their own base topic only.
  const auto* smoke = find(all, "kitchen-smoke");
  ASSERT_NE(smoke, nullptr);
  EXPECT_EQ(smoke->role, "device");
  EXPECT_EQ(smoke->readwrite, Strings{"homesafe/h001/dev/kitchen-smoke/#"});
  EXPECT_TRUE(smoke->read.empty());
  EXPECT_TRUE(smoke->write.empty());
  EXPECT_EQ(find(all, "bedroom-sos")->readwrite, Strings{"homesafe/h001/dev/bedroom-sos/#"});

  // A Zigbee2MQTT bridge publishes for all its devices: one credential, its own tree.
  const auto* z2m = find(all, "zigbee2mqtt");
  ASSERT_NE(z2m, nullptr);
  EXPECT_EQ(z2m->role, "bridge");
  EXPECT_EQ(z2m->devices, (Strings{"hall-smoke", "front-door"}));
  EXPECT_EQ(z2m->readwrite, Strings{"zigbee2mqtt/#"});

  const auto* tasmota = find(all, "tasmota-kettle");
  ASSERT_NE(tasmota, nullptr);
  EXPECT_EQ(tasmota->readwrite, (Strings{"tele/kettle/#", "stat/kettle/#", "cmnd/kettle/#"}));

  // Two entities of one ESPHome node are one MQTT client.
  const auto* esp = find(all, "esphome-esp-kitchen");
  ASSERT_NE(esp, nullptr);
  EXPECT_EQ(esp->devices, (Strings{"esp-gas", "esp-temp"}));
  EXPECT_EQ(esp->readwrite, Strings{"esp-kitchen/#"});

  EXPECT_EQ(find(all, "shelly-shellyflood-a1b2c3")->readwrite, Strings{"shellyflood-a1b2c3/#"});
  EXPECT_EQ(find(all, "wmbusmeters")->readwrite, Strings{"wmbusmeters/#"});
  EXPECT_EQ(all.size(), 9u);

  // No device or bridge may touch the hub's own topics (alerts, acks, the gateway's status).
  for (const auto& c : all) {
    if (c.role == "gateway" || c.role == "app") continue;
    for (const auto* list : {&c.readwrite, &c.read, &c.write}) {
      for (const auto& filter : *list) {
        EXPECT_NE(filter, "#") << c.username;
        const bool hub_topic =
            filter.rfind("homesafe/h001/", 0) == 0 && filter.rfind("homesafe/h001/dev/", 0) != 0;
        EXPECT_FALSE(hub_topic) << c.username << " " << filter;
      }
    }
  }
}

TEST(SetupCredentials, AclFileListsEveryUserWithItsTopics) {
  std::vector<std::string> errors;
  const auto all = broker_credentials(parse(replace_all(kConfig, "@DIR@", "/tmp/x")), errors);
  const std::string acl = acl_text(all);
  EXPECT_NE(acl.find("\nuser homesafe-gateway\ntopic readwrite #\n"), std::string::npos) << acl;
  EXPECT_NE(acl.find("# device: kitchen-smoke\nuser kitchen-smoke\n"
                     "topic readwrite homesafe/h001/dev/kitchen-smoke/#\n"),
            std::string::npos)
      << acl;
  EXPECT_NE(acl.find("user homesafe-app\ntopic read homesafe/h001/alert/#\n"
                     "topic read homesafe/h001/notify\ntopic read homesafe/h001/gateway/status\n"
                     "topic write homesafe/h001/ack\n"),
            std::string::npos)
      << acl;
  // No pattern lines, no anonymous section: users not listed get nothing.
  EXPECT_EQ(acl.find("pattern"), std::string::npos);
  int users = 0;
  for (auto at = acl.find("\nuser "); at != std::string::npos; at = acl.find("\nuser ", at + 1)) {
    ++users;
  }
  EXPECT_EQ(users, static_cast<int>(all.size()));
}

TEST(SetupCredentials, DeviceNamedLikeTheAppUserIsAnError) {
  std::string text = replace_all(kConfig, "@DIR@", "/tmp/x");
  text = replace_all(text, "id: bedroom-sos", "id: homesafe-app");
  std::vector<std::string> errors;
  broker_credentials(parse(text), errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("homesafe-app"), std::string::npos) << errors[0];
}

TEST(SetupHash, MatchesMosquittoPbkdf2Sha512Format) {
  // Reference computed independently: Python hashlib.pbkdf2_hmac('sha512', b'correct horse',
  // bytes(range(1, 13)), 101, 64), base64-encoded as Mosquitto's `$7$` format stores it.
  const unsigned char salt[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  EXPECT_EQ(mosquitto_hash("correct horse", salt),
            "$7$101$AQIDBAUGBwgJCgsM$mIOMyf0G01/LkKvFuu6raA+sJydkdh2qDZD+cyTDcrMk08Rnc3N+vIiTgRJqno"
            "lJL9TU+/R/F+mbz31mQG16jg==");
}

TEST(SetupHash, AgreesWithMosquittoPasswd) {
  // Mosquitto's own tool hashes a password with its salt; ours must give the same hash.
  if (!std::filesystem::exists("/usr/bin/mosquitto_passwd")) {
    GTEST_SKIP() << "mosquitto_passwd is not installed (package mosquitto)";
  }
  test::TempDir dir("homesafe-setup-passwd");
  const auto file = dir / "passwd";
  test::Process tool({"/usr/bin/mosquitto_passwd", "-c", "-b", file.string(), "dev-1",
                      "Zq9xY2kL0pR4sT7uV1wX3yA5"});
  ASSERT_EQ(tool.wait_for_exit(), std::optional<int>(0)) << tool.describe();
  const std::string line = test::read_file(file);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(line, m, std::regex(R"(^dev-1:\$7\$(\d+)\$([^$]+)\$([^\s]+))")))
      << line;
  const std::string salt64 = m[2].str();
  std::vector<unsigned char> salt(salt64.size());
  const int n = EVP_DecodeBlock(salt.data(), reinterpret_cast<const unsigned char*>(salt64.data()),
                                static_cast<int>(salt64.size()));
  ASSERT_GT(n, 0);
  salt.resize(static_cast<std::size_t>(n) - std::count(salt64.begin(), salt64.end(), '='));
  EXPECT_EQ(mosquitto_hash("Zq9xY2kL0pR4sT7uV1wX3yA5", salt, std::stoi(m[1].str())),
            "$7$" + m[1].str() + "$" + salt64 + "$" + m[3].str());
}

TEST(SetupHash, RandomPasswordsAreLongAndDifferent) {
  const std::string a = random_password();
  const std::string b = random_password();
  EXPECT_EQ(a.size(), 24u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(std::regex_match(a, std::regex("[A-Za-z0-9]{24}"))) << a;
}

class SetupCommand : public ::testing::Test {
 protected:
  void SetUp() override { write_config(kConfig); }

  void write_config(const std::string& text) {
    test::write_file(config_, replace_all(text, "@DIR@", dir_.path().string()));
  }

  int run(bool rotate = false) {
    SetupOptions options;
    options.config_path = config_.string();
    options.out_dir = dir_ / "broker";
    options.rotate = rotate;
    out_.str("");
    err_.str("");
    return setup(options, out_, err_);
  }

  static unsigned mode_of(const std::filesystem::path& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return 0;
    return info.st_mode & 07777;
  }

  test::TempDir dir_{"homesafe-setup-test"};
  std::filesystem::path config_ = dir_ / "hub.yaml";
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(SetupCommand, WritesPasswordFileAclAndSecretsWithTightModes) {
  ASSERT_EQ(run(), 0) << err_.str();
  const auto broker = dir_ / "broker";
  EXPECT_EQ(mode_of(broker / "passwd"), 0600u);
  EXPECT_EQ(mode_of(broker / "acl"), 0600u);
  EXPECT_EQ(mode_of(broker / "credentials"), 0600u);
  EXPECT_EQ(mode_of(dir_ / "gw.pass"), 0640u);
  // No temp files left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(broker)) ++files;
  EXPECT_EQ(files, 3);

  const auto plain = read_credentials_file(broker / "credentials");
  ASSERT_EQ(plain.size(), 9u);
  const std::string passwd = test::read_file(broker / "passwd");
  const std::regex line("([A-Za-z0-9_.-]+):\\$7\\$101\\$[A-Za-z0-9+/=]{16}\\$[A-Za-z0-9+/=]{88}");
  std::istringstream lines(passwd);
  std::string text;
  int count = 0;
  while (std::getline(lines, text)) {
    std::smatch match;
    ASSERT_TRUE(std::regex_match(text, match, line)) << text;
    EXPECT_TRUE(plain.contains(match[1].str())) << text;
    ++count;
  }
  EXPECT_EQ(count, 9);
  for (const auto& [user, password] : plain) {
    EXPECT_EQ(passwd.find(password), std::string::npos) << "plaintext password of " << user;
    EXPECT_EQ(password.size(), 24u) << user;
  }
  // The gateway's password file holds the gateway's password.
  EXPECT_EQ(read_secret_file((dir_ / "gw.pass").string()), plain.at("homesafe-gateway"));
  EXPECT_NE(
      test::read_file(broker / "acl").find("user zigbee2mqtt\ntopic readwrite zigbee2mqtt/#\n"),
      std::string::npos);
  // Nothing secret on the terminal.
  for (const auto& [user, password] : plain) {
    EXPECT_EQ(out_.str().find(password), std::string::npos);
  }
}

TEST_F(SetupCommand, RerunKeepsPasswordsAndRotateReplacesThem) {
  ASSERT_EQ(run(), 0) << err_.str();
  const auto broker = dir_ / "broker";
  const auto first = read_credentials_file(broker / "credentials");
  const std::string first_passwd = test::read_file(broker / "passwd");

  // A device added, one removed: the others keep their passwords.
  std::string text =
      replace_all(kConfig, "  - {id: bedroom-sos, kind: call_button, location: 卧室}\n",
                  "  - {id: hall-sos, kind: call_button, location: 门厅}\n");
  write_config(text);
  ASSERT_EQ(run(), 0) << err_.str();
  const auto second = read_credentials_file(broker / "credentials");
  EXPECT_FALSE(second.contains("bedroom-sos"));
  ASSERT_TRUE(second.contains("hall-sos"));
  EXPECT_NE(second.at("hall-sos"), first.at("kitchen-smoke"));
  for (const auto& [user, password] : second) {
    if (user == "hall-sos") continue;
    EXPECT_EQ(password, first.at(user)) << user;
  }
  EXPECT_EQ(test::read_file(broker / "acl").find("bedroom-sos"), std::string::npos);
  // Fresh salts: the hash lines change even though the passwords do not.
  EXPECT_NE(test::read_file(broker / "passwd"), first_passwd);

  ASSERT_EQ(run(/*rotate=*/true), 0) << err_.str();
  const auto rotated = read_credentials_file(broker / "credentials");
  ASSERT_EQ(rotated.size(), second.size());
  for (const auto& [user, password] : rotated) EXPECT_NE(password, second.at(user)) << user;
  EXPECT_EQ(read_secret_file((dir_ / "gw.pass").string()), rotated.at("homesafe-gateway"));
}

TEST_F(SetupCommand, GatewayPasswordFileAloneIsKept) {
  // A hub set up by hand: the gateway already has a password file, no credentials file yet.
  test::write_file(dir_ / "gw.pass", "handmade-Secret-123\n");
  ASSERT_EQ(run(), 0) << err_.str();
  EXPECT_EQ(read_credentials_file(dir_ / "broker" / "credentials").at("homesafe-gateway"),
            "handmade-Secret-123");
}

TEST_F(SetupCommand, RefusesConfigsWithoutGatewayCredentialsAndWritesNothing) {
  write_config(
      replace_all(kConfig, ", username: homesafe-gateway, password_file: \"@DIR@/gw.pass\"", ""));
  EXPECT_EQ(run(), 1);
  EXPECT_NE(err_.str().find("broker.username is not set"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("broker.password_file is not set"), std::string::npos) << err_.str();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "broker"));

  write_config(
      replace_all(kConfig, "password_file: \"@DIR@/gw.pass\"", "password: \"hunter2hunter2\""));
  EXPECT_EQ(run(), 1);
  EXPECT_NE(err_.str().find("broker.password is set"), std::string::npos) << err_.str();
  EXPECT_EQ(err_.str().find("hunter2"), std::string::npos) << "the password was echoed";
  EXPECT_FALSE(std::filesystem::exists(dir_ / "broker"));
}

TEST_F(SetupCommand, ConfigErrorsAreReportedWithPlaces) {
  write_config(replace_all(kConfig, "kind: smoke, location: 厨房", "kind: smok, location: 厨房"));
  EXPECT_EQ(run(), 1);
  EXPECT_NE(err_.str().find("hub.yaml:"), std::string::npos) << err_.str();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "broker"));
}

}  // namespace
}  // namespace homesafe::gateway::cli
