#include "support/mosquitto.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace homesafe::test {
namespace {

constexpr int kStartAttempts = 10;

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// Owns a socket descriptor.
class Socket {
 public:
  Socket() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

int free_tcp_port() {
  Socket socket;
  auto address = loopback(0);
  if (::bind(socket.fd(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw std::system_error(errno, std::generic_category(), "bind 127.0.0.1:0");
  }
  socklen_t length = sizeof address;
  if (::getsockname(socket.fd(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::system_error(errno, std::generic_category(), "getsockname");
  }
  return ntohs(address.sin_port);
}

bool tcp_port_accepts(int port) {
  Socket socket;
  auto address = loopback(port);
  return ::connect(socket.fd(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

Mosquitto::Mosquitto(MosquittoOptions options)
    : options_(std::move(options)), dir_("homesafe-mosquitto") {
  std::filesystem::create_directory(dir_.path() / "data");
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    port_ = free_tcp_port();
    write_config();
    if (try_start()) return;
  }
  throw std::runtime_error("mosquitto did not start after " + std::to_string(kStartAttempts) +
                           " attempts on free ports; last log:\n" + log());
}

Mosquitto::~Mosquitto() {
  if (process_) process_->stop(std::chrono::seconds{10});
}

std::string Mosquitto::url() const {
  return "tcp://127.0.0.1:" + std::to_string(port_);
}

bool Mosquitto::running() const {
  return process_ && process_->running();
}

pid_t Mosquitto::pid() const {
  return process_ ? process_->pid() : -1;
}

std::filesystem::path Mosquitto::log_path() const {
  return dir_.path() / "mosquitto.log";
}

std::filesystem::path Mosquitto::config_path() const {
  return dir_.path() / "mosquitto.conf";
}

std::string Mosquitto::log() const {
  std::string text = read_file(log_path());
  if (process_) {
    const std::string errors = process_->read_stderr();
    if (!errors.empty()) text += "\n--- stderr ---\n" + errors;
  }
  return text;
}

void Mosquitto::write_config() const {
  std::string config;
  config += "listener " + std::to_string(port_) + " 127.0.0.1\n";
  config += "allow_anonymous true\n";
  config += "persistence true\n";
  config += "persistence_location " + (dir_.path() / "data").string() + "/\n";
  config += "max_queued_messages 100000\n";
  config += "set_tcp_nodelay true\n";
  config += "log_dest file " + log_path().string() + "\n";
  config += "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  config += "connection_messages true\n";
  // As root, Mosquitto would switch to the `mosquitto` user, who cannot write our temp dir.
  if (::geteuid() == 0) config += "user root\n";
  config += options_.extra_config;
  config += "\n";
  write_file(config_path(), config);
}

bool Mosquitto::try_start() {
  const auto log_offset = read_file(log_path()).size();
  ProcessOptions process_options;
  process_options.stdout_path = dir_.path() / "stdout";
  process_options.stderr_path = dir_.path() / "stderr";
  process_ = std::make_unique<Process>(
      std::vector<std::string>{options_.binary.string(), "-c", config_path().string()},
      process_options);

  // "running" is logged once every listener is open; the connect proves it is this broker's.
  const bool ready = wait_until(
      [&] {
        if (!process_->running()) return true;
        const auto text = read_file(log_path());
        return text.size() > log_offset && text.find(" running", log_offset) != std::string::npos &&
               tcp_port_accepts(port_);
      },
      options_.start_timeout, std::chrono::milliseconds{10});
  if (process_->running() && ready) return true;
  if (!process_->running()) {
    const auto text = read_file(log_path());
    if (text.find("Address already in use", log_offset) != std::string::npos) return false;
  }
  process_->stop(std::chrono::seconds{5});
  throw std::runtime_error("mosquitto on 127.0.0.1:" + std::to_string(port_) +
                           " did not accept connections within " +
                           std::to_string(options_.start_timeout.count()) + " ms; log:\n" + log());
}

void Mosquitto::stop() {
  if (!process_) return;
  const auto status = process_->stop(std::chrono::seconds{10});
  if (!status) throw std::runtime_error("mosquitto did not stop; log:\n" + log());
}

void Mosquitto::kill() {
  if (!process_) return;
  process_->kill(SIGKILL);
  process_->wait_for_exit();
}

void Mosquitto::restart() {
  stop();
  // The port was ours a moment ago; another process may grab it in between, so retry for a while.
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (!try_start()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("mosquitto could not listen again on 127.0.0.1:" +
                               std::to_string(port_) + "; log:\n" + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
}

}  // namespace homesafe::test
