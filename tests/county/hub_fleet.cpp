#include "hub_fleet.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace homesafe::test::county {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string event_payload(const std::string& hub, const std::string& epoch, long seq, bool alarm,
                          std::int64_t ts_ms) {
  json body;
  if (alarm) {
    // An emergency alert opening: priority 0, as a hub's outbox marks it.
    body = {{"alert_id", hub + "-sos-" + std::to_string(seq)},
            {"kind", "call"},
            {"severity", "emergency"},
            {"state", "open"},
            {"device", "bedroom-sos"},
            {"location", "bedroom"},
            {"detail", nullptr},
            {"opened_at", ts_ms},
            {"updated_at", ts_ms},
            {"acknowledged_at", nullptr},
            {"acknowledged_by", nullptr},
            {"resolved_at", nullptr},
            {"resolved_by", nullptr},
            {"condition_active", true},
            {"repeat_count", 0}};
  } else {
    body = {{"device", "plug-" + std::to_string(seq % 5)},
            {"event", seq % 2 ? "online" : "offline"},
            {"at", ts_ms},
            {"detail", nullptr}};
  }
  return json{{"v", 1},
              {"event_id", hub + "/" + epoch + "/" + std::to_string(seq)},
              {"hub", hub},
              {"household", hub},
              {"seq", seq},
              {"type", alarm ? "alert" : "device_health"},
              {"priority", alarm ? 0 : 2},
              {"ts", ts_ms},
              {"clock_synced", true},
              {"body", std::move(body)}}
      .dump();
}

HubFleet::HubFleet(FleetOptions options) : options_(std::move(options)), random_(options_.seed) {
  for (const auto& account : options_.hubs) {
    auto hub = std::make_unique<Hub>();
    hub->account = account;
    hubs_.push_back(std::move(hub));
  }
}

HubFleet::~HubFleet() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  try {
    disconnect_all();
  } catch (...) {
  }
}

mqtt::token_ptr HubFleet::make_client(Hub& hub_ref) {
  Hub* hub = &hub_ref;
  const std::string id = hub->account.hub_id;
  hub->client.reset();
  hub->client = std::make_unique<mqtt::async_client>(options_.broker_url, "hub-" + id, nullptr);
  mqtt::async_client* client = hub->client.get();
  const std::string ack_topic = "homesafe-down/" + id + "/ack";
  // Paho's thread: only queue the ack; the sender thread owns the outboxes (and calls Paho,
  // which must not wait for a lock this callback holds).
  client->set_message_callback([this, hub](mqtt::const_message_ptr m) {
    std::lock_guard lock(acks_mutex_);
    pending_acks_.emplace_back(hub, m->get_payload_str());
  });
  client->set_connection_lost_handler([this, hub](const std::string&) {
    ++connection_losses_;
    std::lock_guard lock(hub->guard_mutex);
    if (hub->guard.lost(SteadyClock::now())) hub->replace = true;
  });
  // After a reconnect (broker restart): subscribe again, in case the session was not kept.
  client->set_connected_handler([hub, client, ack_topic](const std::string&) {
    {
      std::lock_guard lock(hub->guard_mutex);
      hub->guard.connected(SteadyClock::now());
    }
    try {
      client->subscribe(ack_topic, 1);
    } catch (const mqtt::exception&) {
    }
  });
  auto options = mqtt::connect_options_builder()
                     .user_name(id)
                     .password(hub->account.password)
                     .clean_session(options_.clean_session)
                     .keep_alive_interval(std::chrono::seconds(30))
                     .connect_timeout(std::chrono::seconds(10))
                     .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(4))
                     .max_inflight(static_cast<int>(options_.window * 2 + 16))
                     .finalize();
  return client->connect(options);
}

