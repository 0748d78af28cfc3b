#pragma once
// The hub configuration (one YAML file per hub, written by the installer).
// load_config() reports every problem it finds with file:line:column instead of stopping at the
// first, so that an installer can fix a file in one pass.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "homesafe/drivers/device.hpp"
#include "homesafe/rules/alert_kind.hpp"
#include "homesafe/rules/settings.hpp"

namespace homesafe::gateway {

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when the error is not tied to a place in the file
  int column = 0;  // 1-based
  std::string message;

  // "file:line:column: message" (or "file: message" without a place).
  std::string to_string() const;
};

struct HouseholdConfig {
  std::string id;    // [a-z0-9_-]{1,32}; used in MQTT topics and alert ids
  std::string name;  // display name for people (zh-CN); never logged
  std::string timezone = "Asia/Shanghai";
};

struct TlsConfig {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool verify = true;
};

struct BrokerConfig {
  std::string url = "tcp://127.0.0.1:1883";  // tcp://, ssl://, mqtt://, mqtts://
  std::string client_id;                     // default: homesafe-<household id>
  std::string username;
  std::string password;       // prefer password_file; a password in the file is allowed
  std::string password_file;  // read at start; trailing newline stripped
  std::chrono::seconds keepalive{30};
  std::optional<TlsConfig> tls;
};

// The township link (cloud-bridge): a second MQTT connection, to the township broker, that drains
// the hub's outbox. Present only when the config has an `uplink:` section.
struct UplinkConfig {
  std::string url;        // township broker: tcp://, ssl://, mqtt://, mqtts://
  std::string client_id;  // default: homesafe-uplink-<hub id>
  std::string username;   // default: the hub id (the broker ACL is keyed on it)
  std::string password;   // prefer password_file
  std::string password_file;
  std::chrono::seconds keepalive{60};
  std::optional<TlsConfig> tls;
  std::string hub_id;                          // [a-z0-9_-]{1,32}; default: the household id
  std::chrono::seconds heartbeat{300};         // homesafe-up/HUB/heartbeat every this often
  std::chrono::seconds ack_timeout{30};        // resend an event not acknowledged in this time
  std::int64_t max_outbox_rows = 200'000;      // beyond: drop summaries, then device health
  std::int64_t max_outbox_bytes = 64LL << 20;  // (never alarms or alerts)
  int drain_rate = 20;                         // events per second at most
  int inflight = 10;                           // events sent but not yet acknowledged, at most
  // One-tap links in caregivers' messages (docs/console.md): the township's public URL and the
  // file holding this hub's link key (from `homesafe-township hub-credentials`). Both or neither.
  std::string link_base_url;
  std::string link_key_file;
};

struct StorageConfig {
  std::string path;  // SQLite file; ":memory:" only for tests and replay
  int telemetry_retention_days = 35;
  std::int64_t telemetry_max_rows = 2'000'000;
  // false: of a device's numeric readings (power, meter totals, temperature) the history keeps
  // the latest of each second; true: every reading. States (booleans, text) keep every change.
  bool telemetry_every_reading = false;
  // Below this much free space on the store's file system the hub raises `storage_full`
  // (0: no free-space check).
  std::int64_t min_free_mb = 50;
};

struct ChannelConfig {
  std::string type;     // mqtt | sms | webhook | wecom | dingtalk | voice
  std::string address;  // phone number or URL; empty for mqtt
};

enum class Role { caregiver, emergency_contact, duty_desk, installer };
std::string_view to_string(Role role);
std::optional<Role> role_from_string(std::string_view text);

struct ContactConfig {
  std::string id;
  std::string name;  // display name; never logged
  Role role = Role::caregiver;
  std::vector<ChannelConfig> channels;
};

// One step of an escalation ladder: who is notified, and when (counted from the alert opening).
struct EscalationStep {
  std::chrono::milliseconds after{0};
  std::vector<std::string> notify;  // roles (caregiver, ...) or contact ids
};

enum class StopWhen { acknowledged, resolved };

