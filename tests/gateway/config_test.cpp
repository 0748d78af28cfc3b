// Tests of the hub config loader: the shipped example, defaults, one test per error class with its
// exact line:column, a file with many errors, privacy of contacts' data, and robustness.
#include "homesafe/gateway/config.hpp"

#include "homesafe/drivers/driver.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace homesafe::gateway {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

const std::string kSourceDir = HOMESAFE_SOURCE_DIR;

ConfigResult parse(const std::string& text) {
  return parse_config(text, "h001.yaml");
}

std::string all_errors(const ConfigResult& result) {
  std::string out;
  for (const auto& error : result.errors) out += error.to_string() + "\n";
  return out;
}

// Asserts that the result holds exactly one error, at line:column, whose message contains `text`.
void expect_one_error(const ConfigResult& result, int line, int column, const std::string& text) {
  ASSERT_THAT(result.errors, SizeIs(1)) << all_errors(result);
  const ConfigError& error = result.errors.front();
  EXPECT_EQ(error.line, line) << error.to_string();
  EXPECT_EQ(error.column, column) << error.to_string();
  EXPECT_THAT(error.message, HasSubstr(text));
  EXPECT_FALSE(result.config.has_value());
}

// Asserts that some error is at line:column and its message contains `text`.
void expect_error(const ConfigResult& result, int line, int column, const std::string& text) {
  for (const auto& error : result.errors) {
    if (error.line == line && error.column == column &&
        error.message.find(text) != std::string::npos) {
      return;
    }
  }
  ADD_FAILURE() << "no error at " << line << ":" << column << " containing \"" << text << "\" in:\n"
                << all_errors(result);
}

// A minimal valid config; tests append or replace sections. Lines 1-5.
const std::string kHousehold = "household: {id: h001, name: \"3组 王奶奶\"}\n";
const std::string kStorage = "storage: {path: \":memory:\"}\n";
const std::string kDevices =
    "devices:\n"
    "  - {id: smoke1, kind: smoke, location: 厨房}\n";
const std::string kContacts =
    "contacts:\n"
    "  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}\n";

// ---------------------------------------------------------------------------------------------
// Valid files.

TEST(ConfigExample, ParsesWithExpectedValues) {
  ConfigResult result = load_config(kSourceDir + "/examples/h001.yaml");
  ASSERT_THAT(result.errors, IsEmpty()) << all_errors(result);
  ASSERT_TRUE(result.config.has_value());
  const HubConfig& config = *result.config;

  EXPECT_EQ(config.source_file, kSourceDir + "/examples/h001.yaml");
  EXPECT_EQ(config.household.id, "h001");
  EXPECT_EQ(config.household.name, "3组 王奶奶");
  EXPECT_EQ(config.household.timezone, "Asia/Shanghai");
  EXPECT_EQ(config.broker.url, "tcp://127.0.0.1:1883");
  EXPECT_EQ(config.broker.client_id, "homesafe-h001");
  EXPECT_EQ(config.broker.keepalive, std::chrono::seconds{30});
  EXPECT_TRUE(config.broker.password.empty());
  EXPECT_FALSE(config.broker.tls.has_value());
  EXPECT_EQ(config.storage.path, "/var/lib/homesafe/h001.db");
  EXPECT_EQ(config.storage.telemetry_retention_days, 35);
  EXPECT_EQ(config.storage.telemetry_max_rows, 2'000'000);
  EXPECT_EQ(config.storage.min_free_mb, 50);
  EXPECT_FALSE(config.storage.telemetry_every_reading);

  ASSERT_THAT(config.devices, SizeIs(8));
  std::vector<std::string> ids;
  for (const auto& device : config.devices) ids.push_back(device.id);
  EXPECT_THAT(
      ids, ::testing::ElementsAre("kitchen-smoke", "kitchen-gas", "bedroom-sos", "front-door",
                                  "bathroom-leak", "water-meter", "kettle-plug", "bedroom-motion"));

  const auto* smoke = config.find_device("kitchen-smoke");
  ASSERT_NE(smoke, nullptr);
  EXPECT_EQ(smoke->kind, drivers::DeviceKind::smoke);
  EXPECT_EQ(smoke->format, "native");
  EXPECT_EQ(smoke->topic, "homesafe/h001/dev/kitchen-smoke");
  EXPECT_EQ(smoke->location, "厨房");
  EXPECT_EQ(smoke->power, drivers::PowerSource::battery);

  const auto* gas = config.find_device("kitchen-gas");
  ASSERT_NE(gas, nullptr);
  EXPECT_EQ(gas->kind, drivers::DeviceKind::gas);
  EXPECT_EQ(gas->topic, "homesafe/h001/dev/kitchen-gas");  // default for native
  EXPECT_EQ(gas->power, drivers::PowerSource::mains);

  const auto* sos = config.find_device("bedroom-sos");
  ASSERT_NE(sos, nullptr);
  EXPECT_EQ(sos->kind, drivers::DeviceKind::call_button);
  EXPECT_EQ(sos->location, "卧室");
  EXPECT_EQ(sos->call_actions, (std::vector<std::string>{"sos", "single"}));

  EXPECT_EQ(config.find_device("front-door")->kind, drivers::DeviceKind::contact);
  EXPECT_EQ(config.find_device("front-door")->power, drivers::PowerSource::battery);
  EXPECT_EQ(config.find_device("front-door")->location, "门厅");
  EXPECT_EQ(config.find_device("bathroom-leak")->location, "卫生间");
  EXPECT_EQ(config.find_device("water-meter")->kind, drivers::DeviceKind::water_meter);
  EXPECT_EQ(config.find_device("kettle-plug")->power, drivers::PowerSource::mains);  // plug default
  EXPECT_EQ(config.find_device("kettle-plug")->model, "generic-16a");
  EXPECT_EQ(config.find_device("bedroom-motion")->kind, drivers::DeviceKind::motion);
  EXPECT_EQ(config.find_device("bedroom-motion")->power, drivers::PowerSource::battery);
  EXPECT_EQ(config.find_device("no-such-device"), nullptr);

  ASSERT_THAT(config.contacts, SizeIs(3));
  const auto* li = config.find_contact("li");
  ASSERT_NE(li, nullptr);
  EXPECT_EQ(li->name, "李阿姨");
  EXPECT_EQ(li->role, Role::caregiver);
  ASSERT_THAT(li->channels, SizeIs(2));
  EXPECT_EQ(li->channels[0].type, "mqtt");
  EXPECT_EQ(li->channels[0].address, "");
  EXPECT_EQ(li->channels[1].type, "sms");
  EXPECT_EQ(li->channels[1].address, "+8613800000000");
  ASSERT_NE(config.find_contact("son"), nullptr);
  EXPECT_EQ(config.find_contact("son")->role, Role::emergency_contact);
  ASSERT_NE(config.find_contact("township"), nullptr);
  EXPECT_EQ(config.find_contact("township")->role, Role::duty_desk);
  EXPECT_EQ(config.find_contact("nobody"), nullptr);
}

