#include "support/postgres.hpp"

#include <pwd.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

#include "support/mosquitto.hpp"  // free_tcp_port
#include "support/wait.hpp"

namespace homesafe::test {
namespace {

constexpr int kStartAttempts = 10;

bool is_root() {
  return ::geteuid() == 0;
}

// The `postgres` system user (Debian's package creates it): who runs the server when we are root.
const passwd* server_user() {
  return ::getpwnam("postgres");
}

void give_to_server_user(const std::filesystem::path& path) {
  const passwd* user = server_user();
  if (user == nullptr) throw std::runtime_error("running as root but there is no user 'postgres'");
  if (::chown(path.c_str(), user->pw_uid, user->pw_gid) != 0) {
    throw std::runtime_error("cannot chown " + path.string() + " to postgres");
  }
}

}  // namespace

bool Postgres::available(const PostgresOptions& options) {
  if (!std::filesystem::exists(options.bin_dir / "postgres") ||
      !std::filesystem::exists(options.bin_dir / "initdb")) {
    return false;
  }
  return !is_root() || server_user() != nullptr;
}

Postgres::Postgres(PostgresOptions options)
    : options_(std::move(options)), dir_("homesafe-postgres") {
  data_ = dir_.path() / "data";
  sockets_ = dir_.path() / "run";
  std::filesystem::create_directory(data_);
  std::filesystem::create_directory(sockets_);
  if (is_root()) {
    // The server user must reach its folders through our (0700) temp dir.
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::owner_all |
                                                  std::filesystem::perms::group_exec |
                                                  std::filesystem::perms::others_exec);
    give_to_server_user(data_);
    give_to_server_user(sockets_);
  }
  std::filesystem::permissions(data_, std::filesystem::perms::owner_all);

  ProcessOptions init_options;
  init_options.working_dir = sockets_;
  Process initdb(as_server_user({(options_.bin_dir / "initdb").string(), "-D", data_.string(), "-U",
                                 "homesafe", "--auth=trust", "--encoding=UTF8", "--locale=C",
                                 "--no-sync", "--no-instructions"}),
                 init_options);
  const auto status = initdb.wait_for_exit(options_.start_timeout);
  if (status != 0) {
    throw std::runtime_error("initdb failed: " + initdb.describe());
  }
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    port_ = free_tcp_port();
    if (try_start()) return;
  }
  throw std::runtime_error("postgres did not start after " + std::to_string(kStartAttempts) +
                           " attempts on free ports; last log:\n" + log());
}

Postgres::~Postgres() {
  try {
    stop();
  } catch (...) {
    // The Process destructor SIGKILLs what is left.
  }
}

std::vector<std::string> Postgres::as_server_user(std::vector<std::string> argv) const {
  if (!is_root()) return argv;
  std::vector<std::string> out{"setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups",
                               "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

bool Postgres::try_start() {
  std::vector<std::string> argv{(options_.bin_dir / "postgres").string(),
                                "-D",
                                data_.string(),
                                "-p",
                                std::to_string(port_),
                                "-k",
                                sockets_.string(),
                                "-c",
                                "listen_addresses=127.0.0.1",
                                "-c",
                                "fsync=off",
                                "-c",
                                "full_page_writes=off",
                                "-c",
                                "max_connections=200",
                                "-c",
                                "logging_collector=off"};
  for (const auto& s : options_.settings) {
    argv.push_back("-c");
    argv.push_back(s);
  }
  ProcessOptions process_options;
  process_options.working_dir = sockets_;
  process_options.stdout_path = dir_.path() / "stdout";
  process_options.stderr_path = dir_.path() / "postgres.log";
  const auto log_offset = read_file(process_options.stderr_path).size();
  process_ = std::make_unique<Process>(as_server_user(argv), process_options);
  const bool ready = wait_until(
      [&] {
        if (!process_->running()) return true;
        const auto text = read_file(dir_.path() / "postgres.log");
        return text.find("ready to accept connections", log_offset) != std::string::npos &&
               tcp_port_accepts(port_);
      },
      options_.start_timeout, std::chrono::milliseconds{20});
  if (process_->running() && ready) return true;
  if (!process_->running()) {
    const auto text = read_file(dir_.path() / "postgres.log");
    if (text.find("could not bind", log_offset) != std::string::npos ||
        text.find("could not create any TCP/IP sockets", log_offset) != std::string::npos) {
      return false;
    }
  }
  process_->stop(std::chrono::seconds{10});
  throw std::runtime_error("postgres on 127.0.0.1:" + std::to_string(port_) +
                           " did not become ready; log:\n" + log());
}

pid_t Postgres::pid() const {
  return process_ ? process_->pid() : -1;
}

bool Postgres::running() const {
  return process_ && process_->running();
}

std::string Postgres::url(const std::string& database) const {
  return "postgresql://homesafe@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

void Postgres::stop() {
  if (!process_ || !process_->running()) return;
  process_->kill(SIGINT);  // fast shutdown: open sessions are ended, not waited for
  if (!process_->wait_for_exit(std::chrono::seconds{30})) {
    process_->kill(SIGKILL);
    process_->wait_for_exit();
  }
}

void Postgres::kill() {
  if (!process_) return;
  process_->kill(SIGKILL);
  process_->wait_for_exit();
  // The postmaster's children notice it is gone and exit; wait until the port is free.
  wait_until([&] { return !tcp_port_accepts(port_); }, std::chrono::seconds{10});
}

void Postgres::restart() {
  stop();
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (!try_start()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("postgres could not listen again on 127.0.0.1:" +
                               std::to_string(port_) + "; log:\n" + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
}

std::string Postgres::log() const {
  return read_file(dir_.path() / "postgres.log");
}

}  // namespace homesafe::test
