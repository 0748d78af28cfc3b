#include "homesafe/gateway/replay.hpp"

#include <nlohmann/json.hpp>

#include <istream>
#include <ostream>

#include "homesafe/gateway/alert_json.hpp"
#include "homesafe/gateway/clock.hpp"
#include "homesafe/gateway/hub.hpp"
#include "homesafe/gateway/notify/mqtt_notifier.hpp"
#include "homesafe/gateway/store.hpp"
#include "homesafe/gateway/time_zone_loader.hpp"

namespace homesafe::gateway {
namespace {

class JsonLinesOutput final : public HubOutput {
 public:
  JsonLinesOutput(std::ostream& out, const HubConfig& config, const rules::TimeZone& zone)
      : out_(out), config_(config), zone_(zone) {}

  void alert_changed(const AlertChange& change, const rules::Instant& /*now*/) override {
    out_ << alert_to_json(change.alert, change.event, config_.household.id, zone_).dump() << '\n';
    ++count_;
  }
  // In virtual time every notification is delivered at once.
  void notification_created(const notify::Notification& notification,
                            const rules::Instant& now) override {
    out_ << notify::notification_to_json(notification, zone_.format_iso(now.wall_ms)).dump()
         << '\n';
    ++count_;
    if (hub_ != nullptr)
      hub_->record_delivery(notification.notification_id, {true, false, {}}, 1, now);
  }
  void attach(Hub* hub) { hub_ = hub; }
  std::int64_t count() const { return count_; }

 private:
  std::ostream& out_;
  const HubConfig& config_;
  const rules::TimeZone& zone_;
  Hub* hub_ = nullptr;
  std::int64_t count_ = 0;
};

struct InputLine {
  std::int64_t ts_ms = 0;
  std::string topic;
  std::string payload;
};

std::optional<InputLine> parse_line(const std::string& text, std::string& error) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  InputLine line;
  auto ts = json.find("ts");
  if (ts == json.end()) {
    error = "missing \"ts\"";
    return std::nullopt;
  }
  if (ts->is_number_integer()) {
    line.ts_ms = ts->get<std::int64_t>();
  } else if (ts->is_string()) {
    auto parsed = rules::parse_iso8601_ms(ts->get<std::string>());
    if (!parsed) {
      error = "\"ts\" is not ISO 8601 with an offset (e.g. 2026-11-01T07:00:00+08:00)";
      return std::nullopt;
    }
    line.ts_ms = *parsed;
  } else {
    error = "\"ts\" must be an ISO 8601 string or Unix milliseconds";
    return std::nullopt;
  }
  auto topic = json.find("topic");
  auto payload = json.find("payload");
  if (topic == json.end() || !topic->is_string() || topic->get<std::string>().empty()) {
    error = "missing or non-string \"topic\"";
    return std::nullopt;
  }
  if (payload == json.end() || !payload->is_string()) {
    error = "missing or non-string \"payload\" (the raw MQTT payload as a string)";
    return std::nullopt;
  }
  line.topic = topic->get<std::string>();
  line.payload = payload->get<std::string>();
  return line;
}

// Fires every rule deadline up to `target_mono_ms`, in order.
void run_timers_until(Hub& hub, ManualClock& clock, std::int64_t target_mono_ms) {
  while (auto deadline = hub.next_deadline_mono_ms()) {
    if (*deadline > target_mono_ms) break;
    if (*deadline > clock.now().mono_ms) clock.advance_ms(*deadline - clock.now().mono_ms);
    hub.on_tick(clock.now());
    if (hub.next_deadline_mono_ms() == deadline) break;  // a rule that does not move on
  }
}

}  // namespace

ReplayStats run_replay(const HubConfig& config, std::istream& in, std::ostream& out,
                       std::ostream& err, const ReplayOptions& options) {
  const auto zone = load_time_zone(config.household.timezone)
                        .value_or(rules::TimeZone::fixed(config.household.timezone, 0));
  Store store(options.store_path);
  JsonLinesOutput output(out, config, zone);
  Hub hub(config, store, output, zone);
  // Telemetry and rule state are only worth writing into a store that outlives the replay.
  hub.set_ephemeral_store(options.store_path == ":memory:");
  output.attach(&hub);

  ReplayStats stats;
  std::optional<ManualClock> clock;
  std::string text;
  while (std::getline(in, text)) {
    ++stats.lines;
    if (text.empty() || text.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string error;
    auto line = parse_line(text, error);
    if (!line) {
      ++stats.bad_lines;
      err << "input line " << stats.lines << ": " << error << '\n';
      continue;
    }
    if (!clock) {
      clock.emplace(line->ts_ms, 0);
      hub.start(clock->now());
    }
    const std::int64_t delta = line->ts_ms - clock->now().wall_ms;
    if (delta < 0) {
      // Out of order: processed at the current virtual time so that time never runs backwards.
      err << "input line " << stats.lines << ": ts goes back " << -delta
          << " ms; processed at the current virtual time\n";
    } else {
      run_timers_until(hub, *clock, clock->now().mono_ms + delta);
      clock->set_wall_ms(line->ts_ms);
    }
    hub.on_message(line->topic, line->payload, clock->now());
    ++stats.messages;
  }
  if (!clock) hub.start(rules::Instant{});
  if (clock) {
    run_timers_until(hub, *clock, clock->now().mono_ms + options.tail_ms);
    clock->advance_ms(options.tail_ms);
  }
  hub.flush_telemetry();
  stats.outputs = output.count();
  stats.suppressed = hub.suppressed();
  out.flush();
  return stats;
}

}  // namespace homesafe::gateway
