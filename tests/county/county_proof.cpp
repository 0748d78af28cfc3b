// homesafe_county_proof: the county-scale proof of issue 10 (tests/county/README.md).
//
// N simulated hubs (own broker credentials each, outbox behaviour) publish QoS 1 events through a
// private Mosquitto (password file + ACL, persistence, raised queue limits) into ingest workers
// (`homesafe-township --role ingest`, MQTT shared subscription) and one API process over a
// private PostgreSQL. During the run: kill -9 of a worker and restart, a worker killed while its
// batch transaction is open (HOMESAFE_TOWNSHIP_FAULT_HOLD_COMMIT_MS), pg_terminate_backend of the
// workers' connections, broker stop and start on the same port and persistence. Afterwards every
// event must be in the database exactly once, no gaps per hub, ingest_stats consistent with
// duplicates absorbed; alarm latency (hub publish -> commit, PostgreSQL commit timestamps) is
// reported normally and during the faults. Exit 0: all held; 1: a violation (each printed);
// 2: bad usage or set-up failure; 77: PostgreSQL is not installed (CTest: skipped).
//
// Every process it starts listens on 127.0.0.1 only and is stopped by its PID.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hub_fleet.hpp"
#include "pg_client.hpp"
#include "support/mosquitto.hpp"
#include "support/postgres.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace homesafe::test::county {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kSkip = 77;
constexpr const char* kShareGroup = "homesafe-ingest";
constexpr const char* kClientId = "county-township";
constexpr const char* kTownshipUser = "township";

struct Options {
  std::string township = "homesafe-township";
  int hubs = 2000;
  int seconds = 180;
  int workers = 3;
  int alarm_watchers = 2;
  double rate = 200;  // new events/s over all hubs
  double alarm_share = 0.05;
  long burst = 0;
  int ack_timeout_ms = 5000;
  int window = 8;
  int drain_seconds = 300;
  int hold_commit_ms = 4000;
  bool faults = true;
  std::string fault_list = "kill,commit,terminate,broker";  // which faults, in this order
  bool pg_fsync = false;
  bool hub_clean_session = false;
  std::string work;
  std::string batch;  // extra `ingest:` keys, e.g. "batch_max: 500"
};

const SteadyClock::time_point g_start = SteadyClock::now();

double since_start() {
  return std::chrono::duration<double>(SteadyClock::now() - g_start).count();
}

void say(const std::string& text) {
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "[county %7.1fs] ", since_start());
  std::cerr << stamp << text << std::endl;
}

std::string fixed(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string random_hex(std::size_t digits) {
  std::random_device rd;
  std::string out;
  const char* hex = "0123456789abcdef";
  for (std::size_t i = 0; i < digits; ++i) out += hex[rd() % 16];
  return out;
}

std::string hub_id(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "c%05d", i);
  return buf;
}

int usage() {
  std::fputs(
      "usage: homesafe_county_proof [--township BIN] [--hubs N] [--seconds S] [--workers W]\n"
      "         [--rate EVENTS_PER_S] [--alarm-share F] [--burst N] [--ack-timeout-ms MS]\n"
      "         [--window N] [--alarm-watchers N] [--drain-seconds S] [--no-faults]\n"
      "         [--faults kill,commit,terminate,broker] [--pg-fsync] [--hub-clean-session]\n"
      "         [--batch \"batch_max: 500\"] [--work DIR]\n",
      stderr);
  return 2;
}

// The verdicts: every violation is printed and makes the exit status 1.
struct Verdict {
  std::vector<std::string> violations;
  void fail(const std::string& what) {
    violations.push_back(what);
    std::cout << "VIOLATION: " << what << std::endl;
  }
  void check(bool ok, const std::string& what) {
    if (!ok) fail(what);
  }
};

// ------------------------------------------------------------------------------------------------
// homesafe-township processes.

struct Township {
  std::string role;      // ingest | api | all
  std::string instance;  // w1, w2, ..., api
  fs::path config;
  int starts = 0;
  std::unique_ptr<Process> process{};
  fs::path log{};  // of the current start
};