void HubFleet::connect_all(std::chrono::milliseconds timeout) {
  std::vector<mqtt::token_ptr> tokens;
  for (auto& hub_ptr : hubs_) tokens.push_back(make_client(*hub_ptr));
  const auto deadline = SteadyClock::now() + timeout;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    bool ok = false;
    try {
      ok = tokens[i]->wait_for(std::max(left, std::chrono::milliseconds(1)));
    } catch (const mqtt::exception& e) {
      throw std::runtime_error("hub " + hubs_[i]->account.hub_id +
                               " could not connect: " + e.what());
    }
    if (!ok) throw std::runtime_error("hub " + hubs_[i]->account.hub_id + " did not connect");
  }
  std::vector<mqtt::token_ptr> subscriptions;
  for (auto& hub : hubs_) {
    subscriptions.push_back(
        hub->client->subscribe("homesafe-down/" + hub->account.hub_id + "/ack", 1));
  }
  for (std::size_t i = 0; i < subscriptions.size(); ++i) {
    if (!subscriptions[i]->wait_for(timeout)) {
      throw std::runtime_error("hub " + hubs_[i]->account.hub_id + " could not subscribe");
    }
  }
}

void HubFleet::add_event(Hub& hub) {
  std::bernoulli_distribution alarm_draw(options_.alarm_share);
  const bool alarm = alarm_draw(random_);
  const long seq = hub.next_seq++;
  Entry e;
  e.priority = alarm ? 0 : 2;
  e.payload = event_payload(hub.account.hub_id, options_.epoch, seq, alarm, wall_ms());
  hub.unsent.emplace(e.priority, seq);
  hub.outbox.emplace(seq, std::move(e));
  if (alarm) {
    ++hub.alarms;
  } else {
    ++hub.health;
  }
  ++generated_;
  ++outbox_;
}

void HubFleet::start() {
  {
    std::lock_guard lock(state_mutex_);
    for (auto& hub : hubs_) {
      for (long i = 0; i < options_.burst; ++i) add_event(*hub);
    }
  }
  thread_ = std::thread([this] { run(); });
}

void HubFleet::stop_generating() {
  generating_ = false;
}

void HubFleet::on_ack(Hub& hub, const std::string& payload) {
  const json doc = json::parse(payload, nullptr, false);
  if (!doc.is_object() || !doc.contains("acked") || !doc["acked"].is_array()) return;
  const std::string prefix = hub.account.hub_id + "/" + options_.epoch + "/";
  for (const auto& id : doc["acked"]) {
    if (!id.is_string()) continue;
    const std::string text = id.get<std::string>();
    if (!text.starts_with(prefix)) continue;
    const long seq = std::stol(text.substr(prefix.size()));
    auto it = hub.outbox.find(seq);
    if (it == hub.outbox.end()) {
      ++stale_acks_;
      continue;
    }
    if (it->second.in_flight) {
      --hub.in_flight_count;
    } else {
      hub.unsent.erase({it->second.priority, seq});  // (a stale retry_at entry is skipped)
    }
    hub.outbox.erase(it);
    ++acks_;
    --outbox_;
  }
}

