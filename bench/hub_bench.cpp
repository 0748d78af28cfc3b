// homesafe_hub_bench: the gateway against the local broker's raw delivery and a Node-RED flow,
// in the same run (issue 9). Every process it starts (mosquitto, homesafe-gateway, Node-RED,
// valgrind) listens or connects on 127.0.0.1 only and is stopped by its PID.
//
// What it measures (bench/README.md explains each part):
//   throughput   QoS 0 / QoS 1 flood through a real broker: raw null subscriber, gateway, Node-RED
//   onecore      the same with every process pinned to one CPU (what each target costs the hub)
//   latency      call-button press -> first notification on homesafe/H/notify, 2,000 msg/s
//                background
//   footprint    RSS idle, after an hour of 30-device traffic (compressed), peak (VmHWM)
//   cost         callgrind instructions per reading on a fixed replay (deterministic)
//   scaling      10 / 100 / 1,000 devices per hub
//   replay       one simulated household-month through `homesafe-gateway replay`
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mqtt/async_client.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using namespace homesafe::bench;

namespace {

constexpr const char* kHousehold = "hb";
constexpr int kButtons = 20;  // call buttons in every bench config (btn-000 is the sentinel)

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  std::string gateway;
  std::string sim;
  std::string node_red;  // path to node-red's red.js; empty: Node-RED comparison skipped
  std::string node = "node";
  std::string mosquitto = "/usr/sbin/mosquitto";
  std::string valgrind = "valgrind";
  std::string work = "/tmp/homesafe-bench";
  std::string markdown;  // write the tables here too
  std::string only;      // comma-separated parts; empty = all
  int runs = 3;
  long throughput_messages = 200'000;
  int presses = 1000;
  double background_rate = 2000;
  long scaling_messages = 50'000;
  long callgrind_messages = 5000;
  bool quick = false;
};

bool wants(const Options& o, const std::string& part) {
  if (o.only.empty()) return true;
  std::stringstream ss(o.only);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item == part) return true;
  }
  return false;
}

// The Options-based call of the shared start_broker().
Broker start_broker(const Options& o, const std::string& dir, bool default_queue = false) {
  return homesafe::bench::start_broker(o.mosquitto, dir, default_queue);
}

// ---------------------------------------------------------------------------------------------
// Device traffic and hub configs.

std::string dev_topic(const std::string& device) {
  return std::string("homesafe/") + kHousehold + "/dev/" + device + "/state";
}
std::string plug_id(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "plug-%04d", i);
  return buf;
}
std::string button_id(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "btn-%03d", i);
  return buf;
}

// The "meters chatter" load: metering plugs reporting power and energy (two readings each).
class PlugTraffic {
 public:
  explicit PlugTraffic(int devices) : energy_(static_cast<std::size_t>(devices), 1.0) {}
  std::pair<std::string, std::string> next() {
    const int i = static_cast<int>(n_ % energy_.size());
    ++n_;
    energy_[static_cast<std::size_t>(i)] += 0.001;
    char buf[96];
    std::snprintf(buf, sizeof buf, "{\"power\":%.1f,\"energy\":%.3f}",
                  static_cast<double>((n_ * 7919) % 900) / 10.0 + 5.0,
                  energy_[static_cast<std::size_t>(i)]);
    return {dev_topic(plug_id(i)), buf};
  }

 private:
  std::vector<double> energy_;
  long n_ = 0;
};

// A household of 30 devices as a hub has them, each reporting like its integration does.
struct Household30 {
  struct Dev {
    std::string id, kind, location;
  };
  std::vector<Dev> devices;
  Household30() {
    auto add = [&](const std::string& kind, const std::string& prefix, int n) {
      for (int i = 0; i < n; ++i)
        devices.push_back({prefix + std::to_string(i), kind, prefix + std::to_string(i)});
    };
    add("plug", "hplug-", 6);
    add("water_meter", "meter-", 3);
    add("motion", "motion-", 6);
    add("contact", "door-", 4);
    add("temperature", "temp-", 4);
    add("smoke", "smoke-", 2);
    add("gas", "gas-", 1);
    add("water_leak", "leak-", 2);
    add("co", "co-", 1);
    add("call_button", "sos-", 1);
  }
  // The n-th report (round robin), no alarms.
  std::pair<std::string, std::string> report(long n) const {
    const auto& d = devices[static_cast<std::size_t>(n % static_cast<long>(devices.size()))];
    const long round = n / static_cast<long>(devices.size());
    std::string p;
    if (d.kind == "plug") {
      p = "{\"power\":" + fmt_num(static_cast<double>(round % 50) + 2.5, 1) +
          ",\"energy\":" + fmt_num(1.0 + static_cast<double>(round) * 0.001, 3) + "}";
    } else if (d.kind == "water_meter") {
      p = "{\"water_total_l\":" + fmt_num(1000.0 + static_cast<double>(round / 20), 1) +
          ",\"battery\":90,\"battery_low\":false}";
    } else if (d.kind == "motion") {
      p = std::string("{\"occupancy\":") + (round % 2 ? "true" : "false") +
          ",\"battery\":90,\"battery_low\":false,\"tamper\":false}";
    } else if (d.kind == "contact") {
      p = "{\"contact\":true,\"battery\":90,\"battery_low\":false,\"tamper\":false}";
    } else if (d.kind == "temperature") {
      p = "{\"temperature\":" + fmt_num(20.0 + static_cast<double>(round % 30) / 10.0, 1) +
          ",\"humidity\":50,\"battery\":90,\"battery_low\":false}";
    } else if (d.kind == "smoke") {
      p = "{\"smoke\":false,\"battery\":100,\"battery_low\":false,\"tamper\":false,\"test\":false}";
    } else if (d.kind == "gas") {
      p = "{\"gas\":false,\"tamper\":false,\"test\":false}";
    } else if (d.kind == "co") {
      p = "{\"carbon_monoxide\":false,\"battery\":100,\"battery_low\":false,\"tamper\":false,"
          "\"test\":false}";
    } else if (d.kind == "water_leak") {
      p = "{\"water_leak\":false,\"battery\":100,\"battery_low\":false}";
    } else {
      p = "{\"battery\":100,\"battery_low\":false}";
    }
    return {dev_topic(d.id), p};
  }
};

