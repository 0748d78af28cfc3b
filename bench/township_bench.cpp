// homesafe_township_bench: the township service's side of issue 9. Every process it starts
// (mosquitto, homesafe-township) is on 127.0.0.1 and is stopped by its PID.
//
//   ingest   hub events (QoS 1) from many hubs flooded through a real Mosquitto into the real
//            service: events/s stored and acknowledged (each ack is published after its commit
//            to SQLite), then the same events again: duplicates/s absorbed, none stored twice
//   console  a hub's alert published -> the alert's frame on a logged-in console's WebSocket
//            (/api/live), p50/p99/max, with background hub traffic
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "bench_support.hpp"

using namespace homesafe::bench;
using nlohmann::json;

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr const char* kTownship = "东乡";
constexpr const char* kEpoch = "be4c4a11";

struct Options {
  std::string township;
  std::string mosquitto = "/usr/sbin/mosquitto";
  std::string work = "/tmp/homesafe-township-bench";
  std::string markdown;
  int runs = 3;
  int hubs = 200;
  long events = 50'000;
  int alerts = 300;
  double background_rate = 100;
};

std::string hub_id(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "t%04d", i);
  return buf;
}

std::string event_json(const std::string& hub, long seq, const std::string& type, int priority,
                       const json& body) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return json{{"v", 1},
              {"event_id", hub + "/" + kEpoch + "/" + std::to_string(seq)},
              {"hub", hub},
              {"household", hub},
              {"seq", seq},
              {"type", type},
              {"priority", priority},
              {"ts", now},
              {"clock_synced", true},
              {"body", body}}
      .dump();
}

std::string health_event(const std::string& hub, long seq) {
  return event_json(hub, seq, "device_health", 2,
                    {{"device", "plug-" + std::to_string(seq % 7)},
                     {"event", seq % 2 ? "online" : "offline"},
                     {"at", seq},
                     {"detail", nullptr}});
}

std::string alert_event(const std::string& hub, long seq, const std::string& alert_id) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return event_json(hub, seq, "alert", 0,
                    {{"alert_id", alert_id},
                     {"kind", "call"},
                     {"severity", "emergency"},
                     {"state", "open"},
                     {"device", "bedroom-sos"},
                     {"location", "卧室"},
                     {"detail", nullptr},
                     {"opened_at", now},
                     {"updated_at", now},
                     {"acknowledged_at", nullptr},
                     {"acknowledged_by", nullptr},
                     {"resolved_at", nullptr},
                     {"resolved_by", nullptr},
                     {"condition_active", true},
                     {"repeat_count", 0}});
}

// One HTTP request to 127.0.0.1:port; returns the status, the body and the Set-Cookie value.
struct HttpReply {
  int status = 0;
  std::string body;
  std::string cookie;
};

HttpReply http_request(int port, http::verb verb, const std::string& target,
                       const std::string& cookie, const std::string& body) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  if (!cookie.empty()) req.set(http::field::cookie, cookie);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  HttpReply reply{static_cast<int>(res.result_int()), res.body(), {}};
  if (auto it = res.find(http::field::set_cookie); it != res.end()) {
    const std::string value(it->value());
    reply.cookie = value.substr(0, value.find(';'));
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return reply;
}

