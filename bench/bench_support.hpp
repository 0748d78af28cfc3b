#pragma once
// What the benchmark programs share (bench/hub_bench.cpp, bench/township_bench.cpp): tables to
// stdout and a markdown file, statistics, child processes started with fork/exec and stopped by
// PID, free loopback ports, a private Mosquitto, a Paho client with TCP_NODELAY. Every address is
// 127.0.0.1.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mqtt/async_client.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace homesafe::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Output: every table goes to stdout and to the markdown file.

inline std::ofstream g_markdown;

inline void out(const std::string& line) {
  std::cout << line << "\n" << std::flush;
  if (g_markdown.is_open()) g_markdown << line << "\n" << std::flush;
}

inline std::string fmt_num(double v, int decimals = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

inline std::string fmt_k(double v) {
  if (v >= 1e6) return fmt_num(v / 1e6, 2) + " M";
  if (v >= 1e4) return fmt_num(v / 1e3, 1) + " k";
  return fmt_num(v, 0);
}

inline std::string pct(double ratio) {
  return fmt_num(ratio * 100.0, 0) + " %";
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i =
      std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size())));
  return v[i];
}

inline void log_progress(const std::string& text) {
  std::cerr << "[bench] " << text << std::endl;
}

// ---------------------------------------------------------------------------------------------
// Child processes: started with fork/exec, stopped by PID (SIGTERM, then SIGKILL).

inline std::mutex g_children_mutex;
inline std::vector<pid_t> g_children;

inline void stop_all_children() {
  std::lock_guard lock(g_children_mutex);
  for (pid_t pid : g_children) ::kill(pid, SIGKILL);
  for (pid_t pid : g_children) ::waitpid(pid, nullptr, 0);
  g_children.clear();
}

inline void on_fatal_signal(int sig) {
  for (pid_t pid : g_children) ::kill(pid, SIGKILL);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

inline pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path,
                   const std::string& cwd = {}) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  std::lock_guard lock(g_children_mutex);
  g_children.push_back(pid);
  return pid;
}

// SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status (or -1).
inline int stop(pid_t pid, std::chrono::milliseconds grace = 10s) {
  if (pid <= 0) return -1;
  ::kill(pid, SIGTERM);
  int status = 0;
  const auto deadline = Clock::now() + grace;
  int rc = 0;
  while ((rc = ::waitpid(pid, &status, WNOHANG)) == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  if (rc == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  std::lock_guard lock(g_children_mutex);
  g_children.erase(std::remove(g_children.begin(), g_children.end(), pid), g_children.end());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs to completion; returns the exit code.
inline int run_wait(const std::vector<std::string>& argv, const std::string& log_path) {
  const pid_t pid = spawn(argv, log_path);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::lock_guard lock(g_children_mutex);
  g_children.erase(std::remove(g_children.begin(), g_children.end(), pid), g_children.end());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline bool alive(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

struct ProcStatus {
  long rss_kb = 0;
  long hwm_kb = 0;
};

inline ProcStatus proc_status(pid_t pid) {
  ProcStatus s;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stol(line.substr(6));
    if (line.rfind("VmHWM:", 0) == 0) s.hwm_kb = std::stol(line.substr(6));
  }
  return s;
}

// utime + stime of the process (all its threads), in seconds.
inline double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::stringstream ss(text.substr(close + 2));
  std::vector<std::string> fields;
  std::string f;
  while (ss >> f) fields.push_back(f);
  // After ") ": field 3 (state) is index 0; utime is field 14 -> index 11, stime index 12.
  if (fields.size() < 13) return 0;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
}

// Pins every thread of this process to one CPU (the first it may run on) while it lives; the
// threads and child processes started meanwhile inherit that. The original masks come back at the
// end. Used to measure targets that share one core with the broker, as on a small hub board.
class OneCpu {
 public:
  OneCpu() {
    if (::sched_getaffinity(0, sizeof saved_, &saved_) != 0) {
      throw std::runtime_error("sched_getaffinity failed");
    }
    while (cpu_ < CPU_SETSIZE && !CPU_ISSET(cpu_, &saved_)) ++cpu_;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu_, &one);
    if (!set_all_threads(one)) {
      set_all_threads(saved_);
      throw std::runtime_error("sched_setaffinity failed: cannot pin the bench to one CPU");
    }
  }
  ~OneCpu() { set_all_threads(saved_); }
  OneCpu(const OneCpu&) = delete;
  OneCpu& operator=(const OneCpu&) = delete;
  int cpu() const { return cpu_; }

 private:
  static bool set_all_threads(const cpu_set_t& mask) noexcept {
    bool ok = true;
    std::error_code error;
    for (fs::directory_iterator it("/proc/self/task", error), end; !error && it != end;
         it.increment(error)) {
      const pid_t tid = static_cast<pid_t>(std::atol(it->path().filename().c_str()));
      // A thread that ended meanwhile (ESRCH) needs no mask.
      if (::sched_setaffinity(tid, sizeof mask, &mask) != 0 && errno != ESRCH) ok = false;
    }
    return ok && !error;
  }
  cpu_set_t saved_{};
  int cpu_ = 0;
};

inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

inline bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// ---------------------------------------------------------------------------------------------
// TCP_NODELAY on the broker connections of a process. For another process the socket is
// duplicated with pidfd_getfd (Linux >= 5.6, needs ptrace rights over it: we started it), which
// changes the very same socket; this is how the bench shows what the gateway would gain from
// setting TCP_NODELAY on its Paho connection, without changing the gateway.

struct NodelayReport {
  int sockets = 0;        // broker connections found
  int already_on = 0;     // of which TCP_NODELAY was already set
  bool supported = true;  // pidfd_getfd worked
};

inline NodelayReport nodelay_on_broker_sockets(pid_t pid, int broker_port, bool set) {
  NodelayReport report;
  int pidfd = -1;
  const bool self = pid == ::getpid();
  if (!self) {
    pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
      report.supported = false;
      return report;
    }
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const std::string target = fs::read_symlink(entry.path(), ec).string();
    if (ec || target.rfind("socket:", 0) != 0) continue;
    const int fd = std::stoi(entry.path().filename().string());
    int local = fd;
    if (!self) {
      local = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, fd, 0));
      if (local < 0) {
        report.supported = false;
        continue;
      }
    }
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(local, reinterpret_cast<sockaddr*>(&peer), &len) == 0 &&
        peer.sin_family == AF_INET && ntohs(peer.sin_port) == broker_port) {
      ++report.sockets;
      int on = 0;
      socklen_t on_len = sizeof on;
      ::getsockopt(local, IPPROTO_TCP, TCP_NODELAY, &on, &on_len);
      if (on) ++report.already_on;
      if (set) {
        const int one = 1;
        ::setsockopt(local, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      }
    }
    if (!self) ::close(local);
  }
  if (pidfd >= 0) ::close(pidfd);
  return report;
}