TEST(ConfigDefaults, MinimalFileGetsDefaults) {
  ConfigResult result = parse(kHousehold + kStorage + kDevices +
                              "  - {id: plug1, kind: plug, location: 厨房}\n" + kContacts);
  ASSERT_THAT(result.errors, IsEmpty()) << all_errors(result);
  const HubConfig& config = *result.config;
  EXPECT_EQ(config.source_file, "h001.yaml");
  EXPECT_EQ(config.household.timezone, "Asia/Shanghai");
  EXPECT_EQ(config.broker.url, "tcp://127.0.0.1:1883");
  EXPECT_EQ(config.broker.client_id, "homesafe-h001");
  EXPECT_EQ(config.broker.keepalive, std::chrono::seconds{30});
  EXPECT_FALSE(config.broker.tls.has_value());
  EXPECT_EQ(config.storage.path, ":memory:");
  EXPECT_EQ(config.storage.telemetry_retention_days, 35);
  EXPECT_EQ(config.storage.telemetry_max_rows, 2'000'000);
  ASSERT_THAT(config.devices, SizeIs(2));
  EXPECT_EQ(config.devices[0].format, "native");
  EXPECT_EQ(config.devices[0].topic, "homesafe/h001/dev/smoke1");
  EXPECT_EQ(config.devices[0].power, drivers::PowerSource::battery);
  EXPECT_TRUE(config.devices[0].call_actions.empty());
  EXPECT_EQ(config.devices[1].power, drivers::PowerSource::mains);
}

TEST(ConfigDefaults, OptionalKeysAreRead) {
  ConfigResult result = parse(
      "household: {id: h-2_b, name: x, timezone: Europe/Berlin}\n"
      "broker:\n"
      "  url: \"mqtts://[::1]:8883\"\n"
      "  client_id: hub-2\n"
      "  username: hub\n"
      "  password_file: /etc/homesafe/broker.pass\n"
      "  keepalive: 1m30s\n"
      "  tls: {ca_file: /etc/ca.pem, cert_file: c.pem, key_file: k.pem, verify: false}\n"
      "storage: {path: /tmp/x.db, telemetry_retention_days: 3650, telemetry_max_rows: 1000,\n"
      "          telemetry_every_reading: true}\n"
      "devices:\n"
      "  - {id: p, kind: plug, location: 厨房, power: battery, topic: a/b c/d}\n"
      "  - {id: q, kind: call_button, location: 卧室, power: mains}\n" +
      kContacts +
      "notify: {modem: {device: /dev/ttyUSB2, baud: 9600}, ack_actions: [double, hold]}\n"
      "escalation: [{match: {kind: [smoke, gas]}, steps: [{after: 0s, notify: [caregiver]}, "
      "{wait: 2m, notify: [li]}], repeat: 10m, until: resolved}]\n");
  ASSERT_THAT(result.errors, IsEmpty()) << all_errors(result);
  const HubConfig& config = *result.config;
  EXPECT_EQ(config.household.timezone, "Europe/Berlin");
  EXPECT_EQ(config.broker.url, "mqtts://[::1]:8883");
  EXPECT_EQ(config.broker.client_id, "hub-2");
  EXPECT_EQ(config.broker.username, "hub");
  EXPECT_EQ(config.broker.password_file, "/etc/homesafe/broker.pass");
  EXPECT_EQ(config.broker.keepalive, std::chrono::seconds{90});
  ASSERT_TRUE(config.broker.tls.has_value());
  EXPECT_EQ(config.broker.tls->ca_file, "/etc/ca.pem");
  EXPECT_EQ(config.broker.tls->cert_file, "c.pem");
  EXPECT_EQ(config.broker.tls->key_file, "k.pem");
  EXPECT_FALSE(config.broker.tls->verify);
  EXPECT_EQ(config.storage.telemetry_retention_days, 3650);
  EXPECT_EQ(config.storage.telemetry_max_rows, 1000);
  EXPECT_TRUE(config.storage.telemetry_every_reading);
  EXPECT_EQ(config.devices[0].power, drivers::PowerSource::battery);
  EXPECT_EQ(config.devices[0].topic, "a/b c/d");
  EXPECT_EQ(config.devices[1].power, drivers::PowerSource::mains);
  ASSERT_TRUE(config.notify.modem.has_value());
  EXPECT_EQ(config.notify.modem->device, "/dev/ttyUSB2");
  EXPECT_EQ(config.notify.modem->baud, 9600);
  EXPECT_EQ(config.notify.ack_actions, (std::vector<std::string>{"double", "hold"}));
  ASSERT_EQ(config.escalation.size(), 1u);
  const auto& policy = config.escalation[0];
  EXPECT_EQ(policy.kinds,
            (std::vector<rules::AlertKind>{rules::AlertKind::smoke, rules::AlertKind::gas}));
  ASSERT_EQ(policy.steps.size(), 2u);
  EXPECT_EQ(policy.steps[1].after, std::chrono::minutes(2));
  EXPECT_EQ(policy.repeat, std::chrono::minutes(10));
  EXPECT_EQ(policy.until, StopWhen::resolved);
}

TEST(ConfigDefaults, AcceptsEveryBrokerSchemeAndDurationForm) {
  for (const std::string url :
       {"tcp://localhost", "mqtt://broker.local:1883", "ssl://10.0.0.1:8883", "mqtts://h:1",
        "ws://127.0.0.1:8080/mqtt", "wss://h:65535/"}) {
    ConfigResult result =
        parse(kHousehold + "broker: {url: \"" + url + "\"}\n" + kStorage + kDevices + kContacts);
    EXPECT_THAT(result.errors, IsEmpty()) << url << "\n" << all_errors(result);
  }
  const std::vector<std::pair<std::string, int>> durations{
      {"5", 5}, {"5s", 5}, {"45s", 45}, {"2m", 120}, {"1m30s", 90}, {"10m", 600}, {"600", 600}};
  for (const auto& [text, seconds] : durations) {
    ConfigResult result =
        parse(kHousehold + "broker: {keepalive: " + text + "}\n" + kStorage + kDevices + kContacts);
    ASSERT_THAT(result.errors, IsEmpty()) << text << "\n" << all_errors(result);
    EXPECT_EQ(result.config->broker.keepalive, std::chrono::seconds{seconds}) << text;
  }
}

