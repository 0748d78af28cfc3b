#pragma once
// homesafe-township's YAML config (docs/township.md, examples/township/township.yaml).

#include <cstdint>
#include <filesystem>
#include <optional>
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
    // County scale (docs/deployment.md): the ingest subscriptions become
    // `$share/SHARE_GROUP/homesafe-up/+/...`, so the broker gives each message to one worker.
    std::string share_group;
    // Also hold an unshared subscription to homesafe-up/+/event (a second client, clean session)
    // and store only the alarms (priority 0) from it.
    bool alarm_watch = false;
  } broker;
  // Batched ingest: the MQTT callback queues messages (blocking when `queue_max` are waiting); a
  // drain thread stores up to `batch_max` in one transaction, waiting up to `batch_wait_ms` for
  // more after the first, and publishes the acks after the commit.
  struct {
    int batch_max = 200;
    int batch_wait_ms = 5;
    int queue_max = 2000;
  } ingest;
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

// What one homesafe-township process does (`--role`, docs/deployment.md): `all` is the township's
// one process; a county runs `ingest` workers and `api` processes over one PostgreSQL database.
enum class ServiceRole { kAll, kIngest, kApi };

std::optional<ServiceRole> parse_service_role(const std::string& text);
const char* service_role_name(ServiceRole role);

struct ServiceOptions {
  ServiceRole role = ServiceRole::kAll;
  // `--instance`: tells processes of one role apart (MQTT client id CLIENT_ID-INSTANCE, libpq
  // application_name homesafe-township/ROLE/INSTANCE, the ingest_stats row). Default: the role.
  std::string instance;
  bool instance_given = false;  // false: role `all` keeps the plain client id (as before roles)

  std::string instance_name() const {
    return instance.empty() ? service_role_name(role) : instance;
  }
  std::string application_name() const {
    return std::string("homesafe-township/") + service_role_name(role) + "/" + instance_name();
  }
  std::string mqtt_client_id(const TownshipConfig& config) const {
    if (!instance_given && role == ServiceRole::kAll) return config.broker.client_id;
    return config.broker.client_id + "-" + instance_name();
  }
};

// Throws ConfigError when `options` cannot run with `config`: a bad instance name, or role
// `ingest`/`api` on SQLite (one process only: it has no way to tell other processes of changes).
void check_service_options(const TownshipConfig& config, const ServiceOptions& options);

// Throws ConfigError("FILE:LINE:COL: ...") for a bad file.
TownshipConfig load_config(const std::filesystem::path& path);
TownshipConfig parse_config(const std::string& yaml, const std::string& name = "config");

}  // namespace homesafe::township
