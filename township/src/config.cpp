#include "homesafe/township/config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace homesafe::township {
namespace {

[[noreturn]] void fail(const std::string& name, const YAML::Node& node, const std::string& what) {
  const auto mark = node.Mark();
  throw ConfigError(fmt::format("{}:{}:{}: {}", name, mark.line + 1, mark.column + 1, what));
}

void only_keys(const std::string& name, const YAML::Node& node, std::set<std::string> keys) {
  if (!node.IsMap()) fail(name, node, "expected a mapping");
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    if (!keys.contains(key)) fail(name, kv.first, "unknown key '" + key + "'");
  }
}

std::string get_string(const std::string& name, const YAML::Node& node) {
  if (!node.IsScalar()) fail(name, node, "expected a text");
  return node.as<std::string>();
}

std::int64_t get_int(const std::string& name, const YAML::Node& node, std::int64_t min,
                     std::int64_t max) {
  std::int64_t v = 0;
  try {
    v = node.as<std::int64_t>();
  } catch (const YAML::Exception&) {
    fail(name, node, "expected an integer");
  }
  if (v < min || v > max) fail(name, node, fmt::format("must be between {} and {}", min, max));
  return v;
}

bool get_bool(const std::string& name, const YAML::Node& node) {
  try {
    return node.as<bool>();
  } catch (const YAML::Exception&) {
    fail(name, node, "expected true or false");
  }
}

}  // namespace

