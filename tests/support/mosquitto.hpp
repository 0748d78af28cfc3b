#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace homesafe::test {

struct MosquittoOptions {
  std::filesystem::path binary = "/usr/sbin/mosquitto";
  // Appended verbatim to the generated configuration (e.g. "max_inflight_messages 1\n").
  std::string extra_config{};
  // How long start() and restart() wait for the broker to accept connections.
  std::chrono::milliseconds start_timeout{10'000};
};

// A private Mosquitto broker for one test: listens on 127.0.0.1 only, on a free port, anonymous,
// with persistence and its log in its own temp dir. The constructor returns once the broker
// accepts connections; failure to start throws std::runtime_error carrying the broker's log,
// which fails the test. Signals go to the broker's PID only.
class Mosquitto {
 public:
  explicit Mosquitto(MosquittoOptions options = {});
  ~Mosquitto();
  Mosquitto(const Mosquitto&) = delete;
  Mosquitto& operator=(const Mosquitto&) = delete;

  // "tcp://127.0.0.1:PORT".
  std::string url() const;
  int port() const { return port_; }
  bool running() const;
  pid_t pid() const;

  // SIGTERM and wait: Mosquitto saves its persistence database on the way out.
  void stop();
  // SIGKILL and wait: a crash, the database is not saved.
  void kill();
  // Starts again on the same port with the same persistence directory (stops first if needed).
  void restart();

  const std::filesystem::path& directory() const { return dir_.path(); }
  std::filesystem::path log_path() const;
  std::filesystem::path config_path() const;
  std::string log() const;

 private:
  void write_config() const;
  // One attempt on port_; false (broker exited) if the port was taken.
  bool try_start();

  MosquittoOptions options_;
  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int free_tcp_port();
// Whether something accepts TCP connections on 127.0.0.1:port.
bool tcp_port_accepts(int port);

}  // namespace homesafe::test
