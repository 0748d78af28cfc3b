#include "homesafe/sim/cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "homesafe/sim/device.hpp"
#include "homesafe/sim/evaluate.hpp"
#include "homesafe/sim/household.hpp"
#include "homesafe/sim/modem.hpp"
#include "homesafe/sim/mqtt_publisher.hpp"
#include "homesafe/sim/runner.hpp"
#include "homesafe/sim/scenario.hpp"
#include "homesafe/sim/time.hpp"
#include "homesafe/sim/webhook_receiver.hpp"

namespace homesafe::sim {
namespace {

// Raised for a bad command line: message to stderr, exit 2.
struct UsageError {
  std::string message;
};

constexpr std::string_view kUsage =
    R"(homesafe-sim: simulated homesafe devices publishing the native MQTT format.

Usage:
  homesafe-sim send --topic BASE --type TYPE --event EVENT [options]
  homesafe-sim press call-button --topic BASE [--action ACTION] [options]
  homesafe-sim run SCENARIO.yaml [--speed N|max] [--jsonl FILE|-] [--start ISO8601] [options]
  homesafe-sim events [TYPE]
  homesafe-sim modem --link PATH --outbox FILE [--control FIFO] [--quiet]
  homesafe-sim modem-ctl FIFO COMMAND...
  homesafe-sim webhook-receiver [--port N] [--port-file FILE] [--fail-first N] [--quiet]
  homesafe-sim household --out DIR [--seed N] [--start YYYY-MM-DD] [--days N]
               [--household ID] [--incident TYPE@TIME]... [--random-incidents N]
               [--publish [--speed N|max] [--broker URL]]
               [--fall-hours H] [--quiet]
  homesafe-sim evaluate --gateway PATH --work DIR [--households N] [--days N] [--seed N]
               [--start YYYY-MM-DD] [--jobs N]
  homesafe-sim --help

Commands:
  send      publish one event of one device whose state starts at the defaults
            (no alarm, battery 100): BASE/state (JSON) or BASE/availability (retained)
  press     shorthand for `send --type call_button --event press`
  run       play a scenario file in virtual time
  events    list the device types, their events and event arguments
  modem     a simulated 4G modem: answers AT commands on a pseudo-terminal linked at PATH,
            appends every SMS it sends to FILE as a JSON line and prints it; stops on
            SIGTERM/SIGINT
  modem-ctl write one control command to a running modem's FIFO:
            reply NUMBER TEXT...   an incoming SMS (stored, announced with +CMTI)
            fail N [CMS-CODE]      the next N sends fail with +CMS ERROR (default 500)
            hang N                 the next N sends are never answered
            reset                  forget failures, hangs and stored messages
  webhook-receiver
            an HTTP endpoint on 127.0.0.1 standing in for an SMS provider or a WeCom/DingTalk
            group robot: prints the text of every notification it receives; --fail-first N
            answers 503 to the first N requests (to show retries)
  household days in the life of one elderly person living alone, as 13 native devices
            publish them, seeded (the same seed gives the same bytes): writes
            DIR/messages.jsonl (input for `homesafe-gateway replay`), DIR/hub.yaml (its
            gateway config) and DIR/incidents.json (ground truth of the injected incidents)
  evaluate  for each of N households (seed+i): generate it with a fall after day 15 and
            maybe one other incident, run `PATH replay` on it, match the alerts to the
            incidents; prints detections, times to detect and false alerts per incident type
            and alert kind, writes DIR/summary.json

Options:
  --broker URL          MQTT broker (default tcp://127.0.0.1:1883)
  --qos 0|1|2           QoS of every message (default 1)
  --client-id ID        MQTT client id (default homesafe-sim-<pid>-<n>)
  --quiet               do not print the published messages
  send / press:
  --topic BASE          the device's base topic, e.g. homesafe/h001/dev/kitchen-smoke
  --type TYPE           device type (see `homesafe-sim events`)
  --event EVENT         event name (see `homesafe-sim events TYPE`)
  --power battery|mains power source (default: mains for gas_alarm and plug, else battery)
  --set KEY=VALUE       override a state key in this event's messages (repeatable); VALUE is
                        read as JSON when it is true, false, null, a number or a "string",
                        else taken as a plain string
  --action NAME, --litres N, --watts W, --celsius X, --humidity H, --battery N
                        event arguments (see `homesafe-sim events`)
  run:
  --speed N|max         virtual seconds per real second (default 1); max: no waiting
  --jsonl FILE|-        publish nothing; write replay-input lines for
                        `homesafe-gateway replay` to FILE (- for stdout)
  --start ISO8601       virtual start time, overriding the scenario's `start`
                        (default: the scenario's, else now)
  modem:
  --link PATH           symlink to the modem's device (a stale symlink is replaced)
  --outbox FILE         JSON lines {"ts","to","text"} of the SMS sent, appended
  --control FIFO        control commands, one per line (created if missing)
  household:
  --out DIR             where the three files go (created if missing)
  --seed N              random seed (default 1)
  --start YYYY-MM-DD    the first day, from local midnight (default 2026-11-01)
  --days N              simulated days (default 30)
  --household ID        household id in topics and the config (default h001)
  --incident TYPE@TIME  inject an incident at local time YYYY-MM-DDTHH:MM (repeatable): fall,
                        stove, wander, tap, hospital, device_dies[:DEVICE] (default hall-motion)
  --random-incidents N  N incidents at times chosen by the seed: a fall, then other types
  --fall-hours H        how long a fallen person lies unnoticed (default 36)
  --publish             also publish the messages live to --broker, paced by --speed
                        (virtual seconds per real second, default 1; 3600: an hour a second)
  evaluate:
  --gateway PATH        the homesafe-gateway binary
  --work DIR            one folder per household, and summary.json
  --households N        default 100; --days (default 30), --seed (default 1), --start as above
  --jobs N              replays run in parallel (default 2)

Every published message is printed as `<virtual time>  <topic>  <payload>`, every SMS the
modem sends as `SMS to <number> : <text>`.
Exit status: 0 done, 1 broker, device or file failure, 2 bad command line or scenario.
)";

struct Parsed {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> options;  // in order; flags have ""
  bool help = false;

  std::optional<std::string> get(std::string_view name) const {
    std::optional<std::string> value;
    for (const auto& [key, text] : options) {
      if (key == name) value = text;
    }
    return value;
  }
  bool has(std::string_view name) const { return get(name).has_value(); }
};

const std::set<std::string, std::less<>> kFlags{"quiet", "help", "plain-config", "publish"};

Parsed parse_args(std::span<const std::string> args,
                  const std::set<std::string, std::less<>>& allowed, std::string_view command) {
  Parsed parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      parsed.help = true;
      continue;
    }
    if (!arg.starts_with("--") || arg == "-" || arg == "--") {
      parsed.positional.emplace_back(arg);
      continue;
    }
    std::string name(arg.substr(2));
    std::optional<std::string> value;
    if (auto equals = name.find('='); equals != std::string::npos) {
      value = name.substr(equals + 1);
      name.resize(equals);
    }
    if (!allowed.contains(name)) {
      throw UsageError{fmt::format("unknown option --{} for `{}`", name, command)};
    }
    if (kFlags.contains(name)) {
      if (value) throw UsageError{fmt::format("--{} takes no value", name)};
      parsed.options.emplace_back(name, "");
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) throw UsageError{fmt::format("--{} needs a value", name)};
      value = args[++i];
    }
    parsed.options.emplace_back(name, *value);
  }
  return parsed;
}