void HubFleet::pump(Hub& hub, SteadyClock::time_point now) {
  // No ack within the timeout: the event goes back to the unsent ones.
  while (!hub.in_flight.empty()) {
    const long seq = hub.in_flight.front();
    auto it = hub.outbox.find(seq);
    if (it == hub.outbox.end() || !it->second.in_flight) {
      hub.in_flight.pop_front();  // acknowledged meanwhile
      continue;
    }
    if (now - it->second.sent_at < options_.ack_timeout) break;
    it->second.in_flight = false;
    --hub.in_flight_count;
    // The first resend right at the timeout, then at doubling intervals (the hub's forwarder).
    auto wait = options_.ack_timeout;
    for (int i = 1; i < it->second.attempts && wait < options_.max_retry_interval; ++i) wait *= 2;
    hub.retry_at.emplace(it->second.sent_at + std::min(wait, options_.max_retry_interval), seq);
    hub.in_flight.pop_front();
  }
  while (!hub.retry_at.empty() && hub.retry_at.begin()->first <= now) {
    const long seq = hub.retry_at.begin()->second;
    hub.retry_at.erase(hub.retry_at.begin());
    auto it = hub.outbox.find(seq);
    if (it != hub.outbox.end() && !it->second.in_flight)
      hub.unsent.emplace(it->second.priority, seq);
  }
  if (hub.replace.exchange(false)) {
    // The gateway's ShortConnectionGuard: a new client, without Paho's unacknowledged messages.
    // What was in flight goes out again after its ack timeout, as from the hub's outbox.
    ++clients_replaced_;
    try {
      make_client(hub);
    } catch (const mqtt::exception&) {
      hub.replace = true;  // next tick
    }
    return;
  }
  if (hub.unsent.empty() || !hub.client || !hub.client->is_connected()) return;
  while (hub.in_flight_count < options_.window && !hub.unsent.empty()) {
    const auto key = *hub.unsent.begin();
    Entry& e = hub.outbox.at(key.second);
    try {
      hub.client->publish(
          mqtt::make_message("homesafe-up/" + hub.account.hub_id + "/event", e.payload, 1, false));
    } catch (const mqtt::exception&) {
      ++publish_errors_;
      return;
    }
    if (e.sent_at == SteadyClock::time_point{}) {
      ++published_;
    } else {
      ++resent_;
    }
    e.in_flight = true;
    ++e.attempts;
    e.sent_at = now;
    ++hub.in_flight_count;
    hub.in_flight.push_back(key.second);
    hub.unsent.erase(hub.unsent.begin());
  }
}

void HubFleet::run() {
  auto last = SteadyClock::now();
  std::uniform_int_distribution<std::size_t> pick(0, hubs_.empty() ? 0 : hubs_.size() - 1);
  std::vector<std::pair<Hub*, std::string>> acks;
  while (!stopping_) {
    std::this_thread::sleep_for(options_.tick);
    const auto now = SteadyClock::now();
    const double dt = std::chrono::duration<double>(now - last).count();
    last = now;
    {
      std::lock_guard lock(acks_mutex_);
      acks.swap(pending_acks_);
    }
    std::lock_guard lock(state_mutex_);
    for (auto& [hub, payload] : acks) on_ack(*hub, payload);
    acks.clear();
    if (generating_ && !hubs_.empty() && options_.rate > 0) {
      std::poisson_distribution<long> count(options_.rate * dt);
      for (long n = count(random_); n > 0; --n) add_event(*hubs_[pick(random_)]);
    }
    for (auto& hub : hubs_) pump(*hub, now);
  }
}

FleetCounters HubFleet::counters() const {
  FleetCounters c;
  c.generated = generated_;
  c.published = published_;
  c.resent = resent_;
  c.publish_errors = publish_errors_;
  c.acks = acks_;
  c.stale_acks = stale_acks_;
  c.connection_losses = connection_losses_;
  c.clients_replaced = clients_replaced_;
  c.outbox = outbox_;
  return c;
}

std::vector<HubRecord> HubFleet::records() const {
  std::lock_guard lock(state_mutex_);
  std::vector<HubRecord> out;
  for (const auto& hub : hubs_) {
    out.push_back({hub->account.hub_id, hub->next_seq - 1, hub->alarms, hub->health});
  }
  return out;
}

void HubFleet::disconnect_all() {
  std::vector<mqtt::token_ptr> tokens;
  for (auto& hub : hubs_) {
    if (!hub->client || !hub->client->is_connected()) continue;
    try {
      tokens.push_back(hub->client->disconnect());
    } catch (const mqtt::exception&) {
    }
  }
  // One deadline for all: a hub whose connection is stuck must not hold up the others.
  const auto deadline = SteadyClock::now() + std::chrono::seconds(10);
  for (auto& t : tokens) {
    try {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0 || !t->wait_for(left)) break;
    } catch (const mqtt::exception&) {
    }
  }
}

}  // namespace homesafe::test::county
