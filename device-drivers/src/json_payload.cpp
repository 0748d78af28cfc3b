#include "json_payload.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>

namespace homesafe::drivers::detail {
namespace {

enum class Type { boolean, number, text };

struct KeySpec {
  std::string_view key;
  Capability capability;
  Type type;
};

constexpr std::array<KeySpec, 17> kKeys{{
    {"smoke", Capability::smoke, Type::boolean},
    {"gas", Capability::gas, Type::boolean},
    {"carbon_monoxide", Capability::carbon_monoxide, Type::boolean},
    {"water_leak", Capability::water_leak, Type::boolean},
    {"action", Capability::action, Type::text},
    {"contact", Capability::contact, Type::boolean},
    {"occupancy", Capability::occupancy, Type::boolean},
    {"power", Capability::power, Type::number},
    {"energy", Capability::energy, Type::number},
    {"water_total_l", Capability::water_total_l, Type::number},
    {"temperature", Capability::temperature, Type::number},
    {"humidity", Capability::humidity, Type::number},
    {"battery", Capability::battery, Type::number},
    {"battery_low", Capability::battery_low, Type::boolean},
    {"tamper", Capability::tamper, Type::boolean},
    {"test", Capability::self_test, Type::boolean},
    {"device_fault", Capability::device_fault, Type::boolean},
}};

Reading* find_mutable(DecodeResult& out, Capability capability) {
  for (auto& reading : out.readings) {
    if (reading.capability == capability) return &reading;
  }
  return nullptr;
}

std::string key_for_problem(std::string_view key, std::string_view problem_key) {
  return std::string(problem_key.empty() ? key : problem_key);
}

char lower(char ch) {
  return (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
}

// Reads exactly `digits` decimal digits at `pos`.
std::optional<int> digits_at(std::string_view text, std::size_t pos, std::size_t digits) {
  if (pos + digits > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

bool nesting_within(std::string_view payload, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char ch : payload) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (ch == '\\') {
        escaped = true;
      } else if (ch == '"') {
        in_string = false;
      }
      continue;
    }
    switch (ch) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) return false;
        break;
      case ']':
      case '}':
        --depth;  // unbalanced input is the parser's business
        break;
      default:
        break;
    }
  }
  return true;
}

std::optional<nlohmann::json> parse_object(std::string_view payload, DecodeResult& out) {
  if (!nesting_within(payload, kMaxJsonDepth)) {
    add_problem(out, DecodeError::malformed, "depth");
    return std::nullopt;
  }
  auto parsed = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    add_problem(out, DecodeError::malformed);
    return std::nullopt;
  }
  return parsed;
}

std::optional<StateObject> parse_state_object(std::string_view payload, DecodeResult& out) {
  if (auto flat = scan_flat_object(payload, kMaxJsonDepth)) return StateObject(std::move(*flat));
  if (auto tree = parse_object(payload, out)) return StateObject(std::move(*tree));
  return std::nullopt;
}

ObjectView StateObject::view() const {
  if (const auto* flat = std::get_if<FlatObject>(&object_)) return ObjectView(*flat);
  return ObjectView(std::get<nlohmann::json>(object_));
}

Scalar scalar_of(const nlohmann::json& value) {
  Scalar out;
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      out.kind = Scalar::Kind::null;
      break;
    case nlohmann::json::value_t::boolean:
      out.kind = Scalar::Kind::boolean;
      out.flag = value.get<bool>();
      break;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      out.integer = value.get<std::int64_t>();
      [[fallthrough]];
    case nlohmann::json::value_t::number_float:
      out.kind = Scalar::Kind::number;
      out.number = value.get<double>();
      break;
    case nlohmann::json::value_t::string:
      out.kind = Scalar::Kind::string;
      out.text = value.get_ref<const std::string&>();
      break;
    default:  // object, array, binary
      out.kind = Scalar::Kind::structured;
      break;
  }
  return out;
}

Scalar ObjectView::at(std::string_view key) const {
  if (flat_ != nullptr) return flat_->at(key);
  if (!tree_->is_object()) return {};
  auto it = tree_->find(key);
  return it == tree_->end() ? Scalar{} : scalar_of(*it);
}

