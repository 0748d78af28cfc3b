#include "commands.hpp"

#include <fmt/format.h>
#include <mqtt/client.h>
#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "homesafe/gateway/alert_json.hpp"
#include "homesafe/gateway/config.hpp"
#include "homesafe/gateway/config_override.hpp"
#include "homesafe/gateway/labels.hpp"
#include "homesafe/gateway/replay.hpp"
#include "homesafe/gateway/store.hpp"
#include "homesafe/gateway/time_zone_loader.hpp"
#include "homesafe/gateway/topics.hpp"
#include "homesafe/rules/time_zone.hpp"

namespace homesafe::gateway::cli {
namespace {

std::optional<HubConfig> load_or_report(const std::string& path) {
  auto loaded = load_config(path);
  for (const auto& error : loaded.errors) std::cerr << error.to_string() << '\n';
  if (!loaded.errors.empty()) {
    std::cerr << "homesafe-gateway: " << loaded.errors.size() << " error(s) in " << path << '\n';
    return std::nullopt;
  }
  return std::move(loaded.config);
}

// "90s", "5m", "2h", "1d", "1h30m" or plain seconds.
std::optional<std::int64_t> parse_duration_ms(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::int64_t number = -1;
  for (char ch : text) {
    if (ch >= '0' && ch <= '9') {
      number = (number < 0 ? 0 : number) * 10 + (ch - '0');
      if (number > 1'000'000'000) return std::nullopt;
      continue;
    }
    if (number < 0) return std::nullopt;
    switch (ch) {
      case 's':
        total += number * 1000;
        break;
      case 'm':
        total += number * 60'000;
        break;
      case 'h':
        total += number * 3'600'000;
        break;
      case 'd':
        total += number * 86'400'000;
        break;
      default:
        return std::nullopt;
    }
    number = -1;
  }
  if (number >= 0) total += number * 1000;
  return total;
}

std::string local_time(const rules::TimeZone& zone, std::optional<std::int64_t> ms) {
  if (!ms) return "-";
  std::string iso = zone.format_iso(*ms);
  return iso.substr(0, 19);  // drop the offset in tables; the zone is the household's
}

bool store_exists(const HubConfig& config) {
  struct stat info {};
  return config.storage.path != ":memory:" && ::stat(config.storage.path.c_str(), &info) == 0;
}

// The township's config override in the hub's store, when there is a store.
int report_config_override(const std::string& path, const HubConfig& config, std::ostream& out,
                           std::ostream& err) {
  if (!store_exists(config)) return 0;
  try {
    Store store(config.storage.path);
    std::vector<ConfigPatchRecord> patches;
    try {
      patches = load_config_override(store);
    } catch (const ConfigOverrideError& e) {
      err << "override: the township's config override in the store cannot be read (" << e.what()
          << ") and is ignored by the gateway; clear it with: homesafe-gateway clear-override "
             "--config "
          << path << '\n';
      return 1;
    }
    if (patches.empty()) return 0;
    const auto zone = load_time_zone(config.household.timezone)
                          .value_or(rules::TimeZone::fixed(config.household.timezone, 0));
    const auto effective = with_config_override(config, store);
    if (!effective.errors.empty()) {
      err << "override: the township's config override (" << patches.size()
          << " patch(es)) does not validate against " << path
          << " and is ignored by the gateway:\n";
      for (const auto& error : effective.errors) err << "  " << error << '\n';
      err << "clear it with: homesafe-gateway clear-override --config " << path << '\n';
      return 1;
    }
    out << "override: " << patches.size()
        << " township config patch(es) in effect over this file's rules and escalation (last: "
           "command "
        << patches.back().command_id << " at " << local_time(zone, patches.back().applied_at_ms)
        << "); clear with: homesafe-gateway clear-override --config " << path << '\n';
    for (const auto& patch : patches)
      out << "  " << patch.command_id << ": " << patch.patch << '\n';
  } catch (const StoreError& e) {
    err << "homesafe-gateway: cannot read the override from the store: " << e.what() << '\n';
    return 1;
  }
  return 0;
}

}  // namespace

int check_config(const std::string& path, std::ostream& out, std::ostream& err) {
  auto loaded = load_config(path);
  for (const auto& error : loaded.errors) err << error.to_string() << '\n';
  if (!loaded.errors.empty()) {
    err << loaded.errors.size() << " error(s) in " << path << '\n';
    return 1;
  }
  const auto& config = *loaded.config;
  out << path << ": OK (household " << config.household.id << ", " << config.devices.size()
      << " devices, " << config.contacts.size() << " contacts)\n";
  if (config.uplink) {
    out << "uplink: hub " << config.uplink->hub_id << " forwards to the township broker\n";
  }
  return report_config_override(path, config, out, err);
}

int clear_override(const std::string& config_path) {
  auto config = load_or_report(config_path);
  if (!config) return 1;
  if (!store_exists(*config)) {
    std::cout << "no store at " << config->storage.path << ": no override to clear\n";
    return 0;
  }
  try {
    Store store(config->storage.path);
    Store::Transaction tx(store, Durability::full);
    const bool present = store.get_meta(kConfigOverrideKey).has_value();
    std::size_t count = 0;
    try {
      count = load_config_override(store).size();
    } catch (const ConfigOverrideError&) {
      // unreadable: cleared all the same
    }
    clear_config_override(store);
    tx.commit();
    if (!present) {
      std::cout << "no township config override was in effect\n";
      return 0;
    }
    std::cout << "cleared the township's config override (" << count
              << " patch(es)); restart the gateway to run with the rules and escalation of "
              << config_path << " (the running gateway keeps the patched ones until then)\n";
  } catch (const StoreError& e) {
    std::cerr << "homesafe-gateway: " << e.what() << '\n';
    return 1;
  }
  return 0;
}

int replay(const std::string& config_path, const std::string& input, const std::string& tail,
           const std::string& store_path) {
  auto config = load_or_report(config_path);
  if (!config) return 1;
  auto tail_ms = parse_duration_ms(tail);
  if (!tail_ms) {
    std::cerr << "homesafe-gateway: --tail must be a duration like 30m or 2h\n";
    return 2;
  }
  ReplayOptions options;
  options.tail_ms = *tail_ms;
  options.store_path = store_path;
  std::ios::sync_with_stdio(false);
  ReplayStats stats;
  try {
    if (input == "-") {
      stats = run_replay(*config, std::cin, std::cout, std::cerr, options);
    } else {
      std::ifstream file(input);
      if (!file) {
        std::cerr << "homesafe-gateway: cannot read " << input << '\n';
        return 1;
      }
      stats = run_replay(*config, file, std::cout, std::cerr, options);
    }
  } catch (const StoreError& e) {
    std::cerr << "homesafe-gateway: " << e.what() << '\n';
    return 1;
  }
  std::cerr << fmt::format("replay: {} lines, {} messages, {} bad lines, {} output lines\n",
                           stats.lines, stats.messages, stats.bad_lines, stats.outputs);
  for (const auto& [what, count] : stats.suppressed) {
    std::cerr << fmt::format("replay: suppressed {} {}\n", count, what);
  }
  return stats.bad_lines > 0 ? 3 : 0;
}

int alerts(const std::string& config_path, const std::optional<std::string>& show, int limit,
           bool json) {
  auto config = load_or_report(config_path);
  if (!config) return 1;
  struct stat info {};
  if (::stat(config->storage.path.c_str(), &info) != 0) {
    std::cerr << "homesafe-gateway: no store at " << config->storage.path
              << " (has the gateway run yet?)\n";
    return 1;
  }
  const auto zone = load_time_zone(config->household.timezone)
                        .value_or(rules::TimeZone::fixed(config->household.timezone, 0));
  try {
    Store store(config->storage.path);
    if (show) {
      auto alert = store.find_alert(*show);
      if (!alert) {
        std::cerr << "homesafe-gateway: no alert " << *show << '\n';
        return 1;
      }
      const auto events = store.alert_events(*show);
      if (json) {
        auto j = alert_to_json(*alert, "current", config->household.id, zone);
        auto& history = j["history"] = nlohmann::ordered_json::array();
        for (const auto& e : events) {
          history.push_back({{"ts", zone.format_iso(e.ts_ms)},
                             {"event", e.event},
                             {"by", e.by},
                             {"channel", e.channel},
                             {"note", e.note}});
        }
        std::cout << j.dump(2) << '\n';
        return 0;
      }
      std::cout << fmt::format("{}  {} {}  [{}] {}\n", alert->alert_id, zh_label(alert->kind),
                               rules::to_string(alert->kind), zh_label(alert->state),
                               to_string(alert->state));
      std::cout << fmt::format("  device {} at {}, severity {}, opened {}, repeats {}\n",
                               alert->device_id, alert->location, rules::to_string(alert->severity),
                               local_time(zone, alert->opened_at_ms), alert->repeat_count);
      std::cout << "  handling record:\n";
      for (const auto& e : events) {
        std::cout << fmt::format("    {}  {:<18} {:<10} {:<8} {}\n", local_time(zone, e.ts_ms),
                                 e.event, e.by.empty() ? "-" : e.by,
                                 e.channel.empty() ? "-" : e.channel, e.note);
      }
      const auto notifications = store.notifications(*show);
      if (!notifications.empty()) std::cout << "  notifications:\n";
      for (const auto& n : notifications) {
        std::cout << fmt::format(
            "    {}  step {} {:<7} {:<10} {:<9} {:<12} {}\n", local_time(zone, n.created_at_ms),
            n.step, n.repeat > 0 ? fmt::format("(r{})", n.repeat) : "", n.contact_id, n.channel,
            n.state, n.last_error.empty() ? n.notification_id : n.last_error);
      }
      return 0;
    }
    const auto list = store.recent_alerts(limit);
    if (json) {
      auto array = nlohmann::ordered_json::array();
      for (const auto& alert : list) {
        array.push_back(alert_to_json(alert, "current", config->household.id, zone));
      }
      std::cout << array.dump(2) << '\n';
      return 0;
    }
    if (list.empty()) {
      std::cout << "no alerts\n";
      return 0;
    }
    std::cout << fmt::format("{:<14} {:<14} {:<10} {:<13} {:<18} {:<19} {}\n", "ALERT", "KIND",
                             "SEVERITY", "STATE", "DEVICE", "OPENED", "LOCATION / HANDLED BY");
    for (const auto& alert : list) {
      std::string handled = alert.location;
      if (!alert.acknowledged_by.empty()) handled += "  ack:" + alert.acknowledged_by;
      if (!alert.resolved_by.empty()) handled += "  resolved:" + alert.resolved_by;
      std::cout << fmt::format("{:<14} {:<14} {:<10} {:<13} {:<18} {:<19} {}\n", alert.alert_id,
                               rules::to_string(alert.kind), rules::to_string(alert.severity),
                               to_string(alert.state), alert.device_id,
                               local_time(zone, alert.opened_at_ms), handled);
    }
  } catch (const StoreError& e) {
    std::cerr << "homesafe-gateway: " << e.what() << '\n';
    return 1;
  }
  return 0;
}

namespace {

// Publishes one message on the hub's ack topic (QoS 1) with the config's broker credentials.
bool publish_to_ack_topic(const HubConfig& config, const nlohmann::ordered_json& body) {
  const Topics topics(config.household.id);
  try {
    mqtt::client client(config.broker.url, config.broker.client_id + "-cli", nullptr);
    auto options = mqtt::connect_options_builder().clean_session(true).finalize();
    if (!config.broker.username.empty()) options.set_user_name(config.broker.username);
    const std::string password = config.broker.password_file.empty()
                                     ? config.broker.password
                                     : read_secret_file(config.broker.password_file);
    if (!password.empty()) options.set_password(password);
    client.connect(options);
    client.publish(mqtt::make_message(topics.ack(), body.dump(), 1, false));
    client.disconnect();
  } catch (const mqtt::exception& e) {
    std::cerr << "homesafe-gateway: cannot reach the broker at " << config.broker.url << ": "
              << e.what() << '\n';
    return false;
  } catch (const std::runtime_error& e) {
    std::cerr << "homesafe-gateway: " << e.what() << '\n';
    return false;
  }
  return true;
}

std::optional<HubConfig> load_with_contact(const std::string& config_path, const std::string& by) {
  auto config = load_or_report(config_path);
  if (!config) return std::nullopt;
  if (config->find_contact(by) == nullptr) {
    std::cerr << "homesafe-gateway: no contact with id " << by << " in " << config_path << '\n';
    return std::nullopt;
  }
  return config;
}

}  // namespace

int ack(const std::string& config_path, const std::string& alert_id, const std::string& by,
        bool resolve, const std::string& note) {
  auto config = load_with_contact(config_path, by);
  if (!config) return 1;
  nlohmann::ordered_json body{{"alert_id", alert_id},
                              {"by", by},
                              {"action", resolve ? "resolve" : "ack"},
                              {"note", note},
                              {"channel", "cli"}};
  if (!publish_to_ack_topic(*config, body)) return 1;
  std::cout << "sent " << (resolve ? "resolve" : "ack") << " for " << alert_id << " by " << by
            << " (see: homesafe-gateway alerts --config " << config_path << " --show " << alert_id
            << ")\n";
  return 0;
}

int away(const std::string& config_path, const std::string& by,
         const std::optional<std::string>& until, const std::string& note) {
  auto config = load_with_contact(config_path, by);
  if (!config) return 1;
  nlohmann::ordered_json body{{"action", until ? "away" : "home"}, {"by", by}};
  if (until) {
    if (!rules::parse_iso8601_ms(*until)) {
      std::cerr << "homesafe-gateway: --until needs a local time with its offset, e.g. "
                   "2026-12-01T18:00:00+08:00\n";
      return 2;
    }
    body["until"] = *until;
    body["note"] = note;
  }
  if (!publish_to_ack_topic(*config, body)) return 1;
  if (until) {
    std::cout << "sent: household " << config->household.id << " away until " << *until
              << " (person-related alerts pause; hazards never do)\n";
  } else {
    std::cout << "sent: household " << config->household.id << " back home\n";
  }
  return 0;
}

}  // namespace homesafe::gateway::cli
