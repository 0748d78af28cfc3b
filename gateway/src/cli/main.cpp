// homesafe-gateway: the hub daemon and its installer commands.
#include <MQTTAsync.h>
#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "discover.hpp"
#include "homesafe/gateway/config.hpp"
#include "homesafe/gateway/daemon.hpp"
#include "homesafe/gateway/log.hpp"
#include "setup.hpp"
// The executable is where the layers meet: cloud-bridge/ adds the township uplink to the daemon
// (the gateway library itself does not depend on it).
#ifdef HOMESAFE_HAVE_CLOUD_BRIDGE
#include "homesafe/cloud_bridge/uplink.hpp"
#endif

namespace hg = homesafe::gateway;

namespace {

constexpr const char* kUsage = R"(usage:
  homesafe-gateway --config FILE [--log-level debug|info|warn|error]
      Run the hub daemon.
  homesafe-gateway check-config FILE
      Validate a hub config; print every error as file:line:column and exit 1 if any.
      Also shows the township's config override (rules/escalation patches) kept in the
      hub's store, and exits 1 if that no longer validates against the file.
  homesafe-gateway clear-override --config FILE
      Remove the township's config override from the hub's store; the file's rules and
      escalation apply again from the next start of the gateway.
  homesafe-gateway replay --config FILE --input FILE|- [--tail DURATION] [--store PATH]
      Run the full pipeline on recorded messages (JSON lines) in virtual time and print one
      JSON line per alert state change. --tail keeps virtual time running after the last
      message (e.g. 1h). The store is in memory unless --store is given.
  homesafe-gateway alerts --config FILE [--all] [--limit N] [--show ALERT_ID] [--json]
      List open and recent alerts from the hub's store, or one alert with its history.
  homesafe-gateway ack ALERT_ID --by CONTACT_ID --config FILE [--resolve] [--note TEXT]
      Acknowledge (or resolve) an alert through the hub's ack topic.
  homesafe-gateway away --config FILE --by CONTACT_ID (--until LOCAL_TIME [--note TEXT] | --home)
      Away mode (外出/住院): person-related alerts pause until LOCAL_TIME (e.g.
      2026-12-01T18:00:00+08:00); hazards never pause. --home ends it now.
  homesafe-gateway discover --config FILE [--seconds 60]
      Listen on the hub's broker and print a ready-to-paste devices: snippet for every
      device seen (Home Assistant discovery, Zigbee2MQTT, Tasmota, Shelly, ESPHome ...).
  homesafe-gateway setup --config FILE [--out-dir DIR] [--rotate]
      Write the hub broker's password file, ACL and the gateway's password from the config:
      one credential per device or bridge (write access to its own topics only), random
      passwords, kept on re-runs unless --rotate. Default DIR: /etc/homesafe/broker.
  homesafe-gateway --version | --help
)";

// A tiny argument reader: positional arguments and --flag [value] options.
struct Args {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> options;
  std::vector<std::string> flags;

  std::optional<std::string> get(const std::string& name) const {
    for (const auto& [key, value] : options) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
  bool has(const std::string& name) const {
    for (const auto& flag : flags) {
      if (flag == name) return true;
    }
    return false;
  }
};

// Options that take no value.
bool is_flag(std::string_view name) {
  return name == "--all" || name == "--json" || name == "--resolve" || name == "--help" ||
         name == "--version" || name == "--home" || name == "--rotate";
}

std::optional<Args> parse_args(int argc, char** argv, int first) {
  Args args;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      if (is_flag(arg)) {
        args.flags.push_back(arg);
        continue;
      }
      if (auto eq = arg.find('='); eq != std::string::npos) {
        args.options.emplace_back(arg.substr(0, eq), arg.substr(eq + 1));
        continue;
      }
      if (i + 1 >= argc) {
        std::cerr << "homesafe-gateway: option " << arg << " needs a value\n";
        return std::nullopt;
      }
      args.options.emplace_back(arg, argv[++i]);
    } else {
      args.positional.push_back(arg);
    }
  }
  return args;
}

int usage_error(const std::string& message) {
  std::cerr << "homesafe-gateway: " << message << "\n\n" << kUsage;
  return 2;
}

