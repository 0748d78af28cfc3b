#pragma once
// The township's config override (docs/uplink-hub.md): the `config` patches the hub accepted
// from the township (rules: and escalation: only), kept in the store (meta key config_override)
// and merged into the config file's sections at every start. The file itself is never changed;
// for these two sections the override wins until it is cleared.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "homesafe/gateway/config.hpp"
#include "homesafe/gateway/store.hpp"

namespace homesafe::gateway {

inline constexpr const char* kConfigOverrideKey = "config_override";

struct ConfigPatchRecord {
  std::string command_id;
  std::int64_t applied_at_ms = 0;
  std::string patch;  // JSON object
};

// The stored value is not what this code writes (hand-edited or damaged).
class ConfigOverrideError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The accepted patches, oldest first (none when there is no override). Throws
// ConfigOverrideError when the stored value cannot be read (StoreError when SQLite fails).
std::vector<ConfigPatchRecord> load_config_override(Store& store);
// Call inside a transaction.
void save_config_override(Store& store, const std::vector<ConfigPatchRecord>& patches);
void clear_config_override(Store& store);

std::vector<std::string> patch_texts(const std::vector<ConfigPatchRecord>& patches);

struct OverriddenConfig {
  HubConfig config;  // the file's config with the override; the file's alone if it failed
  std::size_t patches = 0;
  std::vector<std::string> errors;  // why the override does not apply to this file
};

// The config the hub runs with: the file's, with the stored override merged and validated (an
// unreadable override is reported in `errors` too).
OverriddenConfig with_config_override(const HubConfig& file_config, Store& store);

}  // namespace homesafe::gateway