TEST(ConfigRole, NamesRoundTrip) {
  for (Role role : {Role::caregiver, Role::emergency_contact, Role::duty_desk, Role::installer}) {
    EXPECT_EQ(role_from_string(to_string(role)), role);
  }
  EXPECT_EQ(to_string(Role::duty_desk), "duty_desk");
  EXPECT_EQ(role_from_string("Caregiver"), std::nullopt);
  EXPECT_EQ(role_from_string(""), std::nullopt);
}

TEST(ConfigErrorText, ToStringFormats) {
  EXPECT_EQ((ConfigError{"h001.yaml", 14, 11, "bad"}).to_string(), "h001.yaml:14:11: bad");
  EXPECT_EQ((ConfigError{"h001.yaml", 0, 0, "bad"}).to_string(), "h001.yaml: bad");
}

// ---------------------------------------------------------------------------------------------
// The file as a whole.

TEST(ConfigFile, EmptyFileIsOneErrorAtStart) {
  for (const std::string text : {"", "\n\n", "# only a comment\n", "---\n", "~\n"}) {
    expect_one_error(parse(text), 1, 1, "the file is empty");
  }
}

TEST(ConfigFile, NonMapIsOneErrorAtStart) {
  expect_one_error(parse("- a\n- b\n"), 1, 1, "expected a map");
  expect_one_error(parse("\n\njust text\n"), 1, 1, "got a single value");
}

TEST(ConfigFile, SyntaxErrorHasItsPlace) {
  expect_one_error(parse(kHousehold + "storage: {path: x\n"), 3, 1, "YAML syntax error");
  expect_one_error(parse("household:\n  id: a: b\n"), 2, 8, "YAML syntax error");
  expect_one_error(parse("household:\n\tid: h001\n"), 2, 4, "indent with spaces, not tabs");
}

TEST(ConfigFile, SecondDocumentIsAnError) {
  ConfigResult result = parse(kHousehold + kStorage + kDevices + kContacts + "---\nfoo: 1\n");
  expect_one_error(result, 8, 1, "unexpected second YAML document");
  // A trailing document marker alone is harmless.
  EXPECT_THAT(parse(kHousehold + kStorage + kDevices + kContacts + "---\n").errors, IsEmpty());
}

TEST(ConfigFile, MissingSectionsAreReportedAtTheTopMap) {
  ConfigResult result = parse("# comment\n" + kHousehold);
  ASSERT_THAT(result.errors, SizeIs(3)) << all_errors(result);
  expect_error(result, 2, 1, "the file has no storage section");
  expect_error(result, 2, 1, "the file has no devices section");
  expect_error(result, 2, 1, "the file has no contacts section");
}

TEST(ConfigFile, UnknownTopLevelKeyListsAllowedKeys) {
  ConfigResult result = parse(kHousehold + kStorage + kDevices + kContacts + "x_y: 1\n");
  expect_one_error(result, 7, 1,
                   "unknown key \"x_y\" at the top level (allowed: household, broker, storage, "
                   "devices, contacts, escalation, notify, rules, uplink)");
}

TEST(ConfigFile, UnknownKeyGetsDidYouMean) {
  ConfigResult result = parse(kHousehold + kStorage +
                              "devices:\n"
                              "  - id: kitchen-smoke\n"
                              "    kind: smoke\n"
                              "    location: 厨房\n"
                              "    powr: battery\n" +
                              kContacts);
  expect_one_error(result, 7, 5, "unknown key \"powr\" in device (did you mean \"power\"?)");
  EXPECT_EQ(result.errors[0].to_string(),
            "h001.yaml:7:5: unknown key \"powr\" in device (did you mean \"power\"?)");
}

TEST(ConfigFile, DuplicateKey) {
  ConfigResult result = parse(kHousehold + kStorage + kDevices + kContacts + "storage: {}\n");
  expect_one_error(result, 7, 1, "duplicate key \"storage\" at the top level (first at line 2)");
}

TEST(ConfigFile, ColumnsCountCharactersNotBytes) {
  // "  - {id: d, location: 厨房, kind: smoke, powr: x}": powr is the 40th character.
  ConfigResult result = parse(kHousehold + kStorage +
                              "devices:\n"
                              "  - {id: d, location: 厨房, kind: smoke, powr: x}\n" +
                              kContacts);
  expect_one_error(result, 4, 40, "unknown key \"powr\"");
}

TEST(ConfigFile, ErrorsAreSortedByLineThenColumn) {
  ConfigResult result = parse("household: {id: BAD, name: x, tz: 1}\n" + kStorage +
                              "devices:\n"
                              "  - {id: a, kind: nope, location: x, format: nope}\n" +
                              kContacts);
  ASSERT_THAT(result.errors, SizeIs(4)) << all_errors(result);
  for (std::size_t i = 1; i < result.errors.size(); ++i) {
    const auto& a = result.errors[i - 1];
    const auto& b = result.errors[i];
    EXPECT_TRUE(a.line < b.line || (a.line == b.line && a.column < b.column)) << all_errors(result);
  }
}

// ---------------------------------------------------------------------------------------------
// Wrong types.

TEST(ConfigTypes, ScalarWhereSequenceExpected) {
  ConfigResult result = parse(kHousehold + kStorage + "devices: foo\n" + kContacts);
  expect_one_error(result, 3, 10, "expected a sequence for devices, got a single value");
}

TEST(ConfigTypes, SequenceWhereDurationExpected) {
  ConfigResult result =
      parse(kHousehold + "broker:\n  keepalive: [1]\n" + kStorage + kDevices + kContacts);
  expect_one_error(result, 3, 14, "expected a duration such as 30s");
  EXPECT_THAT(result.errors[0].message, HasSubstr("for keepalive, got a sequence"));
}

TEST(ConfigTypes, TextWhereIntegerExpected) {
  ConfigResult result = parse(kHousehold +
                              "storage:\n"
                              "  path: /x.db\n"
                              "  telemetry_retention_days: abc\n" +
                              kDevices + kContacts);
  expect_one_error(result, 4, 29, "expected an integer for telemetry_retention_days, got \"abc\"");
}

TEST(ConfigTypes, FreeSpaceLimitIsANonNegativeInteger) {
  ConfigResult ok =
      parse(kHousehold + "storage:\n  path: /x.db\n  min_free_mb: 0\n" + kDevices + kContacts);
  ASSERT_TRUE(ok.errors.empty()) << ok.errors.front().to_string();
  EXPECT_EQ(ok.config->storage.min_free_mb, 0);
  ConfigResult result =
      parse(kHousehold + "storage:\n  path: /x.db\n  min_free_mb: -5\n" + kDevices + kContacts);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0].message, HasSubstr("min_free_mb"));
}