class Fleetctl {
 public:
  Fleetctl(const Options& o, const fs::path& dir, bool roles) : o_(o), dir_(dir), roles_(roles) {}

  void start(Township& t, std::map<std::string, std::string> env = {}) {
    ++t.starts;
    ProcessOptions po;
    po.env = std::move(env);
    t.log = dir_ / (t.instance + "-" + std::to_string(t.starts) + ".log");
    po.stdout_path = t.log;
    po.stderr_path = t.log;
    std::vector<std::string> argv{o_.township, "--config", t.config.string()};
    if (roles_) {
      argv.insert(argv.end(), {"--role", t.role, "--instance", t.instance});
    }
    t.process = std::make_unique<Process>(argv, po);
    const auto deadline = SteadyClock::now() + 60s;
    for (;;) {
      if (read_file(t.log).find("homesafe-township ready") != std::string::npos) break;
      if (!t.process->running()) {
        throw std::runtime_error(t.instance + " exited at start-up:\n" + read_file(t.log));
      }
      if (SteadyClock::now() > deadline) {
        throw std::runtime_error(t.instance + " not ready within 60 s:\n" + read_file(t.log));
      }
      std::this_thread::sleep_for(50ms);
    }
    say(t.instance + " ready (pid " + std::to_string(t.process->pid()) + ")");
  }

 private:
  const Options& o_;
  fs::path dir_;
  bool roles_;
};

std::string tail_lines(const std::string& text, int n) {
  std::size_t pos = text.size();
  for (int i = 0; i <= n && pos > 0; ++i) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos + 1);
}

// ------------------------------------------------------------------------------------------------

struct Window {
  std::string name;
  std::int64_t from_ms = 0;  // wall clock
  std::int64_t to_ms = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i =
      std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size())));
  return v[i];
}

bool worker_mode(const std::string& township, const fs::path& dir) {
  ProcessOptions po;
  po.stdout_path = dir / "usage.txt";
  po.stderr_path = dir / "usage.err";
  Process help({township, "--help"}, po);
  help.wait_for_exit(10s);
  return read_file(po.stdout_path).find("--role") != std::string::npos;
}

std::map<std::string, std::string> read_hub_passwords(const fs::path& csv) {
  std::map<std::string, std::string> out;
  std::istringstream in(read_file(csv));
  std::string line;
  std::getline(in, line);  // header: hub_id,household_id,password
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto a = line.find(',');
    const auto b = line.rfind(',');
    if (a == std::string::npos || a == b) continue;
    // Every field is quoted ("c00001","c00001","6a88…"): ids and hex digits, no quotes inside.
    auto unquote = [](std::string f) {
      if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
      return f;
    };
    out[unquote(line.substr(0, a))] = unquote(line.substr(b + 1));
  }
  return out;
}