bool ObjectView::empty() const {
  return flat_ != nullptr ? flat_->empty() : tree_->empty();
}

void read_z2m_keys(const ObjectView& object, DecodeResult& out) {
  for (const auto& spec : kKeys) {
    switch (spec.type) {
      case Type::boolean:
        if (auto value = bool_at(object, spec.key, out)) put_flag(out, spec.capability, *value);
        break;
      case Type::number:
        if (auto value = number_at(object, spec.key, plausible_range(spec.capability), out)) {
          put_number(out, spec.capability, *value);
        }
        break;
      case Type::text:
        // An empty action is not a press (Zigbee2MQTT clears it after the event).
        if (auto text = string_at(object, spec.key, out); text && !text->empty()) {
          put_text(out, spec.capability, std::string(*text));
        }
        break;
    }
  }
}

void read_timestamp(const ObjectView& object, DecodeResult& out) {
  const Scalar ts = object.at("ts");
  if (ts.kind == Scalar::Kind::absent || ts.kind == Scalar::Kind::null) return;
  if (ts.integer && *ts.integer > 0) {
    out.device_ts_ms = *ts.integer;
  } else if (ts.kind == Scalar::Kind::number && !ts.integer && std::isfinite(ts.number) &&
             ts.number > 0 && ts.number < 1e15) {
    out.device_ts_ms = static_cast<std::int64_t>(ts.number);
  } else {
    add_problem(out, DecodeError::wrong_type, "ts");
  }
}

void read_availability(std::string_view payload, DecodeResult& out) {
  std::string_view state = trim(payload);
  std::string from_json;
  if (!state.empty() && state.front() == '{' && nesting_within(state, kMaxJsonDepth)) {
    auto parsed = nlohmann::json::parse(state, nullptr, false);
    if (parsed.is_object()) {
      auto it = parsed.find("state");
      if (it != parsed.end() && it->is_string()) from_json = it->get<std::string>();
    }
    state = from_json;
  }
  if (iequals(state, "online")) {
    out.readings.push_back({Capability::availability, true});
  } else if (iequals(state, "offline")) {
    out.readings.push_back({Capability::availability, false});
  } else {
    add_problem(out, DecodeError::malformed, "availability");
  }
}

void put_flag(DecodeResult& out, Capability capability, bool value) {
  if (Reading* existing = find_mutable(out, capability)) {
    if (auto* flag = std::get_if<bool>(&existing->value)) *flag = *flag || value;
    return;
  }
  out.readings.push_back({capability, value});
}

void put_number(DecodeResult& out, Capability capability, double value) {
  if (find_mutable(out, capability) != nullptr) return;
  out.readings.push_back({capability, value});
}

void put_text(DecodeResult& out, Capability capability, std::string value) {
  if (find_mutable(out, capability) != nullptr) return;
  out.readings.push_back({capability, Value(std::in_place_type<std::string>, std::move(value))});
}

void drop(DecodeResult& out, Capability capability) {
  std::erase_if(out.readings,
                [capability](const Reading& reading) { return reading.capability == capability; });
}

void add_problem(DecodeResult& out, DecodeError error, std::string_view key) {
  out.problems.push_back({error, std::string(key)});
}

