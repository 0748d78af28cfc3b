// TCP_NODELAY on the gateway's broker socket (gateway/src/paho_client.cpp): the URL is read
// right, and the helper finds this process's sockets to the broker and only those.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include "homesafe/gateway/mqtt_client.hpp"
#include "support/mosquitto.hpp"

namespace homesafe::gateway {
namespace {

TEST(BrokerEndpoint, ReadsHostAndPortOfTheUrl) {
  auto e = broker_endpoint("tcp://127.0.0.1:1883");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 1883);
  e = broker_endpoint("mqtt://hub.local");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "hub.local");
  EXPECT_EQ(e->port, 1883);
  e = broker_endpoint("ssl://[::1]:18883");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 18883);
  e = broker_endpoint("mqtts://broker.example");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->port, 8883);
  e = broker_endpoint("tcp://user:secret@localhost:2883/");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "localhost");
  EXPECT_EQ(e->port, 2883);
  EXPECT_FALSE(broker_endpoint("ws://127.0.0.1:9001"));
  EXPECT_FALSE(broker_endpoint("127.0.0.1:1883"));
  EXPECT_FALSE(broker_endpoint("tcp://127.0.0.1:port"));
  EXPECT_FALSE(broker_endpoint("tcp://127.0.0.1:70000"));
  EXPECT_FALSE(broker_endpoint("tcp://:1883"));
}

// A listening socket on 127.0.0.1 and a client connected to it.
struct LoopbackPair {
  int listener = -1;
  int client = -1;
  int accepted = -1;
  int port = 0;

  LoopbackPair() {
    listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        listen(listener, 4) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("loopback listener");
    }
    port = ntohs(address.sin_port);
    client = socket(AF_INET, SOCK_STREAM, 0);
    if (client < 0 || connect(client, reinterpret_cast<sockaddr*>(&address), length) != 0) {
      throw std::runtime_error("loopback connect");
    }
    accepted = accept(listener, nullptr, nullptr);
  }
  ~LoopbackPair() {
    for (int fd : {client, accepted, listener}) {
      if (fd >= 0) close(fd);
    }
  }
};

bool nodelay(int fd) {
  int value = 0;
  socklen_t length = sizeof value;
  EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &length), 0);
  return value != 0;
}

TEST(TcpNodelay, SetOnTheSocketToTheBrokerOnly) {
  LoopbackPair broker;
  LoopbackPair other;
  ASSERT_FALSE(nodelay(broker.client));  // Linux's default: Nagle on
  ASSERT_FALSE(nodelay(other.client));

  EXPECT_EQ(set_tcp_nodelay_towards({"127.0.0.1", broker.port}), 1);
  EXPECT_TRUE(nodelay(broker.client));
  EXPECT_FALSE(nodelay(other.client));     // another peer
  EXPECT_FALSE(nodelay(broker.accepted));  // the broker's side has the port as its own
  EXPECT_FALSE(nodelay(other.accepted));
}

TEST(TcpNodelay, HostNameResolvesToThePeerAddress) {
  LoopbackPair broker;
  EXPECT_EQ(set_tcp_nodelay_towards({"localhost", broker.port}), 1);
  EXPECT_TRUE(nodelay(broker.client));
}

TEST(TcpNodelay, APortOnAnotherHostIsNotTheBroker) {
  LoopbackPair broker;
  EXPECT_EQ(set_tcp_nodelay_towards({"127.0.0.2", broker.port}), 0);
  EXPECT_FALSE(nodelay(broker.client));
}

TEST(TcpNodelay, NoSocketToTheBrokerSetsNothing) {
  LoopbackPair broker;
  const int port = broker.port;
  close(broker.client);
  broker.client = -1;
  EXPECT_EQ(set_tcp_nodelay_towards({"127.0.0.1", port}), 0);
}

// This process's socket connected to 127.0.0.1:port (the test's own walk, not the helper's).
int socket_to(int port) {
  for (int fd = 0; fd < 1024; ++fd) {
    sockaddr_in peer{};
    socklen_t length = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) continue;
    if (peer.sin_family == AF_INET && ntohs(peer.sin_port) == port) return fd;
  }
  return -1;
}

class Connections {
 public:
  MqttClient::Handlers handlers() {
    MqttClient::Handlers h;
    h.on_connected = [this] {
      std::lock_guard lock(mutex_);
      ++connected_;
      cv_.notify_all();
    };
    h.on_connection_lost = [this](const std::string&) {
      std::lock_guard lock(mutex_);
      ++lost_;
      cv_.notify_all();
    };
    return h;
  }
  bool wait_connected(int n) {
    return wait([&] { return connected_ >= n; });
  }
  bool wait_lost(int n) {
    return wait([&] { return lost_ >= n; });
  }

 private:
  template <typename Predicate>
  bool wait(Predicate predicate) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(15), predicate);
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  int connected_ = 0;
  int lost_ = 0;
};

TEST(TcpNodelay, PahoClientSetsItOnEveryNewConnection) {
  test::Mosquitto broker;
  MqttSettings settings;
  settings.url = broker.url();
  settings.client_id = "nodelay-test";
  settings.clean_session = true;
  Connections connections;
  auto client = make_paho_client(settings);
  client->set_handlers(connections.handlers());
  client->connect();
  ASSERT_TRUE(connections.wait_connected(1));
  const int first = socket_to(broker.port());
  ASSERT_GE(first, 0);
  EXPECT_TRUE(nodelay(first));

  broker.restart();  // a new socket after the reconnect
  ASSERT_TRUE(connections.wait_lost(1));
  client->connect();
  ASSERT_TRUE(connections.wait_connected(2));
  const int second = socket_to(broker.port());
  ASSERT_GE(second, 0);
  EXPECT_TRUE(nodelay(second));
}

}  // namespace
}  // namespace homesafe::gateway