int run(const Options& o) {
  if (!Postgres::available()) {
    std::cout << "SKIP: PostgreSQL 15 is not installed here (Debian package postgresql); "
                 "the county proof needs it"
              << std::endl;
    return kSkip;
  }
  std::optional<TempDir> temp;
  fs::path dir;
  if (o.work.empty()) {
    temp.emplace("homesafe-county");
    dir = temp->path();
  } else {
    dir = o.work;
    fs::create_directories(dir);
  }
  const bool roles = worker_mode(o.township, dir);
  const int workers = roles ? o.workers : 1;
  say(std::string("homesafe-township ") +
      (roles ? "has --role: " + std::to_string(workers) + " ingest workers + 1 api process"
             : "has no --role yet: one process (all roles); worker faults act on it"));

  // PostgreSQL: commit timestamps give "row committed" exactly.
  PostgresOptions pg_options;
  pg_options.settings = {"track_commit_timestamp=on", "max_connections=300"};
  if (o.pg_fsync) {
    pg_options.settings.push_back("fsync=on");
    pg_options.settings.push_back("full_page_writes=on");
  }
  Postgres pg(pg_options);
  PgClient(pg.url("postgres")).query("CREATE DATABASE homesafe");
  const std::string db_url = pg.url("homesafe");
  say("postgresql on 127.0.0.1:" + std::to_string(pg.port()));

  // The registry and the broker accounts, made by the township's own commands.
  const std::string township_password = random_hex(24);
  auto write_config = [&](const fs::path& path, const std::string& broker_url, int http_port,
                          bool alarm_watch) {
    std::ofstream c(path);
    c << "storage: {url: \"" << db_url << "\"}\n"
      << "broker: {url: \"" << broker_url << "\", client_id: " << kClientId
      << ", username: " << kTownshipUser << ", password: \"" << township_password << "\"";
    if (roles) {
      c << ", share_group: " << kShareGroup
        << ", alarm_watch: " << (alarm_watch ? "true" : "false");
    }
    c << "}\n"
      << "http: {address: 127.0.0.1, port: " << http_port << "}\n"
      << "silence: {heartbeat_s: 3600}\n";
    if (roles && !o.batch.empty()) c << "ingest: {" << o.batch << "}\n";
  };
  const fs::path cli_config = dir / "cli.yaml";
  write_config(cli_config, "tcp://127.0.0.1:1", free_tcp_port(), false);
  {
    std::ofstream csv(dir / "households.csv");
    csv << "household_id,resident_id,display_name,county,township,village,risk_class,hub_id,"
           "address,caregiver_id,caregiver_name,caregiver_phone,emergency_id,emergency_name,"
           "emergency_phone\n";
    for (int i = 0; i < o.hubs; ++i) {
      // Placeholder people (display name, caregiver) only; the proof logs ids, never these.
      csv << hub_id(i) << ",r-" << hub_id(i) << ",居民" << i << ",南县,乡" << i / 500 << ",村"
          << i % 40 << ",一般," << hub_id(i) << ",地址,c" << i << ",照料人,13800000000,,,\n";
    }
  }
  auto run_cli = [&](std::vector<std::string> argv, const std::string& what) {
    ProcessOptions po;
    po.stdout_path = dir / (what + ".log");
    po.stderr_path = dir / (what + ".err");
    Process p(std::move(argv), po);
    const auto status = p.wait_for_exit(600s);
    if (status != 0) throw std::runtime_error(what + " failed: " + p.describe().substr(0, 3000));
  };
  run_cli({o.township, "import-households", "--config", cli_config.string(),
           (dir / "households.csv").string()},
          "import-households");
  run_cli({o.township, "hub-credentials", "--config", cli_config.string(), "--out",
           (dir / "broker").string()},
          "hub-credentials");
  const auto passwords = read_hub_passwords(dir / "broker" / "hub-credentials.csv");
  if (static_cast<int>(passwords.size()) != o.hubs) {
    throw std::runtime_error("hub-credentials wrote " + std::to_string(passwords.size()) +
                             " accounts for " + std::to_string(o.hubs) + " hubs");
  }
  say(std::to_string(o.hubs) + " households imported, hub accounts written");

  // Mosquitto as docs/deployment.md sets it up for a county.
  MosquittoOptions mq;
  mq.extra_config =
      "allow_anonymous false\n"
      "password_file " +
      (dir / "broker" / "passwd").string() +
      "\n"
      "acl_file " +
      (dir / "broker" / "acl").string() +
      "\n"
      "max_queued_bytes 0\n"
      "max_inflight_messages 100\n"
      "autosave_interval 60\n";
  Mosquitto broker(mq);
  say("mosquitto on " + broker.url() + " (pid " + std::to_string(broker.pid()) + ")");

  // The township processes.
  std::vector<Township> ingest;
  Township api{"api", "api", dir / "api.yaml"};
  for (int i = 1; i <= workers; ++i) {
    Township t{roles ? "ingest" : "all", roles ? "w" + std::to_string(i) : "all",
               dir / ((roles ? "w" + std::to_string(i) : std::string("all")) + ".yaml")};
    write_config(t.config, broker.url(), free_tcp_port(),
                 roles && workers > 1 && i <= o.alarm_watchers);
    ingest.push_back(std::move(t));
  }
  Fleetctl ctl(o, dir, roles);
  for (auto& t : ingest) ctl.start(t);
  if (roles) {
    write_config(api.config, broker.url(), free_tcp_port(), false);
    ctl.start(api);
  }

  // The hubs.
  FleetOptions fo;
  fo.broker_url = broker.url();
  fo.epoch = random_hex(8);
  fo.rate = o.rate;
  fo.alarm_share = o.alarm_share;
  fo.burst = o.burst;
  fo.ack_timeout = std::chrono::milliseconds(o.ack_timeout_ms);
  fo.window = static_cast<std::size_t>(o.window);
  fo.clean_session = o.hub_clean_session;
  for (int i = 0; i < o.hubs; ++i) fo.hubs.push_back({hub_id(i), passwords.at(hub_id(i))});
  HubFleet fleet(fo);
  fleet.connect_all(120s);
  say(std::to_string(o.hubs) + " hubs connected with their own accounts");
  const std::int64_t run_from_ms = wall_ms();
  fleet.start();

  Verdict verdict;
  std::vector<Window> windows;
  const auto run_start = SteadyClock::now();
  auto progress = [&] {
    const auto c = fleet.counters();
    say("events " + std::to_string(c.generated) + ", acked " + std::to_string(c.acks) +
        ", in outboxes " + std::to_string(c.outbox) + ", resent " + std::to_string(c.resent) +
        ", stale acks " + std::to_string(c.stale_acks) + ", connection losses " +
        std::to_string(c.connection_losses) + ", clients replaced " +
        std::to_string(c.clients_replaced));
  };
  auto wait_until_second = [&](double at) {
    auto next_progress = SteadyClock::now() + 10s;
    while (SteadyClock::now() - run_start < std::chrono::duration<double>(at)) {
      std::this_thread::sleep_for(100ms);
      if (SteadyClock::now() >= next_progress) {
        progress();
        next_progress += 10s;
      }
    }
  };
  auto db_pids = [&](const std::string& where) {
    std::vector<std::string> out;
    PgClient c(db_url);
    for (const auto& row : c.query("SELECT pid FROM pg_stat_activity WHERE " + where)) {
      out.push_back(row[0].value_or(""));
    }
    return out;
  };
  auto close_window = [&](Window w) {
    w.to_ms = wall_ms() + o.ack_timeout_ms + 1000;  // resends of what the fault cost
    windows.push_back(std::move(w));
  };

  if (o.faults) {
    const double s = o.seconds;
    auto wanted = [&](const std::string& fault) {
      return ("," + o.fault_list + ",").find("," + fault + ",") != std::string::npos;
    };
    // 1. kill -9 of a worker, restarted.
    wait_until_second(0.15 * s);
    if (wanted("kill")) {
      Township& t = ingest[0];
      Window w{"kill -9 " + t.instance, wall_ms()};
      say("fault: kill -9 " + t.instance + " (pid " + std::to_string(t.process->pid()) + ")");
      t.process->kill(SIGKILL);
      t.process->wait_for_exit(10s);
      std::this_thread::sleep_for(2s);
      ctl.start(t);
      close_window(std::move(w));
    }
    // 2. A worker killed while its batch transaction is open (before COMMIT).
    wait_until_second(0.35 * s);
    if (wanted("commit")) {
      Township& t = ingest.back();
      Window w{"kill -9 " + t.instance + " inside a commit", wall_ms()};
      say("fault: " + t.instance + " restarted with HOMESAFE_TOWNSHIP_FAULT_HOLD_COMMIT_MS=" +
          std::to_string(o.hold_commit_ms));
      t.process->stop(10s);
      ctl.start(t, {{"HOMESAFE_TOWNSHIP_FAULT_HOLD_COMMIT_MS", std::to_string(o.hold_commit_ms)}});
      const std::string app = roles ? "homesafe-township/ingest/" + t.instance : "";
      const std::string where =
          "datname = 'homesafe' AND state = 'idle in transaction' AND " +
          (roles ? "application_name = '" + app + "'"
                 : std::string("application_name <> 'homesafe-county-proof'"));
      const auto deadline = SteadyClock::now() + 60s;
      std::vector<std::string> open;
      while ((open = db_pids(where)).empty() && SteadyClock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
      }
      if (open.empty()) {
        verdict.fail("fault 2: " + t.instance +
                     " never showed an open batch transaction (idle in transaction) within 60 s; "
                     "is HOMESAFE_TOWNSHIP_FAULT_HOLD_COMMIT_MS implemented?");
      } else {
        say("fault: kill -9 " + t.instance + " while backend " + open.front() +
            " is idle in transaction");
      }
      t.process->kill(SIGKILL);
      t.process->wait_for_exit(10s);
      // The server rolls the transaction back when the connection drops.
      const auto gone = SteadyClock::now() + 20s;
      while (!open.empty() && !db_pids("pid = " + open.front()).empty() &&
             SteadyClock::now() < gone) {
        std::this_thread::sleep_for(50ms);
      }
      if (!open.empty() && !db_pids("pid = " + open.front()).empty()) {
        verdict.fail("fault 2: backend " + open.front() + " still there 20 s after kill -9");
      }
      ctl.start(t);
      close_window(std::move(w));
    }
    // 3. Every worker's database connection terminated.
    wait_until_second(0.55 * s);
    if (wanted("terminate")) {
      Window w{"pg_terminate_backend (all workers)", wall_ms()};
      PgClient c(db_url);
      const std::string filter =
          roles ? "application_name LIKE 'homesafe-township/%'"
                : "datname = 'homesafe' AND application_name <> 'homesafe-county-proof' AND "
                  "backend_type = 'client backend'";
      const long long n = c.scalar(
          "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE " +
          filter + " AND pid <> pg_backend_pid()) t");
      say("fault: pg_terminate_backend on " + std::to_string(n) + " connections");
      verdict.check(n > 0, "fault 3: no township database connection to terminate");
      std::this_thread::sleep_for(3s);
      close_window(std::move(w));
    }
    // 4. The broker stopped by its PID and started again on its port and persistence file.
    wait_until_second(0.75 * s);
    if (wanted("broker")) {
      Window w{"broker restart", wall_ms()};
      say("fault: mosquitto stopped (pid " + std::to_string(broker.pid()) + ")");
      broker.stop();
      std::this_thread::sleep_for(2s);
      broker.restart();
      say("fault: mosquitto started again (pid " + std::to_string(broker.pid()) + ")");
      close_window(std::move(w));
    }
  }
  wait_until_second(o.seconds);
  fleet.stop_generating();
  const std::int64_t generation_end_ms = wall_ms();
  say("no new events; waiting until every outbox is acknowledged");
  {
    const auto deadline = SteadyClock::now() + std::chrono::seconds(o.drain_seconds);
    auto next_progress = SteadyClock::now() + 10s;
    while (fleet.counters().outbox > 0 && SteadyClock::now() < deadline) {
      std::this_thread::sleep_for(100ms);
      if (SteadyClock::now() >= next_progress) {
        progress();
        next_progress += 10s;
      }
    }
  }
  progress();
  const auto counters = fleet.counters();
  verdict.check(counters.outbox == 0, std::to_string(counters.outbox) +
                                          " events still unacknowledged after " +
                                          std::to_string(o.drain_seconds) + " s of draining");
  std::this_thread::sleep_for(1s);  // duplicates still in flight land in ingest_stats

  // Every process must still be running (the ones we killed were restarted).
  for (auto& t : ingest) {
    verdict.check(t.process->running(),
                  t.instance + " exited on its own:\n" + tail_lines(read_file(t.log), 30));
  }
  if (roles) {
    verdict.check(api.process->running(),
                  "api exited on its own:\n" + tail_lines(read_file(api.log), 30));
  }

  // ---------------------------------------------------------------------------------------------
  // The database.
  PgClient db(db_url);
  const auto records = fleet.records();
  long long expected = 0, expected_alarms = 0, expected_health = 0;
  for (const auto& r : records) {
    expected += r.events;
    expected_alarms += r.alarms;
    expected_health += r.health;
  }
  std::map<std::string, Row> per_hub;
  for (auto& row : db.query("SELECT hub_id, count(*), count(DISTINCT seq), min(seq), max(seq) "
                            "FROM events GROUP BY hub_id")) {
    per_hub[row[0].value_or("")] = row;
  }
  int hubs_wrong = 0;
  for (const auto& r : records) {
    auto it = per_hub.find(r.hub_id);
    std::string problem;
    if (it == per_hub.end()) {
      if (r.events > 0) problem = "no events stored, expected seq 1.." + std::to_string(r.events);
    } else {
      const Row& row = it->second;
      const long long count = std::stoll(row[1].value_or("0"));
      const long long distinct = std::stoll(row[2].value_or("0"));
      const long long min = std::stoll(row[3].value_or("0"));
      const long long max = std::stoll(row[4].value_or("0"));
      if (count != r.events || distinct != r.events || min != 1 || max != r.events) {
        problem = "stored " + std::to_string(count) + " rows (" + std::to_string(distinct) +
                  " distinct seq, " + std::to_string(min) + ".." + std::to_string(max) +
                  "), expected seq 1.." + std::to_string(r.events) + " once each";
      }
    }
    if (!problem.empty() && ++hubs_wrong <= 10) verdict.fail("hub " + r.hub_id + ": " + problem);
  }
  if (hubs_wrong > 10) {
    verdict.fail(std::to_string(hubs_wrong) + " hubs in all have missing or doubled events");
  }
  const long long rows = db.scalar("SELECT count(*) FROM events");
  const long long doubled = db.scalar(
      "SELECT count(*) FROM (SELECT event_id FROM events GROUP BY event_id "
      "HAVING count(*) > 1) d");
  const long long keys = db.scalar("SELECT count(*) FROM event_keys");
  const long long alerts = db.scalar("SELECT count(*) FROM alerts WHERE source = 'hub'");
  const long long health = db.scalar("SELECT count(*) FROM device_health");
  verdict.check(rows == expected, "events holds " + std::to_string(rows) + " rows, the hubs sent " +
                                      std::to_string(expected) + " distinct events");
  verdict.check(doubled == 0, std::to_string(doubled) + " event ids are stored more than once");
  verdict.check(keys == rows, "event_keys holds " + std::to_string(keys) + " keys for " +
                                  std::to_string(rows) + " events");
  verdict.check(alerts == expected_alarms, "alerts holds " + std::to_string(alerts) +
                                               " hub alerts, the hubs raised " +
                                               std::to_string(expected_alarms));
  verdict.check(health == expected_health, "device_health holds " + std::to_string(health) +
                                               " rows, the hubs sent " +
                                               std::to_string(expected_health));

  // ingest_stats (contract: updated in each batch's transaction).
  const bool have_stats = db.scalar(
                              "SELECT count(*) FROM information_schema.tables WHERE table_name = "
                              "'ingest_stats'") > 0;
  long long stored = 0, duplicates = 0, rejected = 0;
  std::vector<std::string> stat_lines;
  if (have_stats) {
    for (const auto& row : db.query("SELECT instance, stored, duplicates, rejected FROM "
                                    "ingest_stats ORDER BY instance")) {
      stored += std::stoll(row[1].value_or("0"));
      duplicates += std::stoll(row[2].value_or("0"));
      rejected += std::stoll(row[3].value_or("0"));
      stat_lines.push_back("| " + row[0].value_or("") + " | " + row[1].value_or("0") + " | " +
                           row[2].value_or("0") + " | " + row[3].value_or("0") + " |");
    }
    verdict.check(stored == rows, "ingest_stats counts " + std::to_string(stored) +
                                      " stored, events holds " + std::to_string(rows));
    verdict.check(rejected == 0,
                  "ingest_stats counts " + std::to_string(rejected) + " rejected messages");
    if (o.faults) {
      verdict.check(duplicates > 0,
                    "ingest_stats counts no duplicates although faults made hubs resend");
    }
  } else if (roles) {
    verdict.fail("table ingest_stats does not exist (worker-mode contract 3)");
  }

  // Latency: hub publish (its `ts`) -> the commit of the row (track_commit_timestamp).
  std::vector<double> normal, faulted, all_alarms;
  const std::int64_t warmup_ms = run_from_ms + 2000;
  for (const auto& row :
       db.query("SELECT ts, (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000)::bigint "
                "FROM events WHERE priority = 0")) {
    if (!row[0] || !row[1]) continue;
    const std::int64_t ts = std::stoll(*row[0]);
    const double latency = static_cast<double>(std::stoll(*row[1]) - ts);
    all_alarms.push_back(latency);
    bool in_fault = false;
    for (const auto& w : windows) in_fault = in_fault || (ts >= w.from_ms && ts <= w.to_ms);
    if (in_fault) {
      faulted.push_back(latency);
    } else if (ts >= warmup_ms && ts <= generation_end_ms) {
      normal.push_back(latency);
    }
  }
  // Commit times of every event: the whole span, and the steady rate between the 5th and 95th
  // percentile (a few events whose ack was lost wait for the hubs' ack timeout before their
  // resend commits; they stretch the span without saying anything about the rate).
  std::vector<std::int64_t> commits;
  for (const auto& row : db.query("SELECT (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * "
                                  "1000)::bigint AS c FROM events ORDER BY c")) {
    if (row[0]) commits.push_back(std::stoll(*row[0]));
  }
  double commit_span_s = 0, steady_rate = 0;
  if (commits.size() >= 2) {
    commit_span_s = static_cast<double>(commits.back() - commits.front()) / 1e3;
    const std::size_t lo = commits.size() / 20, hi = commits.size() * 19 / 20;
    const double span = static_cast<double>(commits[hi] - commits[lo]) / 1e3;
    if (span > 0) steady_rate = static_cast<double>(hi - lo) / span;
  }

  // ---------------------------------------------------------------------------------------------
  std::cout << "\n## County proof: " << o.hubs << " hubs, " << workers
            << (roles ? " ingest workers + 1 api" : " process (role all)") << ", " << o.seconds
            << " s" << (o.faults ? ", with faults" : ", no faults") << "\n\n"
            << "| | |\n|---|---|\n"
            << "| events sent by the hubs | " << expected << " (" << expected_alarms
            << " alarms) |\n"
            << "| rows in events / distinct ids | " << rows << " / " << rows - doubled << " |\n"
            << "| first sends / resends after ack timeout | " << counters.published << " / "
            << counters.resent << " |\n"
            << "| acks for ids no longer in an outbox | " << counters.stale_acks << " |\n"
            << "| hub connection losses | " << counters.connection_losses << " |\n"
            << "| hub clients replaced after short connections | " << counters.clients_replaced
            << " |\n"
            << "| ingest_stats stored / duplicates / rejected | "
            << (have_stats ? std::to_string(stored) + " / " + std::to_string(duplicates) + " / " +
                                 std::to_string(rejected)
                           : std::string("(no table)"))
            << " |\n"
            << "| commit span (first to last event commit) | " << fixed(commit_span_s) << " s |\n"
            << "| events/s into PostgreSQL over that span | "
            << (commit_span_s > 0 ? fixed(static_cast<double>(rows) / commit_span_s, 0) : "-")
            << " |\n"
            << "| events/s between the 5th and 95th percentile commit | " << fixed(steady_rate, 0)
            << " |\n\n";
  if (!stat_lines.empty()) {
    std::cout << "| instance | stored | duplicates | rejected |\n|---|---|---|---|\n";
    for (const auto& l : stat_lines) std::cout << l << "\n";
    std::cout << "\n";
  }
  if (!windows.empty()) {
    std::cout << "Faults (alarms published from the start of a fault to ack timeout + 1 s after "
                 "its end count as \"during faults\"):\n\n";
    for (const auto& w : windows) {
      std::cout << "- " << w.name << ": " << fixed((w.from_ms - run_from_ms) / 1e3) << " s .. "
                << fixed((w.to_ms - run_from_ms) / 1e3) << " s\n";
    }
    std::cout << "\n";
  }
  std::cout << "| alarm latency, hub publish -> committed | alarms | p50 ms | p99 ms | max ms "
               "|\n|---|---|---|---|---|\n";
  auto latency_row = [](const std::string& name, const std::vector<double>& v) {
    std::cout << "| " << name << " | " << v.size() << " | " << fixed(percentile(v, 50), 0) << " | "
              << fixed(percentile(v, 99), 0) << " | " << fixed(percentile(v, 100), 0) << " |\n";
  };
  latency_row("normal", normal);
  latency_row("during faults", faulted);
  latency_row("all", all_alarms);
  std::cout << "\nRESULT workers=" << workers << " hubs=" << o.hubs << " events=" << rows
            << " commit_span_s=" << fixed(commit_span_s, 2) << " events_per_s="
            << (commit_span_s > 0 ? fixed(static_cast<double>(rows) / commit_span_s, 0) : "0")
            << " steady_events_per_s=" << fixed(steady_rate, 0) << " duplicates=" << duplicates
            << " alarm_p50_ms=" << fixed(percentile(normal, 50), 0)
            << " alarm_p99_ms=" << fixed(percentile(normal, 99), 0)
            << " fault_alarm_p50_ms=" << fixed(percentile(faulted, 50), 0)
            << " fault_alarm_p99_ms=" << fixed(percentile(faulted, 99), 0)
            << " violations=" << verdict.violations.size() << std::endl;

  fleet.disconnect_all();
  for (auto& t : ingest) t.process->stop(15s);
  if (roles) api.process->stop(15s);
  broker.stop();
  write_file(dir / "mosquitto.log", broker.log());
  if (!verdict.violations.empty()) {
    std::cout << "\nFAILED: " << verdict.violations.size() << " violation(s) (see above); logs in "
              << dir << (o.work.empty() ? " (set HOMESAFE_KEEP_TEMP=1 to keep them)" : "")
              << std::endl;
    for (auto& t : ingest) {
      std::cout << "--- " << t.instance << " (last lines) ---\n"
                << tail_lines(read_file(t.log), 15);
    }
    return 1;
  }
  std::cout << "\nOK: every event stored exactly once, no gaps, ingest_stats consistent"
            << std::endl;
  return 0;
}

}  // namespace
}  // namespace homesafe::test::county

