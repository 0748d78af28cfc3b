#include "homesafe/sim/evaluate.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <istream>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "homesafe/sim/time.hpp"

extern char** environ;

namespace homesafe::sim {
namespace {

bool is_person_kind(std::string_view kind) {
  const auto kinds = person_alert_kinds();
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool detects(const Incident& incident, const RaisedAlert& alert) {
  return contains(incident.detected_by, alert.kind) &&
         (incident.device.empty() || incident.device == alert.device) &&
         alert.ts_ms >= incident.start_ms && alert.ts_ms <= incident.end_ms + kDetectionGraceMs;
}

std::string string_field(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::vector<RaisedAlert> parse_replay_output(std::istream& in, int* bad_lines) {
  std::vector<RaisedAlert> raised;
  std::map<std::string, bool, std::less<>> seen;
  int bad = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    // Notification lines are the bulk of the output: skip them without a full parse.
    if (line.find("\"alert\"") == std::string::npos) continue;
    auto json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      ++bad;
      continue;
    }
    if (string_field(json, "type") != "alert") continue;
    RaisedAlert alert;
    alert.alert_id = string_field(json, "alert_id");
    alert.kind = string_field(json, "kind");
    alert.device = string_field(json, "device");
    const auto ts = parse_iso8601(string_field(json, "ts"));
    if (alert.alert_id.empty() || alert.kind.empty() || !ts) {
      ++bad;
      continue;
    }
    alert.ts_ms = ts->unix_ms;
    // A person-related alert stays open until someone resolves it (nobody does in a replay); when
    // its condition clears and comes back, the gateway tells people again: that is a new alarm.
    const bool returned = string_field(json, "event") == "condition_returned";
    const bool first = seen.emplace(alert.alert_id, true).second;
    if (!returned && (!first || string_field(json, "state") != "open")) continue;
    raised.push_back(std::move(alert));
  }
  if (bad_lines != nullptr) *bad_lines = bad;
  return raised;
}

HouseholdOutcome match_alerts(std::span<const Incident> incidents,
                              std::span<const RaisedAlert> alerts) {
  HouseholdOutcome outcome;
  std::vector<const RaisedAlert*> by_time;
  for (const auto& alert : alerts) by_time.push_back(&alert);
  std::stable_sort(by_time.begin(), by_time.end(),
                   [](const auto* a, const auto* b) { return a->ts_ms < b->ts_ms; });

  for (const auto& incident : incidents) {
    IncidentOutcome result;
    result.type = incident.type;
    result.start_ms = incident.start_ms;
    result.detectable = !incident.detected_by.empty();
    for (const auto* alert : by_time) {
      if (!result.detected && detects(incident, *alert)) {
        result.detected = true;
        result.time_to_detect_ms = alert->ts_ms - incident.start_ms;
        result.alert_kind = alert->kind;
        result.alert_id = alert->alert_id;
      }
      if (contains(incident.expect_none, alert->kind) && alert->ts_ms >= incident.start_ms &&
          alert->ts_ms <= incident.end_ms) {
        ++result.unexpected;
      }
    }
    outcome.incidents.push_back(std::move(result));
  }
  for (const auto* alert : by_time) {
    ++outcome.raised[alert->kind];
    const bool matched = std::any_of(incidents.begin(), incidents.end(),
                                     [&](const Incident& i) { return detects(i, *alert); });
    if (matched) {
      ++outcome.matched[alert->kind];
    } else if (is_person_kind(alert->kind)) {
      outcome.false_alerts.push_back(*alert);
    } else {
      ++outcome.other_alerts[alert->kind];
    }
  }
  return outcome;
}

void EvaluationSummary::add(const HouseholdOutcome& outcome) {
  for (const auto& incident : outcome.incidents) {
    auto& stats = types[std::string(to_string(incident.type))];
    ++stats.incidents;
    stats.unexpected += incident.unexpected;
    if (incident.detected) {
      ++stats.detected;
      stats.time_to_detect_ms.push_back(incident.time_to_detect_ms);
    }
  }
  for (const auto& [kind, count] : outcome.raised) kinds[kind].raised += count;
  for (const auto& [kind, count] : outcome.matched) kinds[kind].matched += count;
  for (const auto& alert : outcome.false_alerts) ++kinds[alert.kind].unmatched;
  for (const auto& [kind, count] : outcome.other_alerts) kinds[kind].unmatched += count;
}

std::optional<std::int64_t> median_ms(std::vector<std::int64_t> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  if (values.size() % 2 == 1) return values[middle];
  return values[middle - 1] + (values[middle] - values[middle - 1]) / 2;
}

std::string format_hours_minutes(std::optional<std::int64_t> ms) {
  if (!ms) return "-";
  const std::int64_t minutes = *ms / 60'000;
  return fmt::format("{}{}:{:02}", *ms < 0 ? "-" : "", std::abs(minutes) / 60,
                     std::abs(minutes) % 60);
}

namespace {

std::optional<std::int64_t> worst_ms(const std::vector<std::int64_t>& values) {
  if (values.empty()) return std::nullopt;
  return *std::max_element(values.begin(), values.end());
}

// Every kind worth a row: the person-related ones, the detecting ones and whatever was raised.
std::vector<std::string> kind_rows(const EvaluationSummary& summary) {
  std::vector<std::string> rows;
  for (auto kind : person_alert_kinds()) rows.emplace_back(kind);
  for (const char* kind : {"power_running", "water_running", "device_offline"}) {
    rows.emplace_back(kind);
  }
  for (const auto& [kind, stats] : summary.kinds) {
    if (!contains(rows, kind)) rows.push_back(kind);
  }
  return rows;
}

}  // namespace

std::string format_summary_table(const EvaluationSummary& summary) {
  const double months = summary.household_months();
  std::string out = fmt::format("{} households x {} days = {:.1f} household-months (seed {})\n\n",
                                summary.households, summary.days, months, summary.seed);
  out += fmt::format("{:<12} {:>9} {:>9} {:>8} {:>8} {:>8}\n", "incident", "incidents", "detected",
                     "rate", "median", "worst");
  for (auto type : all_incident_types()) {
    auto it = summary.types.find(std::string(to_string(type)));
    if (it == summary.types.end() || it->second.incidents == 0) continue;
    const auto& stats = it->second;
    if (type == IncidentType::hospital) {
      out += fmt::format("{:<12} {:>9} {:>9} {:>8} {:>8} {:>8}   person alerts while away: {}\n",
                         "hospital", stats.incidents, "-", "-", "-", "-", stats.unexpected);
      continue;
    }
    out +=
        fmt::format("{:<12} {:>9} {:>9} {:>7.0f}% {:>8} {:>8}\n", to_string(type), stats.incidents,
                    stats.detected, 100.0 * stats.detected / std::max(stats.incidents, 1),
                    format_hours_minutes(median_ms(stats.time_to_detect_ms)),
                    format_hours_minutes(worst_ms(stats.time_to_detect_ms)));
  }
  out += fmt::format("\n{:<18} {:>7} {:>8} {:>7} {:>15}\n", "alert kind", "raised", "matched",
                     "false", "false/hh-month");
  std::string other;
  for (const auto& kind : kind_rows(summary)) {
    const auto it = summary.kinds.find(kind);
    const AlertKindStats stats = it == summary.kinds.end() ? AlertKindStats{} : it->second;
    if (is_person_kind(kind)) {
      out += fmt::format("{:<18} {:>7} {:>8} {:>7} {:>15.3f}\n", kind, stats.raised, stats.matched,
                         stats.unmatched, months > 0 ? stats.unmatched / months : 0.0);
    } else {
      out += fmt::format("{:<18} {:>7} {:>8} {:>7} {:>15}\n", kind, stats.raised, stats.matched,
                         "-", "-");
      if (stats.unmatched > 0) {
        other += fmt::format("{}{} {}", other.empty() ? "" : ", ", kind, stats.unmatched);
      }
    }
  }
  int false_total = 0;
  for (auto kind : person_alert_kinds()) {
    auto it = summary.kinds.find(std::string(kind));
    if (it != summary.kinds.end()) false_total += it->second.unmatched;
  }
  out += fmt::format("{:<18} {:>7} {:>8} {:>7} {:>15.3f}\n", "all person kinds", "", "",
                     false_total, months > 0 ? false_total / months : 0.0);
  out += fmt::format("\nother alerts (not person-related, matching no incident): {}\n",
                     other.empty() ? "none" : other);
  return out;
}

nlohmann::ordered_json summary_json(const EvaluationSummary& summary) {
  const double months = summary.household_months();
  nlohmann::ordered_json root;
  root["households"] = summary.households;
  root["days"] = summary.days;
  root["seed"] = summary.seed;
  root["household_months"] = months;
  root["incidents"] = nlohmann::ordered_json::object();
  for (auto type : all_incident_types()) {
    auto it = summary.types.find(std::string(to_string(type)));
    if (it == summary.types.end()) continue;
    const auto& stats = it->second;
    nlohmann::ordered_json item;
    item["incidents"] = stats.incidents;
    if (type == IncidentType::hospital) {
      item["person_alerts_while_away"] = stats.unexpected;
    } else {
      item["detected"] = stats.detected;
      item["detection_rate"] = stats.incidents > 0 ? 1.0 * stats.detected / stats.incidents : 0.0;
      const auto median = median_ms(stats.time_to_detect_ms);
      const auto worst = worst_ms(stats.time_to_detect_ms);
      item["median_time_to_detect_s"] = median ? nlohmann::ordered_json(*median / 1000) : nullptr;
      item["worst_time_to_detect_s"] = worst ? nlohmann::ordered_json(*worst / 1000) : nullptr;
      auto sorted = stats.time_to_detect_ms;
      std::sort(sorted.begin(), sorted.end());
      item["times_to_detect_s"] = nlohmann::ordered_json::array();
      for (auto ms : sorted) item["times_to_detect_s"].push_back(ms / 1000);
    }
    root["incidents"][std::string(to_string(type))] = std::move(item);
  }
  root["alerts"] = nlohmann::ordered_json::object();
  int false_total = 0;
  for (const auto& kind : kind_rows(summary)) {
    const auto it = summary.kinds.find(kind);
    const AlertKindStats stats = it == summary.kinds.end() ? AlertKindStats{} : it->second;
    nlohmann::ordered_json item;
    item["person_related"] = is_person_kind(kind);
    item["raised"] = stats.raised;
    item["matched"] = stats.matched;
    if (is_person_kind(kind)) {
      item["false_alerts"] = stats.unmatched;
      item["false_alerts_per_household_month"] = months > 0 ? stats.unmatched / months : 0.0;
      false_total += stats.unmatched;
    } else {
      item["other_alerts"] = stats.unmatched;
    }
    root["alerts"][kind] = std::move(item);
  }
  root["false_alerts"] = false_total;
  root["false_alerts_per_household_month"] = months > 0 ? false_total / months : 0.0;
  return root;
}

int evaluation_incident_count(const EvaluateOptions& options, int index) {
  PortableRng rng(mix_seed(options.seed + static_cast<std::uint64_t>(index), 4));
  return rng.chance(options.other_incident_p) ? 2 : 1;
}

HouseholdOptions evaluation_household(const EvaluateOptions& options, int index) {
  HouseholdOptions household;
  household.seed = options.seed + static_cast<std::uint64_t>(index);
  household.start_ms = options.start_ms;
  household.days = options.days;
  household.household = fmt::format("h{:03}", index + 1);
  household.random_incidents = evaluation_incident_count(options, index);
  household.plain_config = options.plain_config;
  return household;
}

namespace {

struct ReplayResult {
  bool ok = false;
  std::string problem;
};

// `gateway replay --config HUB --input MESSAGES`, stdout to OUT and stderr to ERR.
ReplayResult run_replay(const std::filesystem::path& gateway, const std::filesystem::path& dir) {
  const std::string program = gateway.string();
  const std::string config = (dir / "hub.yaml").string();
  const std::string input = (dir / "messages.jsonl").string();
  const std::string out = (dir / "replay.out").string();
  const std::string err = (dir / "replay.err").string();
  std::vector<std::string> args{program, "replay", "--config", config, "--input", input};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return {false, fmt::format("cannot run {}: {}", program, std::strerror(spawned))};
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return {false, fmt::format("waitpid: {}", std::strerror(errno))};
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {true, {}};
  std::string reason = WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                         : fmt::format("killed by signal {}", WTERMSIG(status));
  std::ifstream log(err);
  std::string first_lines;
  std::string line;
  for (int i = 0; i < 5 && std::getline(log, line); ++i) first_lines += "\n    " + line;
  return {false, fmt::format("replay failed ({}); see {}{}", reason, err, first_lines)};
}

}  // namespace

int run_evaluate(const EvaluateOptions& options, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  std::filesystem::create_directories(options.work, ec);
  if (ec) {
    err << fmt::format("homesafe-sim: cannot create {}: {}\n", options.work.string(), ec.message());
    return 1;
  }
  const int n = options.households;
  std::vector<std::optional<HouseholdOutcome>> outcomes(static_cast<std::size_t>(n));
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;  // err, failure and timing
  std::vector<std::string> failures;
  double generate_seconds = 0;
  double replay_seconds = 0;
  int done = 0;
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();

  auto worker = [&] {
    for (int i = next++; i < n && !failed; i = next++) {
      const auto household = evaluation_household(options, i);
      const auto dir = options.work / household.household;
      const auto t0 = Clock::now();
      HouseholdRun run;
      try {
        run = simulate_household(household);
        write_household(household, run, dir);
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex);
        failures.push_back(fmt::format("{}: {}", household.household, e.what()));
        failed = true;
        return;
      }
      const auto t1 = Clock::now();
      const auto replay = run_replay(options.gateway, dir);
      const auto t2 = Clock::now();
      if (!replay.ok) {
        std::lock_guard lock(mutex);
        failures.push_back(fmt::format("{}: {}", household.household, replay.problem));
        failed = true;
        return;
      }
      std::ifstream output(dir / "replay.out");
      int bad = 0;
      const auto alerts = parse_replay_output(output, &bad);
      outcomes[static_cast<std::size_t>(i)] = match_alerts(run.incidents, alerts);
      std::lock_guard lock(mutex);
      generate_seconds += std::chrono::duration<double>(t1 - t0).count();
      replay_seconds += std::chrono::duration<double>(t2 - t1).count();
      ++done;
      err << fmt::format("household {}/{} {}: {} messages, {} incident(s), {} alert(s){}\n", done,
                         n, household.household, run.messages.size(), run.incidents.size(),
                         alerts.size(), bad > 0 ? fmt::format(", {} bad output lines", bad) : "");
    }
  };
  std::vector<std::thread> threads;
  const int jobs = std::clamp(options.jobs, 1, std::max(n, 1));
  for (int j = 0; j < jobs; ++j) threads.emplace_back(worker);
  for (auto& thread : threads) thread.join();