std::optional<hg::log::Level> parse_level(const std::string& text) {
  if (text == "debug") return hg::log::Level::debug;
  if (text == "info") return hg::log::Level::info;
  if (text == "warn") return hg::log::Level::warn;
  if (text == "error") return hg::log::Level::error;
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  // Left alone, Paho C initialises OpenSSL when the first client is made (every error string and
  // algorithm: ~3 MB of resident memory) even if no connection uses TLS; OpenSSL 3 initialises
  // itself when a TLS connection needs it.
  MQTTAsync_init_options paho_init = MQTTAsync_init_options_initializer;
  paho_init.do_openssl_init = 0;
  MQTTAsync_global_init(&paho_init);
  if (argc < 2) return usage_error("missing arguments");
  const std::string first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (first == "--version") {
    std::cout << "homesafe-gateway " << HOMESAFE_VERSION << '\n';
    return 0;
  }
  const bool is_command = first.rfind("--", 0) != 0;
  auto args = parse_args(argc, argv, is_command ? 2 : 1);
  if (!args) return 2;
  // Replay's output is the JSON on stdout: by default log only problems there.
  if (first == "replay") hg::log::set_level(hg::log::Level::warn);
  if (auto level = args->get("--log-level")) {
    auto parsed = parse_level(*level);
    if (!parsed) return usage_error("unknown log level " + *level);
    hg::log::set_level(*parsed);
  }

  if (!is_command || first == "run") {
    auto path = args->get("--config");
    if (!path) return usage_error("--config FILE is required");
    auto loaded = hg::load_config(*path);
    if (!loaded.errors.empty()) {
      for (const auto& error : loaded.errors) std::cerr << error.to_string() << '\n';
      std::cerr << "homesafe-gateway: refusing to start: " << loaded.errors.size()
                << " error(s) in " << *path << '\n';
      return 1;
    }
#ifdef HOMESAFE_HAVE_CLOUD_BRIDGE
    return hg::run_daemon(*loaded.config, homesafe::cloud_bridge::uplink_extensions);
#else
    return hg::run_daemon(*loaded.config);
#endif
  }
  if (first == "check-config") {
    std::string path;
    if (!args->positional.empty()) {
      path = args->positional.front();
    } else if (auto option = args->get("--config")) {
      path = *option;
    } else {
      return usage_error("check-config needs a FILE");
    }
    return hg::cli::check_config(path, std::cout, std::cerr);
  }
  if (first == "clear-override") {
    auto path = args->get("--config");
    if (!path) return usage_error("clear-override needs --config FILE");
    return hg::cli::clear_override(*path);
  }
  if (first == "replay") {
    auto config = args->get("--config");
    auto input = args->get("--input");
    if (!config || !input) return usage_error("replay needs --config FILE and --input FILE|-");
    return hg::cli::replay(*config, *input, args->get("--tail").value_or("0s"),
                           args->get("--store").value_or(":memory:"));
  }
  if (first == "alerts") {
    auto path = args->get("--config");
    if (!path) return usage_error("--config FILE is required");
    int limit = 20;
    if (auto text = args->get("--limit")) {
      try {
        limit = std::stoi(*text);
      } catch (const std::exception&) {
        return usage_error("--limit needs a number");
      }
    }
    return hg::cli::alerts(*path, args->get("--show"), args->has("--all") ? 100000 : limit,
                           args->has("--json"));
  }
  if (first == "ack") {
    auto path = args->get("--config");
    auto by = args->get("--by");
    if (!path || !by || args->positional.empty()) {
      return usage_error("ack needs ALERT_ID, --by CONTACT_ID and --config FILE");
    }
    return hg::cli::ack(*path, args->positional.front(), *by, args->has("--resolve"),
                        args->get("--note").value_or(""));
  }
  if (first == "away") {
    auto path = args->get("--config");
    auto by = args->get("--by");
    auto until = args->get("--until");
    if (!path || !by || (until.has_value() == args->has("--home"))) {
      return usage_error("away needs --config FILE, --by CONTACT_ID and --until TIME or --home");
    }
    return hg::cli::away(*path, *by, until, args->get("--note").value_or(""));
  }
  if (first == "discover") {
    auto path = args->get("--config");
    if (!path) return usage_error("--config FILE is required");
    int seconds = 60;
    if (auto text = args->get("--seconds")) {
      try {
        seconds = std::stoi(*text);
      } catch (const std::exception&) {
        return usage_error("--seconds needs a number");
      }
    }
    return hg::cli::discover(*path, seconds);
  }
  if (first == "setup") {
    hg::cli::SetupOptions options;
    auto path = args->get("--config");
    if (!path) return usage_error("setup needs --config FILE");
    options.config_path = *path;
    if (auto dir = args->get("--out-dir")) options.out_dir = *dir;
    options.rotate = args->has("--rotate");
    return hg::cli::setup(options, std::cout, std::cerr);
  }
  return usage_error("unknown command " + first);
}