TEST(ConfigTypes, MapWhereStringExpected) {
  ConfigResult result = parse(kHousehold + kStorage +
                              "devices:\n"
                              "  - {id: d, kind: smoke, location: {room: 厨房}}\n" +
                              kContacts);
  expect_one_error(result, 4, 36, "expected a string for location, got a map");
}

TEST(ConfigTypes, SectionThatIsNotAMap) {
  ConfigResult result = parse("household: [h001]\n" + kStorage + kDevices + kContacts);
  expect_one_error(result, 1, 12, "expected a map for household, got a sequence");
}

TEST(ConfigTypes, EmptyValueWhereMapExpected) {
  ConfigResult result = parse(kHousehold + "broker:\n" + kStorage + kDevices + kContacts);
  expect_one_error(result, 2, 1, "expected a map for broker, got an empty value");
}

TEST(ConfigTypes, BadBoolean) {
  ConfigResult result =
      parse(kHousehold + "broker: {tls: {verify: maybe}}\n" + kStorage + kDevices + kContacts);
  expect_one_error(result, 2, 24, "expected true or false for verify, got \"maybe\"");
}

TEST(ConfigTypes, EscalationShapesAreChecked) {
  EXPECT_THAT(parse(kHousehold + kStorage + kDevices + kContacts + "escalation:\n").errors,
              IsEmpty());
  for (const std::string escalation :
       {"escalation: 1\n", "escalation: [{match: {kind: smoke}, steps: []}]\n",
        "escalation: [{steps: [{after: soon, notify: [caregiver]}]}]\n",
        "escalation: [{match: {kind: fire}, steps: [{notify: [caregiver]}]}]\n"}) {
    EXPECT_THAT(parse(kHousehold + kStorage + kDevices + kContacts + escalation).errors, SizeIs(1))
        << escalation;
  }
}

// ---------------------------------------------------------------------------------------------
// household

TEST(ConfigHousehold, InvalidId) {
  ConfigResult result = parse("household: {id: H001, name: x}\n" + kStorage + kDevices + kContacts);
  expect_one_error(result, 1, 17, "invalid household id \"H001\"");
}

TEST(ConfigHousehold, MissingIdAndBlankName) {
  ConfigResult result = parse("household:\n  name: \"  \"\n" + kStorage + kDevices + kContacts);
  ASSERT_THAT(result.errors, SizeIs(2)) << all_errors(result);
  expect_error(result, 2, 3, "household has no id");
  expect_error(result, 2, 3, "household has no name");
}

TEST(ConfigHousehold, UnknownTimezone) {
  for (const std::string zone : {"Asia/Shangai", "../../etc/passwd", "/etc/localtime", "Asia",
                                 "zone.tab", "Asia/../Asia/Shanghai"}) {
    ConfigResult result = parse("household: {id: h001, name: x, timezone: \"" + zone + "\"}\n" +
                                kStorage + kDevices + kContacts);
    expect_one_error(result, 1, 42, "unknown time zone");
  }
}

// ---------------------------------------------------------------------------------------------
// broker

TEST(ConfigBroker, InvalidUrls) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"http://127.0.0.1:1883", "must start with tcp://"},
      {"127.0.0.1:1883", "must start with tcp://"},
      {"tcp://127.0.0.1:0", "invalid port (expected 1 to 65535)"},
      {"tcp://127.0.0.1:65536", "invalid port"},
      {"tcp://127.0.0.1:", "invalid port"},
      {"tcp://127.0.0.1:x", "invalid port"},
      {"tcp://:1883", "has no host"},
      {"tcp://", "has no host"},
      {"tcp://bad host", "must not contain spaces"},
      {"tcp://user:pw@127.0.0.1", "must not contain a user name or password"},
      {"tcp://127.0.0.1:1883/mqtt", "without a path"},
      {"ssl://[::1", "invalid host"},
  };
  for (const auto& [url, message] : cases) {
    ConfigResult result =
        parse(kHousehold + "broker: {url: \"" + url + "\"}\n" + kStorage + kDevices + kContacts);
    expect_one_error(result, 2, 15, message);
    EXPECT_THAT(all_errors(result), Not(HasSubstr("pw@"))) << url;
  }
}

TEST(ConfigBroker, PasswordAndPasswordFileTogether) {
  ConfigResult result = parse(kHousehold +
                              "broker:\n"
                              "  password_file: /etc/homesafe/pass\n"
                              "  password: hunter2\n" +
                              kStorage + kDevices + kContacts);
  expect_one_error(result, 4, 3, "password and password_file are both set");
  EXPECT_THAT(all_errors(result), Not(HasSubstr("hunter2")));
}

TEST(ConfigBroker, KeepaliveOutOfRangeOrMalformed) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"4s", "keepalive must be between 5s and 10m"},
      {"11m", "keepalive must be between 5s and 10m"},
      {"1h30m", "keepalive must be between 5s and 10m"},
      {"0", "keepalive must be between 5s and 10m"},
      {"30x", "expected a duration"},
      {"30m1h", "expected a duration"},
      {"1h1h", "expected a duration"},
      {"s", "expected a duration"},
      {"-5s", "expected a duration"},
  };
  for (const auto& [text, message] : cases) {
    ConfigResult result = parse(kHousehold + "broker: {keepalive: \"" + text + "\"}\n" + kStorage +
                                kDevices + kContacts);
    expect_one_error(result, 2, 21, message);
  }
}

TEST(ConfigBroker, TlsProblems) {
  ConfigResult result = parse(kHousehold +
                              "broker:\n"
                              "  tls:\n"
                              "    cert_file: /etc/c.pem\n"
                              "    ca_fil: /etc/ca.pem\n"
                              "    key_file: \"\"\n" +
                              kStorage + kDevices + kContacts);
  ASSERT_THAT(result.errors, SizeIs(2)) << all_errors(result);
  expect_error(result, 5, 5, "unknown key \"ca_fil\" in broker tls (did you mean \"ca_file\"?)");
  expect_error(result, 6, 15, "key_file must be a non-empty file path");
}

TEST(ConfigBroker, CertWithoutKey) {
  ConfigResult result =
      parse(kHousehold + "broker: {tls: {cert_file: c.pem}}\n" + kStorage + kDevices + kContacts);
  expect_one_error(result, 2, 16, "cert_file and key_file must be given together");
}

TEST(ConfigBroker, FilesNeedNotExist) {
  ConfigResult result = parse(kHousehold +
                              "broker: {password_file: /nonexistent/pass, tls: {ca_file: "
                              "/nonexistent/ca.pem}}\n" +
                              kStorage + kDevices + kContacts);
  EXPECT_THAT(result.errors, IsEmpty()) << all_errors(result);
}

