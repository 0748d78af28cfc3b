#pragma once
// A rule is pure logic on one device message (or a timer tick) and an injected time: no I/O.
// Its memory lives in a RuleState that the gateway persists with the alerts it causes, so rules
// fire on transitions and remember their state across restarts.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "homesafe/drivers/device.hpp"
#include "homesafe/drivers/reading.hpp"
#include "homesafe/rules/alert_kind.hpp"

namespace homesafe::rules {

// A moment, as both clocks see it. Durations use mono_ms; records and local-time windows use
// wall_ms (which can jump when NTP syncs on a hub without RTC). Rules see the engine's rule
// clock as mono_ms: monotonic and continued across restarts (see RuleEngine::resume).
struct Instant {
  std::int64_t wall_ms = 0;
  std::int64_t mono_ms = 0;
  bool wall_synced = true;  // false until NTP (or an RTC) has set the wall clock
};

// What the engine derives once from a message, before any rule sees it (see activity.hpp).
struct Facts {
  bool activity = false;  // a sign of life: motion, a door, a bed, a button, water, a switch
  bool entrance = false;  // ... and it was the entrance door
  // The household's previous sign of life (rule-clock ms) and whether it was the entrance door.
  std::optional<std::int64_t> previous_activity_mono_ms;
  bool previous_was_entrance = false;
  std::optional<double> water_used_l;     // litres since this meter's previous reading (>= 0)
  std::optional<double> energy_used_kwh;  // kWh since this plug's/meter's previous reading
  // A cumulative counter (water litres or energy kWh) went back or jumped implausibly: a new
  // baseline, never use. `meter_reset_detail` says which, from what to what.
  bool meter_reset = false;
  std::string meter_reset_detail;
  bool water_flow_started = false;  // this reading began a continuous flow
};

// One decoded message of one configured device.
struct Observation {
  const drivers::DeviceConfig& device;
  const drivers::DecodeResult& decoded;
  Instant now;
  Facts facts = {};
};

enum class Signal {
  raise,       // the condition started: open an alert (or join the open one)
  repeat,      // the condition is still there: join the open alert, never open a new one
  clear,       // the condition ended
  record,      // worth a line in the device's history, not an alert (e.g. a smoke self-test)
  suppressed,  // an alert that was not raised on purpose (too short, flapping, away): counted
};

std::string_view to_string(Signal signal);

struct RuleEvent {
  Signal signal;
  AlertKind kind;
  std::string device_id;  // empty for household-wide conditions
  std::string detail;     // short, machine-readable: "action=sos", "self_test", "malformed"

  bool operator==(const RuleEvent&) const = default;
};

// Hashes std::string and std::string_view alike, so that an unordered_map<std::string, ...,
// StringHash, std::equal_to<>> is searched by a view without building a string. Not `noexcept`
// on purpose: libstdc++ then keeps each node's hash, instead of hashing the neighbours' keys
// again while it walks a bucket.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Key/value memory of the rules. Keys are "<rule>/<device>/<name>"; the gateway stores the
// changes in the same transaction as the alerts they produced.
class RuleState {
 public:
  RuleState() = default;
  RuleState(const RuleState& other);
  RuleState& operator=(const RuleState& other);
  RuleState(RuleState&&) noexcept = default;
  RuleState& operator=(RuleState&&) noexcept = default;
  ~RuleState() = default;

  std::optional<std::string_view> get(std::string_view key) const;
  void set(std::string_view key, std::string_view value);
  void erase(std::string_view key);
  // Integer values (times, counters); nullopt when absent or not a number.
  std::optional<std::int64_t> get_int(std::string_view key) const;
  void set_int(std::string_view key, std::int64_t value);

  // Every key starting with `prefix`, with its value, in key order.
  std::vector<std::pair<std::string, std::string>> with_prefix(std::string_view prefix) const;

  // Loads a persisted value (not a change).
  void load(std::string key, std::string value);

  using Changes = std::map<std::string, std::optional<std::string>>;
  // The keys changed since the last call: value, or nullopt when erased.
  Changes take_changes();
  bool has_changes() const { return !changes_.empty(); }

  // A point in the sequence of changes: take_changes_since(mark()) takes only the keys changed
  // after it (by the message being handled) and leaves the others pending. An alarm's commit
  // thus carries its own state, not every meter's since the last flush.
  std::uint64_t mark() const { return change_count_; }
  Changes take_changes_since(std::uint64_t mark);
  bool has_changes_since(std::uint64_t mark) const { return last_change_ > mark; }

 private:
  struct Change {
    std::optional<std::string> value;
    std::uint64_t number = 0;  // which change it was (1, 2, ...), for take_changes_since
  };
  void record_change(std::string_view key, std::optional<std::string_view> value);
  void index_keys();

  // Hashed: every message reads and writes a dozen keys that share long prefixes, which an
  // ordered map compares character by character at every level.
  template <typename Value>
  using HashMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

  HashMap<std::string> values_;
  std::set<std::string_view, std::less<>> keys_;  // values_' keys in order, for with_prefix
  HashMap<Change> changes_;
  std::uint64_t change_count_ = 0;
  std::uint64_t last_change_ = 0;  // the number of the newest change still pending
};

class Rule {
 public:
  virtual ~Rule() = default;
  virtual std::string_view name() const = 0;
  virtual void on_message(const Observation& observation, RuleState& state,
                          std::vector<RuleEvent>& out) = 0;
  // Called when time passes (at least at next_deadline()); for rules about silence.
  virtual void on_tick(Instant /*now*/, RuleState& /*state*/, std::vector<RuleEvent>& /*out*/) {}
  // The monotonic time at which this rule next wants on_tick, if any.
  virtual std::optional<std::int64_t> next_deadline_mono_ms() const { return std::nullopt; }
  // The household came back from "away" (外出/住院): start watching afresh from `now`.
  virtual void on_away_ended(Instant /*now*/, RuleState& /*state*/) {}
};

}  // namespace homesafe::rules