// The console's live feed: records when each alert id first arrives.
class LiveClient {
 public:
  LiveClient(int port, const std::string& cookie) : ws_(io_) {
    ws_.next_layer().connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    const int one = 1;
    ::setsockopt(ws_.next_layer().native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ws_.set_option(websocket::stream_base::decorator(
        [cookie](websocket::request_type& r) { r.set(http::field::cookie, cookie); }));
    ws_.handshake("127.0.0.1", "/api/live");
    reader_ = std::thread([this] { read_loop(); });
  }
  ~LiveClient() {
    ::shutdown(ws_.next_layer().native_handle(), SHUT_RDWR);
    reader_.join();
  }
  // Arrival time of `alert_id`'s first frame, waiting up to `timeout`.
  std::optional<Clock::time_point> wait(const std::string& alert_id,
                                        std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return arrived_.contains(alert_id) || closed_; });
    auto it = arrived_.find(alert_id);
    if (it == arrived_.end()) return std::nullopt;
    return it->second;
  }

 private:
  void read_loop() {
    beast::flat_buffer buffer;
    for (;;) {
      beast::error_code ec;
      ws_.read(buffer, ec);
      const auto now = Clock::now();
      std::lock_guard lock(mutex_);
      if (ec) {
        closed_ = true;
        cv_.notify_all();
        return;
      }
      const json frame = json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
      buffer.consume(buffer.size());
      if (frame.is_object() && frame.value("type", "") == "alert") {
        arrived_.try_emplace(frame["alert"]["alert_id"].get<std::string>(), now);
        cv_.notify_all();
      }
    }
  }

  asio::io_context io_;
  websocket::stream<tcp::socket> ws_;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, Clock::time_point> arrived_;
  bool closed_ = false;
};

struct Service {
  Broker broker;
  pid_t pid = -1;
  int http_port = 0;
  std::string dir;
};

Service start_service(const Options& o, const std::string& dir) {
  Service s;
  s.dir = dir;
  fs::create_directories(dir);
  s.broker = start_broker(o.mosquitto, dir);
  s.http_port = free_port();
  std::ofstream(dir + "/township.yaml")
      << "storage: {path: \"" << dir << "/township.db\"}\n"
      << "broker: {url: \"" << s.broker.url() << "\", client_id: bench-township}\n"
      << "http: {address: 127.0.0.1, port: " << s.http_port << "}\n";
  std::ofstream csv(dir + "/households.csv");
  csv << "household_id,resident_id,display_name,county,township,village,risk_class,hub_id,"
         "address,caregiver_id,caregiver_name,caregiver_phone,emergency_id,emergency_name,"
         "emergency_phone\n";
  for (int i = 0; i < o.hubs; ++i) {
    csv << hub_id(i) << ",r-" << hub_id(i) << ",居民" << i << ",南县," << kTownship << ",村"
        << i % 12 << ",一般," << hub_id(i) << ",地址,c" << i << ",照料人,13800000000,,,\n";
  }
  csv.close();
  const std::string config = dir + "/township.yaml";
  if (run_wait({o.township, "import-households", "--config", config, dir + "/households.csv"},
               dir + "/cli.log") != 0 ||
      run_wait({"/bin/sh", "-c",
                "printf 'bench password\\n' | \"" + o.township + "\" add-user --config \"" +
                    config + "\" --username bench --role township_operator --scope " + kTownship},
               dir + "/cli.log") != 0) {
    throw std::runtime_error("township set-up failed (see " + dir + "/cli.log)");
  }
  const std::string log = dir + "/township.log";
  s.pid = spawn({o.township, "--config", config}, log);
  const auto deadline = Clock::now() + 30s;
  for (;;) {
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("homesafe-township ready") != std::string::npos) break;
    if (Clock::now() > deadline || !alive(s.pid)) {
      throw std::runtime_error("homesafe-township did not start (see " + log + ")");
    }
    std::this_thread::sleep_for(50ms);
  }
  return s;
}

void stop_service(Service& s) {
  stop(s.pid);
  stop(s.broker.pid);
}

struct IngestResult {
  double events_per_s = 0;
  double duplicates_per_s = 0;
  long stored = 0;
  long duplicates = 0;
  long rss_kb = 0;
};