// ---------------------------------------------------------------------------------------------
// storage

TEST(ConfigStorage, MissingPath) {
  ConfigResult result =
      parse(kHousehold + "storage:\n  telemetry_retention_days: 7\n" + kDevices + kContacts);
  expect_one_error(result, 3, 3, "storage has no path");
}

TEST(ConfigStorage, OutOfRange) {
  ConfigResult result = parse(kHousehold +
                              "storage:\n"
                              "  path: x.db\n"
                              "  telemetry_retention_days: 0\n"
                              "  telemetry_max_rows: 2000000000\n" +
                              kDevices + kContacts);
  ASSERT_THAT(result.errors, SizeIs(2)) << all_errors(result);
  expect_error(result, 4, 29, "telemetry_retention_days must be between 1 and 3650");
  expect_error(result, 5, 23, "telemetry_max_rows must be between 1000 and 1000000000");
}

// ---------------------------------------------------------------------------------------------
// devices

TEST(ConfigDevices, EmptyOrMissing) {
  expect_one_error(parse(kHousehold + kStorage + "devices: []\n" + kContacts), 3, 10,
                   "devices is empty; at least one device is required");
  expect_one_error(parse(kHousehold + kStorage + "devices:\n" + kContacts), 3, 1,
                   "devices is empty");
}

TEST(ConfigDevices, DeviceWithoutLocation) {
  ConfigResult result = parse(kHousehold + kStorage +
                              "devices:\n"
                              "  - id: kitchen-smoke\n"
                              "    kind: smoke\n" +
                              kContacts);
  expect_one_error(result, 4, 5, "device \"kitchen-smoke\" has no location");
}

TEST(ConfigDevices, DeviceWithEmptyLocation) {
  ConfigResult result = parse(kHousehold + kStorage +
                              "devices:\n  - {id: d, kind: smoke, location: \"\"}\n" + kContacts);
  expect_one_error(result, 4, 26, "device \"d\" has no location");
}

TEST(ConfigDevices, DeviceWithoutIdOrKind) {
  ConfigResult result =
      parse(kHousehold + kStorage + "devices:\n  - {location: 厨房}\n" + kContacts);
  ASSERT_THAT(result.errors, SizeIs(2)) << all_errors(result);
  expect_error(result, 4, 5, "device has no id");
  expect_error(result, 4, 5, "device has no kind");
}

TEST(ConfigDevices, DuplicateId) {
  ConfigResult result = parse(kHousehold + kStorage +
                              "devices:\n"
                              "  - id: sos\n"
                              "    kind: call_button\n"
                              "    location: 卧室\n"
                              "  - id: sos\n"
                              "    kind: call_button\n"
                              "    location: 门厅\n" +
                              kContacts);
  expect_one_error(result, 7, 5, "duplicate device id \"sos\" (first defined at line 4)");
}

TEST(ConfigDevices, InvalidId) {
  ConfigResult result =
      parse(kHousehold + kStorage +
            "devices:\n  - {id: \"kitchen smoke\", kind: smoke, location: 厨房}\n" + kContacts);
  expect_one_error(result, 4, 10, "invalid device id \"kitchen smoke\"");
}

TEST(ConfigDevices, UnknownKindListsAllowedNames) {
  ConfigResult result = parse(kHousehold + kStorage +
                              "devices:\n  - {id: d, kind: smok, location: 厨房}\n" + kContacts);
  expect_one_error(result, 4, 19, "unknown device kind \"smok\"; expected one of: ");
  for (std::string_view name : drivers::device_kind_names()) {
    EXPECT_THAT(result.errors[0].message, HasSubstr(std::string(name)));
  }
  EXPECT_THAT(result.errors[0].message, HasSubstr("(did you mean \"smoke\"?)"));
}

TEST(ConfigDevices, UnknownFormat) {
  ConfigResult result =
      parse(kHousehold + kStorage +
            "devices:\n  - {id: d, kind: smoke, location: 厨房, format: z2m}\n" + kContacts);
  expect_one_error(result, 4, 48, "unknown format \"z2m\"; expected one of: native, zigbee2mqtt");
}

TEST(ConfigDevices, EcosystemFormatNeedsItsTopic) {
  // Every known format has a driver; a non-native format has no default topic.
  ASSERT_NE(drivers::find_driver("wmbusmeters"), nullptr);
  ConfigResult result =
      parse(kHousehold + kStorage +
            "devices:\n  - {id: meter, kind: water_meter, location: 厨房, format: wmbusmeters}\n" +
            kContacts);
  ASSERT_THAT(result.errors, SizeIs(1)) << all_errors(result);
  expect_error(result, 4, 5, "device \"meter\" has no topic (required for format wmbusmeters");
}

TEST(ConfigDevices, InvalidTopics) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"zigbee2mqtt/#", "must not contain the MQTT wildcards"},
      {"a/+/b", "must not contain the MQTT wildcards"},
      {"/a/b", "must not start or end with /"},
      {"a/b/", "must not start or end with /"},
      {"a//b", "must not have an empty level"},
      {"", "has an empty topic"},
  };
  for (const auto& [topic, message] : cases) {
    ConfigResult result =
        parse(kHousehold + kStorage + "devices:\n  - {id: d, kind: smoke, location: x, topic: \"" +
              topic + "\"}\n" + kContacts);
    expect_one_error(result, 4, 46, message);
  }
}

TEST(ConfigDevices, SameTopicAndFormatTwice) {
  ConfigResult result = parse(kHousehold + kStorage +
                              "devices:\n"
                              "  - {id: a, kind: smoke, location: x}\n"
                              "  - {id: b, kind: gas, location: x, topic: homesafe/h001/dev/a}\n" +
                              kContacts);
  expect_one_error(result, 5, 44, "device \"b\" has the same topic and format as device \"a\"");
}

TEST(ConfigDevices, InvalidPower) {
  ConfigResult result =
      parse(kHousehold + kStorage +
            "devices:\n  - {id: d, kind: smoke, location: x, power: solar}\n" + kContacts);
  expect_one_error(result, 4, 46, "unknown power source \"solar\"; expected battery or mains");
}

TEST(ConfigDevices, CallActionsOnlyForCallButtons) {
  ConfigResult result = parse(kHousehold + kStorage +
                              "devices:\n"
                              "  - id: d\n"
                              "    kind: smoke\n"
                              "    location: x\n"
                              "    call_actions: [sos]\n" +
                              kContacts);
  expect_one_error(result, 7, 5, "call_actions is only allowed for kind call_button");
}