std::string require(const Parsed& parsed, std::string_view name) {
  auto value = parsed.get(name);
  if (!value || value->empty()) throw UsageError{fmt::format("missing --{}", name)};
  return *value;
}

MqttOptions mqtt_options(const Parsed& parsed) {
  MqttOptions options;
  if (auto url = parsed.get("broker")) options.url = *url;
  if (auto id = parsed.get("client-id")) options.client_id = *id;
  if (auto qos = parsed.get("qos")) {
    if (*qos != "0" && *qos != "1" && *qos != "2") {
      throw UsageError{fmt::format("--qos must be 0, 1 or 2, not '{}'", *qos)};
    }
    options.qos = (*qos)[0] - '0';
  }
  return options;
}

// A --set value: JSON scalars as such, anything else as a plain string.
nlohmann::json cli_value(const std::string& text) {
  auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_discarded() && (parsed.is_primitive())) return parsed;
  return text;
}

// Event arguments from the options (--litres ..., --set k=v ...), checked against the event.
EventArgs event_args(const Parsed& parsed) {
  EventArgs args;
  for (const auto& [name, value] : parsed.options) {
    if (name == "set") {
      const auto equals = value.find('=');
      if (equals == std::string::npos || equals == 0) {
        throw UsageError{fmt::format("--set needs KEY=VALUE, not '{}'", value)};
      }
      args.overrides[value.substr(0, equals)] = cli_value(value.substr(equals + 1));
    } else if (is_any_param(name)) {
      if (name == "action") {
        args.params[name] = value;
      } else {
        auto number = nlohmann::json::parse(value, nullptr, false);
        if (number.is_discarded() || !number.is_number()) {
          throw UsageError{fmt::format("--{} must be a number, not '{}'", name, value)};
        }
        args.params[name] = number;
      }
    }
  }
  return args;
}