IngestResult measure_ingest(const Options& o, Service& s) {
  std::mutex mutex;
  std::condition_variable cv;
  long acked = 0;
  Client acks(s.broker, "bench-acks", [&](const std::string&, const std::string& payload) {
    const json ack = json::parse(payload, nullptr, false);
    if (!ack.is_object()) return;
    std::lock_guard lock(mutex);
    acked += static_cast<long>(ack["acked"].size());
    cv.notify_all();
  });
  acks.subscribe("homesafe-down/+/ack", 1);
  Client hubs(s.broker, "bench-hubs");
  auto flood = [&](long count, long expected_acks) {
    const auto start = Clock::now();
    for (long i = 0; i < count; ++i) {
      const std::string hub = hub_id(static_cast<int>(i % o.hubs));
      hubs.publish_windowed("homesafe-up/" + hub + "/event", health_event(hub, i / o.hubs + 1), 1);
    }
    hubs.flush();
    std::unique_lock lock(mutex);
    if (!cv.wait_for(lock, 300s, [&] { return acked >= expected_acks; })) {
      throw std::runtime_error("acks missing: " + std::to_string(acked) + " of " +
                               std::to_string(expected_acks));
    }
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  IngestResult r;
  r.events_per_s = static_cast<double>(o.events) / flood(o.events, o.events);
  const long repeats = o.events / 10;
  r.duplicates_per_s = static_cast<double>(repeats) / flood(repeats, o.events + repeats);
  const auto login = http_request(s.http_port, http::verb::post, "/api/login", "",
                                  R"({"username":"bench","password":"bench password"})");
  const json status =
      json::parse(http_request(s.http_port, http::verb::get, "/api/status", login.cookie, "").body);
  r.stored = status["ingest"]["stored"].get<long>();
  r.duplicates = status["ingest"]["duplicates"].get<long>();
  r.rss_kb = proc_status(s.pid).hwm_kb;
  return r;
}

struct ConsoleResult {
  std::vector<double> ms;
  int missed = 0;
};

ConsoleResult measure_console(const Options& o, Service& s) {
  const auto login = http_request(s.http_port, http::verb::post, "/api/login", "",
                                  R"({"username":"bench","password":"bench password"})");
  if (login.status != 200) throw std::runtime_error("login failed: " + login.body);
  LiveClient live(s.http_port, login.cookie);
  Client hubs(s.broker, "bench-alerts");
  Client background(s.broker, "bench-background");
  std::atomic<bool> stop_background{false};
  // Hub traffic beside the alerts: device health from every hub at the background rate.
  std::thread traffic([&] {
    const auto period = std::chrono::duration<double>(1.0 / o.background_rate);
    auto next = Clock::now();
    long i = 0;
    while (!stop_background) {
      const std::string hub = hub_id(static_cast<int>(i % o.hubs));
      background.publish_windowed("homesafe-up/" + hub + "/event",
                                  health_event(hub, 1'000'000 + i / o.hubs), 1);
      ++i;
      next += std::chrono::duration_cast<Clock::duration>(period);
      std::this_thread::sleep_until(next);
    }
    background.flush();
  });
  ConsoleResult r;
  for (int k = 0; k < o.alerts; ++k) {
    const std::string hub = hub_id(k % o.hubs);
    const std::string alert_id = hub + "-b" + std::to_string(k);
    const auto sent = Clock::now();
    hubs.publish("homesafe-up/" + hub + "/event", alert_event(hub, 2'000'000 + k, alert_id), 1);
    const auto arrived = live.wait(alert_id, 10s);
    if (!arrived) {
      ++r.missed;
      continue;
    }
    r.ms.push_back(std::chrono::duration<double, std::milli>(*arrived - sent).count());
    std::this_thread::sleep_for(20ms);
  }
  stop_background = true;
  traffic.join();
  return r;
}

std::string machine_line() {
  std::ifstream cpu("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  double load = 0;
  std::ifstream("/proc/loadavg") >> load;
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) +
         " cores, load average " + fmt_num(load, 2) + " at start";
}

int usage() {
  std::cerr << "usage: homesafe_township_bench --township PATH [--runs N] [--quick] [--hubs N]\n"
               "       [--events N] [--alerts N] [--background-rate N] [--mosquitto PATH]\n"
               "       [--work DIR] [--markdown FILE]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
      return argv[++i];
    };
    if (a == "--township")
      o.township = next();
    else if (a == "--mosquitto")
      o.mosquitto = next();
    else if (a == "--work")
      o.work = next();
    else if (a == "--markdown")
      o.markdown = next();
    else if (a == "--runs")
      o.runs = std::stoi(next());
    else if (a == "--hubs")
      o.hubs = std::stoi(next());
    else if (a == "--events")
      o.events = std::stol(next());
    else if (a == "--alerts")
      o.alerts = std::stoi(next());
    else if (a == "--background-rate")
      o.background_rate = std::stod(next());
    else if (a == "--quick") {
      o.events = 10'000;
      o.alerts = 100;
    } else
      return usage();
  }
  if (o.township.empty() || o.runs < 1 || o.hubs < 1 || o.events < 10) return usage();
  ::signal(SIGINT, on_fatal_signal);
  ::signal(SIGTERM, on_fatal_signal);
  ::signal(SIGPIPE, SIG_IGN);
  if (!o.markdown.empty()) g_markdown.open(o.markdown, std::ios::app);

  std::vector<double> ingest_rate, dup_rate, rss, p50, p99, max;
  int missed = 0;
  bool exact = true;
  try {
    for (int run = 1; run <= o.runs; ++run) {
      const std::string dir = o.work + "/run-" + std::to_string(run);
      fs::remove_all(dir);
      log_progress("township run " + std::to_string(run) + " of " + std::to_string(o.runs));
      Service s = start_service(o, dir);
      const IngestResult in = measure_ingest(o, s);
      ingest_rate.push_back(in.events_per_s);
      dup_rate.push_back(in.duplicates_per_s);
      rss.push_back(static_cast<double>(in.rss_kb) / 1024.0);
      exact = exact && in.stored == o.events && in.duplicates == o.events / 10;
      log_progress("  ingest " + fmt_num(in.events_per_s) + " events/s, duplicates " +
                   fmt_num(in.duplicates_per_s) + "/s (stored " + std::to_string(in.stored) +
                   ", duplicates " + std::to_string(in.duplicates) + ")");
      const ConsoleResult c = measure_console(o, s);
      missed += c.missed;
      p50.push_back(percentile(c.ms, 50));
      p99.push_back(percentile(c.ms, 99));
      max.push_back(c.ms.empty() ? 0 : *std::max_element(c.ms.begin(), c.ms.end()));
      log_progress("  console p50 " + fmt_num(p50.back(), 2) + " ms, p99 " +
                   fmt_num(p99.back(), 2) + " ms, missed " + std::to_string(c.missed));
      stop_service(s);
    }
  } catch (const std::exception& e) {
    stop_all_children();
    std::cerr << "township bench failed: " << e.what() << "\n";
    return 1;
  }

  out("");
  out("#### Township service (" + std::to_string(o.hubs) + " hubs, SQLite on disk; median of " +
      std::to_string(o.runs) + ")");
  out("");
  out("Machine: " + machine_line() + ".");
  out("");
  out("| figure | value |");
  out("|---|---|");
  out("| events ingested (QoS 1, stored then acknowledged), " +
      fmt_k(static_cast<double>(o.events)) + " events | " + fmt_k(median(ingest_rate)) +
      " events/s |");
  out("| the same events again (duplicates absorbed, acknowledged, not stored) | " +
      fmt_k(median(dup_rate)) + " events/s |");
  out(std::string("| stored exactly once (service counters) | ") + (exact ? "yes" : "NO") + " |");
  out("| service peak RSS after ingest | " + fmt_num(median(rss), 1) + " MB |");
  out("| hub alert published -> console WebSocket frame, p50 / p99 / max (" +
      std::to_string(o.alerts) + " alerts, " + fmt_num(o.background_rate) +
      " events/s background) | " + fmt_num(median(p50), 2) + " / " + fmt_num(median(p99), 2) +
      " / " + fmt_num(median(max), 2) + " ms |");
  out("| alerts that never reached the console (10 s) | " + std::to_string(missed) + " |");
  return exact && missed == 0 ? 0 : 1;
}