void write_config(const std::string& path, const Broker* broker, const std::string& db, int plugs,
                  bool household30, const std::string& client_id = "homesafe-hb",
                  const std::vector<std::string>& rules_off = {}) {
  std::ofstream y(path);
  y << "# Generated by homesafe_hub_bench (bench/hub_bench.cpp).\n"
    << "household: {id: " << kHousehold << ", name: \"bench household\", timezone: Asia/Shanghai}\n"
    << "broker: {url: \"tcp://127.0.0.1:" << (broker ? broker->port : 1883)
    << "\", client_id: " << client_id << "}\n"
    << "storage: {path: \"" << db << "\", telemetry_max_rows: 1000000000}\n"
    << "devices:\n";
  for (int i = 0; i < plugs; ++i) {
    y << "  - {id: " << plug_id(i) << ", kind: plug, format: native, location: " << plug_id(i)
      << ", power: mains}\n";
  }
  for (int i = 0; i < kButtons; ++i) {
    y << "  - {id: " << button_id(i)
      << ", kind: call_button, format: native, location: " << button_id(i)
      << ", call_actions: [sos]}\n";
  }
  if (household30) {
    for (const auto& d : Household30().devices) {
      y << "  - {id: " << d.id << ", kind: " << d.kind
        << ", format: native, location: " << d.location << "}\n";
    }
  }
  y << "contacts:\n"
    << "  - {id: li, name: \"bench caregiver\", role: caregiver, channels: [{type: mqtt}]}\n";
  if (!rules_off.empty()) {
    y << "rules:\n";
    for (const auto& rule : rules_off) y << "  " << rule << ": off\n";
  }
}

// ---------------------------------------------------------------------------------------------
// Targets: what sits behind the broker.

enum class Target { raw, gateway, node_red };

std::string target_name(Target t) {
  switch (t) {
    case Target::raw:
      return "broker raw (null subscriber)";
    case Target::gateway:
      return "homesafe-gateway";
    case Target::node_red:
      return "Node-RED flow";
  }
  return "?";
}

struct Instance {
  Target target = Target::raw;
  Broker broker;
  pid_t pid = -1;  // gateway or node; -1 for raw
  std::string dir;
  std::string db;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size())
    text.replace(pos, from.size(), to);
}

std::string g_bench_dir;  // the source folder bench/ (flows.json, settings.js)

// Starts the broker and the target; returns when the target is subscribed and ready.
Instance start_instance(const Options& o, Target target, const std::string& dir, int plugs,
                        bool household30 = false, bool default_queue = false,
                        const std::string& store_dir = {}) {
  fs::create_directories(dir);
  Instance inst;
  inst.target = target;
  inst.dir = dir;
  inst.broker = start_broker(o, dir, default_queue);
  if (target == Target::gateway) {
    inst.db = (store_dir.empty() ? dir : store_dir) + "/hub.db";
    const std::string config = dir + "/hub.yaml";
    write_config(config, &inst.broker, inst.db, plugs, household30);
    if (run_wait({o.gateway, "check-config", config}, dir + "/check-config.log") != 0) {
      throw std::runtime_error("generated config rejected: see " + dir + "/check-config.log");
    }
    Latch online;
    Client status(inst.broker, "bench-status", [&](const std::string&, const std::string& p) {
      if (p == "online") online.set();
    });
    status.subscribe(std::string("homesafe/") + kHousehold + "/gateway/status", 1);
    inst.pid = spawn({o.gateway, "--config", config}, dir + "/gateway.log");
    if (!online.wait_for(30s)) throw std::runtime_error("gateway did not come online: " + dir);
    std::this_thread::sleep_for(300ms);  // its subscriptions went out before "online"
  } else if (target == Target::node_red) {
    const std::string user = dir + "/node-red-user";
    fs::create_directories(user);
    std::string flows = read_file(g_bench_dir + "/node-red/flows.json");
    replace_all(flows, "__PORT__", std::to_string(inst.broker.port));
    replace_all(flows, "__HOUSEHOLD__", kHousehold);
    std::ofstream(user + "/flows.json") << flows;
    std::string settings = read_file(g_bench_dir + "/node-red/settings.js");
    replace_all(settings, "__UI_PORT__", std::to_string(free_port()));
    std::ofstream(user + "/settings.js") << settings;
    inst.pid = spawn({o.node, o.node_red, "--userDir", user, "--settings", user + "/settings.js"},
                     dir + "/node-red.log", user);
    // Ready when the flow answers a probe.
    Latch pong;
    Client probe(inst.broker, "bench-probe", [&](const std::string&, const std::string& p) {
      if (p.find("pong") != std::string::npos) pong.set();
    });
    probe.subscribe(std::string("homesafe/") + kHousehold + "/notify", 1);
    bool ready = false;
    for (int i = 0; i < 240 && !ready; ++i) {
      if (!alive(inst.pid)) break;
      probe.publish(dev_topic("bench-probe"), "{\"action\":\"ping\"}", 1)->wait();
      ready = pong.wait_for(250ms);
    }
    if (!ready) throw std::runtime_error("Node-RED did not start: see " + dir + "/node-red.log");
    std::this_thread::sleep_for(300ms);
  }
  return inst;
}

void stop_instance(Instance& inst) {
  if (inst.pid > 0) stop(inst.pid);
  inst.pid = -1;
  if (inst.broker.pid > 0) stop(inst.broker.pid);
  inst.broker.pid = -1;
}

