#pragma once
// `homesafe-gateway setup`: the hub's local Mosquitto credentials, written from the hub config
// (docs/packaging.md). One credential per MQTT client that publishes device data (a native or
// ESPHome/Tasmota/Shelly device, or a Zigbee2MQTT/wmbusmeters bridge), each allowed to write only
// its own topics; one for the gateway; one for caregiver apps on the LAN (read alerts, write
// acks). Passwords are random, never defaults; the plaintext passwords live in a 0600 file for
// the installer, the broker gets PBKDF2-SHA512 hashes in Mosquitto's `$7$` format.

#include <filesystem>
#include <iosfwd>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "homesafe/gateway/config.hpp"

namespace homesafe::gateway::cli {

struct BrokerCredential {
  std::string username;
  std::string role;                  // gateway | bridge | device | app
  std::vector<std::string> devices;  // the configured device ids this client publishes for
  std::vector<std::string> readwrite;
  std::vector<std::string> read;
  std::vector<std::string> write;
};

// The credentials a config needs (without passwords), gateway first, then in config order.
// Adds to `errors` (and leaves the credential out) when two clients would share a username.
std::vector<BrokerCredential> broker_credentials(const HubConfig& config,
                                                 std::vector<std::string>& errors);

// The Mosquitto acl_file for these credentials.
std::string acl_text(const std::span<const BrokerCredential> credentials);

// Mosquitto's PBKDF2-SHA512 password hash: "$7$ITERATIONS$BASE64(salt)$BASE64(hash)".
std::string mosquitto_hash(std::string_view password, std::span<const unsigned char> salt,
                           int iterations = 101);

// A random password of 24 letters and digits (~142 bits), from OpenSSL's RAND_bytes.
std::string random_password();

// username -> password, from a credentials file written by setup (missing file: empty).
std::map<std::string, std::string> read_credentials_file(const std::filesystem::path& path);

struct SetupOptions {
  std::string config_path;
  std::filesystem::path out_dir = "/etc/homesafe/broker";
  bool rotate = false;  // new passwords for everyone, instead of keeping existing ones
  // As root: the owner of the broker's files, and the group that may read the gateway's password
  // file (skipped when the user or group does not exist).
  std::string broker_user = "mosquitto";
  std::string gateway_group = "homesafe";
};

// Writes OUT_DIR/passwd (0600), OUT_DIR/acl (0600), OUT_DIR/credentials (0600, for the
// installer) and the gateway's password to the config's broker.password_file (0640). Each file is
// replaced atomically. Returns 0 on success, 1 on errors (reported on err, nothing written).
int setup(const SetupOptions& options, std::ostream& out, std::ostream& err);

}  // namespace homesafe::gateway::cli