std::set<std::string, std::less<>> with_common(std::initializer_list<std::string> names) {
  std::set<std::string, std::less<>> allowed{"broker", "qos", "client-id", "quiet", "help"};
  allowed.insert(names.begin(), names.end());
  return allowed;
}

std::set<std::string, std::less<>> send_options() {
  auto allowed = with_common({"topic", "type", "event", "power", "set"});
  for (auto type : all_device_types()) {
    for (const auto* event : events_for(type, PowerSource::battery)) {
      for (const auto& param : event->params) allowed.emplace(param.name);
    }
  }
  return allowed;
}

int publish_event(const Parsed& parsed, DeviceType type, const std::string& event,
                  std::ostream& out) {
  const std::string topic = require(parsed, "topic");
  if (topic.find_first_of("+#") != std::string::npos || topic.back() == '/') {
    throw UsageError{"--topic must be a base topic without '+', '#' or a trailing '/'"};
  }
  PowerSource power = default_power(type);
  if (auto name = parsed.get("power")) {
    auto value = parse_power_source(*name);
    if (!value) throw UsageError{fmt::format("--power must be battery or mains, not '{}'", *name)};
    power = *value;
  }
  const EventArgs args = event_args(parsed);
  if (auto problems = validate_event(type, power, event, args); !problems.empty()) {
    std::string message = problems.front();
    for (std::size_t i = 1; i < problems.size(); ++i) message += "; " + problems[i];
    throw UsageError{message};
  }
  auto options = mqtt_options(parsed);

  const std::int64_t now = now_unix_ms();
  Device device("cli", type, topic, power);
  const auto messages = device.apply(event, args, now);

  MqttPublisher mqtt(options);
  const bool quiet = parsed.has("quiet");
  EchoPublisher echo(out, local_utc_offset_minutes(now), &mqtt);
  Publisher& publisher = quiet ? static_cast<Publisher&>(mqtt) : echo;
  for (const auto& message : messages) publisher.publish(message);
  publisher.flush();
  mqtt.close();
  return kExitOk;
}

int command_send(std::span<const std::string> args, std::ostream& out) {
  const auto parsed = parse_args(args, send_options(), "send");
  if (parsed.help) {
    out << kUsage;
    return kExitOk;
  }
  if (!parsed.positional.empty()) {
    throw UsageError{fmt::format("unexpected argument '{}'", parsed.positional.front())};
  }
  const std::string type_name = require(parsed, "type");
  const auto type = parse_device_type(type_name);
  if (!type) {
    throw UsageError{
        fmt::format("unknown device type '{}' (see `homesafe-sim events`)", type_name)};
  }
  return publish_event(parsed, *type, require(parsed, "event"), out);
}

int command_press(std::span<const std::string> args, std::ostream& out) {
  const auto parsed = parse_args(args, with_common({"topic", "action", "power", "set"}), "press");
  if (parsed.help) {
    out << kUsage;
    return kExitOk;
  }
  if (parsed.positional.size() != 1 ||
      (parsed.positional[0] != "call-button" && parsed.positional[0] != "call_button")) {
    throw UsageError{"usage: homesafe-sim press call-button --topic BASE [--action ACTION]"};
  }
  return publish_event(parsed, DeviceType::call_button, "press", out);
}

// --speed N|max: virtual seconds per real second (default 1); max (nullopt): no waiting.
std::optional<double> speed_option(const Parsed& parsed) {
  const auto text = parsed.get("speed");
  if (!text) return 1.0;
  if (*text == "max") return std::nullopt;
  auto value = nlohmann::json::parse(*text, nullptr, false);
  if (value.is_discarded() || !value.is_number() || !(value.get<double>() > 0) ||
      !std::isfinite(value.get<double>())) {
    throw UsageError{fmt::format("--speed must be a positive number or max, not '{}'", *text)};
  }
  return value.get<double>();
}