TEST(ConfigDevices, CallActionsMustBeNonEmptyStrings) {
  ConfigResult result = parse(kHousehold + kStorage +
                              "devices:\n"
                              "  - id: d\n"
                              "    kind: call_button\n"
                              "    location: x\n"
                              "    call_actions: [sos, \"\", [x]]\n"
                              "  - {id: e, kind: call_button, location: x, call_actions: []}\n" +
                              kContacts);
  ASSERT_THAT(result.errors, SizeIs(3)) << all_errors(result);
  expect_error(result, 7, 25, "expected a non-empty action name in call_actions, got an empty");
  expect_error(result, 7, 29, "expected a non-empty action name in call_actions, got a sequence");
  expect_error(result, 8, 59, "call_actions is empty");
}

TEST(ConfigDevices, EntryThatIsNotAMap) {
  ConfigResult result = parse(kHousehold + kStorage + kDevices + "  - smoke2\n" + kContacts);
  expect_one_error(result, 5, 5, "expected a map for device");
}

// ---------------------------------------------------------------------------------------------
// contacts

TEST(ConfigContacts, ContactWithoutChannel) {
  ConfigResult result = parse(kHousehold + kStorage + kDevices +
                              "contacts:\n"
                              "  - id: li\n"
                              "    name: 李阿姨\n"
                              "    role: caregiver\n"
                              "  - {id: son, name: x, role: emergency_contact, channels: []}\n");
  ASSERT_THAT(result.errors, SizeIs(2)) << all_errors(result);
  expect_error(result, 6, 5, "contact \"li\" has no channel");
  expect_error(result, 9, 59, "contact \"son\" has no channel");
}

TEST(ConfigContacts, NoCaregiver) {
  ConfigResult result = parse(kHousehold + kStorage + kDevices +
                              "contacts:\n"
                              "  - {id: son, name: x, role: emergency_contact, channels: "
                              "[{type: mqtt}]}\n");
  expect_one_error(result, 5, 1, "no contact has role caregiver");
}

TEST(ConfigContacts, EmptyContacts) {
  expect_one_error(parse(kHousehold + kStorage + kDevices + "contacts: []\n"), 5, 11,
                   "contacts is empty; at least one contact with role caregiver is required");
}

TEST(ConfigContacts, UnknownRole) {
  ConfigResult result = parse(kHousehold + kStorage + kDevices + kContacts +
                              "  - {id: son, name: x, role: caregivr, channels: [{type: mqtt}]}\n");
  expect_one_error(result, 7, 30,
                   "contact \"son\" has an unknown role; expected one of: caregiver, "
                   "emergency_contact, duty_desk, installer (did you mean \"caregiver\"?)");
}

TEST(ConfigContacts, MissingNameAndRole) {
  ConfigResult result = parse(kHousehold + kStorage + kDevices + kContacts +
                              "  - {id: son, channels: [{type: mqtt}]}\n");
  ASSERT_THAT(result.errors, SizeIs(2)) << all_errors(result);
  expect_error(result, 7, 5, "contact \"son\" has no name");
  expect_error(result, 7, 5, "contact \"son\" has no role");
}

TEST(ConfigContacts, DuplicateId) {
  ConfigResult result = parse(kHousehold + kStorage + kDevices + kContacts +
                              "  - {id: li, name: x, role: installer, channels: [{type: mqtt}]}\n");
  expect_one_error(result, 7, 6, "duplicate contact id \"li\" (first defined at line 6)");
}

TEST(ConfigContacts, ChannelProblems) {
  ConfigResult result = parse(kHousehold + kStorage + kDevices + kContacts +
                              "  - id: son\n"                                       // 7
                              "    name: x\n"                                       // 8
                              "    role: emergency_contact\n"                       // 9
                              "    channels:\n"                                     // 10
                              "      - {type: fax}\n"                               // 11
                              "      - {type: sms}\n"                               // 12
                              "      - {type: voice, number: \"123\"}\n"            // 13
                              "      - {type: webhook, url: \"ftp://x\"}\n"         // 14
                              "      - {type: mqtt, number: \"+8613800000000\"}\n"  // 15
                              "      - {type: sms, url: \"https://x\"}\n"           // 16
                              "      - {number: \"+8613800000000\"}\n"              // 17
                              "      - sms\n"                                       // 18
                              "      - {type: wecom, url: \"https://qyapi.weixin.qq.com/x\"}\n");
  ASSERT_THAT(result.errors, SizeIs(9)) << all_errors(result);
  expect_error(result, 11, 16,
               "channel of contact \"son\" has an unknown type; expected one of: "
               "mqtt, sms, voice, webhook, wecom, dingtalk, township");
  expect_error(result, 12, 9, "sms channel of contact \"son\" has no number");
  expect_error(result, 13, 31, "invalid phone number in voice channel of contact \"son\"");
  expect_error(result, 14, 30, "invalid url in webhook channel of contact \"son\"");
  expect_error(result, 15, 22, "number is not used by a mqtt channel (it needs no address)");
  expect_error(result, 16, 21, "url is not used by a sms channel (it needs number)");
  expect_error(result, 16, 9, "sms channel of contact \"son\" has no number");
  expect_error(result, 17, 9, "channel of contact \"son\" has no type");
  expect_error(result, 18, 9, "expected a map for a channel of contact \"son\"");
}

TEST(ConfigContacts, ValidChannelsOfEveryType) {
  ConfigResult result =
      parse(kHousehold + kStorage + kDevices +
            "contacts:\n"
            "  - id: li\n"
            "    name: x\n"
            "    role: caregiver\n"
            "    channels:\n"
            "      - {type: mqtt}\n"
            "      - {type: sms, number: \"+8613800000000\"}\n"
            "      - {type: sms, number: 12349}\n"
            "      - {type: webhook, url: \"http://10.0.0.2:8080/hook\"}\n"
            "      - {type: wecom, url: \"https://qyapi.weixin.qq.com/x?key=k\"}\n"
            "      - {type: dingtalk, url: \"https://oapi.dingtalk.com/robot\"}\n"
            "notify: {modem: {device: /dev/ttyUSB2}}\n");
  ASSERT_THAT(result.errors, IsEmpty()) << all_errors(result);
  const auto& channels = result.config->contacts[0].channels;
  ASSERT_THAT(channels, SizeIs(6));
  EXPECT_EQ(channels[2].type, "sms");
  EXPECT_EQ(channels[2].address, "12349");
  EXPECT_EQ(channels[4].address, "https://qyapi.weixin.qq.com/x?key=k");
}

TEST(ConfigContacts, VoiceIsNotSupportedYet) {
  ConfigResult result = parse(kHousehold + kStorage + kDevices +
                              "contacts:\n"
                              "  - {id: li, name: x, role: caregiver, channels: [{type: voice, "
                              "number: \"+8613800000000\"}]}\n");
  ASSERT_THAT(result.errors, SizeIs(1)) << all_errors(result);
  EXPECT_THAT(all_errors(result), HasSubstr("voice calls are not supported"));
  EXPECT_THAT(all_errors(result), Not(HasSubstr("13800000000")));
}