  if (failed) {
    for (const auto& failure : failures) err << "homesafe-sim: " << failure << '\n';
    return 1;
  }
  EvaluationSummary summary;
  summary.households = n;
  summary.days = options.days;
  summary.seed = options.seed;
  for (const auto& outcome : outcomes) {
    if (outcome) summary.add(*outcome);
  }
  const double wall = std::chrono::duration<double>(Clock::now() - started).count();
  const double months = summary.household_months();
  err << fmt::format(
      "generation: {:.1f} s for {:.1f} household-months ({:.2f} per second per job); "
      "replay: {:.1f} s; wall {:.1f} s with {} job(s)\n",
      generate_seconds, months, generate_seconds > 0 ? months / generate_seconds : 0.0,
      replay_seconds, wall, jobs);
  out << format_summary_table(summary);

  auto json = summary_json(summary);
  json["generation_seconds"] = generate_seconds;
  json["replay_seconds"] = replay_seconds;
  json["wall_seconds"] = wall;
  const auto path = options.work / "summary.json";
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << json.dump(2) << '\n';
  file.close();
  if (!file) {
    err << "homesafe-sim: cannot write " << path.string() << '\n';
    return 1;
  }
  out << "summary: " << path.string() << '\n';
  return 0;
}

}  // namespace homesafe::sim