int command_run(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  const auto parsed = parse_args(args, with_common({"speed", "jsonl", "start"}), "run");
  if (parsed.help) {
    out << kUsage;
    return kExitOk;
  }
  if (parsed.positional.size() != 1) {
    throw UsageError{"usage: homesafe-sim run SCENARIO.yaml [options]"};
  }
  const std::optional<double> speed = speed_option(parsed);
  std::optional<WallTime> start;
  if (auto text = parsed.get("start")) {
    start = parse_iso8601(*text);
    if (!start) {
      throw UsageError{fmt::format(
          "--start must be ISO 8601 with a UTC offset (2026-11-01T07:00:00+08:00), not '{}'",
          *text)};
    }
  }
  const auto jsonl = parsed.get("jsonl");
  auto options = mqtt_options(parsed);

  auto loaded = load_scenario(parsed.positional[0]);
  if (!loaded.scenario) {
    for (const auto& error : loaded.errors) err << error.to_string() << '\n';
    return kExitUsage;
  }
  const Scenario& scenario = *loaded.scenario;
  if (!start) start = scenario.start;
  if (!start) {
    const auto now = now_unix_ms();
    start = WallTime{now, local_utc_offset_minutes(now)};
  }
  const auto messages = simulate(scenario, start->unix_ms);
  const int offset = start->utc_offset_minutes;
  const bool quiet = parsed.has("quiet");

  if (jsonl) {
    std::ofstream file;
    if (*jsonl != "-") {
      file.open(*jsonl, std::ios::binary | std::ios::trunc);
      if (!file) {
        err << "homesafe-sim: cannot write " << *jsonl << '\n';
        return kExitFailure;
      }
    }
    JsonlWriter writer(*jsonl == "-" ? out : file, offset);
    // On stdout the JSONL lines are the output; to a file, echo as usual.
    EchoPublisher echo(out, offset, &writer);
    Publisher& publisher = quiet || *jsonl == "-" ? static_cast<Publisher&>(writer) : echo;
    play(messages, start->unix_ms, std::nullopt, publisher, {});
    if (*jsonl != "-") {
      file.close();
      if (!file) {
        err << "homesafe-sim: cannot write " << *jsonl << '\n';
        return kExitFailure;
      }
    }
    return kExitOk;
  }

  MqttPublisher mqtt(options);
  EchoPublisher echo(out, offset, &mqtt);
  Publisher& publisher = quiet ? static_cast<Publisher&>(mqtt) : echo;
  play(messages, start->unix_ms, speed, publisher,
       [](std::chrono::steady_clock::time_point due) { std::this_thread::sleep_until(due); });
  mqtt.close();
  return kExitOk;
}

void print_events(std::ostream& out, std::optional<DeviceType> only) {
  for (auto type : all_device_types()) {
    if (only && *only != type) continue;
    const auto power = default_power(type);
    std::string keys;
    const Device sample("sample", type, "sample", PowerSource::battery);
    for (const auto& [key, value] : sample.state().items()) {
      keys += keys.empty() ? "" : ", ";
      keys += key;
    }
    out << fmt::format("{} ({} by default; state: {})\n", to_string(type), to_string(power), keys);
    const auto mains = events_for(type, PowerSource::mains);
    for (const auto* event : events_for(type, PowerSource::battery)) {
      std::string params;
      for (const auto& param : event->params) {
        params +=
            fmt::format(" {}{}: {}{}", param.required ? "" : "[", param.name,
                        param.kind == ParamKind::number ? "N" : "TEXT", param.required ? "" : "]");
      }
      const bool battery_only = std::find(mains.begin(), mains.end(), event) == mains.end();
      out << fmt::format("  {:<13}{:<26} {}{}\n", event->name, params, event->help,
                         battery_only ? " (battery powered only)" : "");
    }
  }
}

int command_events(std::span<const std::string> args, std::ostream& out) {
  const auto parsed = parse_args(args, {"help"}, "events");
  if (parsed.help) {
    out << kUsage;
    return kExitOk;
  }
  std::optional<DeviceType> only;
  if (parsed.positional.size() > 1) throw UsageError{"usage: homesafe-sim events [TYPE]"};
  if (parsed.positional.size() == 1) {
    only = parse_device_type(parsed.positional[0]);
    if (!only) throw UsageError{fmt::format("unknown device type '{}'", parsed.positional[0])};
  }
  print_events(out, only);
  return kExitOk;
}

