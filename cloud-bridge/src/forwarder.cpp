#include "homesafe/cloud_bridge/forwarder.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "homesafe/gateway/log.hpp"

#ifndef HOMESAFE_VERSION
#define HOMESAFE_VERSION "0.0.0"
#endif

namespace homesafe::cloud_bridge {
namespace {

namespace log = gateway::log;

}  // namespace

UplinkTopics::UplinkTopics(const std::string& hub_id)
    : event("homesafe-up/" + hub_id + "/event"),
      heartbeat("homesafe-up/" + hub_id + "/heartbeat"),
      status("homesafe-up/" + hub_id + "/status"),
      ack("homesafe-down/" + hub_id + "/ack"),
      command("homesafe-down/" + hub_id + "/command") {}

ForwarderSettings ForwarderSettings::from_config(const gateway::HubConfig& config) {
  ForwarderSettings s;
  const auto& uplink = *config.uplink;
  s.hub_id = uplink.hub_id;
  s.household_id = config.household.id;
  s.heartbeat_ms = std::chrono::duration_cast<std::chrono::milliseconds>(uplink.heartbeat).count();
  s.ack_timeout_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(uplink.ack_timeout).count();
  s.max_retry_interval_ms = std::max<std::int64_t>(s.ack_timeout_ms, 600'000);
  s.max_outbox_rows = uplink.max_outbox_rows;
  s.max_outbox_bytes = uplink.max_outbox_bytes;
  s.drain_rate = uplink.drain_rate;
  s.inflight = uplink.inflight;
  s.version = HOMESAFE_VERSION;
  return s;
}

Forwarder::Forwarder(ForwarderSettings settings, gateway::Store& store, gateway::MqttClient& client,
                     const gateway::Clock& clock, Post post, CommandProcessor* commands,
                     DailySummary* summary)
    : settings_(std::move(settings)),
      topics_(settings_.hub_id),
      store_(store),
      client_(client),
      clock_(clock),
      post_(std::move(post)),
      commands_(commands),
      summary_(summary) {
  settings_.drain_rate = std::max(1, settings_.drain_rate);
  settings_.inflight = std::max(1, settings_.inflight);
  started_mono_ms_ = clock_.now().mono_ms;
  last_refill_mono_ms_ = started_mono_ms_;
}

int Forwarder::in_flight() const {
  return static_cast<int>(std::count_if(pending_.begin(), pending_.end(),
                                        [](const auto& entry) { return entry.second.awaiting; }));
}

void Forwarder::on_connected() {
  connected_ = true;
  ++generation_;
  const auto now = clock_.now();
  client_.subscribe({topics_.ack, topics_.command}, {1, 1});
  client_.publish({topics_.status, "online", 1, true}, nullptr);
  // Whatever was in flight on the old connection may be lost: send it again, in order.
  for (auto& [id, pending] : pending_) {
    pending.awaiting = false;
    pending.next_retry_mono_ms = now.mono_ms;
  }
  log::info("uplink: connected as hub {}; {} events waiting", settings_.hub_id,
            store_.outbox_stats().events);
  send_heartbeat();
  next_heartbeat_mono_ms_ = now.mono_ms + settings_.heartbeat_ms;
}

void Forwarder::on_connection_lost() {
  connected_ = false;
  ++generation_;
  for (auto& [id, pending] : pending_) pending.awaiting = false;
}

void Forwarder::say_offline(std::function<void(bool)> done) {
  client_.publish({topics_.status, "offline", 1, true}, std::move(done));
}

std::string Forwarder::envelope(const gateway::OutboxRow& row) const {
  nlohmann::ordered_json j;
  j["v"] = 1;
  j["event_id"] = row.event_id;
  j["hub"] = settings_.hub_id;
  j["household"] = settings_.household_id;
  j["seq"] = row.seq;
  j["type"] = row.type;
  j["priority"] = row.priority;
  j["ts"] = row.ts_ms;
  j["clock_synced"] = row.clock_synced;
  auto body = nlohmann::ordered_json::parse(row.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    log::error("uplink: outbox event {} has a body that is not a JSON object", row.event_id);
    body = nlohmann::ordered_json::object();
  }
  j["body"] = std::move(body);
  return j.dump();
}

void Forwarder::send(const gateway::OutboxRow& row, std::int64_t now_mono_ms) {
  Pending& pending = pending_[row.event_id];
  if (pending.attempts > 0) {
    ++counters_.resent;
    log::info("uplink: resending {} (attempt {})", row.event_id, pending.attempts + 1);
  }
  ++pending.attempts;
  pending.awaiting = true;
  pending.last_sent_mono_ms = now_mono_ms;
  // First resend right at the ack timeout, then at doubling intervals up to the maximum.
  std::int64_t wait = settings_.ack_timeout_ms;
  for (int i = 1; i < pending.attempts && wait < settings_.max_retry_interval_ms; ++i) wait *= 2;
  pending.next_retry_mono_ms = now_mono_ms + std::min(wait, settings_.max_retry_interval_ms);
  ++counters_.sent;
  tokens_ -= 1;
  client_.publish({topics_.event, envelope(row), 1, false}, [this, generation = generation_,
                                                             id = row.event_id,
                                                             attempt = pending.attempts](bool ok) {
    post_([this, generation, id, attempt, ok] { on_publish_done(generation, id, attempt, ok); });
  });
}

void Forwarder::on_publish_done(std::uint64_t generation, const std::string& event_id, int attempt,
                                bool ok) {
  // A PUBACK means only that the broker has it: the row stays until the township's ack.
  if (ok || generation != generation_) return;
  auto it = pending_.find(event_id);
  if (it == pending_.end() || it->second.attempts != attempt) return;
  it->second.awaiting = false;
  it->second.next_retry_mono_ms = clock_.now().mono_ms + kPublishFailureRetryMs;
}

void Forwarder::on_message(const gateway::MqttMessage& message) {
  if (message.topic == topics_.ack) {
    handle_ack(message.payload);
  } else if (message.topic == topics_.command) {
    if (commands_ == nullptr) return;
    commands_->handle(message.payload, clock_.now());
  }
}

void Forwarder::handle_ack(const std::string& payload) {
  const auto json = nlohmann::json::parse(payload, nullptr, false);
  const nlohmann::json* acked = nullptr;
  if (json.is_object()) {
    auto it = json.find("acked");
    if (it != json.end() && it->is_array()) acked = &*it;
  }
  if (acked == nullptr) {
    ++counters_.malformed_acks;
    log::warn("uplink: malformed ack ignored ({} so far)", counters_.malformed_acks);
    return;
  }
  gateway::Store::Transaction tx(store_, gateway::Durability::full);
  std::int64_t deleted = 0;
  for (const auto& id : *acked) {
    if (!id.is_string()) continue;
    const auto event_id = id.get<std::string>();
    if (store_.delete_outbox_event(event_id)) ++deleted;
    pending_.erase(event_id);
  }
  tx.commit();
  counters_.acked += deleted;
}

void Forwarder::refill(std::int64_t now_mono_ms) {
  const double burst = settings_.drain_rate;
  if (last_refill_mono_ms_) {
    const auto elapsed = std::max<std::int64_t>(0, now_mono_ms - *last_refill_mono_ms_);
    tokens_ = std::min(burst, tokens_ + static_cast<double>(elapsed) *
                                            static_cast<double>(settings_.drain_rate) / 1000.0);
  }
  last_refill_mono_ms_ = now_mono_ms;
}

void Forwarder::on_tick() {
  const auto now = clock_.now();
  refill(now.mono_ms);
  if (now.mono_ms >= next_trim_mono_ms_) {
    next_trim_mono_ms_ = now.mono_ms + kTrimIntervalMs;
    gateway::Store::Transaction tx(store_, gateway::Durability::full);
    const auto dropped = store_.trim_outbox(settings_.max_outbox_rows, settings_.max_outbox_bytes);
    const auto stats = store_.outbox_stats();
    tx.commit();
    if (dropped > 0) {
      counters_.dropped += dropped;
      log::warn("uplink: outbox over its cap; dropped the {} oldest summary/health events",
                dropped);
    }
    const bool over =
        stats.events > settings_.max_outbox_rows || stats.bytes > settings_.max_outbox_bytes;
    if (over && !over_cap_warned_) {
      log::warn(
          "uplink: outbox holds {} events / {} bytes, over its cap, but only alarms and "
          "alerts are left; keeping them",
          stats.events, stats.bytes);
    }
    over_cap_warned_ = over;
  }
  if (summary_ != nullptr && now.mono_ms >= next_summary_mono_ms_) {
    next_summary_mono_ms_ = now.mono_ms + kSummaryIntervalMs;
    summary_->run(now);
  }
  if (!connected_) return;
  if (now.mono_ms >= next_heartbeat_mono_ms_) {
    next_heartbeat_mono_ms_ = now.mono_ms + settings_.heartbeat_ms;
    send_heartbeat();
  }
  drain(now.mono_ms);
}

void Forwarder::drain(std::int64_t now_mono) {
  int flying = 0;
  for (auto& [id, pending] : pending_) {
    if (pending.awaiting && now_mono >= pending.last_sent_mono_ms + settings_.ack_timeout_ms) {
      pending.awaiting = false;  // timed out: eligible again at next_retry
    }
    if (pending.awaiting) ++flying;
  }
  if (flying >= settings_.inflight || tokens_ < 1) return;
  // While the township acknowledges nothing (its service down, its broker up), stop sending new
  // events once this many are unacknowledged, except alarms: this bounds the work, and the rows
  // read here, to retries at their slow pace.
  const auto max_tracked = static_cast<std::size_t>(std::max(256, 8 * settings_.inflight));
  const auto limit = static_cast<std::int64_t>(pending_.size()) + settings_.inflight;
  const auto rows = store_.outbox_next(limit);
  for (const auto& row : rows) {
    if (flying >= settings_.inflight || tokens_ < 1) break;
    auto it = pending_.find(row.event_id);
    if (it == pending_.end()) {
      if (pending_.size() >= max_tracked && row.priority > 0) continue;
    } else if (it->second.awaiting || now_mono < it->second.next_retry_mono_ms) {
      continue;
    }
    send(row, now_mono);
    ++flying;
  }
  if (static_cast<std::int64_t>(rows.size()) < limit) {
    // The whole outbox was read: forget what is no longer in it (dropped by the cap).
    std::set<std::string> present;
    for (const auto& row : rows) present.insert(row.event_id);
    std::erase_if(pending_, [&](const auto& entry) { return present.count(entry.first) == 0; });
  }
}

nlohmann::ordered_json Forwarder::heartbeat_json() {
  const auto now = clock_.now();
  const auto stats = store_.outbox_stats();
  nlohmann::ordered_json j;
  j["v"] = 1;
  j["hub"] = settings_.hub_id;
  j["household"] = settings_.household_id;
  j["ts"] = now.wall_ms;
  j["clock_synced"] = now.wall_synced;
  j["boot_id"] = settings_.boot_id;
  j["uptime_s"] = (now.mono_ms - started_mono_ms_) / 1000;
  j["outbox"] = {{"events", stats.events},
                 {"bytes", stats.bytes},
                 {"oldest_ts", stats.oldest_ts_ms ? nlohmann::json(*stats.oldest_ts_ms)
                                                  : nlohmann::json(nullptr)},
                 {"dropped", stats.dropped},
                 {"retrying", std::count_if(pending_.begin(), pending_.end(),
                                            [](const auto& e) { return e.second.attempts >= 3; })}};
  j["version"] = settings_.version;
  return j;
}

void Forwarder::send_heartbeat() {
  ++counters_.heartbeats;
  client_.publish({topics_.heartbeat, heartbeat_json().dump(), 0, false}, nullptr);
}

}  // namespace homesafe::cloud_bridge
