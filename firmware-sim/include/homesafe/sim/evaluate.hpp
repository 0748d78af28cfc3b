#pragma once
// `homesafe-sim evaluate`: simulated households with injected incidents, replayed through
// `homesafe-gateway replay`; the alerts matched to the incidents (detections, time to detect,
// false alerts). See firmware-sim/README.md for the method.

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "homesafe/sim/household.hpp"

namespace homesafe::sim {

// An alert as the replay raised it: the first output line of its alert_id, when that line's
// state is "open".
struct RaisedAlert {
  std::int64_t ts_ms = 0;
  std::string alert_id;
  std::string kind;
  std::string device;
};

// The raised alerts in replay output (one JSON object per line; notification lines and alert
// updates are skipped), in output order. Lines that are not JSON objects, and alert lines without
// a readable ts, kind or alert_id, are counted in `bad_lines` (if given) and skipped.
std::vector<RaisedAlert> parse_replay_output(std::istream& in, int* bad_lines = nullptr);

// After the end of an incident, an alert still counts as detecting it for this long.
inline constexpr std::int64_t kDetectionGraceMs = 3'600'000;

struct IncidentOutcome {
  IncidentType type = IncidentType::fall;
  std::int64_t start_ms = 0;
  bool detectable = true;  // false when it has no detecting kinds (hospital)
  bool detected = false;
  std::int64_t time_to_detect_ms = 0;
  std::string alert_kind;  // of the first detecting alert
  std::string alert_id;
  int unexpected = 0;  // alerts of an expect_none kind opened in [start, end]
};

struct HouseholdOutcome {
  std::vector<IncidentOutcome> incidents;
  std::vector<RaisedAlert> false_alerts;    // person-related kinds, matching no incident
  std::map<std::string, int> other_alerts;  // other kinds, matching no incident
  std::map<std::string, int> raised;        // every raised alert, by kind
  std::map<std::string, int> matched;       // raised inside a window of an incident they detect
};

// An incident is detected by the first alert (by time) of one of its kinds (and for its device,
// if it names one) opened in [start, end + kDetectionGraceMs]; time to detect = alert ts - start.
// Every alert inside such a window counts as matched; an unmatched alert of a person-related kind
// is a false alert, of another kind an "other alert".
HouseholdOutcome match_alerts(std::span<const Incident> incidents,
                              std::span<const RaisedAlert> alerts);

struct IncidentTypeStats {
  int incidents = 0;
  int detected = 0;
  std::vector<std::int64_t> time_to_detect_ms;
  int unexpected = 0;
};

struct AlertKindStats {
  int raised = 0;
  int matched = 0;
  int unmatched = 0;  // false alerts for person-related kinds, "other alerts" otherwise
};

struct EvaluationSummary {
  int households = 0;
  int days = 0;
  std::uint64_t seed = 0;
  std::map<std::string, IncidentTypeStats> types;
  std::map<std::string, AlertKindStats> kinds;

  double household_months() const { return households * days / 30.0; }
  void add(const HouseholdOutcome& outcome);
};

// The median (mean of the two middle values for an even count); std::nullopt when empty.
std::optional<std::int64_t> median_ms(std::vector<std::int64_t> values);
// "h:mm", e.g. "4:05", "36:00"; "-" for std::nullopt.
std::string format_hours_minutes(std::optional<std::int64_t> ms);

std::string format_summary_table(const EvaluationSummary& summary);
nlohmann::ordered_json summary_json(const EvaluationSummary& summary);

struct EvaluateOptions {
  std::filesystem::path gateway;  // the homesafe-gateway binary
  int households = 100;
  int days = 30;
  std::uint64_t seed = 1;
  std::int64_t start_ms = 0;  // local midnight of the first day
  std::filesystem::path work;
  int jobs = 2;
  bool plain_config = false;
  double other_incident_p = 0.5;  // chance of a second incident besides the fall
};

// The incident count of household `index`: a fall, plus one other with other_incident_p.
int evaluation_incident_count(const EvaluateOptions& options, int index);
// The household's simulation options (seed + index, id h001...).
HouseholdOptions evaluation_household(const EvaluateOptions& options, int index);

// Runs the evaluation; the table goes to `out`, progress and problems to `err`, the summary to
// WORK/summary.json. Returns 0 when it ran, 1 when a replay failed or a file could not be
// written.
int run_evaluate(const EvaluateOptions& options, std::ostream& out, std::ostream& err);

}  // namespace homesafe::sim