int command_modem(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  const auto parsed = parse_args(args, {"link", "outbox", "control", "quiet", "help"}, "modem");
  if (parsed.help) {
    out << kUsage;
    return kExitOk;
  }
  if (!parsed.positional.empty()) {
    throw UsageError{fmt::format("unexpected argument '{}'", parsed.positional.front())};
  }
  ModemServerOptions options;
  options.link = require(parsed, "link");
  options.outbox = require(parsed, "outbox");
  if (auto control = parsed.get("control")) {
    if (control->empty()) throw UsageError{"--control needs a path"};
    options.control = *control;
  }
  options.quiet = parsed.has("quiet");
  return run_modem(options, out, err) == 0 ? kExitOk : kExitFailure;
}

// The command words are taken as they are (a reply text may start with "--").
int command_modem_ctl(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    out << kUsage;
    return kExitOk;
  }
  if (args.size() < 2) throw UsageError{"usage: homesafe-sim modem-ctl FIFO COMMAND..."};
  std::string line;
  for (const auto& word : args.subspan(1)) {
    if (!line.empty()) line += ' ';
    line += word;
  }
  const int code = send_modem_control(args[0], line, err);
  return code == 0 ? kExitOk : code == 2 ? kExitUsage : kExitFailure;
}

int command_webhook_receiver(std::span<const std::string> args, std::ostream& out) {
  const auto parsed =
      parse_args(args, {"port", "port-file", "fail-first", "quiet", "help"}, "webhook-receiver");
  if (parsed.help) {
    out << kUsage;
    return kExitOk;
  }
  WebhookReceiverOptions options;
  auto number = [&](const char* name, int max) {
    const auto text = parsed.get(name);
    if (!text) return 0;
    int value = -1;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size() || value < 0 || value > max) {
      throw UsageError{fmt::format("--{} needs a number from 0 to {}", name, max)};
    }
    return value;
  };
  options.port = number("port", 65535);
  options.fail_first = number("fail-first", 1000);
  if (auto file = parsed.get("port-file")) options.port_file = *file;
  options.quiet = parsed.has("quiet");
  return run_webhook_receiver(options, out) == 0 ? kExitOk : kExitFailure;
}

// A whole number in [low, high] from an option.
std::int64_t integer_option(const Parsed& parsed, std::string_view name, std::int64_t fallback,
                            std::int64_t low, std::int64_t high) {
  const auto text = parsed.get(name);
  if (!text) return fallback;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < low || value > high) {
    throw UsageError{
        fmt::format("--{} needs a whole number from {} to {}, not '{}'", name, low, high, *text)};
  }
  return value;
}

// --start YYYY-MM-DD: local midnight in the household's time zone.
std::int64_t start_option(const Parsed& parsed) {
  const std::string text = parsed.get("start").value_or("2026-11-01");
  auto start = text.size() == 10 ? parse_iso8601(text + "T00:00:00+08:00") : std::nullopt;
  if (!start) throw UsageError{fmt::format("--start needs a date YYYY-MM-DD, not '{}'", text)};
  return start->unix_ms;
}