// Local hours within which a policy may notify (e.g. maintenance in the daytime only). `from`
// and `to` are minutes after local midnight; the window may wrap past midnight.
using HoursWindow = rules::LocalWindow;

struct EscalationPolicy {
  std::vector<rules::AlertKind> kinds;              // empty: any kind
  std::optional<rules::Severity> severity;          // empty: any severity
  std::vector<EscalationStep> steps;                // ascending `after`
  std::optional<std::chrono::milliseconds> repeat;  // the last step again until stopped
  StopWhen until = StopWhen::acknowledged;
  std::optional<HoursWindow> hours;  // never applied to emergencies
  int line = 0;                      // where it is defined; 0 for a built-in default

  bool matches(rules::AlertKind kind, rules::Severity severity) const;
};

struct ModemConfig {
  std::string device;  // serial port of the cellular modem, e.g. /dev/ttyUSB2
  int baud = 115200;
};

struct WebhookConfig {
  std::chrono::seconds timeout{10};
  int attempts = 5;
  std::string ca_file;
  std::string dingtalk_secret_file;
};

struct NotifyConfig {
  // zh-CN message templates by alert kind, and "default"; placeholders {household}, {location},
  // {what}, {time}, {ack}, {reminder}. Built-in texts apply where none is given.
  std::map<std::string, std::string> templates;
  std::optional<ModemConfig> modem;
  WebhookConfig webhook;
  // Call-button actions that acknowledge every open alert: a caregiver on site.
  std::vector<std::string> ack_actions{"double"};
};

// Check-in before escalation (person-related alerts only): the gateway first asks the resident
// with a command to a device (a chime, a speaker, the call button's LED) and waits; any sign of
// life in that time resolves the alert ("resident responded"), otherwise the ladder runs, late
// by `wait`.
struct CheckinConfig {
  std::chrono::milliseconds wait{std::chrono::minutes(10)};
  std::string topic;    // MQTT topic of the command, e.g. zigbee2mqtt/hall-chime/set
  std::string payload;  // the command, e.g. {"alarm": "ON", "melody": 3}
  bool retain = false;
};

struct HubConfig {
  std::string source_file;
  std::string source_text;  // the file as loaded (township config patches are merged into it)
  HouseholdConfig household;
  BrokerConfig broker;
  StorageConfig storage;
  std::vector<drivers::DeviceConfig> devices;
  std::vector<ContactConfig> contacts;
  std::vector<EscalationPolicy> escalation;  // as configured; defaults apply after these
  NotifyConfig notify;
  rules::RuleSettings rules;  // anomaly rule settings (defaults in rules/settings.hpp)
  std::optional<CheckinConfig> checkin;
  std::optional<UplinkConfig> uplink;

  const drivers::DeviceConfig* find_device(std::string_view id) const;
  const ContactConfig* find_contact(std::string_view id) const;
};

struct ConfigResult {
  std::optional<HubConfig> config;  // set only when errors is empty
  std::vector<ConfigError> errors;
};

// The first line of a secret file (password_file, dingtalk_secret_file), without the line end.
// Throws std::runtime_error naming the file (never its content) when it cannot be read.
std::string read_secret_file(const std::string& path);

// Parses and validates a config file. Never throws for bad input.
ConfigResult load_config(const std::string& path);
// Same, from text (path is only used in error messages).
ConfigResult parse_config(const std::string& text, const std::string& path);

// Township config patches (docs/uplink-hub.md): JSON objects with only `rules` and/or
// `escalation`, merged in order into the config's source_text as JSON merge patches (RFC 7396:
// maps merge key by key, null removes a key, anything else replaces it; so `escalation`, a list,
// is replaced whole), then validated by the same loader as the file. Returns the config with the
// patched sections, or the errors (loader messages without places: the merged text is not a file
// anyone can open). Refuses a patch that changes rules.checkin (it publishes commands on the
// hub's broker: change it in the file). Never throws for bad input.
ConfigResult apply_config_patches(const HubConfig& config, const std::vector<std::string>& patches);

}  // namespace homesafe::gateway
