#pragma once
// The uplink forwarder: drains the hub's outbox to the township broker (docs/uplink.md).
//
// - sends the lowest priority number first, oldest first within a priority;
// - at most `inflight` events sent and not yet acknowledged, at most `drain_rate` sends a second;
// - deletes an event only when its event_id comes back on homesafe-down/HUB/ack (the township's
//   application ack after its commit), never on the broker's PUBACK;
// - resends an event not acknowledged within `ack_timeout`, then at growing intervals (a
//   malformed event the township refuses is retried slowly, and counted in the heartbeat);
// - keeps the outbox within its size cap (Store::trim_outbox) and sends a heartbeat.
//
// Single-threaded: every method runs on the thread that owns the store (the daemon's io_context).
// The MQTT client's completions are handed back through `post`.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "homesafe/cloud_bridge/commands.hpp"
#include "homesafe/cloud_bridge/daily_summary.hpp"
#include "homesafe/gateway/clock.hpp"
#include "homesafe/gateway/config.hpp"
#include "homesafe/gateway/mqtt_client.hpp"
#include "homesafe/gateway/store.hpp"

namespace homesafe::cloud_bridge {

struct UplinkTopics {
  explicit UplinkTopics(const std::string& hub_id);
  std::string event;      // homesafe-up/HUB/event
  std::string heartbeat;  // homesafe-up/HUB/heartbeat
  std::string status;     // homesafe-up/HUB/status
  std::string ack;        // homesafe-down/HUB/ack
  std::string command;    // homesafe-down/HUB/command
};

struct ForwarderSettings {
  std::string hub_id;
  std::string household_id;
  std::int64_t heartbeat_ms = 300'000;
  std::int64_t ack_timeout_ms = 30'000;
  std::int64_t max_retry_interval_ms = 600'000;
  std::int64_t max_outbox_rows = 200'000;
  std::int64_t max_outbox_bytes = 64LL << 20;
  int drain_rate = 20;  // events per second
  int inflight = 10;
  std::string boot_id;
  std::string version;

  static ForwarderSettings from_config(const gateway::HubConfig& config);
};

struct ForwarderCounters {
  std::int64_t sent = 0;     // publishes of events (first sends and resends)
  std::int64_t resent = 0;   // of which resends
  std::int64_t acked = 0;    // events deleted on the township's ack
  std::int64_t dropped = 0;  // events dropped by the size cap (this run)
  std::int64_t heartbeats = 0;
  std::int64_t malformed_acks = 0;
};

class Forwarder {
 public:
  using Post = std::function<void(std::function<void()>)>;
  static constexpr std::int64_t kTrimIntervalMs = 1'000;
  static constexpr std::int64_t kSummaryIntervalMs = 60'000;
  // A publish that failed locally (not connected, queue full) is tried again after this.
  static constexpr std::int64_t kPublishFailureRetryMs = 1'000;

  // `commands` and `summary` may be null (no downlink / no summaries).
  Forwarder(ForwarderSettings settings, gateway::Store& store, gateway::MqttClient& client,
            const gateway::Clock& clock, Post post, CommandProcessor* commands,
            DailySummary* summary);

  void on_connected();
  void on_connection_lost();
  // A message from the township broker (ack or command).
  void on_message(const gateway::MqttMessage& message);
  // Call often (the daemon: every 100 ms): sends, resends, trims, heartbeats, summaries.
  void on_tick();
  // Publishes the retained "offline" status (a clean stop); `done` runs on the client's thread.
  void say_offline(std::function<void(bool)> done);

  bool connected() const { return connected_; }
  const ForwarderCounters& counters() const { return counters_; }
  const UplinkTopics& topics() const { return topics_; }
  // Events sent and waiting for their ack within ack_timeout.
  int in_flight() const;
  nlohmann::ordered_json heartbeat_json();
  // The JSON sent for one outbox row.
  std::string envelope(const gateway::OutboxRow& row) const;

 private:
  struct Pending {
    std::int64_t last_sent_mono_ms = 0;
    std::int64_t next_retry_mono_ms = 0;
    int attempts = 0;
    bool awaiting = false;  // sent on this connection and within ack_timeout
  };

  void send(const gateway::OutboxRow& row, std::int64_t now_mono_ms);
  void on_publish_done(std::uint64_t generation, const std::string& event_id, int attempt, bool ok);
  void handle_ack(const std::string& payload);
  void refill(std::int64_t now_mono_ms);
  void drain(std::int64_t now_mono_ms);
  void send_heartbeat();

  ForwarderSettings settings_;
  UplinkTopics topics_;
  gateway::Store& store_;
  gateway::MqttClient& client_;
  const gateway::Clock& clock_;
  Post post_;
  CommandProcessor* commands_;
  DailySummary* summary_;

  bool connected_ = false;
  std::uint64_t generation_ = 0;  // counts connections: completions of an old one are ignored
  std::map<std::string, Pending> pending_;
  double tokens_ = 1;
  std::optional<std::int64_t> last_refill_mono_ms_;
  std::int64_t started_mono_ms_ = 0;
  std::int64_t next_heartbeat_mono_ms_ = 0;
  std::int64_t next_trim_mono_ms_ = 0;
  std::int64_t next_summary_mono_ms_ = 0;
  bool over_cap_warned_ = false;
  ForwarderCounters counters_;
};

}  // namespace homesafe::cloud_bridge