long sqlite_count(const std::string& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  long n = -1;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(handle, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      n = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(handle);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Throughput: flood N plug reports, then a call-button press as the sentinel. The run ends when
// the target has handled the sentinel (raw: received it; gateway and Node-RED: notified for it).
// Messages arrive in order on each connection, so everything before it has been handled.

// The number after the last `mark` in `text` (a count a child printed as it stopped); 0 if none.
long number_after_last(const std::string& text, const std::string& mark) {
  const auto at = text.rfind(mark);
  return at == std::string::npos ? 0 : std::atol(text.c_str() + at + mark.size());
}

struct Throughput {
  double seconds = 0;
  long sent = 0;
  long handled = 0;  // messages the target processed (gateway: from its log line at the stop)
  double rate = 0;   // handled / seconds
  long lost = 0;
  double cpu_s = 0;
  long rss_kb = 0;
  long hwm_kb = 0;
  bool timed_out = false;
};

Throughput run_throughput(const Options& o, Target target, int qos, int plugs, long messages,
                          const std::string& dir, bool default_queue = false) {
  Instance inst = start_instance(o, target, dir, plugs, false, default_queue);
  Throughput r;
  r.sent = messages;
  std::atomic<long> node_red_processed{-1};
  Latch done;
  const std::string sentinel_device = button_id(0);
  const std::string sentinel_topic = dev_topic(sentinel_device);
  std::unique_ptr<Client> receiver;
  pid_t null_pid = -1;
  std::thread null_waiter;
  const std::string null_out = dir + "/null-subscriber.out";
  if (target == Target::raw) {
    // The null subscriber in a process of its own, as the gateway is: in this process its Paho
    // client would share Paho's one receive thread and client mutex with the publisher, and the
    // "raw" rate would measure that contention instead of the broker.
    fs::remove(null_out);
    null_pid = spawn({"/proc/self/exe", "--null-subscriber", std::to_string(inst.broker.port),
                      std::to_string(qos), sentinel_topic},
                     null_out);
    const auto ready_by = Clock::now() + 20s;
    while (read_file(null_out).find("ready") == std::string::npos) {
      if (Clock::now() > ready_by || !alive(null_pid)) {
        throw std::runtime_error("null subscriber did not start: see " + null_out);
      }
      std::this_thread::sleep_for(10ms);
    }
    null_waiter = std::thread([&, pid = null_pid] {
      int status = 0;
      ::waitpid(pid, &status, 0);  // it exits when the sentinel arrives
      done.set();
    });
  } else {
    receiver = std::make_unique<Client>(
        inst.broker, "bench-notify", [&](const std::string&, const std::string& payload) {
          auto j = nlohmann::json::parse(payload, nullptr, false);
          if (!j.is_object() || j.value("location", "") != sentinel_device) return;
          long expected = -1;
          if (j.contains("processed") && node_red_processed.compare_exchange_strong(expected, 0)) {
            node_red_processed = j["processed"].get<long>() - 1;
          }
          done.set();
        });
    receiver->subscribe(std::string("homesafe/") + kHousehold + "/notify", 1);
  }
  Client publisher(inst.broker, "bench-load");
  PlugTraffic traffic(plugs);
  std::vector<std::pair<std::string, std::string>> load;
  load.reserve(static_cast<std::size_t>(messages));
  for (long i = 0; i < messages; ++i) load.push_back(traffic.next());

  const double cpu0 = inst.pid > 0 ? cpu_seconds(inst.pid) : 0;
  const auto t0 = Clock::now();
  for (const auto& [topic, payload] : load) publisher.publish_windowed(topic, payload, qos);
  publisher.publish_windowed(sentinel_topic, "{\"action\":\"sos\"}", 1);
  long sentinels = 1;
  publisher.flush();
  // A broker that drops for a slow subscriber may drop the sentinel too: press again every 2 s
  // (a later press joins the open alert; only the first answer counts).
  const auto deadline = t0 + std::chrono::milliseconds(60'000 + messages * 5);
  r.timed_out = true;
  while (Clock::now() < deadline) {
    if (done.wait_for(2s)) {
      r.timed_out = false;
      break;
    }
    publisher.publish(sentinel_topic, "{\"action\":\"sos\"}", 1)->wait();
    ++sentinels;
  }
  const auto t1 = Clock::now();
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  if (inst.pid > 0) {
    r.cpu_s = cpu_seconds(inst.pid) - cpu0;
    const auto st = proc_status(inst.pid);
    r.rss_kb = st.rss_kb;
    r.hwm_kb = st.hwm_kb;
  }
  receiver.reset();
  if (target == Target::raw) {
    if (r.timed_out) ::kill(null_pid, SIGKILL);
    null_waiter.join();
    {
      std::lock_guard lock(g_children_mutex);
      std::erase(g_children, null_pid);
    }
    const std::string printed = read_file(null_out);
    r.handled = number_after_last(printed, "received ");
    r.cpu_s = static_cast<double>(number_after_last(printed, "cpu_us ")) / 1e6;
  } else if (target == Target::node_red) {
    r.handled = node_red_processed.load();
  }
  stop_instance(inst);
  if (target == Target::gateway) {
    // "stopped: N messages handled": every message the gateway took from the broker (the
    // telemetry table no longer has a row per reading: it keeps a plug's latest of a second).
    const long processed = number_after_last(read_file(dir + "/gateway.log"), "stopped: ");
    r.handled = std::clamp(processed - sentinels, 0L, r.sent);
  }
  r.lost = r.sent - r.handled;
  r.rate = r.seconds > 0 ? static_cast<double>(r.handled) / r.seconds : 0;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Alarm latency: a press on one of kButtons call buttons, 2,000 plug reports/s in the background;
// latency = press published -> first notification for that button on homesafe/H/notify. The
// gateway's alert is resolved through homesafe/H/ack after each press (an open alert absorbs a
// second press of the same button), and the buttons take turns.

struct Latency {
  std::vector<double> ms;
  int missed = 0;
  long alerts_stored = -1;
  NodelayReport nodelay;
};

// store_dir: where the gateway's SQLite file lives (default: the run's folder on disk).
Latency run_latency(const Options& o, Target target, bool force_nodelay, const std::string& dir,
                    const std::string& store_dir = {}) {
  Instance inst = start_instance(o, target, dir, 50, false, false, store_dir);
  Latency r;
  if (inst.pid > 0)
    r.nodelay = nodelay_on_broker_sockets(inst.pid, inst.broker.port, force_nodelay);

  std::mutex mutex;
  std::condition_variable cv;
  std::string want;  // the button (location) of the press in flight
  std::string got_alert;
  bool got = false;
  Clock::time_point got_at;
  auto on_message = [&](const std::string& topic, const std::string& payload) {
    const auto now = Clock::now();
    std::string location;
    std::string alert_id;
    if (target == Target::raw) {
      location = topic;  // the press itself, delivered by the broker
    } else {
      auto j = nlohmann::json::parse(payload, nullptr, false);
      if (!j.is_object()) return;
      location = j.value("location", "");
      alert_id = j.value("alert_id", "");
    }
    std::lock_guard lock(mutex);
    if (got || location != want) return;
    got = true;
    got_at = now;
    got_alert = alert_id;
    cv.notify_all();
  };
  Client receiver(inst.broker, "bench-notify", on_message);
  if (target == Target::raw) {
    receiver.subscribe(std::string("homesafe/") + kHousehold + "/dev/+/state", 1);
  } else {
    receiver.subscribe(std::string("homesafe/") + kHousehold + "/notify", 1);
  }

  // Background: 2,000 plug reports/s at QoS 0, in 5 ms slices.
  std::atomic<bool> stop_background{false};
  Client background(inst.broker, "bench-background");
  std::thread bg([&] {
    PlugTraffic traffic(50);
    const auto slice = 5ms;
    const int per_slice = std::max(1, static_cast<int>(o.background_rate * 0.005));
    auto next = Clock::now();
    while (!stop_background) {
      for (int i = 0; i < per_slice; ++i) {
        auto [topic, payload] = traffic.next();
        background.publish_windowed(topic, payload, 0, 200);
      }
      next += slice;
      std::this_thread::sleep_until(next);
    }
    background.flush();
  });
  std::this_thread::sleep_for(1s);  // background running before the first press

  Client presser(inst.broker, "bench-press");
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> jitter_ms(15, 35);
  for (int i = 0; i < o.presses; ++i) {
    const std::string button = button_id(1 + i % (kButtons - 1));
    {
      std::lock_guard lock(mutex);
      want = target == Target::raw ? dev_topic(button) : button;
      got = false;
    }
    const auto t0 = Clock::now();
    presser.publish(dev_topic(button), "{\"action\":\"sos\",\"battery\":100,\"battery_low\":false}",
                    1);
    std::unique_lock lock(mutex);
    const bool ok = cv.wait_for(lock, 5s, [&] { return got; });
    if (ok) {
      r.ms.push_back(std::chrono::duration<double, std::milli>(got_at - t0).count());
      const std::string alert = got_alert;
      lock.unlock();
      if (target == Target::gateway && !alert.empty()) {
        presser.publish(std::string("homesafe/") + kHousehold + "/ack",
                        "{\"alert_id\":\"" + alert + "\",\"by\":\"li\",\"action\":\"resolve\"," +
                            "\"note\":\"bench\"}",
                        1);
      }
    } else {
      ++r.missed;
      lock.unlock();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(jitter_ms(rng)));
  }
  stop_background = true;
  bg.join();
  stop_instance(inst);
  if (target == Target::gateway) {
    r.alerts_stored = sqlite_count(inst.db, "SELECT count(*) FROM alerts WHERE kind = 'call'");
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Footprint: idle RSS, then an hour of traffic from the 30-device household (10,800 reports:
// every device every 10 s, sent compressed at 2,000/s), RSS after, peak.

struct Footprint {
  long idle_kb = 0;
  long after_kb = 0;
  long hwm_kb = 0;
};

Footprint run_footprint(const Options& o, Target target, const std::string& dir) {
  Instance inst = start_instance(o, target, dir, 0, true);
  Footprint f;
  std::this_thread::sleep_for(2s);
  f.idle_kb = proc_status(inst.pid).rss_kb;
  Latch done;
  Client receiver(inst.broker, "bench-notify", [&](const std::string&, const std::string& p) {
    if (p.find(button_id(0)) != std::string::npos) done.set();
  });
  receiver.subscribe(std::string("homesafe/") + kHousehold + "/notify", 1);
  Client publisher(inst.broker, "bench-load");
  Household30 house;
  const long reports = 3600 / 10 * static_cast<long>(house.devices.size());
  auto next = Clock::now();
  for (long n = 0; n < reports; ++n) {
    auto [topic, payload] = house.report(n);
    publisher.publish_windowed(topic, payload, 1, 200);
    if (n % 10 == 9) {
      next += 5ms;
      std::this_thread::sleep_until(next);
    }
  }
  publisher.publish_windowed(dev_topic(button_id(0)), "{\"action\":\"sos\"}", 1);
  publisher.flush();
  done.wait_for(60s);
  std::this_thread::sleep_for(2s);  // telemetry flush, housekeeping
  const auto st = proc_status(inst.pid);
  f.after_kb = st.rss_kb;
  f.hwm_kb = st.hwm_kb;
  stop_instance(inst);
  return f;
}

// ---------------------------------------------------------------------------------------------
// Cost per reading: instructions (callgrind) of `homesafe-gateway replay` on N and 2N messages of
// the 30-device household; the difference divided by N removes start-up costs.

void write_replay_input(const std::string& path, long messages) {
  std::ofstream out(path);
  Household30 house;
  const std::int64_t start_ms = 1793462400000;  // 2026-11-01T00:00:00+08:00
  for (long n = 0; n < messages; ++n) {
    auto [topic, payload] = house.report(n);
    nlohmann::json line = {
        {"ts", start_ms + n * 333}, {"topic", topic}, {"payload", payload}, {"retain", false}};
    out << line.dump() << "\n";
  }
}

long readings_in(long messages) {
  // Telemetry rows the 30-device household produces per report, counted from the payloads.
  Household30 house;
  long readings = 0;
  for (long n = 0; n < messages; ++n) {
    auto j = nlohmann::json::parse(house.report(n).second);
    readings += static_cast<long>(j.size());
  }
  return readings;
}

std::optional<double> callgrind_instructions(const Options& o, const std::string& config,
                                             const std::string& input, const std::string& dir,
                                             const std::string& tag) {
  const std::string outfile = dir + "/callgrind." + tag + ".out";
  const std::string db = dir + "/replay-" + tag + ".db";
  fs::remove(db);
  const int rc =
      run_wait({o.valgrind, "--tool=callgrind", "--callgrind-out-file=" + outfile, o.gateway,
                "replay", "--config", config, "--input", input, "--store", db},
               dir + "/callgrind." + tag + ".log");
  if (rc != 0) return std::nullopt;
  std::ifstream in(outfile);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("summary:", 0) == 0 || line.rfind("totals:", 0) == 0) {
      return std::stod(line.substr(line.find(':') + 1));
    }
  }
  return std::nullopt;
}

// Inclusive instructions of a few functions of the pipeline (callgrind_annotate), so that a
// regression can be located without a profiler session.
std::map<std::string, double> callgrind_inclusive(const std::string& outfile,
                                                  const std::vector<std::string>& symbols) {
  std::map<std::string, double> found;
  const std::string cmd = "callgrind_annotate --inclusive=yes --threshold=100 '" + outfile + "'";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return found;
  char buf[8192];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) {
    const std::string line(buf);
    for (const auto& symbol : symbols) {
      if (found.count(symbol) || line.find(symbol) == std::string::npos) continue;
      std::string digits;
      for (char c : line) {
        if (c >= '0' && c <= '9')
          digits += c;
        else if (c == ',')
          continue;
        else if (!digits.empty())
          break;
      }
      if (!digits.empty()) found[symbol] = std::stod(digits);
    }
  }
  ::pclose(pipe);
  return found;
}

// Scaling with the number of rules: the cost part's replay again with optional rules switched
// off in the hub config (`rules: {<name>: off}`). Three rules cannot be switched off (hazard,
// maintenance, device_fault). `all_rules` is the cost part's figure with every rule on.
void rules_cost(const Options& o, const std::string& dir, long n1, double all_rules) {
  const std::vector<std::string> optional{"no_water",       "inactivity", "water_running",
                                          "power_running",  "night_door", "temperature",
                                          "device_silence", "routine"};
  struct Variant {
    std::string label;
    std::vector<std::string> off;
  };
  const std::vector<Variant> variants{
      {"10 (`device_silence` off)", {"device_silence"}},
      {"7 (`routine`, `device_silence`, `temperature`, `night_door` off)",
       {"routine", "device_silence", "temperature", "night_door"}},
      {"3 (every optional rule off)", optional}};
  out("");
  out("With fewer rules running (optional rules switched off in the hub config; `hazard`, "
      "`maintenance` and `device_fault` always run):");
  out("");
  out("| rules running (same replay) | instructions per report | vs all 11 |");
  out("|---|---|---|");
  out("| all 11 | " + fmt_k(all_rules) + " | 100 % |");
  for (std::size_t i = 0; i < variants.size(); ++i) {
    log_progress("cost per reading, " + variants[i].label);
    const std::string config = dir + "/hub-rules" + std::to_string(i) + ".yaml";
    write_config(config, nullptr, dir + "/unused.db", 0, true, "homesafe-hb", variants[i].off);
    std::string tag = "r";  // (not "r" + to_string(i): GCC 12 warns falsely, -Wrestrict)
    tag += std::to_string(i);
    auto i1 = callgrind_instructions(o, config, dir + "/in1.jsonl", dir, tag + "n1");
    auto i2 = callgrind_instructions(o, config, dir + "/in2.jsonl", dir, tag + "n2");
    if (!i1 || !i2) {
      out("| " + variants[i].label + " | callgrind failed (see " + dir + "/callgrind." + tag +
          "*.log) | — |");
      continue;
    }
    const double per_msg = (*i2 - *i1) / static_cast<double>(n1);
    out("| " + variants[i].label + " | " + fmt_k(per_msg) + " | " +
        pct(all_rules > 0 ? per_msg / all_rules : 0) + " |");
  }
}

double time_replay(const Options& o, const std::string& config, const std::string& input,
                   const std::string& dir) {
  const auto t0 = Clock::now();
  run_wait({o.gateway, "replay", "--config", config, "--input", input}, dir + "/replay-time.log");
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---------------------------------------------------------------------------------------------

std::string machine_line() {
  std::string model;
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  double load1 = 0;
  std::ifstream("/proc/loadavg") >> load1;
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) +
         " cores, load average " + fmt_num(load1, 2) + " at start";
}

// One QoS level of a throughput table: every target o.runs times, interleaved run by run so that
// load drifts hit all targets alike; prints a row per target (medians) and returns them.
struct ThroughputRow {
  Target target = Target::raw;
  double rate = 0;
  double lost = 0;
  double cpu_per_m = 0;  // CPU seconds per million messages
  long peak_kb = 0;
};

std::vector<ThroughputRow> throughput_rows(const Options& o, const std::string& label, int qos,
                                           long messages, const std::string& dir_prefix,
                                           bool node_red) {
  std::map<Target, std::vector<Throughput>> results;
  std::vector<Target> targets{Target::raw, Target::gateway};
  if (node_red) targets.push_back(Target::node_red);
  for (int run = 0; run < o.runs; ++run) {
    for (Target t : targets) {
      log_progress(label + " qos " + std::to_string(qos) + " " + target_name(t) + " run " +
                   std::to_string(run + 1));
      results[t].push_back(run_throughput(
          o, t, qos, 100, messages,
          dir_prefix + "-" + std::to_string(static_cast<int>(t)) + "-" + std::to_string(run)));
    }
  }
  auto med = [&](Target t, auto field) {
    std::vector<double> v;
    for (const auto& r : results[t]) v.push_back(field(r));
    return median(v);
  };
  auto rate = [](const Throughput& r) { return r.rate; };
  const double raw = med(Target::raw, rate);
  const double nr = node_red ? med(Target::node_red, rate) : 0;
  std::vector<ThroughputRow> rows;
  for (Target t : targets) {
    ThroughputRow row;
    row.target = t;
    row.rate = med(t, rate);
    row.lost = med(t, [](const Throughput& r) { return static_cast<double>(r.lost); });
    row.cpu_per_m = med(t, [](const Throughput& r) {
      return r.handled > 0 ? r.cpu_s / static_cast<double>(r.handled) * 1e6 : 0;
    });
    bool timeout = false;
    for (const auto& r : results[t]) {
      row.peak_kb = std::max(row.peak_kb, r.hwm_kb);
      timeout = timeout || r.timed_out;
    }
    out("| " + std::to_string(qos) + " | " + target_name(t) + (timeout ? " (timed out)" : "") +
        " | " + fmt_k(row.rate) + " | " + fmt_num(row.lost) + " | " +
        (t == Target::raw ? "—" : pct(raw > 0 ? row.rate / raw : 0)) + " | " +
        (node_red && t == Target::gateway ? pct(nr > 0 ? row.rate / nr : 0) : "—") + " | " +
        fmt_num(row.cpu_per_m, 1) + " | " +
        (t == Target::raw ? "—" : fmt_num(static_cast<double>(row.peak_kb) / 1024.0, 1) + " MB") +
        " |");
    rows.push_back(row);
  }
  return rows;
}

void usage() {
  std::cerr
      << "usage: homesafe_hub_bench --gateway PATH --sim PATH [--node-red RED_JS] [--node NODE]\n"
         "          [--runs N] [--quick] [--only "
         "throughput,onecore,latency,footprint,cost,scaling,replay]\n"
         "          [--work DIR] [--markdown FILE] [--bench-dir DIR]\n";
}

}  // namespace

// `--null-subscriber PORT QOS SENTINEL_TOPIC`: the broker-raw target of the throughput runs, in a
// process of its own. Counts the plug reports, prints "ready" once subscribed and
// "received N" and its CPU time ("cpu_us N", the floor for CPU per message) when the sentinel
// arrives, then exits.
int null_subscriber(int port, int qos, const std::string& sentinel_topic) {
  Broker broker;
  broker.port = port;
  std::atomic<long> received{0};
  Latch done;
  Client receiver(broker, "bench-null", [&](const std::string& topic, const std::string&) {
    if (topic == sentinel_topic) {
      done.set();
    } else {
      received.fetch_add(1, std::memory_order_relaxed);
    }
  });
  receiver.subscribe(std::string("homesafe/") + kHousehold + "/dev/#", qos);
  std::cout << "ready" << std::endl;
  while (!done.wait_for(60s)) {
  }
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto us = [](const timeval& t) { return t.tv_sec * 1'000'000L + t.tv_usec; };
  std::cout << "received " << received.load() << "\ncpu_us "
            << us(usage.ru_utime) + us(usage.ru_stime) << std::endl;
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--null-subscriber") {
    return null_subscriber(std::atoi(argv[2]), std::atoi(argv[3]), argv[4]);
  }
  Options o;
  g_bench_dir = HOMESAFE_BENCH_DIR;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--gateway")
      o.gateway = value();
    else if (a == "--sim")
      o.sim = value();
    else if (a == "--node-red")
      o.node_red = value();
    else if (a == "--node")
      o.node = value();
    else if (a == "--mosquitto")
      o.mosquitto = value();
    else if (a == "--runs")
      o.runs = std::stoi(value());
    else if (a == "--work")
      o.work = value();
    else if (a == "--markdown")
      o.markdown = value();
    else if (a == "--only")
      o.only = value();
    else if (a == "--bench-dir")
      g_bench_dir = value();
    else if (a == "--quick")
      o.quick = true;
    else {
      usage();
      return 2;
    }
  }
  if (o.gateway.empty()) {
    usage();
    return 2;
  }
  if (o.quick) {
    o.throughput_messages = 20'000;
    o.presses = 300;
    o.scaling_messages = 10'000;
    o.callgrind_messages = 1000;
  }
  o.runs = std::max(o.runs, 1);
  ::signal(SIGINT, on_fatal_signal);
  ::signal(SIGTERM, on_fatal_signal);
  ::signal(SIGPIPE, SIG_IGN);
  std::atexit(stop_all_children);
  fs::create_directories(o.work);
  if (!o.markdown.empty()) g_markdown.open(o.markdown);
  const bool node_red = !o.node_red.empty();

  auto now_text = [] {
    const std::time_t t = std::time(nullptr);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
    return std::string(buf);
  };
  out("## homesafe hub benchmark — " + now_text());
  out("");
  out("Machine: " + machine_line() + ". Mode: " + (o.quick ? "quick" : "full") + ", " +
      std::to_string(o.runs) + " runs per figure (medians). Broker: private mosquitto on " +
      "127.0.0.1 (set_tcp_nodelay true, max_queued_messages 1000000, max_inflight_messages 100).");
  out("");

  try {
    // ---- throughput
    double gw_cpu_per_m[2] = {0, 0};
    double nr_cpu_per_m[2] = {0, 0};
    long gw_peak_kb = 0;
    long nr_peak_kb = 0;
    if (wants(o, "throughput")) {
      out("### Throughput (" + fmt_k(static_cast<double>(o.throughput_messages)) +
          " plug reports of 2 readings flooded by one publisher, 100 plugs; median of " +
          std::to_string(o.runs) + ")");
      out("");
      out("| QoS | target | msgs/s | lost | vs broker raw | vs Node-RED | CPU s / M msgs | peak "
          "RSS |");
      out("|---|---|---|---|---|---|---|---|");
      for (int qos : {0, 1}) {
        for (const auto& row : throughput_rows(o, "throughput", qos, o.throughput_messages,
                                               o.work + "/tp-q" + std::to_string(qos), node_red)) {
          if (row.target == Target::gateway) {
            gw_cpu_per_m[qos] = row.cpu_per_m;
            gw_peak_kb = std::max(gw_peak_kb, row.peak_kb);
          }
          if (row.target == Target::node_red) {
            nr_cpu_per_m[qos] = row.cpu_per_m;
            nr_peak_kb = std::max(nr_peak_kb, row.peak_kb);
          }
        }
      }
      // The same flood at QoS 1 through a broker left at Mosquitto's default queue limit (1000
      // messages per client): what a target loses when it cannot keep up.
      {
        std::vector<Target> targets{Target::gateway};
        if (node_red) targets.push_back(Target::node_red);
        for (Target t : targets) {
          std::vector<double> rates, lost;
          for (int run = 0; run < o.runs; ++run) {
            log_progress("throughput qos 1, default broker queue, " + target_name(t) + " run " +
                         std::to_string(run + 1));
            auto r = run_throughput(
                o, t, 1, 100, o.throughput_messages,
                o.work + "/tpdq-" + std::to_string(static_cast<int>(t)) + "-" + std::to_string(run),
                true);
            rates.push_back(r.rate);
            lost.push_back(static_cast<double>(r.lost));
          }
          out("| 1 | " + target_name(t) + ", broker's default queue (1000) | " +
              fmt_k(median(rates)) + " | " + fmt_num(median(lost)) + " (" +
              pct(median(lost) / static_cast<double>(o.throughput_messages)) +
              ") | — | — | — | — |");
        }
      }
      out("");
      out("msgs/s = messages the target handled / (first publish → target done with the "
          "sentinel press). Gateway: handled = the messages its log says it handled at a clean "
          "stop, less the sentinel presses; Node-RED: its flow's counter; raw: messages the null "
          "subscriber (a process of its own) received. CPU s / M msgs: the process's user + "
          "system time per million messages (raw: the null subscriber's, Paho's receive path "
          "alone).");
      out("");
    }

    // ---- throughput on one core
    if (wants(o, "onecore")) {
      const long messages = o.throughput_messages / 2;
      out("### Throughput on one core (the same flood, " + fmt_k(static_cast<double>(messages)) +
          " plug reports; the broker, the publisher and the target all pinned to one CPU, as on "
          "a hub whose broker and bridge share the gateway's core; median of " +
          std::to_string(o.runs) + ")");
      out("");
      out("| QoS | target | msgs/s | lost | vs broker raw | vs Node-RED | CPU s / M msgs | peak "
          "RSS |");
      out("|---|---|---|---|---|---|---|---|");
      {
        OneCpu pinned;
        for (int qos : {0, 1}) {
          throughput_rows(o, "one-core throughput", qos, messages,
                          o.work + "/tp1cpu-q" + std::to_string(qos), node_red);
        }
      }
      out("");
      out("On two cores the broker is the limit at QoS 1 (every target is within a few percent of "
          "its raw rate); on one core every CPU second a target spends is taken from the broker "
          "and the publisher, so the rate shows what each target costs the hub.");
      out("");
    }

    // ---- latency
    if (wants(o, "latency")) {
      out("### Alarm latency (call-button press → first notification on homesafe/" +
          std::string(kHousehold) + "/notify; " + std::to_string(o.presses) + " presses, " +
          fmt_num(o.background_rate) + " plug reports/s background; median over runs of each " +
          "percentile)");
      out("");
      out("| target | p50 ms | p99 ms | max ms | missed | alerts stored | target's broker socket "
          "|");
      out("|---|---|---|---|---|---|---|");
      struct Variant {
        Target target;
        bool nodelay;
        std::string label;
        bool tmpfs = false;  // the gateway's store on /dev/shm: fsync costs nothing
      };
      std::vector<Variant> variants{
          {Target::raw, false, "broker raw (press → subscriber)"},
          {Target::gateway, false, "homesafe-gateway as built"},
          {Target::gateway, true, "homesafe-gateway + TCP_NODELAY (set from outside)"},
          {Target::gateway, true, "homesafe-gateway + TCP_NODELAY, store on tmpfs (no fsync cost)",
           true}};
      if (node_red) {
        variants.push_back({Target::node_red, false, "Node-RED flow as installed"});
        variants.push_back({Target::node_red, true, "Node-RED + TCP_NODELAY (set from outside)"});
      }
      for (const auto& v : variants) {
        std::vector<double> p50, p99, mx;
        int missed = 0;
        long stored = -1;
        NodelayReport nd;
        for (int run = 0; run < o.runs; ++run) {
          log_progress("latency " + v.label + " run " + std::to_string(run + 1));
          const std::string shm = v.tmpfs
                                      ? "/dev/shm/homesafe-bench-" + std::to_string(::getpid()) +
                                            "-" + std::to_string(run)
                                      : std::string();
          if (!shm.empty()) fs::create_directories(shm);
          auto r = run_latency(o, v.target, v.nodelay,
                               o.work + "/lat-" + std::to_string(static_cast<int>(v.target)) +
                                   (v.nodelay ? "-nd-" : "-") + (v.tmpfs ? "shm-" : "") +
                                   std::to_string(run),
                               shm);
          if (!shm.empty()) fs::remove_all(shm);
          p50.push_back(percentile(r.ms, 50));
          p99.push_back(percentile(r.ms, 99));
          mx.push_back(r.ms.empty() ? 0 : *std::max_element(r.ms.begin(), r.ms.end()));
          missed += r.missed;
          stored = r.alerts_stored;
          nd = r.nodelay;
        }
        std::string sock = "—";
        if (v.target != Target::raw) {
          if (!nd.supported) {
            sock = "pidfd_getfd refused";
          } else {
            sock = std::to_string(nd.sockets) + " conn., NODELAY was " +
                   (nd.already_on == nd.sockets && nd.sockets > 0 ? "on" : "off") +
                   (v.nodelay ? ", set on" : "");
          }
        }
        out("| " + v.label + " | " + fmt_num(median(p50), 2) + " | " + fmt_num(median(p99), 2) +
            " | " + fmt_num(median(mx), 2) + " | " + std::to_string(missed) + " | " +
            (stored >= 0 ? std::to_string(stored) + " (last run)" : "—") + " | " + sock + " |");
      }
      out("");
      out("The gateway commits each alert (SQLite, synchronous=FULL) before the notification is "
          "published; each alert is resolved through homesafe/" +
          std::string(kHousehold) +
          "/ack after it is notified, and 19 buttons take turns. The bench's own clients always "
          "run with TCP_NODELAY.");
      out("");
    }

    // ---- footprint
    if (wants(o, "footprint")) {
      out("### Footprint (RSS; 30-device household; an hour of its traffic = 10,800 reports sent "
          "at 2,000/s; median of " +
          std::to_string(o.runs) + ")");
      out("");
      out("| target | idle | after the hour | peak (VmHWM) this test | peak under throughput |");
      out("|---|---|---|---|---|");
      std::vector<Target> targets{Target::gateway};
      if (node_red) targets.push_back(Target::node_red);
      std::map<Target, Footprint> med;
      for (Target t : targets) {
        std::vector<double> idle, after, hwm;
        for (int run = 0; run < o.runs; ++run) {
          log_progress("footprint " + target_name(t) + " run " + std::to_string(run + 1));
          auto f = run_footprint(
              o, t,
              o.work + "/fp-" + std::to_string(static_cast<int>(t)) + "-" + std::to_string(run));
          idle.push_back(static_cast<double>(f.idle_kb));
          after.push_back(static_cast<double>(f.after_kb));
          hwm.push_back(static_cast<double>(f.hwm_kb));
        }
        med[t] = {static_cast<long>(median(idle)), static_cast<long>(median(after)),
                  static_cast<long>(median(hwm))};
        const long peak = t == Target::gateway ? gw_peak_kb : nr_peak_kb;
        auto mb = [](double kb) { return fmt_num(kb / 1024.0, 1) + " MB"; };
        out("| " + target_name(t) + " | " + mb(median(idle)) + " | " + mb(median(after)) + " | " +
            mb(median(hwm)) + " | " + (peak > 0 ? mb(static_cast<double>(peak)) : "—") + " |");
      }
      if (node_red && med[Target::node_red].after_kb > 0) {
        out("");
        out("Gateway / Node-RED RSS after the hour: " +
            pct(static_cast<double>(med[Target::gateway].after_kb) /
                static_cast<double>(med[Target::node_red].after_kb)) +
            "; idle: " +
            pct(static_cast<double>(med[Target::gateway].idle_kb) /
                static_cast<double>(med[Target::node_red].idle_kb)) +
            ".");
      }
      out("");
    }

    // ---- cost per reading
    if (wants(o, "cost")) {
      log_progress("cost per reading (callgrind)");
      const std::string dir = o.work + "/cost";
      fs::create_directories(dir);
      const std::string config = dir + "/hub.yaml";
      write_config(config, nullptr, dir + "/unused.db", 0, true);
      const long n1 = o.callgrind_messages;
      const long n2 = 2 * n1;
      write_replay_input(dir + "/in1.jsonl", n1);
      write_replay_input(dir + "/in2.jsonl", n2);
      auto i1 = callgrind_instructions(o, config, dir + "/in1.jsonl", dir, "n1");
      auto i2 = callgrind_instructions(o, config, dir + "/in2.jsonl", dir, "n2");
      out("### Cost per reading (deterministic: valgrind callgrind, `homesafe-gateway replay "
          "--store FILE` on the 30-device household, " +
          std::to_string(n1) + " vs " + std::to_string(n2) + " reports)");
      out("");
      if (i1 && i2) {
        const double per_msg = (*i2 - *i1) / static_cast<double>(n2 - n1);
        // Readings = telemetry rows the gateway stored (exact); JSON keys if the store is empty.
        const long rows1 = sqlite_count(dir + "/replay-n1.db", "SELECT count(*) FROM telemetry");
        const long rows2 = sqlite_count(dir + "/replay-n2.db", "SELECT count(*) FROM telemetry");
        const double readings_per_msg =
            rows2 > rows1 && rows1 > 0
                ? static_cast<double>(rows2 - rows1) / static_cast<double>(n2 - n1)
                : static_cast<double>(readings_in(n2) - readings_in(n1)) /
                      static_cast<double>(n2 - n1);
        out("| instructions per report | readings per report | instructions per reading | "
            "start-up (instructions) |");
        out("|---|---|---|---|");
        out("| " + fmt_k(per_msg) + " | " + fmt_num(readings_per_msg, 2) + " | " +
            fmt_k(per_msg / readings_per_msg) + " | " +
            fmt_k(*i1 - per_msg * static_cast<double>(n1)) + " |");
        const std::vector<std::pair<std::string, std::string>> parts{
            {"Hub::on_message(", "whole pipeline per report (Hub::on_message)"},
            {"NativeDriver::decode(", "decode (native driver, JSON parse)"},
            {"RuleEngine::on_message(", "rules (RuleEngine::on_message)"},
            {"DeviceSilenceRule::on_message(", "  of which DeviceSilenceRule::on_message"},
            {"Hub::commit_events(", "rule state / alert transaction (Hub::commit_events)"},
            {"Hub::flush_telemetry(", "telemetry batch insert (Hub::flush_telemetry)"}};
        std::vector<std::string> symbols;
        for (const auto& p : parts) symbols.push_back(p.first);
        auto a1 = callgrind_inclusive(dir + "/callgrind.n1.out", symbols);
        auto a2 = callgrind_inclusive(dir + "/callgrind.n2.out", symbols);
        out("");
        out("| where (inclusive, per report) | instructions |");
        out("|---|---|");
        for (const auto& [symbol, label] : parts) {
          if (!a1.count(symbol) || !a2.count(symbol)) continue;
          out("| " + label + " | " +
              fmt_k((a2[symbol] - a1[symbol]) / static_cast<double>(n2 - n1)) + " |");
        }
        rules_cost(o, dir, n1, per_msg);
      } else {
        out("callgrind failed (see " + dir + "/callgrind.*.log)");
      }
      out("");
      if (gw_cpu_per_m[0] > 0) {
        out("CPU seconds per million plug reports under the throughput test (QoS 0 / QoS 1): "
            "gateway " +
            fmt_num(gw_cpu_per_m[0], 1) + " / " + fmt_num(gw_cpu_per_m[1], 1) +
            (node_red
                 ? ", Node-RED " + fmt_num(nr_cpu_per_m[0], 1) + " / " + fmt_num(nr_cpu_per_m[1], 1)
                 : std::string()) +
            ".");
        out("");
      }
    }

    // ---- scaling
    if (wants(o, "scaling")) {
      out("### Scaling with devices per hub (gateway, QoS 1, " +
          fmt_k(static_cast<double>(o.scaling_messages)) + " plug reports; median of " +
          std::to_string(o.runs) + ")");
      out("");
      out("| plugs publishing (+ 20 call buttons configured) | msgs/s | lost | "
          "vs broker raw (same run) | RSS after | peak RSS |");
      out("|---|---|---|---|---|---|");
      for (int devices : {10, 100, 1000}) {
        std::vector<double> rate, raw, lost, rss, hwm;
        bool timed_out = false;
        for (int run = 0; run < o.runs; ++run) {
          log_progress("scaling " + std::to_string(devices) + " devices run " +
                       std::to_string(run + 1));
          const std::string base =
              o.work + "/sc-" + std::to_string(devices) + "-" + std::to_string(run);
          auto rr = run_throughput(o, Target::raw, 1, devices, o.scaling_messages, base + "-raw");
          auto g = run_throughput(o, Target::gateway, 1, devices, o.scaling_messages, base + "-gw");
          rate.push_back(g.rate);
          timed_out = timed_out || g.timed_out || rr.timed_out;
          raw.push_back(rr.rate);
          lost.push_back(static_cast<double>(g.lost));
          rss.push_back(static_cast<double>(g.rss_kb));
          hwm.push_back(static_cast<double>(g.hwm_kb));
        }
        out("| " + std::to_string(devices) + (timed_out ? " (timed out)" : "") + " | " +
            fmt_k(median(rate)) + " | " + fmt_num(median(lost)) + " | " +
            pct(median(raw) > 0 ? median(rate) / median(raw) : 0) + " | " +
            fmt_num(median(rss) / 1024.0, 1) + " MB | " + fmt_num(median(hwm) / 1024.0, 1) +
            " MB |");
      }
      out("");
    }

    // ---- household-month replay
    if (wants(o, "replay") && !o.sim.empty()) {
      log_progress("household-month replay");
      const std::string dir = o.work + "/month";
      fs::remove_all(dir);
      fs::create_directories(dir);
      const int rc = run_wait({o.sim, "household", "--out", dir + "/household", "--days", "30",
                               "--seed", "1", "--quiet"},
                              dir + "/sim.log");
      if (rc != 0) {
        out("household simulator failed (see " + dir + "/sim.log)");
      } else {
        long lines = 0;
        {
          std::ifstream in(dir + "/household/messages.jsonl");
          std::string line;
          while (std::getline(in, line)) ++lines;
        }
        std::vector<double> secs;
        for (int run = 0; run < o.runs; ++run) {
          secs.push_back(
              time_replay(o, dir + "/household/hub.yaml", dir + "/household/messages.jsonl", dir));
        }
        const double s = median(secs);
        out("### Replay of one simulated household-month (`homesafe-sim household --days 30 "
            "--seed 1`, in-memory store; median of " +
            std::to_string(o.runs) + ")");
        out("");
        out("| messages | seconds | messages/s |");
        out("|---|---|---|");
        out("| " + std::to_string(lines) + " | " + fmt_num(s, 3) + " | " +
            fmt_k(s > 0 ? static_cast<double>(lines) / s : 0) + " |");
        out("");
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "homesafe_hub_bench: " << e.what() << "\n";
    stop_all_children();
    return 1;
  }
  stop_all_children();
  return 0;
}
