#pragma once
// homesafe-township's YAML config (docs/township.md, examples/township/township.yaml).

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "homesafe/township/db.hpp"

namespace homesafe::township {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TownshipConfig {
  // storage: {path: FILE} (SQLite, the default) or {url: postgresql://...} (PostgreSQL).
  std::filesystem::path storage_path;  // SQLite only
  std::string storage_url;             // PostgreSQL only; may hold a password: never logged
  bool storage_postgresql = false;
  struct {
    std::string url = "tcp://127.0.0.1:1883";
    std::string client_id = "homesafe-township";
    std::string username;
    std::string password;
  } broker;
  struct {
    std::string address = "127.0.0.1";
    int port = 8080;
    bool secure_cookie = false;
    std::int64_t session_ttl_s = 8 * 3600;
  } http;
  struct {
    std::int64_t heartbeat_s = 300;
    std::int64_t missed = 3;
    std::int64_t grace_s = 300;
    std::int64_t check_interval_s = 30;
  } silence;
  // Relayed notifications (docs/township.md, "Relay"): the channels every relay goes out on.
  struct RelayChannel {
    std::string type;    // webhook | wecom | dingtalk
    std::string url;     // personal data or an access key: never logged
    std::string secret;  // DingTalk 加签 secret (dingtalk only)
  };
  struct {
    std::vector<RelayChannel> channels;
    int attempts = 5;  // per channel and relay, the first one included
    std::string ca_file;
  } relay;
  // The console (docs/console.md): the public URL people open, and the secret the caregivers'
  // one-tap links are signed with (hub keys are derived from it). No secret: no links.
  struct {
    std::string public_url;
    std::filesystem::path link_secret_file;
    std::string link_secret;  // read from link_secret_file by load_config()
  } console;
  int utc_offset_minutes = 480;

  // The database to open (Store(config.storage())).
  StorageConfig storage() const {
    return storage_postgresql ? StorageConfig::postgresql(storage_url)
                              : StorageConfig::sqlite(storage_path);
  }

  std::int64_t silence_allowance_ms() const {
    return (silence.heartbeat_s * silence.missed + silence.grace_s) * 1000;
  }
};

// Throws ConfigError("FILE:LINE:COL: ...") for a bad file.
TownshipConfig load_config(const std::filesystem::path& path);
TownshipConfig parse_config(const std::string& yaml, const std::string& name = "config");

}  // namespace homesafe::township
