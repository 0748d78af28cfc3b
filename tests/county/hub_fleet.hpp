#pragma once
// Simulated hubs for the county proof (tests/county/README.md): each hub has its own MQTT
// connection and broker credentials and behaves like a hub's outbox (docs/uplink.md): events get
// increasing sequence numbers, are published QoS 1 on homesafe-up/HUB/event, alarms (priority 0)
// before the rest, and are sent again until their id comes back on homesafe-down/HUB/ack.

#include <mqtt/async_client.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "homesafe/gateway/mqtt_client.hpp"

namespace homesafe::test::county {

struct HubAccount {
  std::string hub_id;  // also the household id and the broker username
  std::string password;
};

struct FleetOptions {
  std::string broker_url;
  std::vector<HubAccount> hubs;
  std::string epoch;                            // 8 hex digits, the outboxes' epoch
  double rate = 100;                            // new events per second over all hubs
  double alarm_share = 0.05;                    // share of new events that are alarms (priority 0)
  long burst = 0;                               // events already in every outbox at the start
  std::chrono::milliseconds ack_timeout{5000};  // sent again when no ack came within this
  // As a hub's outbox (cloud-bridge/src/forwarder.cpp): after each resend of an event its next
  // one waits twice as long, up to this (the hub's cap is 10 min; lower here so that a run's
  // drain phase stays short). Without it the fleet resends everything every ack_timeout, which
  // no hub does, and a broker starved of CPU never catches up.
  std::chrono::milliseconds max_retry_interval{60'000};
  std::size_t window = 8;  // unacknowledged events in flight per hub
  std::chrono::milliseconds tick{20};
  bool clean_session = false;  // the hub's uplink keeps its session (cloud-bridge/src/uplink.cpp)
  unsigned seed = 1;
};

// What one hub created: the database must hold exactly these, once each.
struct HubRecord {
  std::string hub_id;
  long events = 0;  // seq 1..events
  long alarms = 0;
  long health = 0;
};

struct FleetCounters {
  long generated = 0;
  long published = 0;       // first sends
  long resent = 0;          // sends after an ack timeout
  long publish_errors = 0;  // refused by the client (disconnected, inflight full): tried again
  long acks = 0;            // event ids acknowledged
  long stale_acks = 0;      // acks for ids no longer in the outbox (the township stored twice?)
  long connection_losses = 0;
  long clients_replaced = 0;  // after short connections in a row (ShortConnectionGuard)
  long outbox = 0;            // events not acknowledged yet
};

class HubFleet {
 public:
  explicit HubFleet(FleetOptions options);
  ~HubFleet();
  HubFleet(const HubFleet&) = delete;
  HubFleet& operator=(const HubFleet&) = delete;

  // Connects every hub (its own credentials) and subscribes to its ack topic; throws when a hub
  // cannot connect within `timeout`.
  void connect_all(std::chrono::milliseconds timeout);
  // Starts the sender thread: new events at `rate`, sends, resends.
  void start();
  // No new events from now on; the outboxes keep sending until acknowledged.
  void stop_generating();
  FleetCounters counters() const;
  std::vector<HubRecord> records() const;
  void disconnect_all();

 private:
  struct Entry {
    int priority = 2;
    std::string payload;
    bool in_flight = false;
    int attempts = 0;
    std::chrono::steady_clock::time_point sent_at{};
  };
  struct Hub {
    HubAccount account;
    std::unique_ptr<mqtt::async_client> client;
    long next_seq = 1;
    long alarms = 0;
    long health = 0;
    std::map<long, Entry> outbox;           // by seq
    std::set<std::pair<int, long>> unsent;  // (priority, seq): sending order
    std::deque<long> in_flight;             // seqs in the order they were sent
    std::multimap<std::chrono::steady_clock::time_point, long> retry_at;  // timed out: when due
    std::size_t in_flight_count = 0;
    // As the gateway's client does (gateway/src/paho_client.cpp): a client whose connections
    // keep ending soon after they began is replaced, dropping Paho's unacknowledged messages.
    std::mutex guard_mutex;  // Paho's thread and the sender thread
    gateway::ShortConnectionGuard guard;
    std::atomic<bool> replace{false};
  };

  // Creates hub.client with its callbacks and starts connecting; returns the connect token.
  mqtt::token_ptr make_client(Hub& hub);
  // The sender thread (or start(), before it runs) with state_mutex_ held.
  void add_event(Hub& hub);
  void pump(Hub& hub, std::chrono::steady_clock::time_point now);
  void on_ack(Hub& hub, const std::string& payload);
  void run();

  FleetOptions options_;
  std::vector<std::unique_ptr<Hub>> hubs_;
  std::mt19937_64 random_;
  mutable std::mutex state_mutex_;  // the outboxes
  std::mutex acks_mutex_;           // acks received on Paho's thread, not yet applied
  std::vector<std::pair<Hub*, std::string>> pending_acks_;
  std::atomic<bool> generating_{true};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::atomic<long> generated_{0}, published_{0}, resent_{0}, publish_errors_{0}, acks_{0},
      stale_acks_{0}, connection_losses_{0}, clients_replaced_{0}, outbox_{0};
};

// One outbox event as a hub sends it (docs/uplink.md), `ts` the wall clock now in Unix ms.
std::string event_payload(const std::string& hub, const std::string& epoch, long seq, bool alarm,
                          std::int64_t ts_ms);

std::int64_t wall_ms();

}  // namespace homesafe::test::county