Range plausible_range(Capability capability) {
  switch (capability) {
    case Capability::power:
      return {-1.0, 100'000.0};  // W; a plug never draws 100 kW
    case Capability::energy:
      return {0.0, 1e9};  // kWh
    case Capability::water_total_l:
      return {0.0, 1e12};  // litres
    case Capability::temperature:
      return {-60.0, 150.0};  // °C
    case Capability::humidity:
    case Capability::battery:
      return {0.0, 100.0};  // %
    default:
      return {-1e15, 1e15};
  }
}

namespace {

// The value at `key` when it has `kind`: nullopt when missing or null, and a `wrong_type`
// problem when it is something else.
std::optional<Scalar> typed_at(const ObjectView& object, std::string_view key, Scalar::Kind kind,
                               DecodeResult& out, std::string_view problem_key) {
  Scalar value = object.at(key);
  if (value.kind == Scalar::Kind::absent || value.kind == Scalar::Kind::null) return std::nullopt;
  if (value.kind != kind) {
    add_problem(out, DecodeError::wrong_type, key_for_problem(key, problem_key));
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<double> number_at(const ObjectView& object, std::string_view key, Range range,
                                DecodeResult& out, std::string_view problem_key) {
  const auto value = typed_at(object, key, Scalar::Kind::number, out, problem_key);
  if (!value) return std::nullopt;  // missing is unknown
  if (!std::isfinite(value->number) || value->number < range.min || value->number > range.max) {
    add_problem(out, DecodeError::not_a_number, key_for_problem(key, problem_key));
    return std::nullopt;
  }
  return value->number;
}

std::optional<bool> bool_at(const ObjectView& object, std::string_view key, DecodeResult& out,
                            std::string_view problem_key) {
  const auto value = typed_at(object, key, Scalar::Kind::boolean, out, problem_key);
  if (!value) return std::nullopt;
  return value->flag;
}

std::optional<std::string_view> string_at(const ObjectView& object, std::string_view key,
                                          DecodeResult& out, std::string_view problem_key) {
  const auto value = typed_at(object, key, Scalar::Kind::string, out, problem_key);
  if (!value) return std::nullopt;
  return value->text;
}

std::optional<double> as_number(const nlohmann::json& value) {
  if (!value.is_number()) return std::nullopt;
  const double number = value.get<double>();
  if (!std::isfinite(number)) return std::nullopt;
  return number;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  const auto space = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

std::optional<double> parse_decimal(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  // from_chars also accepts "nan"/"inf" spellings: only digits, sign, '.', 'e' are allowed here.
  for (const char ch : text) {
    const bool ok =
        (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' || ch == 'E';
    if (!ok) return std::nullopt;
  }
  if (text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM|+HHMM|-HHMM)
  text = trim(text);
  const auto year = digits_at(text, 0, 4);
  const auto month = digits_at(text, 5, 2);
  const auto day = digits_at(text, 8, 2);
  const auto hour = digits_at(text, 11, 2);
  const auto minute = digits_at(text, 14, 2);
  const auto second = digits_at(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != ' ') || text[13] != ':' || text[16] != ':' || *hour > 23 ||
      *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(*year),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok() || *year < 1970) return std::nullopt;  // placeholders like 1111-11-11
  std::size_t pos = 19;
  int millis = 0;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    int scale = 100;
    const std::size_t first = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == first) return std::nullopt;
  }
  if (pos >= text.size()) return std::nullopt;  // no zone: local time of an unknown zone
  int offset_minutes = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const int sign = text[pos] == '-' ? -1 : 1;
    const auto zone_hours = digits_at(text, pos + 1, 2);
    if (!zone_hours) return std::nullopt;
    std::size_t at = pos + 3;
    if (at < text.size() && text[at] == ':') ++at;
    const auto zone_minutes = digits_at(text, at, 2);
    if (!zone_minutes || *zone_hours > 14 || *zone_minutes > 59) return std::nullopt;
    offset_minutes = sign * (*zone_hours * 60 + *zone_minutes);
    pos = at + 2;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const std::int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const std::int64_t seconds =
      days * 86'400 + *hour * 3'600 + *minute * 60 + *second - offset_minutes * 60;
  return seconds * 1'000 + millis;
}

std::span<const Capability> ExposesTable::by_kind(DeviceKind kind) const {
  switch (kind) {
    case DeviceKind::smoke:
    case DeviceKind::gas:
    case DeviceKind::co:
    case DeviceKind::water_leak:
      return hazard;
    case DeviceKind::call_button:
      return button;
    case DeviceKind::contact:
      return contact;
    case DeviceKind::motion:
    case DeviceKind::occupancy:
      return motion;
    case DeviceKind::plug:
      return plug;
    case DeviceKind::water_meter:
      return water;
    case DeviceKind::temperature:
      return temperature;
  }
  return {};
}

}  // namespace homesafe::drivers::detail