TownshipConfig parse_config(const std::string& yaml, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(fmt::format("{}:{}:{}: {}", name, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  TownshipConfig c;
  only_keys(
      name, root,
      {"storage", "broker", "http", "silence", "utc_offset_minutes", "relay", "console", "ingest"});
  const auto storage = root["storage"];
  if (!storage) throw ConfigError(name + ": missing 'storage'");
  only_keys(name, storage, {"path", "url", "backend"});
  std::string backend;
  if (storage["backend"]) {
    backend = get_string(name, storage["backend"]);
    if (backend != "sqlite" && backend != "postgresql") {
      fail(name, storage["backend"], "backend must be sqlite or postgresql");
    }
  }
  if (storage["path"] && storage["url"]) {
    fail(name, storage, "give either 'path' (SQLite) or 'url' (PostgreSQL), not both");
  }
  if (storage["url"]) {
    if (backend == "sqlite")
      fail(name, storage["backend"], "backend sqlite takes 'path', not 'url'");
    // The text may hold a password: error messages never quote it.
    c.storage_url = get_string(name, storage["url"]);
    if (!c.storage_url.starts_with("postgresql://") && !c.storage_url.starts_with("postgres://")) {
      fail(name, storage["url"], "url must start with postgresql:// (a libpq connection URI)");
    }
    c.storage_postgresql = true;
  } else if (storage["path"]) {
    if (backend == "postgresql") {
      fail(name, storage["backend"], "backend postgresql takes 'url', not 'path'");
    }
    c.storage_path = get_string(name, storage["path"]);
    if (c.storage_path.empty()) fail(name, storage["path"], "path is empty");
  } else {
    fail(name, storage, backend == "postgresql" ? "missing 'url'" : "missing 'path' (or 'url')");
  }
  if (const auto b = root["broker"]) {
    only_keys(name, b, {"url", "client_id", "username", "password", "share_group", "alarm_watch"});
    if (b["url"]) c.broker.url = get_string(name, b["url"]);
    if (b["client_id"]) c.broker.client_id = get_string(name, b["client_id"]);
    if (b["username"]) c.broker.username = get_string(name, b["username"]);
    if (b["password"]) c.broker.password = get_string(name, b["password"]);
    if (b["share_group"]) {
      c.broker.share_group = get_string(name, b["share_group"]);
      // MQTT: a share name is not empty and has no '/', '+' or '#'.
      bool ok = !c.broker.share_group.empty() && c.broker.share_group.size() <= 64;
      for (char ch : c.broker.share_group) {
        ok = ok &&
             (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.');
      }
      if (!ok) {
        fail(name, b["share_group"], "share_group must be 1 to 64 characters of A-Z a-z 0-9 _ - .");
      }
    }
    if (b["alarm_watch"]) c.broker.alarm_watch = get_bool(name, b["alarm_watch"]);
  }
  if (const auto in = root["ingest"]) {
    only_keys(name, in, {"batch_max", "batch_wait_ms", "queue_max"});
    if (in["batch_max"])
      c.ingest.batch_max = static_cast<int>(get_int(name, in["batch_max"], 1, 5000));
    if (in["batch_wait_ms"]) {
      c.ingest.batch_wait_ms = static_cast<int>(get_int(name, in["batch_wait_ms"], 0, 1000));
    }
    if (in["queue_max"]) {
      c.ingest.queue_max = static_cast<int>(get_int(name, in["queue_max"], 1, 1'000'000));
    }
    if (c.ingest.queue_max < c.ingest.batch_max) {
      fail(name, in, "queue_max must be at least batch_max");
    }
  }
  if (const auto h = root["http"]) {
    only_keys(name, h, {"address", "port", "secure_cookie", "session_ttl_s"});
    if (h["address"]) c.http.address = get_string(name, h["address"]);
    if (h["port"]) c.http.port = static_cast<int>(get_int(name, h["port"], 0, 65535));
    if (h["secure_cookie"]) c.http.secure_cookie = get_bool(name, h["secure_cookie"]);
    if (h["session_ttl_s"]) c.http.session_ttl_s = get_int(name, h["session_ttl_s"], 60, 7 * 86400);
  }
  if (const auto s = root["silence"]) {
    only_keys(name, s, {"heartbeat_s", "missed", "grace_s", "check_interval_s"});
    if (s["heartbeat_s"]) c.silence.heartbeat_s = get_int(name, s["heartbeat_s"], 1, 86400);
    if (s["missed"]) c.silence.missed = get_int(name, s["missed"], 1, 100);
    if (s["grace_s"]) c.silence.grace_s = get_int(name, s["grace_s"], 0, 86400);
    if (s["check_interval_s"]) {
      c.silence.check_interval_s = get_int(name, s["check_interval_s"], 1, 3600);
    }
  }
  if (const auto r = root["relay"]) {
    only_keys(name, r, {"channels", "attempts", "ca_file"});
    if (r["attempts"]) c.relay.attempts = static_cast<int>(get_int(name, r["attempts"], 1, 10));
    if (r["ca_file"]) c.relay.ca_file = get_string(name, r["ca_file"]);
    if (const auto list = r["channels"]) {
      if (!list.IsSequence()) fail(name, list, "expected a list of channels");
      for (const auto& item : list) {
        only_keys(name, item, {"type", "url", "secret"});
        TownshipConfig::RelayChannel channel;
        if (!item["type"]) fail(name, item, "missing 'type'");
        channel.type = get_string(name, item["type"]);
        if (channel.type != "webhook" && channel.type != "wecom" && channel.type != "dingtalk") {
          fail(name, item["type"], "type must be webhook, wecom or dingtalk");
        }
        if (!item["url"]) fail(name, item, "missing 'url'");
        channel.url = get_string(name, item["url"]);
        if (!channel.url.starts_with("http://") && !channel.url.starts_with("https://")) {
          fail(name, item["url"], "url must start with http:// or https://");
        }
        if (item["secret"]) {
          if (channel.type != "dingtalk") fail(name, item["secret"], "secret is for dingtalk only");
          channel.secret = get_string(name, item["secret"]);
        }
        c.relay.channels.push_back(std::move(channel));
      }
    }
  }
  if (const auto con = root["console"]) {
    only_keys(name, con, {"public_url", "link_secret_file"});
    if (con["public_url"]) {
      c.console.public_url = get_string(name, con["public_url"]);
      if (!c.console.public_url.starts_with("http://") &&
          !c.console.public_url.starts_with("https://")) {
        fail(name, con["public_url"], "public_url must start with https:// (or http://)");
      }
    }
    if (con["link_secret_file"]) {
      c.console.link_secret_file = get_string(name, con["link_secret_file"]);
    }
  }
  if (root["utc_offset_minutes"]) {
    c.utc_offset_minutes = static_cast<int>(get_int(name, root["utc_offset_minutes"], -720, 840));
  }
  return c;
}

std::optional<ServiceRole> parse_service_role(const std::string& text) {
  if (text == "all") return ServiceRole::kAll;
  if (text == "ingest") return ServiceRole::kIngest;
  if (text == "api") return ServiceRole::kApi;
  return std::nullopt;
}

const char* service_role_name(ServiceRole role) {
  switch (role) {
    case ServiceRole::kIngest:
      return "ingest";
    case ServiceRole::kApi:
      return "api";
    case ServiceRole::kAll:
      break;
  }
  return "all";
}

void check_service_options(const TownshipConfig& config, const ServiceOptions& options) {
  const std::string& instance = options.instance;
  bool ok = instance.size() <= 32 && (!options.instance_given || !instance.empty());
  for (char ch : instance) {
    ok =
        ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.');
  }
  if (!ok) throw ConfigError("--instance must be 1 to 32 characters of A-Z a-z 0-9 _ - .");
  if (options.role != ServiceRole::kAll && !config.storage_postgresql) {
    throw ConfigError(fmt::format(
        "--role {} needs PostgreSQL storage (storage: {{url: postgresql://...}}): SQLite is for "
        "one process, run it with --role all",
        service_role_name(options.role)));
  }
}

TownshipConfig load_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  TownshipConfig c = parse_config(ss.str(), path.string());
  if (!c.storage_postgresql && c.storage_path.is_relative()) {
    c.storage_path = path.parent_path() / c.storage_path;
  }
  if (!c.console.link_secret_file.empty()) {
    if (c.console.link_secret_file.is_relative()) {
      c.console.link_secret_file = path.parent_path() / c.console.link_secret_file;
    }
    std::ifstream secret(c.console.link_secret_file);
    std::string text;
    if (!secret || !std::getline(secret, text)) {
      throw ConfigError(path.string() + ": console.link_secret_file " +
                        c.console.link_secret_file.string() + " cannot be read");
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    if (text.size() < 32) {
      throw ConfigError(path.string() +
                        ": console.link_secret_file holds fewer than 32 "
                        "characters (make one with: openssl rand -hex 32)");
    }
    c.console.link_secret = std::move(text);
  }
  return c;
}

}  // namespace homesafe::township
