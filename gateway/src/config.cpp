// The hub config loader. parse_config() walks the whole YAML tree once, validates every key
// against the schema in docs/config.md, and collects every problem with its line and column
// instead of stopping at the first one. It never throws: yaml-cpp exceptions become errors.
//
// Privacy: contacts' names and phone numbers (and the household's display name, and anything
// that may be a secret: passwords, URLs with tokens) are never copied into an error message.
// Errors name contacts by id and values by their key.
#include "homesafe/gateway/config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

#include "homesafe/drivers/driver.hpp"

namespace homesafe::gateway {
namespace {

using Names = std::span<const std::string_view>;

constexpr std::string_view kZoneinfoDir = "/usr/share/zoneinfo";
constexpr std::size_t kMaxFileBytes = 1024 * 1024;

constexpr std::array<std::string_view, 4> kRoleNames{"caregiver", "emergency_contact", "duty_desk",
                                                     "installer"};
constexpr std::array<Role, 4> kRoles{Role::caregiver, Role::emergency_contact, Role::duty_desk,
                                     Role::installer};
constexpr std::array<std::string_view, 6> kFormats{"native", "zigbee2mqtt", "tasmota",
                                                   "shelly", "esphome",     "wmbusmeters"};
constexpr std::array<std::string_view, 7> kChannelTypes{"mqtt",  "sms",      "voice",   "webhook",
                                                        "wecom", "dingtalk", "township"};
constexpr std::array<std::string_view, 2> kPowerNames{"battery", "mains"};
constexpr std::array<std::string_view, 6> kBrokerSchemes{"tcp",   "mqtt", "ssl",
                                                         "mqtts", "ws",   "wss"};

constexpr std::array<std::string_view, 9> kRootKeys{"household", "broker",   "storage",
                                                    "devices",   "contacts", "escalation",
                                                    "notify",    "rules",    "uplink"};
constexpr std::array<std::string_view, 16> kUplinkKeys{
    "url",          "client_id",       "username",
    "password",     "password_file",   "keepalive",
    "tls",          "hub_id",          "heartbeat",
    "ack_timeout",  "max_outbox_rows", "max_outbox_bytes",
    "drain_rate",   "inflight",        "link_base_url",
    "link_key_file"};
constexpr std::array<std::string_view, 5> kPolicyKeys{"match", "steps", "repeat", "until", "hours"};
constexpr std::array<std::string_view, 2> kMatchKeys{"kind", "severity"};
constexpr std::array<std::string_view, 3> kStepKeys{"after", "wait", "notify"};
constexpr std::array<std::string_view, 2> kUntilNames{"acknowledged", "resolved"};
constexpr std::array<std::string_view, 3> kSeverityNames{"emergency", "warning", "info"};
constexpr std::array<std::string_view, 4> kNotifyKeys{"templates", "modem", "webhook",
                                                      "ack_actions"};
constexpr std::array<std::string_view, 2> kModemKeys{"device", "baud"};
constexpr std::array<std::string_view, 4> kWebhookKeys{"timeout", "attempts", "ca_file",
                                                       "dingtalk_secret_file"};
constexpr std::array<std::string_view, 6> kTemplatePlaceholders{
    "household", "location", "what", "time", "ack", "reminder"};
constexpr std::array<std::string_view, 3> kHouseholdKeys{"id", "name", "timezone"};
constexpr std::array<std::string_view, 7> kBrokerKeys{
    "url", "client_id", "username", "password", "password_file", "keepalive", "tls"};
constexpr std::array<std::string_view, 4> kTlsKeys{"ca_file", "cert_file", "key_file", "verify"};
constexpr std::array<std::string_view, 5> kStorageKeys{"path", "telemetry_retention_days",
                                                       "telemetry_max_rows",
                                                       "telemetry_every_reading", "min_free_mb"};
constexpr std::array<std::string_view, 12> kDeviceKeys{
    "id",    "kind",         "format",   "topic",    "location",     "power",
    "model", "call_actions", "entrance", "activity", "high_power_w", "silence"};
constexpr std::array<std::string_view, 4> kContactKeys{"id", "name", "role", "channels"};
constexpr std::array<std::string_view, 3> kChannelKeys{"type", "number", "url"};

constexpr std::array<std::string_view, 12> kRulesKeys{
    "sleep",         "night",      "flap_hold",   "no_water",       "inactivity", "water_running",
    "power_running", "night_door", "temperature", "device_silence", "routine",    "checkin"};
constexpr std::array<std::string_view, 4> kCheckinKeys{"wait", "topic", "payload", "retain"};

constexpr std::string_view kIdRule = "1 to 64 characters from A-Z, a-z, 0-9, _ and -";

// ---------------------------------------------------------------------------------------------
// Small text helpers.

bool contains(Names names, std::string_view text) {
  return std::find(names.begin(), names.end(), text) != names.end();
}

std::string join(Names names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_lower_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z');
}
bool is_alnum(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
}

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// [A-Za-z0-9_-]{1,64}: device and contact ids.
bool is_valid_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return is_alnum(c) || c == '_' || c == '-';
  });
}

// [a-z0-9][a-z0-9_-]{0,31}: the household id (used in MQTT topics and alert ids).
bool is_valid_household_id(std::string_view id) {
  return !id.empty() && id.size() <= 32 && is_lower_alnum(id.front()) &&
         std::all_of(id.begin(), id.end(),
                     [](char c) { return is_lower_alnum(c) || c == '_' || c == '-'; });
}

// Keys are quoted in messages only when they look like an identifier, so that a phone number or a
// name typed where a key belongs (`{type: sms, +86138...}`) never reaches an error message.
bool is_safe_to_echo(std::string_view key) {
  return !key.empty() && key.size() <= 64 && (is_alnum(key.front()) || key.front() == '_') &&
         !is_digit(key.front()) && std::all_of(key.begin(), key.end(), [](char c) {
           return is_alnum(c) || c == '_' || c == '-';
         });
}

// A value in double quotes, with control characters escaped and long values shortened.
std::string quote_value(std::string_view text) {
  constexpr std::size_t kMaxShown = 80;
  std::string out = "\"";
  std::size_t shown = 0;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    // Stop at a character boundary (not inside a UTF-8 sequence).
    if (shown >= kMaxShown && (u & 0xC0U) != 0x80U) {
      out += "...";
      break;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(u));
    } else {
      out += c;
    }
    ++shown;
  }
  out += '"';
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean "x"?)" when a known name is within edit distance 2 (and the text is not so short
// that any name would be "close"), else "".
std::string did_you_mean(std::string_view text, Names known) {
  if (text.empty() || text.size() > 64) return {};
  std::string_view best;
  std::size_t best_distance = 3;
  for (std::string_view name : known) {
    std::size_t distance = edit_distance(text, name);
    if (distance < best_distance) {
      best = name;
      best_distance = distance;
    }
  }
  if (best.empty() || best_distance >= text.size()) return {};
  return fmt::format(" (did you mean \"{}\"?)", best);
}

std::string_view describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Scalar:
      return "a single value";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "an empty value";
}

// ---------------------------------------------------------------------------------------------
// Value syntax.

// `30s`, `5m`, `2h`, `1d`, `1h30m` (units in decreasing order, each at most once), or a bare
// integer meaning seconds.
std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  constexpr std::int64_t kMaxSeconds = std::int64_t{100} * 365 * 86400;
  if (all_digits(text)) {
    if (text.size() > 12) return std::nullopt;
    std::int64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return std::chrono::seconds{value};
  }
  constexpr std::array<std::pair<char, std::int64_t>, 4> kUnits{
      {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}}};
  std::size_t next_unit = 0;
  std::int64_t total = 0;
  std::size_t pos = 0;
  if (text.empty()) return std::nullopt;
  while (pos < text.size()) {
    std::size_t start = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    if (pos == start || pos - start > 9 || pos == text.size()) return std::nullopt;
    std::int64_t value = 0;
    std::from_chars(text.data() + start, text.data() + pos, value);
    char unit = text[pos++];
    while (next_unit < kUnits.size() && kUnits[next_unit].first != unit) ++next_unit;
    if (next_unit == kUnits.size()) return std::nullopt;
    total += value * kUnits[next_unit].second;
    ++next_unit;
    if (total > kMaxSeconds) return std::nullopt;
  }
  return std::chrono::seconds{total};
}

std::string format_duration(std::chrono::seconds duration) {
  auto s = duration.count();
  if (s % 3600 == 0 && s > 0) return fmt::format("{}h", s / 3600);
  if (s % 60 == 0 && s > 0) return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(std::string_view text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "no" || lower == "off") return false;
  return std::nullopt;
}

// E.164-ish: "+" then 6..15 digits, or 5..15 digits (short numbers of a local desk).
bool is_valid_phone_number(std::string_view number) {
  if (!number.empty() && number.front() == '+') {
    number.remove_prefix(1);
    return all_digits(number) && number.size() >= 6 && number.size() <= 15;
  }
  return all_digits(number) && number.size() >= 5 && number.size() <= 15;
}

bool is_valid_host(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return is_alnum(c) || c == '.' || c == '-' || c == '_';
  });
}

// An http:// or https:// URL with a host. The URL itself is never echoed (it may hold a token).
bool is_valid_http_url(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return false;
  }
  if (has_control(url) || url.find(' ') != std::string_view::npos) return false;
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  return !authority.empty() && authority.front() != ':';
}