int command_household(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  const auto parsed = parse_args(
      args,
      with_common({"out", "seed", "start", "days", "household", "incident", "random-incidents",
                   "fall-hours", "plain-config", "publish", "speed"}),
      "household");
  if (parsed.help) {
    out << kUsage;
    return kExitOk;
  }
  if (!parsed.positional.empty()) {
    throw UsageError{fmt::format("unexpected argument '{}'", parsed.positional.front())};
  }
  HouseholdOptions options;
  const std::string dir = require(parsed, "out");
  options.seed = static_cast<std::uint64_t>(
      integer_option(parsed, "seed", 1, 0, std::numeric_limits<std::int64_t>::max()));
  options.start_ms = start_option(parsed);
  options.days = static_cast<int>(integer_option(parsed, "days", 30, 1, 3660));
  if (auto id = parsed.get("household")) options.household = *id;
  options.random_incidents =
      static_cast<int>(integer_option(parsed, "random-incidents", 0, 0, 100));
  options.fall_ms = integer_option(parsed, "fall-hours", 36, 1, 24 * 30) * 3'600'000;
  options.plain_config = parsed.has("plain-config");
  for (const auto& [name, value] : parsed.options) {
    if (name != "incident") continue;
    std::string error;
    auto request = parse_incident_request(value, error);
    if (!request) throw UsageError{error};
    options.incidents.push_back(*request);
  }
  const auto started = std::chrono::steady_clock::now();
  HouseholdRun run;
  try {
    run = simulate_household(options);
  } catch (const std::invalid_argument& e) {
    throw UsageError{e.what()};
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  try {
    write_household(options, run, dir);
  } catch (const std::exception& e) {
    err << "homesafe-sim: " << e.what() << '\n';
    return kExitFailure;
  }
  if (!parsed.has("quiet")) {
    const int offset = kHouseholdUtcOffsetMinutes;
    out << fmt::format("{}: {} messages from {} to {} (generated in {:.2f} s)\n", options.household,
                       run.messages.size(), format_iso8601(run.start_ms, offset),
                       format_iso8601(run.end_ms, offset), seconds);
    for (const auto& incident : run.incidents) {
      std::string kinds;
      for (const auto& kind : incident.detected_by) kinds += (kinds.empty() ? "" : ", ") + kind;
      out << fmt::format("  {} {} .. {}{}{}\n", to_string(incident.type),
                         format_iso8601(incident.start_ms, offset),
                         format_iso8601(incident.end_ms, offset),
                         incident.device.empty() ? "" : " " + incident.device,
                         kinds.empty() ? " (expect no person alert)" : " (" + kinds + ")");
    }
    out << fmt::format("wrote {0}/messages.jsonl, {0}/hub.yaml, {0}/incidents.json\n", dir);
  }
  if (parsed.has("publish")) {
    // Live: the same messages over MQTT, paced by --speed (e.g. 3600: an hour per second).
    const auto speed = speed_option(parsed);
    MqttPublisher mqtt(mqtt_options(parsed));
    play(run.messages, run.start_ms, speed, mqtt,
         [](std::chrono::steady_clock::time_point due) { std::this_thread::sleep_until(due); });
    mqtt.close();
    if (!parsed.has("quiet")) out << fmt::format("published {} messages\n", run.messages.size());
  } else if (parsed.has("speed")) {
    throw UsageError{"--speed goes with --publish"};
  }
  return kExitOk;
}

int command_evaluate(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  const auto parsed = parse_args(
      args,
      {"gateway", "work", "households", "days", "seed", "start", "jobs", "plain-config", "help"},
      "evaluate");
  if (parsed.help) {
    out << kUsage;
    return kExitOk;
  }
  if (!parsed.positional.empty()) {
    throw UsageError{fmt::format("unexpected argument '{}'", parsed.positional.front())};
  }
  EvaluateOptions options;
  options.gateway = require(parsed, "gateway");
  if (::access(options.gateway.c_str(), X_OK) != 0) {
    throw UsageError{
        fmt::format("--gateway {} is not an executable file", options.gateway.string())};
  }
  options.work = require(parsed, "work");
  options.households = static_cast<int>(integer_option(parsed, "households", 100, 1, 100'000));
  options.days = static_cast<int>(integer_option(parsed, "days", 30, 1, 3660));
  options.seed = static_cast<std::uint64_t>(
      integer_option(parsed, "seed", 1, 0, std::numeric_limits<std::int64_t>::max()));
  options.start_ms = start_option(parsed);
  options.jobs = static_cast<int>(integer_option(parsed, "jobs", 2, 1, 256));
  options.plain_config = parsed.has("plain-config");
  return run_evaluate(options, out, err) == 0 ? kExitOk : kExitFailure;
}

}  // namespace

std::string usage_text() {
  return std::string(kUsage);
}

int run_cli(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  try {
    if (args.empty()) {
      err << kUsage;
      return kExitUsage;
    }
    const std::string_view command = args[0];
    const auto rest = args.subspan(1);
    if (command == "-h" || command == "--help" || command == "help") {
      out << kUsage;
      return kExitOk;
    }
    if (command == "send") return command_send(rest, out);
    if (command == "press") return command_press(rest, out);
    if (command == "run") return command_run(rest, out, err);
    if (command == "events") return command_events(rest, out);
    if (command == "modem") return command_modem(rest, out, err);
    if (command == "modem-ctl") return command_modem_ctl(rest, out, err);
    if (command == "webhook-receiver") return command_webhook_receiver(rest, out);
    if (command == "household") return command_household(rest, out, err);
    if (command == "evaluate") return command_evaluate(rest, out, err);
    throw UsageError{fmt::format("unknown command '{}'", command)};
  } catch (const UsageError& error) {
    err << "homesafe-sim: " << error.message << "\n(see homesafe-sim --help)\n";
    return kExitUsage;
  } catch (const MqttError& error) {
    err << "homesafe-sim: " << error.what() << '\n';
    return kExitFailure;
  } catch (const std::exception& error) {
    err << "homesafe-sim: " << error.what() << '\n';
    return kExitFailure;
  }
}

}  // namespace homesafe::sim