TEST(ConfigContacts, PhoneNumberAsIdIsRejected) {
  ConfigResult result = parse(kHousehold + kStorage + kDevices + kContacts +
                              "  - {id: \"13800000000\", name: x, role: installer, channels: "
                              "[{type: mqtt}]}\n");
  expect_one_error(result, 7, 10, "contact id looks like a phone number");
  EXPECT_THAT(all_errors(result), Not(HasSubstr("13800000000")));
}

// Residents' and contacts' personal data must never reach an error message (they end up in logs).
TEST(ConfigPrivacy, NoNameOrNumberInAnyError) {
  const std::string text =
      "household: {id: h001, name: \"3组 王奶奶\", nmae: 王奶奶}\n"
      "broker: {password: {secret: hunter2}}\n" +
      kStorage + kDevices +
      "contacts:\n"
      "  - id: 李阿姨\n"
      "    name: 李阿姨\n"
      "    role: 李阿姨\n"
      "    channels:\n"
      "      - {type: sms, +8613800000000}\n"
      "      - {type: sms, number: \"+86 138 0000 0000\"}\n"
      "      - {type: \"13800000000\"}\n"
      "      - {type: webhook, url: \"ftp://secret-token@example\"}\n"
      "      - \"+8613900000000\"\n"
      "  - id: \"13800000000\"\n"
      "    name: [李阿姨]\n"
      "    role: caregiver\n"
      "    channels: [{type: voice, number: \"+8613800000000x\"}, {type: mqtt, number: "
      "\"+8613800000000\"}]\n"
      "  - id: wang\n"
      "    name: 王先生\n"
      "    13912345678: 王先生\n"
      "    王先生: 13912345678\n"
      "    channels: [{type: sms, number: 王先生}]\n";
  ConfigResult result = parse(text);
  EXPECT_GE(result.errors.size(), 12U) << all_errors(result);
  const std::string errors = all_errors(result);
  for (const std::string secret : {"李", "王", "1380000", "138 0000", "13912345678", "13900000000",
                                   "secret-token", "hunter2"}) {
    EXPECT_THAT(errors, Not(HasSubstr(secret))) << errors;
  }
}

// ---------------------------------------------------------------------------------------------
// Many errors in one file, load_config and robustness.

TEST(ConfigManyErrors, EveryErrorIsReportedInOrder) {
  const std::string path = kSourceDir + "/tests/gateway/fixtures/config/many_errors.yaml";
  ConfigResult result = load_config(path);
  const std::vector<std::tuple<int, int, std::string>> expected{
      {3, 7, "invalid household id \"H001\""},
      {5, 3, "unknown key \"timzone\" in household (did you mean \"timezone\"?)"},
      {7, 8, "broker url has an invalid port"},
      {8, 14, "keepalive must be between 5s and 10m"},
      {11, 29, "expected an integer for telemetry_retention_days, got \"abc\""},
      {13, 5, "device \"kitchen-smoke\" has no location"},
      {15, 5, "unknown key \"locaton\" in device (did you mean \"location\"?)"},
      {17, 11, "unknown device kind \"gaz\""},
      {19, 5, "duplicate device id \"kitchen-smoke\" (first defined at line 13)"},
      {23, 5, "contact \"li\" has no channel"},
      {30, 29, "invalid phone number in sms channel of contact \"son\""},
      {31, 16, "channel of contact \"son\" has an unknown type"},
  };
  ASSERT_EQ(result.errors.size(), expected.size()) << all_errors(result);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& [line, column, text] = expected[i];
    const ConfigError& error = result.errors[i];
    EXPECT_EQ(error.file, path);
    EXPECT_EQ(error.line, line) << error.to_string();
    EXPECT_EQ(error.column, column) << error.to_string();
    EXPECT_THAT(error.message, HasSubstr(text)) << error.to_string();
  }
  EXPECT_FALSE(result.config.has_value());
}

TEST(ConfigLoad, MissingFile) {
  ConfigResult result = load_config("/nonexistent/homesafe/h001.yaml");
  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_EQ(result.errors[0].line, 0);
  EXPECT_EQ(result.errors[0].message, "cannot read file: No such file or directory");
  EXPECT_EQ(result.errors[0].to_string(),
            "/nonexistent/homesafe/h001.yaml: cannot read file: No such file or directory");
  EXPECT_FALSE(result.config.has_value());
}

TEST(ConfigLoad, DirectoryIsNotAFile) {
  ConfigResult result = load_config(kSourceDir + "/examples");
  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_THAT(result.errors[0].message, HasSubstr("cannot read file: "));
}

TEST(ConfigRobustness, NeverThrowsOnGarbage) {
  const std::vector<std::string> inputs{
      std::string(5000, '['),
      std::string(5000, '{'),
      "\x01\x02\xff\xfe",
      std::string("a: \0b\n", 6),
      "? [a, b]\n: c\n",
      "&a [*a]\n",
      "a: *unknown\n",
      "household: &h {id: h001, name: x}\nother: *h\n",
      "\t- a\n",
      std::string(2 * 1024 * 1024, '#'),
  };
  for (const auto& input : inputs) {
    ConfigResult result;
    EXPECT_NO_THROW(result = parse(input));
    EXPECT_THAT(result.errors, Not(IsEmpty()));
    EXPECT_FALSE(result.config.has_value());
  }
}

TEST(ConfigRobustness, EveryPrefixOfTheExampleIsHandled) {
  ConfigResult full = load_config(kSourceDir + "/examples/h001.yaml");
  ASSERT_THAT(full.errors, IsEmpty());
  // Parse every prefix of the text and copies with one character changed.
  std::ifstream in(kSourceDir + "/examples/h001.yaml", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(text.empty());
  for (std::size_t size = 0; size < text.size(); size += 11) {
    EXPECT_NO_THROW(parse(text.substr(0, size)));
  }
  for (std::size_t at = 0; at < text.size(); at += 31) {
    for (char c : {':', '-', '[', '{', '"', ' ', '\n'}) {
      std::string mutated = text;
      mutated[at] = c;
      EXPECT_NO_THROW(parse(mutated));
    }
  }
}

}  // namespace
}  // namespace homesafe::gateway

// ---------------------------------------------------------------------------------------------
// Anomaly rule settings and per-device rule keys.