// What is wrong with a broker URL, or nothing. The URL is not echoed (it may hold a password).
std::optional<std::string> broker_url_problem(std::string_view url) {
  const std::string expected = "tcp://, mqtt://, ssl://, mqtts://, ws:// or wss://";
  auto separator = url.find("://");
  if (separator == std::string_view::npos || !contains(kBrokerSchemes, url.substr(0, separator))) {
    return fmt::format("broker url must start with {} followed by host[:port]", expected);
  }
  std::string_view scheme = url.substr(0, separator);
  std::string_view rest = url.substr(separator + 3);
  bool websocket = scheme == "ws" || scheme == "wss";
  if (has_control(rest) || rest.find(' ') != std::string_view::npos) {
    return std::string("broker url must not contain spaces or control characters");
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos && !websocket) {
    return std::string(
        "broker url must be host[:port] without a path (only ws:// and wss:// may "
        "have a path)");
  }
  if (authority.find('@') != std::string_view::npos) {
    return std::string(
        "broker url must not contain a user name or password (use username and "
        "password_file)");
  }
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {  // [IPv6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::string("broker url has an invalid host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::string("broker url has an invalid host");
      port = after.substr(1);
      has_port = true;
    }
    bool ipv6 = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
      return is_alnum(c) || c == ':' || c == '.';
    });
    if (!ipv6) return std::string("broker url has an invalid host");
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return std::string("broker url has no host");
    if (!is_valid_host(host)) return std::string("broker url has an invalid host");
  }
  if (has_port) {
    auto value = all_digits(port) && port.size() <= 5 ? parse_integer(port) : std::nullopt;
    if (!value || *value < 1 || *value > 65535) {
      return std::string("broker url has an invalid port (expected 1 to 65535)");
    }
  }
  return std::nullopt;
}

// What is wrong with a device topic, or nothing.
std::optional<std::string> topic_problem(std::string_view topic) {
  if (topic.find_first_of("#+") != std::string_view::npos) {
    return "must not contain the MQTT wildcards + or #";
  }
  if (topic.front() == '/' || topic.back() == '/') return "must not start or end with /";
  if (topic.find("//") != std::string_view::npos) return "must not have an empty level (//)";
  if (has_control(topic)) return "must not contain control characters";
  return std::nullopt;
}

// A file path in the config (checked for syntax only: the file may live on another machine).
bool is_valid_path_syntax(std::string_view path) {
  return !path.empty() && !has_control(path);
}

// A time zone name that names a compiled zone file under /usr/share/zoneinfo.
bool is_known_timezone(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos) {
    return false;
  }
  bool plain = std::all_of(name.begin(), name.end(), [](char c) {
    return is_alnum(c) || c == '/' || c == '_' || c == '-' || c == '+';
  });
  if (!plain) return false;
  std::filesystem::path file = std::filesystem::path(kZoneinfoDir) / std::string(name);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return false;
  std::ifstream in(file, std::ios::binary);
  std::array<char, 4> magic{};
  in.read(magic.data(), magic.size());
  return in && std::string_view(magic.data(), magic.size()) == "TZif";
}

// ---------------------------------------------------------------------------------------------
// The tree walk.

struct Place {
  int line = 0;
  int column = 0;
};

// One key: value pair of a map, both nodes kept for their marks.
struct Entry {
  YAML::Node key;
  YAML::Node value;
};

// The known keys of one map, after unknown and duplicate keys were reported.
class Fields {
 public:
  void add(std::string name, const YAML::Node& key, const YAML::Node& value) {
    entries_.emplace_back(std::move(name), Entry{key, value});
  }
  const Entry* find(std::string_view name) const {
    for (const auto& [key, entry] : entries_) {
      if (key == name) return &entry;
    }
    return nullptr;
  }
  const std::vector<std::pair<std::string, Entry>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, Entry>> entries_;
};