// ---------------------------------------------------------------------------------------------
// A private mosquitto on a free loopback port.

struct Broker {
  pid_t pid = -1;
  int port = 0;
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port); }
};

// default_queue: keep Mosquitto's default max_queued_messages (1000), as an unconfigured hub would.
inline Broker start_broker(const std::string& mosquitto, const std::string& dir,
                           bool default_queue = false) {
  Broker b;
  b.port = free_port();
  const std::string conf = dir + "/mosquitto.conf";
  std::ofstream c(conf);
  c << "listener " << b.port << " 127.0.0.1\n"
    << "allow_anonymous true\n"
    << "persistence false\n"
    << "set_tcp_nodelay true\n"  // Nagle off on the broker side (DESIGN.md)
    << (default_queue ? "" : "max_queued_messages 1000000\n")  // the hub's raises the default
    << "max_inflight_messages 100\n"
    << "log_dest file " << dir << "/mosquitto.log\n"
    << "log_type error\nlog_type warning\n";
  c.close();
  b.pid = spawn({mosquitto, "-c", conf}, dir + "/mosquitto.out");
  for (int i = 0; i < 200 && !port_open(b.port); ++i) std::this_thread::sleep_for(20ms);
  if (!port_open(b.port)) throw std::runtime_error("mosquitto did not start (see " + dir + ")");
  return b;
}

// ---------------------------------------------------------------------------------------------
// MQTT client for the load generator and the receivers (Paho C++, like the gateway).

class Client {
 public:
  using Handler = std::function<void(const std::string& topic, const std::string& payload)>;

  Client(const Broker& broker, const std::string& id, Handler handler = {})
      : broker_port_(broker.port),
        client_(broker.url(), id, nullptr),
        handler_(std::move(handler)) {
    if (handler_) {
      client_.set_message_callback(
          [this](mqtt::const_message_ptr m) { handler_(m->get_topic(), m->get_payload_str()); });
    }
    auto options = mqtt::connect_options_builder()
                       .clean_session(true)
                       .keep_alive_interval(60s)
                       .max_inflight(4000)
                       .finalize();
    client_.connect(options)->wait();
    // The bench's own connections never add Nagle delays to what is measured.
    nodelay_on_broker_sockets(::getpid(), broker_port_, true);
  }
  ~Client() {
    try {
      if (client_.is_connected()) client_.disconnect()->wait_for(2s);
    } catch (...) {
    }
  }

  void subscribe(const std::string& filter, int qos) { client_.subscribe(filter, qos)->wait(); }

  mqtt::delivery_token_ptr publish(const std::string& topic, const std::string& payload, int qos) {
    return client_.publish(mqtt::make_message(topic, payload, qos, false));
  }

  // Publishes, keeping at most `window` messages outstanding (QoS 1: unacknowledged).
  void publish_windowed(const std::string& topic, const std::string& payload, int qos,
                        std::size_t window = 1000) {
    for (;;) {
      try {
        pending_.push_back(publish(topic, payload, qos));
        break;
      } catch (const mqtt::exception&) {
        if (pending_.empty()) throw;
        pending_.front()->wait();
        pending_.pop_front();
      }
    }
    while (pending_.size() > window) {
      pending_.front()->wait();
      pending_.pop_front();
    }
  }
  void flush() {
    for (auto& t : pending_) t->wait();
    pending_.clear();
  }

 private:
  int broker_port_;
  mqtt::async_client client_;
  Handler handler_;
  std::deque<mqtt::delivery_token_ptr> pending_;
};

// A one-shot event with a timeout.
class Latch {
 public:
  void set() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
  }
  bool wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return done_; });
  }
  void reset() {
    std::lock_guard lock(mutex_);
    done_ = false;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
};

}  // namespace homesafe::bench
