#include "homesafe/gateway/config_override.hpp"

#include <nlohmann/json.hpp>

namespace homesafe::gateway {

std::vector<ConfigPatchRecord> load_config_override(Store& store) {
  std::vector<ConfigPatchRecord> out;
  const auto value = store.get_meta(kConfigOverrideKey);
  if (!value) return out;
  const auto json = nlohmann::json::parse(*value, nullptr, false);
  if (!json.is_array()) throw ConfigOverrideError("meta config_override is not a JSON array");
  for (const auto& item : json) {
    if (!item.is_object() || !item.contains("patch") || !item["patch"].is_object()) {
      throw ConfigOverrideError("meta config_override holds an entry without a patch");
    }
    ConfigPatchRecord record;
    record.command_id = item.value("command_id", std::string());
    record.applied_at_ms = item.value("applied_at_ms", std::int64_t{0});
    record.patch = item["patch"].dump();
    out.push_back(std::move(record));
  }
  return out;
}

void save_config_override(Store& store, const std::vector<ConfigPatchRecord>& patches) {
  auto json = nlohmann::json::array();
  for (const auto& record : patches) {
    json.push_back({{"command_id", record.command_id},
                    {"applied_at_ms", record.applied_at_ms},
                    {"patch", nlohmann::json::parse(record.patch)}});
  }
  store.set_meta(kConfigOverrideKey, json.dump());
}

void clear_config_override(Store& store) {
  store.erase_meta(kConfigOverrideKey);
}

std::vector<std::string> patch_texts(const std::vector<ConfigPatchRecord>& patches) {
  std::vector<std::string> out;
  out.reserve(patches.size());
  for (const auto& record : patches) out.push_back(record.patch);
  return out;
}

OverriddenConfig with_config_override(const HubConfig& file_config, Store& store) {
  OverriddenConfig out{file_config, 0, {}};
  std::vector<ConfigPatchRecord> patches;
  try {
    patches = load_config_override(store);
  } catch (const ConfigOverrideError& e) {
    out.errors.push_back(e.what());
    return out;
  }
  if (patches.empty()) return out;
  auto result = apply_config_patches(file_config, patch_texts(patches));
  if (!result.config) {
    for (const auto& error : result.errors) out.errors.push_back(error.message);
    return out;
  }
  out.config = std::move(*result.config);
  out.patches = patches.size();
  return out;
}

}  // namespace homesafe::gateway
