// homesafe-township: the township service and its administration commands.

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "homesafe/township/auth.hpp"
#include "homesafe/township/clock.hpp"
#include "homesafe/township/config.hpp"
#include "homesafe/township/credentials.hpp"
#include "homesafe/township/log.hpp"
#include "homesafe/township/registry.hpp"
#include "homesafe/township/service.hpp"
#include "homesafe/township/store.hpp"

namespace {

using namespace homesafe::township;

constexpr const char* kUsage = R"(usage:
  homesafe-township --config FILE [--role all|ingest|api] [--instance NAME]
      the service; --role all (default) does everything in one process; on PostgreSQL a county
      runs ingest workers (the hubs' uplink, no HTTP) and api processes (HTTP API, console,
      live feed, relays); --instance (default: the role) tells processes of one role apart
  homesafe-township check-config FILE
  homesafe-township import-households --config FILE HOUSEHOLDS.csv
  homesafe-township export-households --config FILE [OUT.csv]
  homesafe-township add-user --config FILE --username U --role R --scope S   (password on stdin)
  homesafe-township hub-credentials --config FILE --out DIR
      roles: township_operator (scope: township), county_staff (scope: county),
             caregiver (scope: the caregiver's contact id in the registry)
)";

int usage() {
  std::fputs(kUsage, stderr);
  return 2;
}

// --key value options and positional arguments.
struct Args {
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;
  bool ok = true;
};

Args parse_args(int argc, char** argv, int first) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.starts_with("--")) {
      if (i + 1 >= argc) {
        a.ok = false;
        break;
      }
      a.options[arg.substr(2)] = argv[++i];
    } else {
      a.positional.push_back(arg);
    }
  }
  return a;
}

std::string read_all(std::istream& in) {
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int run_command(const std::string& command, const Args& args) {
  if (!args.ok || !args.options.contains("config")) return usage();
  const TownshipConfig config = load_config(args.options.at("config"));
  SystemClock clock;
  if (command == "import-households") {
    if (args.positional.size() != 1) return usage();
    std::ifstream in(args.positional[0], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", args.positional[0].c_str());
      return 1;
    }
    Store store(config.storage());
    try {
      const int n = import_households(store, read_all(in), clock.now_ms());
      store.audit(clock.now_ms(), "cli", "import", "households", {}, fmt::format("{} rows", n));
      std::printf("imported %d households\n", n);
      return 0;
    } catch (const ImportError& e) {
      std::fprintf(stderr, "%s: nothing imported:\n", args.positional[0].c_str());
      for (const auto& p : e.problems) std::fprintf(stderr, "  %s\n", p.c_str());
      return 1;
    }
  }
  if (command == "export-households") {
    Store store(config.storage());
    const std::string csv = export_households(store);
    store.audit(clock.now_ms(), "cli", "export", "households", {});
    if (args.positional.empty()) {
      std::fwrite(csv.data(), 1, csv.size(), stdout);
      return 0;
    }
    std::ofstream out(args.positional[0], std::ios::binary);
    out << csv;
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", args.positional[0].c_str());
      return 1;
    }
    return 0;
  }
  if (command == "hub-credentials") {
    if (!args.options.contains("out")) return usage();
    Store store(config.storage());
    try {
      const auto r = write_hub_credentials(store, config.broker.username, config.broker.password,
                                           args.options.at("out"), "mosquitto_passwd",
                                           config.console.link_secret);
      store.audit(clock.now_ms(), "cli", "hub_credentials", "broker", {},
                  fmt::format("{} hubs, {} new", r.hubs, r.new_hubs));
      std::printf("%d hub accounts (%d new) written to %s\n", r.hubs, r.new_hubs,
                  args.options.at("out").c_str());
      if (!config.console.link_secret.empty()) {
        std::printf("one-tap link keys: %s/link-keys/HUB.key (uplink.link_key_file on each hub)\n",
                    args.options.at("out").c_str());
      }
      return 0;
    } catch (const CredentialsError& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 1;
    }
  }
  if (command == "add-user") {
    for (const char* key : {"username", "role", "scope"}) {
      if (!args.options.contains(key)) return usage();
    }
    const std::string username = args.options.at("username");
    // The username travels to the hubs in commands as "township:USER" (at most 64 bytes there).
    bool ok = !username.empty() && username.size() <= 48;
    for (char c : username) {
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.');
    }
    if (!ok) {
      std::fputs("username must be 1 to 48 characters of A-Z a-z 0-9 _ - .\n", stderr);
      return 2;
    }
    auto role = parse_role(args.options.at("role"));
    if (!role) {
      std::fputs("role must be township_operator, county_staff or caregiver\n", stderr);
      return 2;
    }
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.size() < 10) {
      std::fputs("the password (first line of stdin) must have at least 10 characters\n", stderr);
      return 2;
    }
    Store store(config.storage());
    add_user(store, username, *role, args.options.at("scope"), password, clock.now_ms());
    store.audit(clock.now_ms(), "cli", "add_user", "user", {}, username);
    std::printf("user %s saved\n", username.c_str());
    return 0;
  }
  return usage();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2) return usage();
    const std::string first = argv[1];
    if (first == "--help" || first == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (first == "--version") {
      std::printf("homesafe-township %s\n", HOMESAFE_VERSION);
      return 0;
    }
    if (first == "check-config") {
      if (argc != 3) return usage();
      load_config(argv[2]);
      std::printf("%s: ok\n", argv[2]);
      return 0;
    }
    if (first == "--config" || first == "--role" || first == "--instance") {
      const Args args = parse_args(argc, argv, 1);
      if (!args.ok || !args.positional.empty() || !args.options.contains("config")) return usage();
      ServiceOptions options;
      for (const auto& [key, value] : args.options) {
        if (key == "role") {
          const auto role = parse_service_role(value);
          if (!role) {
            std::fputs("--role must be all, ingest or api\n", stderr);
            return 2;
          }
          options.role = *role;
        } else if (key == "instance") {
          options.instance = value;
          options.instance_given = true;
        } else if (key != "config") {
          return usage();
        }
      }
      const TownshipConfig config = load_config(args.options.at("config"));
      check_service_options(config, options);
      return run_service(config, options);
    }
    return run_command(first, parse_args(argc, argv, 2));
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