class Parser {
 public:
  Parser(const std::string& text, const std::string& path) : text_(text), path_(path) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text_.size(); ++i) {
      if (text_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  ConfigResult run() {
    config_.source_file = path_;
    config_.source_text = text_;
    try {
      parse_text();
    } catch (const YAML::Exception& e) {
      // Validation only reads nodes it checked; this is a safety net, not a code path.
      add(place(e.mark), "cannot read the file as a hub config (unexpected YAML structure)");
    } catch (const std::exception&) {
      add(Place{}, "internal error while reading the config");
    }
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
      return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
    ConfigResult result;
    result.errors = std::move(errors_);
    if (result.errors.empty()) result.config = std::move(config_);
    return result;
  }

 private:
  // yaml-cpp marks are 0-based and count bytes; errors are 1-based and count characters, as
  // editors do (a line with 厨房 before the problem would otherwise be off by four columns).
  Place place(const YAML::Mark& mark) const {
    if (mark.is_null() || mark.line < 0 || mark.column < 0) return {};
    auto line = static_cast<std::size_t>(mark.line);
    auto bytes = static_cast<std::size_t>(mark.column);
    int column = mark.column + 1;
    if (line < line_starts_.size()) {
      std::size_t begin = line_starts_[line];
      if (line == 0 && text_.starts_with("\xEF\xBB\xBF")) begin += 3;  // yaml-cpp skips the BOM
      std::size_t end = std::min(begin + bytes, text_.size());
      column = 1;
      for (std::size_t i = begin; i < end; ++i) {
        if ((static_cast<unsigned char>(text_[i]) & 0xC0U) != 0x80U) ++column;
      }
    }
    return {mark.line + 1, column};
  }
  Place place(const YAML::Node& node) const { return place(node.Mark()); }
  Place key_place(const Entry& entry) const { return place(entry.key); }
  // A value's place; an empty value (`key:`) has no useful mark of its own, so use the key's.
  Place value_place(const Entry& entry) const {
    if (entry.value.IsNull() || entry.value.Mark().is_null()) return key_place(entry);
    return place(entry.value);
  }

  // Whether a 0-based line starts with a tab among its leading blanks.
  bool indented_with_tab(int line) const {
    if (line < 0 || static_cast<std::size_t>(line) >= line_starts_.size()) return false;
    for (std::size_t i = line_starts_[static_cast<std::size_t>(line)]; i < text_.size(); ++i) {
      if (text_[i] == '\t') return true;
      if (text_[i] != ' ') return false;
    }
    return false;
  }

  void add(Place at, std::string message) {
    errors_.push_back(ConfigError{path_, at.line, at.column, std::move(message)});
  }

  void type_error(const Entry& entry, std::string_view key, std::string_view expected) {
    add(value_place(entry),
        fmt::format("expected {} for {}, got {}", expected, key, describe(entry.value)));
  }

  // Reports keys that are not strings, unknown keys (with a hint) and duplicate keys.
  Fields read_map(const YAML::Node& map, std::string_view where, Names known) {
    Fields fields;
    std::map<std::string, int, std::less<>> first_line;
    for (const auto& item : map) {  // (`it->first` would refer into a temporary)
      const YAML::Node& key = item.first;
      if (!key.IsScalar()) {
        add(place(key.Mark().is_null() ? map : key), fmt::format("expected a key name {}", where));
        continue;
      }
      const std::string name = key.Scalar();
      Place at = place(key);
      if (!contains(known, name)) {
        std::string shown = is_safe_to_echo(name) ? quote_value(name) + " " : std::string();
        std::string hint = did_you_mean(name, known);
        if (hint.empty()) hint = fmt::format(" (allowed: {})", join(known));
        add(at, fmt::format("unknown key {}{}{}", shown, where, hint));
        continue;
      }
      if (auto first = first_line.find(name); first != first_line.end()) {
        add(at,
            fmt::format("duplicate key \"{}\" {} (first at line {})", name, where, first->second));
        continue;
      }
      first_line.emplace(name, at.line);
      fields.add(name, key, item.second);
    }
    return fields;
  }

  // The value of an optional string key: nothing when absent or empty (`key:`), after reporting a
  // map or sequence where a string belongs.
  std::optional<std::string> optional_string(const Fields& fields, std::string_view key) {
    const Entry* entry = fields.find(key);
    if (entry == nullptr || entry->value.IsNull()) return std::nullopt;
    if (!entry->value.IsScalar()) {
      type_error(*entry, key, "a string");
      return std::nullopt;
    }
    return entry->value.Scalar();
  }

  // The value of a required, non-blank string key; `missing` is reported at the map when the key
  // is absent and at the key when its value is empty.
  std::optional<std::string> required_string(const Fields& fields, std::string_view key,
                                             Place map_place, const std::string& missing) {
    const Entry* entry = fields.find(key);
    if (entry == nullptr) {
      add(map_place, missing);
      return std::nullopt;
    }
    if (entry->value.IsNull() || (entry->value.IsScalar() && is_blank(entry->value.Scalar()))) {
      add(key_place(*entry), missing);
      return std::nullopt;
    }
    if (!entry->value.IsScalar()) {
      type_error(*entry, key, "a string");
      return std::nullopt;
    }
    return entry->value.Scalar();
  }

  std::optional<std::int64_t> integer(const Entry& entry, std::string_view key, std::int64_t min,
                                      std::int64_t max) {
    if (!entry.value.IsScalar()) {
      type_error(entry, key, "an integer");
      return std::nullopt;
    }
    auto value = parse_integer(entry.value.Scalar());
    if (!value) {
      add(value_place(entry), fmt::format("expected an integer for {}, got {}", key,
                                          quote_value(entry.value.Scalar())));
      return std::nullopt;
    }
    if (*value < min || *value > max) {
      add(value_place(entry), fmt::format("{} must be between {} and {}", key, min, max));
      return std::nullopt;
    }
    return value;
  }

  std::optional<std::chrono::seconds> duration(const Entry& entry, std::string_view key,
                                               std::chrono::seconds min, std::chrono::seconds max) {
    constexpr std::string_view kExpected = "a duration such as 30s, 5m, 2h, 1d or 1h30m";
    if (!entry.value.IsScalar()) {
      type_error(entry, key, kExpected);
      return std::nullopt;
    }
    auto value = parse_duration(entry.value.Scalar());
    if (!value) {
      add(value_place(entry), fmt::format("expected {} for {}, got {}", kExpected, key,
                                          quote_value(entry.value.Scalar())));
      return std::nullopt;
    }
    if (*value < min || *value > max) {
      add(value_place(entry), fmt::format("{} must be between {} and {}", key, format_duration(min),
                                          format_duration(max)));
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> boolean(const Entry& entry, std::string_view key) {
    if (!entry.value.IsScalar()) {
      type_error(entry, key, "true or false");
      return std::nullopt;
    }
    auto value = parse_bool(entry.value.Scalar());
    if (!value) {
      add(value_place(entry), fmt::format("expected true or false for {}, got {}", key,
                                          quote_value(entry.value.Scalar())));
    }
    return value;
  }

  // A file path whose file is only needed on the hub: syntax only.
  std::optional<std::string> path_value(const Fields& fields, std::string_view key) {
    auto value = optional_string(fields, key);
    if (value && !is_valid_path_syntax(*value)) {
      add(value_place(*fields.find(key)),
          fmt::format("{} must be a non-empty file path without control characters", key));
      return std::nullopt;
    }
    return value;
  }

  // ---- sections ----

  void parse_text() {
    if (text_.size() > kMaxFileBytes) {
      add(Place{}, fmt::format("file is too large ({} bytes; a hub config is at most {} bytes)",
                               text_.size(), kMaxFileBytes));
      return;
    }
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAll(text_);
    } catch (const YAML::ParserException& e) {
      Place at = place(e.mark);
      std::string hint = "check the indentation, colons and quotes here and on the line before";
      if (indented_with_tab(e.mark.line) || indented_with_tab(e.mark.line - 1)) {
        hint = "indent with spaces, not tabs";
      }
      add(at, fmt::format("YAML syntax error: {} ({})", e.msg, hint));
      return;
    }
    const Place start{1, 1};
    const std::string sections = "household, storage, devices and contacts";
    if (documents.empty() || documents.front().IsNull()) {
      add(start, fmt::format("the file is empty; expected a map with {}", sections));
      return;
    }
    for (std::size_t i = 1; i < documents.size(); ++i) {
      if (documents[i].IsNull()) continue;  // a trailing `---` is harmless
      add(place(documents[i]),
          "unexpected second YAML document (check the indentation; a hub config is one map)");
      break;
    }
    const YAML::Node& root = documents.front();
    if (!root.IsMap()) {
      add(start,
          fmt::format("expected a map with {} at the top level, got {}", sections, describe(root)));
      return;
    }
    parse_root(root);
  }

  void parse_root(const YAML::Node& root) {
    Fields fields = read_map(root, "at the top level", kRootKeys);
    Place root_place = place(root);
    for (std::string_view required : {"household", "storage", "devices", "contacts"}) {
      if (fields.find(required) == nullptr) {
        add(root_place, fmt::format("the file has no {} section", required));
      }
    }
    // The household id is needed for defaults below, so the household comes first.
    if (const Entry* entry = fields.find("household")) parse_household(*entry);
    if (const Entry* entry = fields.find("broker")) parse_broker(*entry);
    if (const Entry* entry = fields.find("storage")) parse_storage(*entry);
    if (const Entry* entry = fields.find("devices")) parse_devices(*entry);
    if (const Entry* entry = fields.find("contacts")) parse_contacts(*entry);
    if (const Entry* entry = fields.find("notify")) parse_notify(*entry);
    if (const Entry* entry = fields.find("escalation")) parse_escalation(*entry);
    if (const Entry* entry = fields.find("rules")) parse_rules(*entry);
    if (const Entry* entry = fields.find("uplink")) parse_uplink(*entry);
    check_channels_have_notifiers();
    if (config_.broker.client_id.empty()) {
      config_.broker.client_id = "homesafe-" + config_.household.id;
    }
  }

  void parse_household(const Entry& section) {
    if (!section.value.IsMap()) return type_error(section, "household", "a map");
    Fields fields = read_map(section.value, "in household", kHouseholdKeys);
    Place at = place(section.value);
    HouseholdConfig& household = config_.household;
    if (auto id = required_string(fields, "id", at, "household has no id")) {
      if (is_valid_household_id(*id)) {
        household.id = *id;
      } else {
        add(value_place(*fields.find("id")),
            fmt::format("invalid household id {} (expected 1 to 32 characters from a-z, 0-9, _ "
                        "and -, starting with a letter or digit)",
                        quote_value(*id)));
      }
    }
    // The display name is personal data: it is never echoed.
    if (auto name = required_string(fields, "name", at, "household has no name")) {
      household.name = *name;
    }
    if (auto timezone = optional_string(fields, "timezone")) {
      if (is_known_timezone(*timezone)) {
        household.timezone = *timezone;
      } else {
        add(value_place(*fields.find("timezone")),
            fmt::format("unknown time zone {} (expected a name under {}, e.g. Asia/Shanghai)",
                        quote_value(*timezone), kZoneinfoDir));
      }
    }
  }

  void parse_broker(const Entry& section) {
    if (!section.value.IsMap()) return type_error(section, "broker", "a map");
    Fields fields = read_map(section.value, "in broker", kBrokerKeys);
    BrokerConfig& broker = config_.broker;
    if (auto url = optional_string(fields, "url")) {
      if (auto problem = broker_url_problem(*url)) {
        add(value_place(*fields.find("url")), *problem);
      } else {
        broker.url = *url;
      }
    }
    if (auto client_id = optional_string(fields, "client_id")) {
      if (is_blank(*client_id) || has_control(*client_id)) {
        add(value_place(*fields.find("client_id")),
            "client_id must be a non-empty string without control characters (or left out for "
            "the default homesafe-<household id>)");
      } else {
        broker.client_id = *client_id;
      }
    }
    if (auto username = optional_string(fields, "username")) broker.username = *username;
    // Secrets are never echoed, whatever is wrong with them.
    if (auto password = optional_string(fields, "password")) broker.password = *password;
    if (auto password_file = path_value(fields, "password_file")) {
      broker.password_file = *password_file;
    }
    const Entry* password = fields.find("password");
    const Entry* password_file = fields.find("password_file");
    if (password != nullptr && password_file != nullptr) {
      auto position = [this](const Entry* entry) {
        Place at = key_place(*entry);
        return std::pair(at.line, at.column);
      };
      const Entry* later = position(password) > position(password_file) ? password : password_file;
      add(key_place(*later),
          "password and password_file are both set; use only one (password_file is preferred)");
    }
    if (const Entry* entry = fields.find("keepalive")) {
      if (auto keepalive =
              duration(*entry, "keepalive", std::chrono::seconds{5}, std::chrono::minutes{10})) {
        broker.keepalive = *keepalive;
      }
    }
    if (const Entry* entry = fields.find("tls")) parse_tls(*entry);
  }

  void parse_tls(const Entry& section) {
    if (auto tls = tls_section(section, "in broker tls")) config_.broker.tls = *tls;
  }

  std::optional<TlsConfig> tls_section(const Entry& section, std::string_view where) {
    if (!section.value.IsMap()) {
      type_error(section, "tls", "a map");
      return std::nullopt;
    }
    Fields fields = read_map(section.value, where, kTlsKeys);
    TlsConfig tls;
    if (auto file = path_value(fields, "ca_file")) tls.ca_file = *file;
    if (auto file = path_value(fields, "cert_file")) tls.cert_file = *file;
    if (auto file = path_value(fields, "key_file")) tls.key_file = *file;
    const Entry* cert = fields.find("cert_file");
    const Entry* key = fields.find("key_file");
    if ((cert == nullptr) != (key == nullptr)) {
      add(key_place(cert != nullptr ? *cert : *key),
          "cert_file and key_file must be given together (a client certificate needs its key)");
    }
    if (const Entry* entry = fields.find("verify")) {
      if (auto verify = boolean(*entry, "verify")) tls.verify = *verify;
    }
    return tls;
  }

  // The township link (docs/config.md, docs/uplink-hub.md).
  void parse_uplink(const Entry& section) {
    if (!section.value.IsMap()) return type_error(section, "uplink", "a map");
    Fields fields = read_map(section.value, "in uplink", kUplinkKeys);
    UplinkConfig uplink;
    if (auto url = required_string(fields, "url", place(section.value),
                                   "uplink has no url (the township broker)")) {
      if (auto problem = broker_url_problem(*url)) {
        add(value_place(*fields.find("url")), "uplink " + *problem);
      } else {
        uplink.url = *url;
      }
    }
    uplink.hub_id = config_.household.id;
    if (auto hub_id = optional_string(fields, "hub_id")) {
      if (is_valid_household_id(*hub_id)) {
        uplink.hub_id = *hub_id;
      } else {
        add(value_place(*fields.find("hub_id")),
            fmt::format("invalid hub_id {} (expected 1 to 32 characters from a-z, 0-9, _ and -, "
                        "starting with a letter or digit)",
                        quote_value(*hub_id)));
      }
    }
    if (auto client_id = optional_string(fields, "client_id")) {
      if (is_blank(*client_id) || has_control(*client_id)) {
        add(value_place(*fields.find("client_id")),
            "client_id must be a non-empty string without control characters (or left out for "
            "the default homesafe-uplink-<hub id>)");
      } else {
        uplink.client_id = *client_id;
      }
    }
    if (auto username = optional_string(fields, "username")) uplink.username = *username;
    if (auto password = optional_string(fields, "password")) uplink.password = *password;
    if (auto password_file = path_value(fields, "password_file")) {
      uplink.password_file = *password_file;
    }
    const Entry* password = fields.find("password");
    const Entry* password_file = fields.find("password_file");
    if (password != nullptr && password_file != nullptr) {
      add(key_place(*password),
          "password and password_file are both set; use only one (password_file is preferred)");
    }
    if (const Entry* entry = fields.find("keepalive")) {
      if (auto value =
              duration(*entry, "keepalive", std::chrono::seconds{5}, std::chrono::minutes{10})) {
        uplink.keepalive = *value;
      }
    }
    if (const Entry* entry = fields.find("tls")) uplink.tls = tls_section(*entry, "in uplink tls");
    if (const Entry* entry = fields.find("heartbeat")) {
      if (auto value =
              duration(*entry, "heartbeat", std::chrono::seconds{5}, std::chrono::hours{1})) {
        uplink.heartbeat = *value;
      }
    }
    if (const Entry* entry = fields.find("ack_timeout")) {
      if (auto value =
              duration(*entry, "ack_timeout", std::chrono::seconds{1}, std::chrono::minutes{10})) {
        uplink.ack_timeout = *value;
      }
    }
    if (const Entry* entry = fields.find("max_outbox_rows")) {
      if (auto value = integer(*entry, "max_outbox_rows", 100, 100'000'000)) {
        uplink.max_outbox_rows = *value;
      }
    }
    if (const Entry* entry = fields.find("max_outbox_bytes")) {
      if (auto value = integer(*entry, "max_outbox_bytes", 65'536, 100'000'000'000)) {
        uplink.max_outbox_bytes = *value;
      }
    }
    if (const Entry* entry = fields.find("drain_rate")) {
      if (auto value = integer(*entry, "drain_rate", 1, 10'000)) {
        uplink.drain_rate = static_cast<int>(*value);
      }
    }
    if (const Entry* entry = fields.find("inflight")) {
      if (auto value = integer(*entry, "inflight", 1, 1000)) {
        uplink.inflight = static_cast<int>(*value);
      }
    }
    if (auto base = optional_string(fields, "link_base_url")) {
      if (!(base->starts_with("https://") || base->starts_with("http://")) || has_control(*base) ||
          base->find(' ') != std::string::npos) {
        add(value_place(*fields.find("link_base_url")),
            "link_base_url must be the township's public URL, starting with https:// (or http://)");
      } else {
        uplink.link_base_url = *base;
      }
    }
    if (auto key_file = path_value(fields, "link_key_file")) uplink.link_key_file = *key_file;
    if ((fields.find("link_base_url") != nullptr) != (fields.find("link_key_file") != nullptr)) {
      const Entry* given = fields.find("link_base_url") != nullptr ? fields.find("link_base_url")
                                                                   : fields.find("link_key_file");
      add(key_place(*given),
          "link_base_url and link_key_file go together (one-tap links need both); set both or "
          "neither");
    }
    if (uplink.username.empty()) uplink.username = uplink.hub_id;
    if (uplink.client_id.empty()) uplink.client_id = "homesafe-uplink-" + uplink.hub_id;
    config_.uplink = std::move(uplink);
  }

  void parse_storage(const Entry& section) {
    if (!section.value.IsMap()) return type_error(section, "storage", "a map");
    Fields fields = read_map(section.value, "in storage", kStorageKeys);
    StorageConfig& storage = config_.storage;
    if (auto path = required_string(fields, "path", place(section.value), "storage has no path")) {
      if (is_valid_path_syntax(*path)) {
        storage.path = *path;
      } else {
        add(value_place(*fields.find("path")), "path must not contain control characters");
      }
    }
    if (const Entry* entry = fields.find("telemetry_retention_days")) {
      if (auto days = integer(*entry, "telemetry_retention_days", 1, 3650)) {
        storage.telemetry_retention_days = static_cast<int>(*days);
      }
    }
    if (const Entry* entry = fields.find("telemetry_max_rows")) {
      if (auto rows = integer(*entry, "telemetry_max_rows", 1000, 1'000'000'000)) {
        storage.telemetry_max_rows = *rows;
      }
    }
    if (const Entry* entry = fields.find("telemetry_every_reading")) {
      if (auto every = boolean(*entry, "telemetry_every_reading")) {
        storage.telemetry_every_reading = *every;
      }
    }
    if (const Entry* entry = fields.find("min_free_mb")) {
      if (auto mb = integer(*entry, "min_free_mb", 0, 1'000'000'000)) storage.min_free_mb = *mb;
    }
  }

  void parse_devices(const Entry& section) {
    if (section.value.IsNull() || (section.value.IsSequence() && section.value.size() == 0)) {
      add(value_place(section), "devices is empty; at least one device is required");
      return;
    }
    if (!section.value.IsSequence()) return type_error(section, "devices", "a sequence");
    for (const YAML::Node& item : section.value) parse_device(item);
  }

  void parse_device(const YAML::Node& node) {
    if (!node.IsMap()) {
      add(place(node), fmt::format("expected a map for device (with id, kind, location, ...), "
                                   "got {}",
                                   describe(node)));
      return;
    }
    Fields fields = read_map(node, "in device", kDeviceKeys);
    Place at = place(node);
    drivers::DeviceConfig device;
    std::string label = "device";
    bool unique_id = false;
    if (auto id = required_string(fields, "id", at, "device has no id")) {
      const Entry& entry = *fields.find("id");
      if (!is_valid_id(*id)) {
        add(value_place(entry),
            fmt::format("invalid device id {} (expected {})", quote_value(*id), kIdRule));
      } else {
        device.id = *id;
        label = fmt::format("device \"{}\"", *id);
        if (auto first = device_id_lines_.find(*id); first != device_id_lines_.end()) {
          add(key_place(entry), fmt::format("duplicate device id \"{}\" (first defined at line {})",
                                            *id, first->second));
        } else {
          device_id_lines_.emplace(*id, key_place(entry).line);
          unique_id = true;
        }
      }
    }

    std::optional<drivers::DeviceKind> kind;
    if (auto text = required_string(fields, "kind", at, label + " has no kind")) {
      kind = drivers::device_kind_from_string(*text);
      if (kind) {
        device.kind = *kind;
      } else {
        const auto& names = drivers::device_kind_names();
        add(value_place(*fields.find("kind")),
            fmt::format("unknown device kind {}; expected one of: {}{}", quote_value(*text),
                        join(names), did_you_mean(*text, names)));
      }
    }

    // A known format name is kept even when its driver is missing, so that its topic rules are
    // checked now and the installer does not meet new errors once the driver ships.
    bool known_format = true;
    if (auto format = optional_string(fields, "format")) {
      Place format_place = value_place(*fields.find("format"));
      if (!contains(kFormats, *format)) {
        add(format_place,
            fmt::format("unknown format {}; expected one of: {}{}", quote_value(*format),
                        join(kFormats), did_you_mean(*format, kFormats)));
        known_format = false;
      } else {
        device.format = *format;
        if (drivers::find_driver(*format) == nullptr) {
          add(format_place,
              fmt::format("format {} is not supported by this gateway version yet", *format));
        }
      }
    }

    const Entry* topic_entry = fields.find("topic");
    if (auto topic = optional_string(fields, "topic")) {
      if (topic->empty()) {
        add(value_place(*topic_entry), fmt::format("{} has an empty topic", label));
      } else if (auto problem = topic_problem(*topic)) {
        add(value_place(*topic_entry), fmt::format("topic {} {}", quote_value(*topic), *problem));
      } else {
        device.topic = *topic;
      }
    } else if ((topic_entry == nullptr || topic_entry->value.IsNull()) && known_format) {
      if (device.format == "native") {
        // Without a unique id there is no default topic (and no point in a duplicate-topic error).
        if (unique_id) {
          device.topic = fmt::format("homesafe/{}/dev/{}", config_.household.id, device.id);
        }
      } else {
        add(topic_entry != nullptr ? key_place(*topic_entry) : at,
            fmt::format("{} has no topic (required for format {}; e.g. {})", label, device.format,
                        example_topic(device.format)));
      }
    }
    if (!device.topic.empty() && known_format) {
      std::string key = device.format + '\n' + device.topic;
      Place topic_place = topic_entry != nullptr ? value_place(*topic_entry) : at;
      if (auto first = device_topics_.find(key); first != device_topics_.end()) {
        add(topic_place, fmt::format("{} has the same topic and format as {} (line {})", label,
                                     first->second.first, first->second.second));
      } else {
        device_topics_.emplace(key, std::pair(label, at.line));
      }
    }

    // "A device without a location": the alert must say where to go.
    if (auto location = required_string(fields, "location", at, label + " has no location")) {
      device.location = *location;
    }

    device.power = kind == drivers::DeviceKind::plug ? drivers::PowerSource::mains
                                                     : drivers::PowerSource::battery;
    if (auto power = optional_string(fields, "power")) {
      if (*power == "battery") {
        device.power = drivers::PowerSource::battery;
      } else if (*power == "mains") {
        device.power = drivers::PowerSource::mains;
      } else {
        add(value_place(*fields.find("power")),
            fmt::format("unknown power source {}; expected battery or mains{}", quote_value(*power),
                        did_you_mean(*power, kPowerNames)));
      }
    }

    if (auto model = optional_string(fields, "model")) device.model = *model;

    if (const Entry* entry = fields.find("call_actions")) {
      parse_call_actions(*entry, kind, device);
    }
    parse_device_rule_keys(fields, kind, label, device);

    config_.devices.push_back(std::move(device));
  }

  static std::string_view example_topic(std::string_view format) {
    if (format == "zigbee2mqtt") return "zigbee2mqtt/<friendly_name>";
    if (format == "tasmota") return "tele/<tasmota topic>";
    if (format == "shelly") return "<shelly prefix>";
    if (format == "esphome") return "<node>/<component>/<object_id>";
    if (format == "wmbusmeters") return "wmbusmeters/<name>";
    return "homesafe/<household>/dev/<device>";
  }

  void parse_call_actions(const Entry& entry, std::optional<drivers::DeviceKind> kind,
                          drivers::DeviceConfig& device) {
    if (kind && *kind != drivers::DeviceKind::call_button) {
      add(key_place(entry), "call_actions is only allowed for kind call_button");
      return;
    }
    if (!entry.value.IsSequence()) {
      return type_error(entry, "call_actions", "a sequence of action names");
    }
    if (entry.value.size() == 0) {
      add(value_place(entry),
          "call_actions is empty (leave it out for the defaults: sos, emergency, single, press, "
          "long)");
      return;
    }
    for (const YAML::Node& action : entry.value) {
      if (!action.IsScalar() || is_blank(action.Scalar())) {
        add(action.IsNull() ? value_place(entry) : place(action),
            fmt::format("expected a non-empty action name in call_actions, got {}",
                        action.IsScalar() ? "an empty string" : describe(action)));
        continue;
      }
      device.call_actions.push_back(action.Scalar());
    }
  }

  void parse_contacts(const Entry& section) {
    if (section.value.IsNull() || (section.value.IsSequence() && section.value.size() == 0)) {
      add(value_place(section),
          "contacts is empty; at least one contact with role caregiver is required");
      return;
    }
    if (!section.value.IsSequence()) return type_error(section, "contacts", "a sequence");
    for (const YAML::Node& item : section.value) parse_contact(item);
    bool has_caregiver = std::any_of(config_.contacts.begin(), config_.contacts.end(),
                                     [](const auto& c) { return c.role == Role::caregiver; });
    if (!has_caregiver) {
      add(key_place(section), "no contact has role caregiver (at least one is required)");
    }
  }

  // Nothing a contact holds besides its id and role is echoed: names and numbers are personal.
  void parse_contact(const YAML::Node& node) {
    if (!node.IsMap()) {
      add(place(node),
          fmt::format("expected a map for contact (with id, name, role, channels), got {}",
                      describe(node)));
      return;
    }
    Fields fields = read_map(node, "in contact", kContactKeys);
    Place at = place(node);
    ContactConfig contact;
    std::string label = "contact";
    if (auto id = required_string(fields, "id", at, "contact has no id")) {
      const Entry& entry = *fields.find("id");
      if (!is_valid_id(*id)) {
        add(value_place(entry), fmt::format("invalid contact id (expected {})", kIdRule));
      } else if (all_digits(*id) && id->size() >= 5) {
        add(value_place(entry),
            "contact id looks like a phone number; use a short name such as li or son (ids "
            "appear in logs)");
      } else {
        contact.id = *id;
        label = fmt::format("contact \"{}\"", *id);
        if (auto first = contact_id_lines_.find(*id); first != contact_id_lines_.end()) {
          add(key_place(entry),
              fmt::format("duplicate contact id \"{}\" (first defined at line {})", *id,
                          first->second));
        } else {
          contact_id_lines_.emplace(*id, key_place(entry).line);
        }
      }
    }

    if (auto name = required_string(fields, "name", at, label + " has no name")) {
      contact.name = *name;
    }

    bool valid_role = false;
    if (auto role = required_string(fields, "role", at, label + " has no role")) {
      if (auto parsed = role_from_string(*role)) {
        contact.role = *parsed;
        valid_role = true;
      } else {
        add(value_place(*fields.find("role")),
            fmt::format("{} has an unknown role; expected one of: {}{}", label, join(kRoleNames),
                        did_you_mean(*role, kRoleNames)));
      }
    }

    const Entry* channels = fields.find("channels");
    if (channels == nullptr || channels->value.IsNull() ||
        (channels->value.IsSequence() && channels->value.size() == 0)) {
      add(channels == nullptr ? at : value_place(*channels),
          fmt::format("{} has no channel (expected channels: a sequence such as [{{type: mqtt}}, "
                      "{{type: sms, number: \"+86...\"}}])",
                      label));
    } else if (!channels->value.IsSequence()) {
      type_error(*channels, "channels", "a sequence of channels");
    } else {
      for (const YAML::Node& item : channels->value) {
        if (auto channel = parse_channel(item, label)) contact.channels.push_back(*channel);
      }
    }

    // Only a contact with a valid role may count as the caregiver.
    if (!valid_role) contact.role = Role::installer;
    config_.contacts.push_back(std::move(contact));
  }

  std::optional<ChannelConfig> parse_channel(const YAML::Node& node, const std::string& label) {
    if (!node.IsMap()) {
      add(place(node), fmt::format("expected a map for a channel of {} (e.g. {{type: sms, number: "
                                   "\"+86...\"}}), got {}",
                                   label, describe(node)));
      return std::nullopt;
    }
    Fields fields = read_map(node, "in channel", kChannelKeys);
    Place at = place(node);
    auto type =
        required_string(fields, "type", at, fmt::format("channel of {} has no type", label));
    if (!type) return std::nullopt;
    if (!contains(kChannelTypes, *type)) {
      add(value_place(*fields.find("type")),
          fmt::format("channel of {} has an unknown type; expected one of: {}{}", label,
                      join(kChannelTypes), did_you_mean(*type, kChannelTypes)));
      return std::nullopt;
    }
    ChannelConfig channel;
    channel.type = *type;
    std::string_view address_key;
    if (*type == "sms" || *type == "voice") {
      address_key = "number";
    } else if (*type != "mqtt" && *type != "township") {
      address_key = "url";
    }
    bool ok = true;
    for (const auto& [key, entry] : fields.entries()) {
      if (key == "type" || key == address_key) continue;
      add(key_place(entry),
          address_key.empty()
              ? fmt::format("{} is not used by a {} channel (it needs no address)", key, *type)
              : fmt::format("{} is not used by a {} channel (it needs {})", key, *type,
                            address_key));
      ok = false;
    }
    if (address_key.empty()) {
      if (!ok) return std::nullopt;
      return channel;
    }

    auto address =
        required_string(fields, address_key, at,
                        fmt::format("{} channel of {} has no {}", *type, label, address_key));
    if (!address) return std::nullopt;
    Place address_place = value_place(*fields.find(address_key));
    if (address_key == "number" && !is_valid_phone_number(*address)) {
      add(address_place, fmt::format("invalid phone number in {} channel of {} (expected + and 6 "
                                     "to 15 digits, or 5 to 15 digits, without spaces)",
                                     *type, label));
      return std::nullopt;
    }
    if (address_key == "url" && !is_valid_http_url(*address)) {
      add(address_place, fmt::format("invalid url in {} channel of {} (expected http:// or "
                                     "https:// followed by a host)",
                                     *type, label));
      return std::nullopt;
    }
    channel.address = *address;
    if (!ok) return std::nullopt;
    return channel;
  }

  // ---- escalation and notification ----

  void parse_escalation(const Entry& section) {
    if (section.value.IsNull()) return;
    if (!section.value.IsSequence()) {
      return type_error(section, "escalation", "a sequence of policies");
    }
    for (const YAML::Node& item : section.value) parse_policy(item);
  }

  void parse_policy(const YAML::Node& node) {
    if (!node.IsMap()) {
      add(place(node), fmt::format("expected a map for an escalation policy (with match, steps, "
                                   "repeat), got {}",
                                   describe(node)));
      return;
    }
    Fields fields = read_map(node, "in escalation policy", kPolicyKeys);
    const Place at = place(node);
    EscalationPolicy policy;
    policy.line = at.line;
    bool ok = true;

    if (const Entry* match = fields.find("match")) {
      ok = parse_match(*match, policy) && ok;
    }
    const Entry* steps = fields.find("steps");
    if (steps == nullptr || steps->value.IsNull() ||
        (steps->value.IsSequence() && steps->value.size() == 0)) {
      add(steps == nullptr ? at : value_place(*steps),
          "escalation policy has no steps (expected steps: [{after: 0s, notify: [caregiver]}, "
          "...])");
      ok = false;
    } else if (!steps->value.IsSequence()) {
      type_error(*steps, "steps", "a sequence of steps");
      ok = false;
    } else {
      std::chrono::milliseconds previous{0};
      for (const YAML::Node& item : steps->value) {
        auto step = parse_step(item, previous);
        if (!step) {
          ok = false;
          continue;
        }
        previous = step->after;
        policy.steps.push_back(std::move(*step));
      }
    }
    if (const Entry* repeat = fields.find("repeat")) {
      if (auto value =
              duration(*repeat, "repeat", std::chrono::seconds(30), std::chrono::hours(24 * 7))) {
        policy.repeat = *value;
      } else {
        ok = false;
      }
    }
    if (auto until = optional_string(fields, "until")) {
      if (*until == "acknowledged") {
        policy.until = StopWhen::acknowledged;
      } else if (*until == "resolved") {
        policy.until = StopWhen::resolved;
      } else {
        add(value_place(*fields.find("until")),
            fmt::format("until must be one of: {}", join(kUntilNames)));
        ok = false;
      }
    }
    if (const Entry* hours = fields.find("hours")) {
      if (auto window = parse_hours(*hours)) {
        policy.hours = *window;
        if (policy.severity == rules::Severity::emergency ||
            std::any_of(policy.kinds.begin(), policy.kinds.end(), [](rules::AlertKind kind) {
              return rules::severity_of(kind) == rules::Severity::emergency;
            })) {
          add(key_place(*hours),
              "hours cannot apply to emergencies (quiet hours never delay "
              "smoke, gas, CO or a call)");
          ok = false;
        }
      } else {
        ok = false;
      }
    }
    if (!ok) return;
    bool reaches_anyone = false;
    for (const auto& step : policy.steps) {
      for (const auto& target : step.notify) reaches_anyone = reaches_anyone || reaches(target);
    }
    if (!reaches_anyone) {
      add(at,
          "escalation policy can never reach anyone: no configured contact has the roles or "
          "ids its steps notify");
      return;
    }
    config_.escalation.push_back(std::move(policy));
  }

  bool parse_match(const Entry& entry, EscalationPolicy& policy) {
    if (!entry.value.IsMap()) {
      type_error(entry, "match", "a map such as {severity: emergency} or {kind: [smoke, gas]}");
      return false;
    }
    Fields fields = read_map(entry.value, "in match", kMatchKeys);
    bool ok = true;
    if (const Entry* kind = fields.find("kind")) {
      std::vector<YAML::Node> items;
      if (kind->value.IsSequence()) {
        for (const YAML::Node& item : kind->value) items.push_back(item);
      } else {
        items.push_back(kind->value);
      }
      for (const YAML::Node& item : items) {
        auto parsed = item.IsScalar() ? rules::alert_kind_from_string(item.Scalar()) : std::nullopt;
        if (!parsed) {
          add(place(item.Mark().is_null() ? kind->key : item),
              "unknown alert kind in match (expected e.g. smoke, gas, co, water_leak, call, "
              "no_water, inactivity, low_battery, device_offline)");
          ok = false;
        } else {
          policy.kinds.push_back(*parsed);
        }
      }
    }
    if (auto severity = optional_string(fields, "severity")) {
      if (auto parsed = rules::severity_from_string(*severity)) {
        policy.severity = *parsed;
      } else {
        add(value_place(*fields.find("severity")),
            fmt::format("severity must be one of: {}", join(kSeverityNames)));
        ok = false;
      }
    }
    return ok;
  }

  std::optional<EscalationStep> parse_step(const YAML::Node& node,
                                           std::chrono::milliseconds previous) {
    if (!node.IsMap()) {
      add(place(node), fmt::format("expected a map for a step (e.g. {{after: 3m, notify: "
                                   "[emergency_contact]}}), got {}",
                                   describe(node)));
      return std::nullopt;
    }
    Fields fields = read_map(node, "in step", kStepKeys);
    const Place at = place(node);
    EscalationStep step;
    const Entry* after = fields.find("after");
    const Entry* wait = fields.find("wait");
    bool ok = true;
    if (after != nullptr && wait != nullptr) {
      add(key_place(*wait),
          "a step has either after (from the alert opening) or wait (after the "
          "previous step), not both");
      ok = false;
    } else if (after != nullptr) {
      if (auto value = duration(*after, "after", std::chrono::seconds(0), std::chrono::hours(72))) {
        step.after = *value;
        if (step.after < previous) {
          add(value_place(*after),
              "steps must be in time order (after is counted from the alert "
              "opening)");
          ok = false;
        }
      } else {
        ok = false;
      }
    } else if (wait != nullptr) {
      if (auto value = duration(*wait, "wait", std::chrono::seconds(0), std::chrono::hours(72))) {
        step.after = previous + *value;
      } else {
        ok = false;
      }
    } else {
      step.after = previous;
    }
    const Entry* notify = fields.find("notify");
    if (notify == nullptr || notify->value.IsNull()) {
      add(notify == nullptr ? at : key_place(*notify),
          "step has no notify (expected roles or contact ids, e.g. notify: [caregiver])");
      return std::nullopt;
    }
    std::vector<YAML::Node> items;
    if (notify->value.IsSequence()) {
      for (const YAML::Node& item : notify->value) items.push_back(item);
    } else {
      items.push_back(notify->value);
    }
    for (const YAML::Node& item : items) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        add(place(item.Mark().is_null() ? notify->key : item),
            "notify entries are roles or contact ids");
        ok = false;
        continue;
      }
      const std::string target = item.Scalar();
      if (!role_from_string(target) && find_contact_id(target) == nullptr) {
        add(place(item),
            fmt::format("notify target {} is neither a role ({}) nor a configured contact id",
                        is_safe_to_echo(target) ? quote_value(target) : std::string("(value)"),
                        join(kRoleNames)));
        ok = false;
        continue;
      }
      step.notify.push_back(target);
    }
    if (!ok) return std::nullopt;
    return step;
  }

  std::optional<HoursWindow> parse_hours(const Entry& entry, std::string_view key = "hours") {
    constexpr std::string_view kExpected = "local hours such as \"08:00-20:00\"";
    if (!entry.value.IsScalar()) {
      type_error(entry, key, kExpected);
      return std::nullopt;
    }
    const std::string text = entry.value.Scalar();
    auto minute = [](std::string_view part) -> std::optional<int> {
      if (part.size() != 5 || part[2] != ':' || !is_digit(part[0]) || !is_digit(part[1]) ||
          !is_digit(part[3]) || !is_digit(part[4])) {
        return std::nullopt;
      }
      const int h = (part[0] - '0') * 10 + (part[1] - '0');
      const int m = (part[3] - '0') * 10 + (part[4] - '0');
      if (h > 24 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
      return h * 60 + m;
    };
    const auto dash = text.find('-');
    std::optional<int> from;
    std::optional<int> to;
    if (dash != std::string::npos) {
      from = minute(std::string_view(text).substr(0, dash));
      to = minute(std::string_view(text).substr(dash + 1));
    }
    if (!from || !to || *from == *to) {
      add(value_place(entry), fmt::format("expected {} for {}", kExpected, key));
      return std::nullopt;
    }
    return HoursWindow{*from, *to};
  }

  std::optional<double> number(const Entry& entry, std::string_view key, double min, double max) {
    if (!entry.value.IsScalar()) {
      type_error(entry, key, "a number");
      return std::nullopt;
    }
    const std::string& text = entry.value.Scalar();
    double value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
      add(value_place(entry),
          fmt::format("expected a number for {}, got {}", key, quote_value(text)));
      return std::nullopt;
    }
    if (!(value >= min && value <= max)) {
      add(value_place(entry), fmt::format("{} must be between {} and {}", key, min, max));
      return std::nullopt;
    }
    return value;
  }

  void parse_device_rule_keys(const Fields& fields, std::optional<drivers::DeviceKind> kind,
                              const std::string& label, drivers::DeviceConfig& device) {
    if (const Entry* entry = fields.find("entrance")) {
      if (auto value = boolean(*entry, "entrance")) {
        if (*value && kind && *kind != drivers::DeviceKind::contact) {
          add(key_place(*entry), fmt::format("entrance is only allowed for kind contact (the "
                                             "door sensor of the entrance), not on {}",
                                             label));
        } else {
          device.entrance = *value;
        }
      }
    }
    if (const Entry* entry = fields.find("activity")) {
      if (auto value = boolean(*entry, "activity")) device.activity = *value;
    }
    if (const Entry* entry = fields.find("high_power_w")) {
      if (kind && *kind != drivers::DeviceKind::plug) {
        add(key_place(*entry), fmt::format("high_power_w is only allowed for kind plug"));
      } else if (auto value = number(*entry, "high_power_w", 10, 10'000)) {
        device.high_power_w = *value;
      }
    }
    if (const Entry* entry = fields.find("silence")) {
      if (auto value =
              duration(*entry, "silence", std::chrono::minutes(1), std::chrono::hours(24 * 7))) {
        device.silence_ms = std::chrono::milliseconds(*value).count();
      }
    }
  }

  // One key of a rule's settings: its name, what it holds, and where it goes.
  struct RuleKey {
    std::string_view name;
    enum class Type { duration, number, integer } type;
    void* target;  // std::int64_t ms (duration), double (number) or int (integer)
    double min;
    double max;
  };

  // `<rule>: {enabled: false, ...}` or `<rule>: off`.
  void parse_rule_section(const Entry& section, std::string_view rule, bool& enabled,
                          std::initializer_list<RuleKey> keys) {
    if (section.value.IsScalar()) {
      if (auto value = boolean(section, rule)) enabled = *value;
      return;
    }
    if (!section.value.IsMap()) return type_error(section, rule, "a map or true/false");
    std::vector<std::string_view> names{"enabled"};
    for (const auto& key : keys) names.push_back(key.name);
    Fields fields = read_map(section.value, fmt::format("in rules {}", rule), names);
    if (const Entry* entry = fields.find("enabled")) {
      if (auto value = boolean(*entry, "enabled")) enabled = *value;
    }
    for (const auto& key : keys) {
      const Entry* entry = fields.find(key.name);
      if (entry == nullptr) continue;
      const std::string full = fmt::format("{}.{}", rule, key.name);
      switch (key.type) {
        case RuleKey::Type::duration:
          if (auto value =
                  duration(*entry, full, std::chrono::seconds(static_cast<std::int64_t>(key.min)),
                           std::chrono::seconds(static_cast<std::int64_t>(key.max)))) {
            *static_cast<std::int64_t*>(key.target) = std::chrono::milliseconds(*value).count();
          }
          break;
        case RuleKey::Type::number:
          if (auto value = number(*entry, full, key.min, key.max)) {
            *static_cast<double*>(key.target) = *value;
          }
          break;
        case RuleKey::Type::integer:
          if (auto value = integer(*entry, full, static_cast<std::int64_t>(key.min),
                                   static_cast<std::int64_t>(key.max))) {
            *static_cast<int*>(key.target) = static_cast<int>(*value);
          }
          break;
      }
    }
  }

  void parse_rules(const Entry& section) {
    if (section.value.IsNull()) return;
    if (!section.value.IsMap()) return type_error(section, "rules", "a map");
    Fields fields = read_map(section.value, "in rules", kRulesKeys);
    rules::RuleSettings& r = config_.rules;
    using T = RuleKey::Type;
    constexpr double kMinute = 60;
    constexpr double kHour = 3600;
    constexpr double kDay = 86400;
    if (const Entry* e = fields.find("sleep")) {
      if (auto window = parse_hours(*e, "sleep")) r.sleep = *window;
    }
    if (const Entry* e = fields.find("night")) {
      if (auto window = parse_hours(*e, "night")) r.night = *window;
    }
    if (const Entry* e = fields.find("flap_hold")) {
      if (auto value = duration(*e, "flap_hold", std::chrono::seconds(0), std::chrono::hours(2))) {
        r.clear_hold_ms = std::chrono::milliseconds(*value).count();
      }
    }
    if (const Entry* e = fields.find("no_water")) {
      parse_rule_section(*e, "no_water", r.no_water.enabled,
                         {{"after", T::duration, &r.no_water.after_ms, kHour, 7 * kDay},
                          {"min_litres", T::number, &r.no_water.min_litres, 0, 1000}});
    }
    if (const Entry* e = fields.find("inactivity")) {
      parse_rule_section(*e, "inactivity", r.inactivity.enabled,
                         {{"after", T::duration, &r.inactivity.after_ms, 30 * kMinute, 2 * kDay},
                          {"out_after", T::duration, &r.inactivity.out_after_ms, kHour, 3 * kDay}});
    }
    if (const Entry* e = fields.find("water_running")) {
      parse_rule_section(*e, "water_running", r.water_running.enabled,
                         {{"after", T::duration, &r.water_running.after_ms, 5 * kMinute, kDay}});
    }
    if (const Entry* e = fields.find("power_running")) {
      parse_rule_section(
          *e, "power_running", r.power_running.enabled,
          {{"after", T::duration, &r.power_running.after_ms, 5 * kMinute, kDay},
           {"night_after", T::duration, &r.power_running.night_after_ms, 5 * kMinute, kDay},
           {"high_power_w", T::number, &r.power_running.high_power_w, 10, 10'000}});
    }
    if (const Entry* e = fields.find("night_door")) {
      parse_rule_section(
          *e, "night_door", r.night_door.enabled,
          {{"no_return", T::duration, &r.night_door.no_return_ms, kMinute, 4 * kHour},
           {"open", T::duration, &r.night_door.open_ms, kMinute, 4 * kHour}});
    }
    if (const Entry* e = fields.find("temperature")) {
      parse_rule_section(*e, "temperature", r.temperature.enabled,
                         {{"low", T::number, &r.temperature.low_c, -20, 30},
                          {"high", T::number, &r.temperature.high_c, 15, 60},
                          {"after", T::duration, &r.temperature.after_ms, kMinute, kDay}});
      if (r.temperature.low_c + 2 * r.temperature.hysteresis_c >= r.temperature.high_c) {
        add(key_place(*e), "temperature.low must be well below temperature.high");
      }
    }
    if (const Entry* e = fields.find("device_silence")) {
      parse_rule_section(
          *e, "device_silence", r.device_silence.enabled,
          {{"battery", T::duration, &r.device_silence.battery_ms, 10 * kMinute, 7 * kDay},
           {"mains", T::duration, &r.device_silence.mains_ms, kMinute, 7 * kDay}});
    }
    if (const Entry* e = fields.find("routine")) {
      parse_rule_section(*e, "routine", r.routine.enabled,
                         {{"min_days", T::integer, &r.routine.min_days, 7, 60},
                          {"factor", T::number, &r.routine.factor, 1, 5},
                          {"margin", T::duration, &r.routine.margin_ms, 0, 6 * kHour},
                          {"min_gap", T::duration, &r.routine.min_gap_ms, 30 * kMinute, kDay}});
    }
    if (const Entry* e = fields.find("checkin")) parse_checkin(*e);
  }

  void parse_checkin(const Entry& section) {
    if (!section.value.IsMap()) return type_error(section, "checkin", "a map");
    Fields fields = read_map(section.value, "in rules checkin", kCheckinKeys);
    CheckinConfig checkin;
    Place at = place(section.value);
    if (const Entry* e = fields.find("wait")) {
      if (auto value =
              duration(*e, "checkin.wait", std::chrono::minutes(1), std::chrono::hours(2))) {
        checkin.wait = *value;
      }
    }
    if (auto topic = required_string(fields, "topic", at,
                                     "checkin has no topic (the MQTT topic of the command)")) {
      if (auto problem = topic_problem(*topic)) {
        add(value_place(*fields.find("topic")),
            fmt::format("topic {} {}", quote_value(*topic), *problem));
      } else {
        checkin.topic = *topic;
      }
    }
    if (auto payload = required_string(fields, "payload", at, "checkin has no payload")) {
      checkin.payload = *payload;
    }
    if (const Entry* e = fields.find("retain")) {
      if (auto value = boolean(*e, "retain")) checkin.retain = *value;
    }
    config_.checkin = checkin;
  }

  void parse_notify(const Entry& section) {
    if (section.value.IsNull()) return;
    if (!section.value.IsMap()) return type_error(section, "notify", "a map");
    Fields fields = read_map(section.value, "in notify", kNotifyKeys);
    if (const Entry* templates = fields.find("templates")) parse_templates(*templates);
    if (const Entry* modem = fields.find("modem")) {
      if (!modem->value.IsMap()) {
        type_error(*modem, "modem", "a map such as {device: /dev/ttyUSB2}");
      } else {
        Fields modem_fields = read_map(modem->value, "in modem", kModemKeys);
        ModemConfig config;
        if (auto device = required_string(modem_fields, "device", place(modem->value),
                                          "modem has no device (e.g. /dev/ttyUSB2)")) {
          config.device = *device;
        }
        if (const Entry* baud = modem_fields.find("baud")) {
          if (auto value = integer(*baud, "baud", 1200, 4'000'000)) {
            config.baud = static_cast<int>(*value);
          }
        }
        config_.notify.modem = config;
      }
    }
    if (const Entry* webhook = fields.find("webhook")) {
      if (!webhook->value.IsMap()) {
        type_error(*webhook, "webhook", "a map");
      } else {
        Fields hook = read_map(webhook->value, "in webhook", kWebhookKeys);
        if (const Entry* timeout = hook.find("timeout")) {
          if (auto value = duration(*timeout, "timeout", std::chrono::seconds(1),
                                    std::chrono::seconds(120))) {
            config_.notify.webhook.timeout = *value;
          }
        }
        if (const Entry* attempts = hook.find("attempts")) {
          if (auto value = integer(*attempts, "attempts", 1, 20)) {
            config_.notify.webhook.attempts = static_cast<int>(*value);
          }
        }
        if (auto ca = path_value(hook, "ca_file")) config_.notify.webhook.ca_file = *ca;
        if (auto secret = path_value(hook, "dingtalk_secret_file")) {
          config_.notify.webhook.dingtalk_secret_file = *secret;
        }
      }
    }
    if (const Entry* actions = fields.find("ack_actions")) {
      if (!actions->value.IsSequence()) {
        type_error(*actions, "ack_actions", "a sequence of button actions such as [double]");
      } else {
        config_.notify.ack_actions.clear();
        for (const YAML::Node& item : actions->value) {
          if (!item.IsScalar() || item.Scalar().empty()) {
            add(place(item), "ack_actions entries are button action names such as double");
          } else {
            config_.notify.ack_actions.push_back(item.Scalar());
          }
        }
      }
    }
  }

  void parse_templates(const Entry& entry) {
    if (!entry.value.IsMap()) {
      return type_error(entry, "templates", "a map from alert kind (or default) to text");
    }
    for (const auto& item : entry.value) {
      const YAML::Node& key = item.first;
      const YAML::Node& value = item.second;
      if (!key.IsScalar()) continue;
      const std::string name = key.Scalar();
      if (name != "default" && !rules::alert_kind_from_string(name)) {
        add(place(key), fmt::format("unknown alert kind {} in templates (or use default)",
                                    is_safe_to_echo(name) ? quote_value(name) : "(value)"));
        continue;
      }
      if (!value.IsScalar() || value.Scalar().empty()) {
        add(place(value.Mark().is_null() ? key : value), "a template is a non-empty string");
        continue;
      }
      const std::string text = value.Scalar();
      bool ok = true;
      for (std::size_t open = text.find('{'); open != std::string::npos;
           open = text.find('{', open + 1)) {
        const std::size_t close = text.find('}', open);
        const std::string_view placeholder =
            close == std::string::npos ? std::string_view()
                                       : std::string_view(text).substr(open + 1, close - open - 1);
        if (!contains(kTemplatePlaceholders, placeholder)) {
          add(place(value), fmt::format("template for {} has an unknown placeholder; allowed: {}",
                                        name, join(kTemplatePlaceholders)));
          ok = false;
          break;
        }
      }
      if (ok) config_.notify.templates[name] = text;
    }
  }

  const ContactConfig* find_contact_id(std::string_view id) const {
    for (const auto& contact : config_.contacts) {
      if (contact.id == id) return &contact;
    }
    return nullptr;
  }

  // Whether a notify target (role or contact id) names at least one contact with a channel.
  bool reaches(const std::string& target) const {
    auto role = role_from_string(target);
    return std::any_of(config_.contacts.begin(), config_.contacts.end(), [&](const auto& c) {
      return !c.channels.empty() && (role ? c.role == *role : c.id == target);
    });
  }

  // A channel the gateway cannot deliver on is a config error, not a silent loss at 3 a.m.
  void check_channels_have_notifiers() {
    for (const auto& [id, line] : contact_id_lines_) {
      const ContactConfig* contact = find_contact_id(id);
      if (contact == nullptr) continue;
      for (const auto& channel : contact->channels) {
        if (channel.type == "sms" && !config_.notify.modem) {
          add(Place{line, 1}, fmt::format("contact \"{}\" has an sms channel but notify.modem is "
                                          "not configured (the hub sends SMS through its "
                                          "cellular modem)",
                                          id));
        }
        if (channel.type == "township" && !config_.uplink) {
          add(Place{line, 1}, fmt::format("contact \"{}\" has a township channel but the hub has "
                                          "no uplink section (the township relays it)",
                                          id));
        }
        if (channel.type == "voice") {
          add(Place{line, 1},
              fmt::format("contact \"{}\" has a voice channel: voice calls are not supported by "
                          "this gateway version (use sms or a webhook provider)",
                          id));
        }
      }
    }
  }

  const std::string& text_;
  std::string path_;
  std::vector<std::size_t> line_starts_;
  std::vector<ConfigError> errors_;
  HubConfig config_;
  std::map<std::string, int, std::less<>> device_id_lines_;
  std::map<std::string, int, std::less<>> contact_id_lines_;
  // format + '\n' + topic -> (device label, line)
  std::map<std::string, std::pair<std::string, int>> device_topics_;
};

ConfigResult single_error(const std::string& path, std::string message) {
  ConfigResult result;
  result.errors.push_back(ConfigError{path, 0, 0, std::move(message)});
  return result;
}

// ---------------------------------------------------------------------------------------------
// Township config patches.

constexpr std::string_view kPatchSource = "config patch";
constexpr std::array<std::string_view, 2> kPatchableKeys{"rules", "escalation"};
constexpr std::size_t kMaxPatchBytes = 64 * 1024;

// A JSON value as a YAML node. Every scalar becomes text, as in a file: the loader reads values
// from their text (5, "5" and 5s mean what they mean in the file).
YAML::Node to_yaml(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      YAML::Node map(YAML::NodeType::Map);
      for (const auto& [key, item] : value.items()) {
        if (!item.is_null()) map[key] = to_yaml(item);  // null removes (RFC 7396)
      }
      return map;
    }
    case nlohmann::json::value_t::array: {
      YAML::Node sequence(YAML::NodeType::Sequence);
      for (const auto& item : value) sequence.push_back(to_yaml(item));
      return sequence;
    }
    case nlohmann::json::value_t::string:
      return YAML::Node(value.get<std::string>());
    case nlohmann::json::value_t::boolean:
      return YAML::Node(std::string(value.get<bool>() ? "true" : "false"));
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return YAML::Node(YAML::NodeType::Null);
    default:
      return YAML::Node(value.dump());  // numbers
  }
}

// RFC 7396 on a YAML map: maps merge key by key, null removes, anything else replaces.
void merge_patch(YAML::Node target, const nlohmann::json& patch) {
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      target.remove(key);
      continue;
    }
    YAML::Node existing = static_cast<const YAML::Node&>(target)[key];
    if (value.is_object() && existing.IsDefined() && existing.IsMap()) {
      merge_patch(existing, value);
      continue;
    }
    target[key] = to_yaml(value);
  }
}

// What is wrong with one patch as a whole (before its content is validated), or nothing.
std::optional<std::string> patch_problem(const nlohmann::json& patch, std::size_t bytes) {
  if (bytes > kMaxPatchBytes) {
    return fmt::format("patch is too large ({} bytes; at most {})", bytes, kMaxPatchBytes);
  }
  if (!patch.is_object())
    return std::string("patch must be an object with rules and/or escalation");
  if (patch.empty()) return std::string("patch is empty (expected rules and/or escalation)");
  for (const auto& [key, value] : patch.items()) {
    if (!contains(kPatchableKeys, key)) {
      return fmt::format("patch may change only rules and escalation, not {}",
                         is_safe_to_echo(key) ? quote_value(key) : std::string("(key)"));
    }
  }
  return std::nullopt;
}

bool same_checkin(const std::optional<CheckinConfig>& a, const std::optional<CheckinConfig>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->wait == b->wait && a->topic == b->topic && a->payload == b->payload &&
         a->retain == b->retain;
}

}  // namespace

std::string ConfigError::to_string() const {
  if (line <= 0) return fmt::format("{}: {}", file, message);
  if (column <= 0) return fmt::format("{}:{}: {}", file, line, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

std::string read_secret_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot read secret file " + path);
  std::string secret;
  std::getline(file, secret);
  while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ')) secret.pop_back();
  return secret;
}

bool EscalationPolicy::matches(rules::AlertKind kind, rules::Severity alert_severity) const {
  if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) return false;
  if (severity && *severity != alert_severity) return false;
  return true;
}

std::string_view to_string(Role role) {
  for (std::size_t i = 0; i < kRoles.size(); ++i) {
    if (kRoles[i] == role) return kRoleNames[i];
  }
  return "unknown";
}

std::optional<Role> role_from_string(std::string_view text) {
  for (std::size_t i = 0; i < kRoles.size(); ++i) {
    if (kRoleNames[i] == text) return kRoles[i];
  }
  return std::nullopt;
}

const drivers::DeviceConfig* HubConfig::find_device(std::string_view id) const {
  for (const auto& device : devices) {
    if (device.id == id) return &device;
  }
  return nullptr;
}

const ContactConfig* HubConfig::find_contact(std::string_view id) const {
  for (const auto& contact : contacts) {
    if (contact.id == id) return &contact;
  }
  return nullptr;
}

ConfigResult load_config(const std::string& path) {
  auto cannot_read = [&path](int error) {
    return single_error(
        path, "cannot read file: " + std::error_code(error, std::generic_category()).message());
  };
  struct Closer {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "rb"));
  if (!file) return cannot_read(errno);
  std::string text;
  std::array<char, 8192> buffer{};
  while (text.size() <= kMaxFileBytes) {
    std::size_t read = std::fread(buffer.data(), 1, buffer.size(), file.get());
    text.append(buffer.data(), read);
    if (read < buffer.size()) {
      if (std::ferror(file.get())) return cannot_read(errno);
      break;
    }
  }
  return parse_config(text, path);
}

ConfigResult parse_config(const std::string& text, const std::string& path) {
  return Parser(text, path).run();
}

ConfigResult apply_config_patches(const HubConfig& config,
                                  const std::vector<std::string>& patches) {
  const std::string source(kPatchSource);
  if (config.source_text.empty()) {
    return single_error(source, "the hub's config text is not available");
  }
  YAML::Node root;
  try {
    root = YAML::Load(config.source_text);
  } catch (const YAML::Exception&) {
    return single_error(source, "the hub's config file cannot be read as YAML");
  }
  if (!root.IsMap()) return single_error(source, "the hub's config file is not a map");
  for (const auto& text : patches) {
    const auto patch = nlohmann::json::parse(text, nullptr, false);
    if (patch.is_discarded()) return single_error(source, "patch is not JSON");
    if (auto problem = patch_problem(patch, text.size())) return single_error(source, *problem);
    try {
      merge_patch(root, patch);
    } catch (const YAML::Exception&) {
      return single_error(source, "patch cannot be merged into the config");
    }
  }
  YAML::Emitter out;
  out << root;
  if (!out.good()) return single_error(source, "patched config cannot be written as YAML");
  ConfigResult result = parse_config(out.c_str(), source);
  for (auto& error : result.errors) {
    error.line = 0;  // places in a merged text nobody can open
    error.column = 0;
  }
  if (!result.config) return result;
  if (!same_checkin(config.checkin, result.config->checkin)) {
    return single_error(source,
                        "rules.checkin cannot be changed by a patch (it publishes commands on the "
                        "hub's broker); change it in the config file");
  }
  result.config->source_file = config.source_file;
  result.config->source_text = config.source_text;
  return result;
}

}  // namespace homesafe::gateway