int main(int argc, char** argv) {
  using homesafe::test::county::Options;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--township") {
        o.township = value();
      } else if (a == "--hubs") {
        o.hubs = std::stoi(value());
      } else if (a == "--seconds") {
        o.seconds = std::stoi(value());
      } else if (a == "--workers") {
        o.workers = std::stoi(value());
      } else if (a == "--alarm-watchers") {
        o.alarm_watchers = std::stoi(value());
      } else if (a == "--rate") {
        o.rate = std::stod(value());
      } else if (a == "--alarm-share") {
        o.alarm_share = std::stod(value());
      } else if (a == "--burst") {
        o.burst = std::stol(value());
      } else if (a == "--ack-timeout-ms") {
        o.ack_timeout_ms = std::stoi(value());
      } else if (a == "--window") {
        o.window = std::stoi(value());
      } else if (a == "--drain-seconds") {
        o.drain_seconds = std::stoi(value());
      } else if (a == "--hold-commit-ms") {
        o.hold_commit_ms = std::stoi(value());
      } else if (a == "--batch") {
        o.batch = value();
      } else if (a == "--work") {
        o.work = value();
      } else if (a == "--no-faults") {
        o.faults = false;
      } else if (a == "--faults") {
        o.fault_list = value();
        o.faults = !o.fault_list.empty();
      } else if (a == "--pg-fsync") {
        o.pg_fsync = true;
      } else if (a == "--hub-clean-session") {
        o.hub_clean_session = true;
      } else {
        return homesafe::test::county::usage();
      }
    } catch (const std::exception& e) {
      std::cerr << e.what() << "\n";
      return homesafe::test::county::usage();
    }
  }
  if (o.hubs < 1 || o.workers < 1 || o.seconds < 1 || o.window < 1) {
    return homesafe::test::county::usage();
  }
  try {
    return homesafe::test::county::run(o);
  } catch (const std::exception& e) {
    std::cout << "SET-UP FAILED: " << e.what() << std::endl;
    return 2;
  }
}
