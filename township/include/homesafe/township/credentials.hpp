#pragma once
// Broker credentials for the township link: one MQTT account per hub (username = hub id), the
// township service's own account, and the ACL of docs/uplink.md.

#include <filesystem>
#include <stdexcept>
#include <string>

#include "homesafe/township/store.hpp"

namespace homesafe::township {

struct CredentialsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CredentialsResult {
  int hubs = 0;      // accounts written
  int new_hubs = 0;  // of which got a new password now
};

// The ACL file: the township account reads every hub's uplink and writes every downlink; each hub
// writes homesafe-up/<its username>/# and reads homesafe-down/<its username>/#, nothing else.
std::string broker_acl(const std::string& township_username);

// Writes into `out_dir`: `passwd` (Mosquitto password file, hashed by `mosquitto_passwd -U`),
// `acl`, and `hub-credentials.csv` (hub_id,household_id,password in clear text for installing the
// hubs; mode 0600). Hubs already listed in an existing hub-credentials.csv keep their password;
// new hubs get a random one. With a `link_secret` (console.link_secret_file), also
// `link-keys/HUB.key` per hub (mode 0600): the hub's one-tap link key for its
// `uplink.link_key_file`. Throws CredentialsError.
CredentialsResult write_hub_credentials(Store& store, const std::string& township_username,
                                        const std::string& township_password,
                                        const std::filesystem::path& out_dir,
                                        const std::string& mosquitto_passwd = "mosquitto_passwd",
                                        const std::string& link_secret = {});

}  // namespace homesafe::township
