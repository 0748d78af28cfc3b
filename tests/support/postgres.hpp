#pragma once
// A private PostgreSQL server for tests: its own data folder (initdb) in a temp dir, listening on
// 127.0.0.1 only on a free port, a private socket folder, fsync off. Started from
// /usr/lib/postgresql/15/bin (Debian's `postgresql` package); the system's own cluster and
// service are never touched. PostgreSQL refuses to run as root: as root the server runs as the
// `postgres` system user (setpriv, which execs, so the PID is the server's own), otherwise as the
// current user. Stopped by its PID.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace homesafe::test {

struct PostgresOptions {
  std::filesystem::path bin_dir = "/usr/lib/postgresql/15/bin";
  // Extra `-c NAME=VALUE` settings, e.g. {"max_connections=300"}.
  std::vector<std::string> settings{};
  std::chrono::milliseconds start_timeout{60'000};
};

class Postgres {
 public:
  // initdb (superuser `homesafe`, trust authentication on loopback, UTF8, C collation) and start.
  // Throws std::runtime_error with the server's log when it cannot.
  explicit Postgres(PostgresOptions options = {});
  ~Postgres();
  Postgres(const Postgres&) = delete;
  Postgres& operator=(const Postgres&) = delete;

  int port() const { return port_; }
  pid_t pid() const;
  bool running() const;
  // "postgresql://homesafe@127.0.0.1:PORT/DATABASE".
  std::string url(const std::string& database = "postgres") const;

  // Fast shutdown (SIGINT: clients are disconnected), waits.
  void stop();
  // SIGKILL of the postmaster: a crash.
  void kill();
  // Starts again on the same port and data (stops first if needed).
  void restart();

  std::string log() const;
  // Whether PostgreSQL can run here (its binaries exist; as root, the `postgres` user exists).
  static bool available(const PostgresOptions& options = {});

 private:
  std::vector<std::string> as_server_user(std::vector<std::string> argv) const;
  bool try_start();

  PostgresOptions options_;
  TempDir dir_;
  std::filesystem::path data_;
  std::filesystem::path sockets_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace homesafe::test
