#include "support/mqtt_fault_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace homesafe::test {

struct MqttFaultProxy::Link {
  int client = -1;
  int broker = -1;
  std::atomic<bool> cut{false};
  void close_both() {
    if (cut.exchange(true)) return;
    ::shutdown(client, SHUT_RDWR);
    ::shutdown(broker, SHUT_RDWR);
  }
  ~Link() {
    if (client >= 0) ::close(client);
    if (broker >= 0) ::close(broker);
  }
};

namespace {

bool write_all(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void set_nodelay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

MqttFaultProxy::MqttFaultProxy(int broker_port) : broker_port_(broker_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("proxy: socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("proxy: cannot listen on 127.0.0.1");
  }
  socklen_t length = sizeof address;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

MqttFaultProxy::~MqttFaultProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  {
    std::lock_guard lock(mutex_);
    for (auto& link : links_) link->close_both();
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void MqttFaultProxy::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    const int broker = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(broker_port_));
    if (broker < 0 ||
        ::connect(broker, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(client);
      if (broker >= 0) ::close(broker);
      continue;
    }
    set_nodelay(client);
    set_nodelay(broker);
    auto link = std::make_shared<Link>();
    link->client = client;
    link->broker = broker;
    ++connections_;
    std::lock_guard lock(mutex_);
    links_.push_back(link);
    threads_.emplace_back([this, link] { client_to_broker(link); });
    threads_.emplace_back([link] {
      std::uint8_t buffer[16384];
      for (;;) {
        const ssize_t n = ::recv(link->broker, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || !write_all(link->client, buffer, static_cast<std::size_t>(n))) break;
      }
      link->close_both();
    });
  }
}

// Reads whole MQTT packets (fixed header, remaining length, body) and passes them on, or not.
void MqttFaultProxy::client_to_broker(const std::shared_ptr<Link>& link) {
  std::vector<std::uint8_t> pending;
  std::uint8_t buffer[16384];
  for (;;) {
    const ssize_t n = ::recv(link->client, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.insert(pending.end(), buffer, buffer + n);
    std::size_t at = 0;
    bool cut = false;
    while (!cut) {
      // Fixed header: type and flags, then 1-4 bytes of remaining length.
      if (pending.size() - at < 2) break;
      std::size_t length = 0;
      std::size_t header = 1;
      bool complete = false;
      for (int shift = 0; shift < 28 && at + header < pending.size(); shift += 7) {
        const std::uint8_t byte = pending[at + header++];
        length |= static_cast<std::size_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
          complete = true;
          break;
        }
      }
      if (!complete || pending.size() - at < header + length) break;
      const std::uint8_t first = pending[at];
      const bool publish = (first >> 4) == 3;
      const int qos = (first >> 1) & 3;
      if (publish && (first & 0x08) != 0 && refuse_resends_) {
        ++cut_for_resend_;
        cut = true;
      } else if (publish && qos == 1 && swallow_next_.exchange(false)) {
        ++swallowed_;
        cut = true;
      } else if (!write_all(link->broker, pending.data() + at, header + length)) {
        cut = true;
      }
      at += header + length;
    }
    if (cut) break;
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(at));
  }
  link->close_both();
}

}  // namespace homesafe::test
