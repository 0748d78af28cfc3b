#include "homesafe/gateway/systemd.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "homesafe/gateway/log.hpp"

namespace homesafe::gateway {
namespace {

// The sd_notify protocol, without libsystemd (and the compression and crypto libraries it
// pulls in, ~1 MB of resident memory): one datagram with the state to the AF_UNIX socket named
// by $NOTIFY_SOCKET, a path or, with a leading '@', an abstract name.
void notify(const char* state) {
  const char* name = std::getenv("NOTIFY_SOCKET");
  if (name == nullptr || name[0] == '\0') return;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::size_t length = std::strlen(name);
  if (length >= sizeof(address.sun_path) || (name[0] != '/' && name[0] != '@')) return;
  std::memcpy(address.sun_path, name, length);
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
  if (::sendto(fd, state, std::strlen(state), MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&address), size) < 0) {
    log::warn("systemd: cannot notify {}: {}", name, std::strerror(errno));
  }
  ::close(fd);
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
  // As sd_watchdog_enabled(): WATCHDOG_USEC, for this process if WATCHDOG_PID says so.
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec == nullptr) return;
  if (const char* pid = std::getenv("WATCHDOG_PID");
      pid != nullptr && std::strtol(pid, nullptr, 10) != static_cast<long>(::getpid())) {
    return;
  }
  char* end = nullptr;
  const unsigned long long value = std::strtoull(usec, &end, 10);
  if (end != usec && *end == '\0' && value > 0) {
    interval_ = std::chrono::microseconds(static_cast<std::int64_t>(value));
  }
}

void SystemdNotifier::ready() {
  notify("READY=1\nSTATUS=running");
  if (watchdog_enabled()) log::info("systemd watchdog every {} ms", interval_.count() / 1000);
}

void SystemdNotifier::alive() {
  if (!watchdog_enabled()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ping_ < interval_ / 2) return;
  last_ping_ = now;
  notify("WATCHDOG=1");
}

void SystemdNotifier::stopping() {
  notify("STOPPING=1");
}

}  // namespace homesafe::gateway