namespace homesafe::gateway {
namespace {

const std::string kBase = kHousehold + kStorage + kContacts;  // lines 1-4

TEST(ConfigRules, DefaultsWithoutARulesSection) {
  ConfigResult result = parse(kBase + kDevices);
  ASSERT_THAT(result.errors, IsEmpty()) << all_errors(result);
  const auto& r = result.config->rules;
  EXPECT_EQ(r.no_water.after_ms, 24 * rules::kHourMs);
  EXPECT_TRUE(r.inactivity.enabled);
  EXPECT_EQ(r.sleep.from_minute, 22 * 60);
  EXPECT_FALSE(result.config->checkin.has_value());
}

TEST(ConfigRules, EverySettingIsRead) {
  ConfigResult result = parse(kBase +
                              "devices:\n"
                              "  - {id: door, kind: contact, location: 门厅, entrance: true}\n"
                              "  - {id: stove, kind: plug, location: 厨房, high_power_w: 800, "
                              "silence: 30m}\n"
                              "  - {id: fridge, kind: plug, location: 厨房, activity: false}\n"
                              "rules:\n"
                              "  sleep: \"21:30-06:30\"\n"
                              "  night: \"23:00-05:00\"\n"
                              "  flap_hold: 5m\n"
                              "  no_water: {after: 20h, min_litres: 2}\n"
                              "  inactivity: {after: 3h, out_after: 10h}\n"
                              "  water_running: {after: 30m}\n"
                              "  power_running: {after: 90m, night_after: 30m}\n"
                              "  night_door: {no_return: 20m, open: 5m}\n"
                              "  temperature: {low: 12, high: 30.5, after: 45m}\n"
                              "  device_silence: {battery: 26h, mains: 15m}\n"
                              "  routine: off\n"
                              "  checkin: {wait: 5m, topic: zigbee2mqtt/chime/set, "
                              "payload: '{\"alarm\":\"ON\"}'}\n");
  ASSERT_THAT(result.errors, IsEmpty()) << all_errors(result);
  const HubConfig& c = *result.config;
  EXPECT_TRUE(c.find_device("door")->entrance);
  EXPECT_EQ(c.find_device("stove")->high_power_w, 800.0);
  EXPECT_EQ(c.find_device("stove")->silence_ms, 30 * rules::kMinuteMs);
  EXPECT_EQ(c.find_device("fridge")->activity, false);
  EXPECT_EQ(c.rules.sleep.from_minute, 21 * 60 + 30);
  EXPECT_EQ(c.rules.sleep.to_minute, 6 * 60 + 30);
  EXPECT_EQ(c.rules.clear_hold_ms, 5 * rules::kMinuteMs);
  EXPECT_EQ(c.rules.no_water.after_ms, 20 * rules::kHourMs);
  EXPECT_EQ(c.rules.no_water.min_litres, 2.0);
  EXPECT_EQ(c.rules.inactivity.after_ms, 3 * rules::kHourMs);
  EXPECT_EQ(c.rules.inactivity.out_after_ms, 10 * rules::kHourMs);
  EXPECT_EQ(c.rules.water_running.after_ms, 30 * rules::kMinuteMs);
  EXPECT_EQ(c.rules.power_running.night_after_ms, 30 * rules::kMinuteMs);
  EXPECT_EQ(c.rules.night_door.open_ms, 5 * rules::kMinuteMs);
  EXPECT_EQ(c.rules.temperature.high_c, 30.5);
  EXPECT_EQ(c.rules.device_silence.mains_ms, 15 * rules::kMinuteMs);
  EXPECT_FALSE(c.rules.routine.enabled);
  ASSERT_TRUE(c.checkin.has_value());
  EXPECT_EQ(c.checkin->wait, std::chrono::minutes(5));
  EXPECT_EQ(c.checkin->topic, "zigbee2mqtt/chime/set");
  EXPECT_EQ(c.checkin->payload, "{\"alarm\":\"ON\"}");
}

TEST(ConfigRules, MistakesAreReportedWithTheirPlace) {
  ConfigResult result = parse(kBase + kDevices +
                              "rules:\n"                          // line 7
                              "  no_watter: {after: 20h}\n"       // 8
                              "  inactivity: {after: 3 hours}\n"  // 9
                              "  temperature: {low: cold}\n"      // 10
                              "  sleep: \"22:00\"\n"              // 11
                              "  routine: {min_days: 3}\n"        // 12
                              "  checkin: {wait: 5m}\n");         // 13
  expect_error(result, 8, 3, "did you mean \"no_water\"");
  expect_error(result, 9, 23, "expected a duration");
  expect_error(result, 10, 22, "expected a number for temperature.low");
  expect_error(result, 11, 10, "local hours");
  expect_error(result, 12, 23, "routine.min_days must be between 7 and 60");
  expect_error(result, 13, 12, "checkin has no topic");
}

TEST(ConfigRules, DeviceRuleKeysOnTheWrongKind) {
  ConfigResult result = parse(kBase +
                              "devices:\n"  // line 5
                              "  - {id: smoke1, kind: smoke, location: 厨房, entrance: true}\n"
                              "  - {id: m1, kind: motion, location: 厨房, high_power_w: 900}\n");
  expect_error(result, 6, 45, "entrance is only allowed for kind contact");
  expect_error(result, 7, 42, "high_power_w is only allowed for kind plug");
}

// The township channel: the township relays the notification, so the hub needs its uplink.
TEST(ConfigContacts, TownshipChannelNeedsTheUplink) {
  const std::string contacts =
      "contacts:\n"
      "  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: township}]}\n";  // line 6
  ConfigResult without = parse(kHousehold + kStorage + kDevices + contacts);
  ASSERT_THAT(without.errors, SizeIs(1)) << all_errors(without);
  EXPECT_EQ(without.errors.front().line, 6) << all_errors(without);
  EXPECT_THAT(without.errors.front().message,
              HasSubstr("contact \"li\" has a township channel but the hub has no uplink"));

  ConfigResult with = parse(kHousehold + kStorage + kDevices + contacts +
                            "uplink: {url: \"ssl://township.example:8883\"}\n");
  ASSERT_THAT(with.errors, IsEmpty()) << all_errors(with);
  ASSERT_EQ(with.config->contacts.size(), 1u);
  ASSERT_EQ(with.config->contacts[0].channels.size(), 1u);
  EXPECT_EQ(with.config->contacts[0].channels[0].type, "township");

  ConfigResult with_url = parse(kHousehold + kStorage + kDevices +
                                "contacts:\n"
                                "  - {id: li, name: x, role: caregiver, channels: [{type: "
                                "township, url: \"https://x\"}]}\n"
                                "uplink: {url: \"ssl://township.example:8883\"}\n");
  EXPECT_THAT(all_errors(with_url),
              HasSubstr("url is not used by a township channel (it needs no address)"));
}

}  // namespace
}  // namespace homesafe::gateway
