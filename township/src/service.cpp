#include "homesafe/township/service.hpp"

#include <fmt/format.h>
#include <mqtt/async_client.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <charconv>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "homesafe/gateway/notify/webhook.hpp"
#include "homesafe/gateway/serial_worker.hpp"
#include "homesafe/township/api.hpp"
#include "homesafe/township/http_server.hpp"
#include "homesafe/township/ingest.hpp"
#include "homesafe/township/ingest_queue.hpp"
#include "homesafe/township/live.hpp"
#include "homesafe/township/log.hpp"
#include "homesafe/township/relay.hpp"

namespace homesafe::township {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// The uplink topics; with a share group, shared subscriptions (one worker of the group gets each
// message).
std::vector<std::string> uplink_filters(const std::string& share_group) {
  std::vector<std::string> filters{"homesafe-up/+/event", "homesafe-up/+/heartbeat",
                                   "homesafe-up/+/status"};
  if (!share_group.empty()) {
    for (auto& f : filters) f = "$share/" + share_group + "/" + f;
  }
  return filters;
}

// HOMESAFE_TOWNSHIP_FAULT_HOLD_COMMIT_MS: the tests' fault hook (0: off).
std::chrono::milliseconds fault_hold_commit() {
  const char* text = std::getenv("HOMESAFE_TOWNSHIP_FAULT_HOLD_COMMIT_MS");
  if (text == nullptr || *text == '\0') return 0ms;
  int ms = 0;
  const std::string s(text);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
  if (ec != std::errc() || end != s.data() + s.size() || ms < 0 || ms > 600'000) {
    log_warn("HOMESAFE_TOWNSHIP_FAULT_HOLD_COMMIT_MS is not a number of ms (0-600000): ignored");
    return 0ms;
  }
  return std::chrono::milliseconds(ms);
}

// One connection to the broker. Every call into Paho happens on this link's serial worker: Paho
// C holds its client mutex while a message callback runs, and the callback may block (a full
// ingest queue), so no thread that the callback waits for may call into Paho directly.
class MqttLink {
 public:
  MqttLink(const TownshipConfig& config, const std::string& client_id, bool clean_session,
           std::vector<std::string> filters, std::string name, std::function<void()> on_subscribed)
      : url_(config.broker.url),
        filters_(std::move(filters)),
        name_(std::move(name)),
        on_subscribed_(std::move(on_subscribed)),
        // No Paho persistence: the hub's outbox is the record; a lost ack makes the hub resend.
        client_(config.broker.url, client_id, nullptr),
        worker_(
            [this](const std::exception& e) { log_warn(fmt::format("{}: {}", name_, e.what())); }) {
    auto builder = mqtt::connect_options_builder()
                       .clean_session(clean_session)
                       .keep_alive_interval(std::chrono::seconds(30))
                       .connect_timeout(std::chrono::seconds(10))
                       .automatic_reconnect(false);
    if (!config.broker.username.empty()) builder.user_name(config.broker.username);
    if (!config.broker.password.empty()) builder.password(config.broker.password);
    if (url_.starts_with("ssl://") || url_.starts_with("mqtts://"))
      builder.ssl(mqtt::ssl_options());
    options_ = builder.finalize();
  }
  ~MqttLink() { disconnect(); }
  MqttLink(const MqttLink&) = delete;
  MqttLink& operator=(const MqttLink&) = delete;

  void set_message_callback(std::function<void(mqtt::const_message_ptr)> callback) {
    client_.set_message_callback(std::move(callback));
  }

  // Connects (and subscribes) unless connected or a connect is already queued.
  void ensure_connected() {
    if (connect_pending_.exchange(true)) return;
    worker_.post([this] {
      connect_pending_ = false;
      if (client_.is_connected()) return;
      try {
        client_.connect(options_)->wait_for(std::chrono::seconds(10));
        if (!client_.is_connected()) return;
        if (!filters_.empty()) {
          client_
              .subscribe(mqtt::string_collection::create(filters_),
                         mqtt::iasync_client::qos_collection(filters_.size(), 1))
              ->wait_for(std::chrono::seconds(10));
          log_info(fmt::format("{}: connected to {} and subscribed to {}", name_, url_,
                               fmt::join(filters_, ", ")));
        } else {
          log_info(fmt::format("{}: connected to {}", name_, url_));
        }
        subscribed_ = true;
        if (on_subscribed_) on_subscribed_();
      } catch (const mqtt::exception& e) {
        log_warn(fmt::format("{}: cannot connect to {}: {}", name_, url_, e.what()));
      }
    });
  }

  // QoS 1 publishes, in order; waits for their PUBACKs on the worker, not on the caller.
  void publish(std::vector<Outgoing> messages) {
    if (messages.empty()) return;
    worker_.post([this, messages = std::move(messages)] {
      if (!client_.is_connected()) {
        // The hubs send these events again and get their acks then.
        log_warn(
            fmt::format("{}: not connected, {} message(s) not published", name_, messages.size()));
        return;
      }
      // A window of publishes in flight: Paho refuses a publish once 100 are queued
      // (MQTTASYNC_MAX_BUFFERED_MESSAGES), and a batch can carry a few hundred acks.
      constexpr std::size_t kWindow = 64;
      std::deque<std::pair<std::string, mqtt::delivery_token_ptr>> in_flight;
      const auto settle_oldest = [&] {
        auto [topic, token] = std::move(in_flight.front());
        in_flight.pop_front();
        try {
          if (!token->wait_for(std::chrono::seconds(10))) {
            log_warn(fmt::format("{}: publish on {} not confirmed", name_, topic));
          }
        } catch (const mqtt::exception& e) {
          log_warn(fmt::format("{}: publish on {} failed: {}", name_, topic, e.what()));
        }
      };
      for (const auto& out : messages) {
        if (in_flight.size() >= kWindow) settle_oldest();
        try {
          in_flight.emplace_back(
              out.topic, client_.publish(mqtt::make_message(out.topic, out.payload, 1, false)));
        } catch (const mqtt::exception& e) {
          log_warn(fmt::format("{}: publish on {} failed: {}", name_, out.topic, e.what()));
        }
      }
      while (!in_flight.empty()) settle_oldest();
    });
  }

  bool subscribed() const { return subscribed_; }

  // Runs what is queued (acks), disconnects and ends the worker. Idempotent.
  void disconnect() {
    worker_.post([this] {
      if (client_.is_connected()) client_.disconnect()->wait_for(std::chrono::seconds(2));
    });
    worker_.stop();
  }

 private:
  std::string url_;
  std::vector<std::string> filters_;
  std::string name_;
  std::function<void()> on_subscribed_;
  mqtt::async_client client_;
  mqtt::connect_options options_;
  std::atomic<bool> connect_pending_{false};
  std::atomic<bool> subscribed_{false};
  gateway::SerialWorker worker_;  // last: its thread uses the members above
};

// A steady timer that runs `tick` now and then every `period` until cancelled.
class Ticker {
 public:
  Ticker(asio::io_context& io, std::chrono::steady_clock::duration period,
         std::function<void()> tick)
      : timer_(io), period_(period), tick_(std::move(tick)) {}
  void start() {
    tick_();
    timer_.expires_after(period_);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) start();
    });
  }
  void cancel() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
  std::chrono::steady_clock::duration period_;
  std::function<void()> tick_;
};

}  // namespace

int run_service(const TownshipConfig& config, const ServiceOptions& options) {
  check_service_options(config, options);
  const ServiceRole role = options.role;
  const bool has_ingest = role != ServiceRole::kApi;
  const bool has_api = role != ServiceRole::kIngest;
  const bool watch = has_ingest && config.broker.alarm_watch;
  const bool pg = config.storage_postgresql;
  const std::string instance = options.instance_name();
  StorageConfig storage = config.storage();
  storage.application_name = options.application_name();
  // Names this process in change notices (it skips its own): role/instance/pid.
  const std::string origin =
      pg ? fmt::format("{}/{}/{}", service_role_name(role), instance, ::getpid()) : std::string();
  const auto hold_commit = has_ingest ? fault_hold_commit() : 0ms;
  if (hold_commit.count() > 0) {
    log_warn(fmt::format(
        "FAULT HOOK HOMESAFE_TOWNSHIP_FAULT_HOLD_COMMIT_MS={}: every ingest batch waits {} ms "
        "before its COMMIT (for tests only)",
        hold_commit.count(), hold_commit.count()));
  }
  log_info(fmt::format("role {}, instance {}", service_role_name(role), instance));
  if (!has_ingest && (config.broker.alarm_watch || !config.broker.share_group.empty())) {
    log_info("role api: broker.share_group and broker.alarm_watch are for ingest; ignored");
  }

  Store store(storage);
  log_info(fmt::format("storage: {}, schema version {}", config.storage().describe(),
                       store.schema_version()));
  SystemClock clock;
  IngestOptions ingest_options;
  ingest_options.silence_allowance_ms = config.silence_allowance_ms();
  ingest_options.utc_offset_minutes = config.utc_offset_minutes;
  ingest_options.notify_origin = origin;
  IngestOptions main_options = ingest_options;
  if (has_ingest) main_options.stats_instance = instance;
  main_options.hold_commit = hold_commit;
  Ingest ingest(store, clock, main_options);
  std::mutex state_mutex;  // guards store, ingest and api
  LiveFeed live;

  // The alarm watcher: its own database connection, so an alarm never waits behind a batch.
  std::unique_ptr<Store> watch_store;
  std::unique_ptr<Ingest> watch_ingest;
  std::mutex watch_mutex;  // guards watch_store and watch_ingest
  if (watch) {
    watch_store = std::make_unique<Store>(storage);
    IngestOptions watch_options = ingest_options;
    watch_options.stats_instance = instance + "/alarm";
    watch_ingest = std::make_unique<Ingest>(*watch_store, clock, watch_options);
  }

  std::atomic<bool> http_ready{!has_api};
  std::atomic<bool> announced{false};
  std::unique_ptr<MqttLink> watch_link;
  std::function<void()> check_ready;
  const std::string client_id = options.mqtt_client_id(config);
  // A worker of a share group keeps no broker session: when it dies, the broker gives the
  // group's messages to the others at once instead of queueing them for it. Alone (the
  // township's one process), the broker keeps the session and its queue while it is down.
  const bool clean_session = !has_ingest || !config.broker.share_group.empty();
  MqttLink link(config, client_id, clean_session,
                has_ingest ? uplink_filters(config.broker.share_group) : std::vector<std::string>{},
                "mqtt", [&] { check_ready(); });
  if (watch) {
    watch_link = std::make_unique<MqttLink>(config, client_id + "-alarm", true,
                                            std::vector<std::string>{"homesafe-up/+/event"},
                                            "mqtt alarm watch", [&] { check_ready(); });
  }
  check_ready = [&] {
    if (!http_ready) return;
    if (has_ingest && !link.subscribed()) return;
    if (watch_link && !watch_link->subscribed()) return;
    if (!announced.exchange(true)) log_info("homesafe-township ready");
  };

  IngestQueueOptions queue_options;
  queue_options.batch_max = static_cast<std::size_t>(config.ingest.batch_max);
  queue_options.batch_wait = std::chrono::milliseconds(config.ingest.batch_wait_ms);
  queue_options.capacity = static_cast<std::size_t>(config.ingest.queue_max);
  // Workers (clean sessions) shed when full; the township's one process waits (DESIGN.md).
  queue_options.shed_when_full = clean_session;
  std::unique_ptr<IngestDrain> drain;
  std::unique_ptr<IngestDrain> watch_drain;
  if (has_ingest) {
    drain = std::make_unique<IngestDrain>(
        queue_options,
        [&](const std::vector<IngestMessage>& batch) {
          std::lock_guard lock(state_mutex);
          IngestBatchResult result = ingest.handle_batch(batch);
          Changes changes = ingest.take_changes();
          if (has_api && !changes.empty()) live.publish(store, changes);
          return result;
        },
        [&](std::vector<Outgoing> acks) { link.publish(std::move(acks)); }, "ingest");
    // Runs on Paho's thread: queue and return at once (an ordinary event finding the queue full
    // is shed, see IngestDrain::push); Paho sends the PUBACK when it returns. With a persistent
    // session (the township's one process) an alarm returns only once stored (DESIGN.md,
    // "Acknowledge after commit"): the broker keeps what we did not PUBACK and delivers it again
    // after a crash. A worker's clean session has no such redelivery (the broker forgets a dead
    // client's unacknowledged messages; the hub's outbox sends them again until our ack, which
    // follows the commit), so its alarms do not wait: waiting there blocks Paho's one receive
    // thread per process, for both links, one commit per alarm. In the county proof that starved
    // the PUBACKs of our acks during the resend storm after a broker restart, and the hubs got
    // almost no acks.
    link.set_message_callback([&](mqtt::const_message_ptr message) {
      IngestMessage m{message->get_topic(), message->get_payload_str()};
      if (m.topic.ends_with("/event") && is_alarm_event(m.payload)) {
        if (clean_session) {
          drain->push(std::move(m), /*urgent=*/true);
        } else {
          drain->push_and_wait(std::move(m));
        }
      } else {
        drain->push(std::move(m));
      }
    });
  }
  if (watch) {
    IngestQueueOptions watch_queue = queue_options;
    watch_queue.batch_wait = 0ms;
    watch_drain = std::make_unique<IngestDrain>(
        watch_queue,
        [&](const std::vector<IngestMessage>& batch) {
          std::lock_guard lock(watch_mutex);
          IngestBatchResult result = watch_ingest->handle_batch(batch);
          Changes changes = watch_ingest->take_changes();
          if (has_api && !changes.empty()) live.publish(*watch_store, changes);
          return result;
        },
        [&](std::vector<Outgoing> acks) { watch_link->publish(std::move(acks)); }, "alarm watch");
    // Every event of every hub arrives here: only alarms are stored (and acked); the rest is
    // dropped after reading `priority` (the shared subscription stores them). A clean session:
    // alarms do not wait for their commit here either (see above).
    watch_link->set_message_callback([&](mqtt::const_message_ptr message) {
      const std::string payload = message->get_payload_str();
      if (is_alarm_event(payload)) {
        watch_drain->push(IngestMessage{message->get_topic(), payload}, /*urgent=*/true);
      }
    });
  }

  asio::io_context io;
  Api api(store, clock,
          ApiOptions{config.http.session_ttl_s * 1000, config.http.secure_cookie,
                     config.utc_offset_minutes, config.console.link_secret});
  if (has_ingest) api.set_ingest(&ingest);
  std::unique_ptr<HttpServer> server;
  if (has_api) {
    if (config.console.link_secret.empty()) {
      log_info("console: no link secret configured, caregivers' one-tap links are off");
    }
    LiveEndpoint live_endpoint{
        [&](const ApiRequest& request) {
          std::lock_guard lock(state_mutex);
          return api.session_user(request);
        },
        [&](const User& user) { return LiveFeed::hello_frame(user, clock.now_ms()); }, &live};
    server = std::make_unique<HttpServer>(
        io, config.http.address, config.http.port,
        [&](const ApiRequest& request) {
          ApiResponse response;
          {
            std::lock_guard lock(state_mutex);
            response = api.handle(request);
            if (!response.changes.empty()) {
              live.publish(store, response.changes);
              try {
                notify_changes(store.db(), origin, response.changes);
              } catch (const std::exception& e) {
                log_warn(fmt::format("live feed: cannot notify other processes: {}", e.what()));
              }
            }
          }
          link.publish(std::move(response.publish));
          return response;
        },
        live_endpoint);
    log_info(fmt::format("http: listening on {}:{}", config.http.address, server->port()));
    http_ready = true;
    check_ready();
  }

  // API processes learn of what other processes changed from PostgreSQL's NOTIFY (sent inside
  // their transactions, so delivered on commit) and pass it to their live feed.
  std::atomic<bool> stopping{false};
  std::thread listener;
  struct StopListener {
    std::atomic<bool>& stopping;
    std::thread& thread;
    ~StopListener() {
      stopping = true;
      if (thread.joinable()) thread.join();
    }
  } stop_listener{stopping, listener};
  if (has_api && pg) {
    listener = std::thread([&] {
      std::unique_ptr<NotificationListener> notices;
      while (!stopping) {
        try {
          if (!notices) {
            notices = listen_postgresql(storage.url, storage.application_name, kChangesChannel);
            log_info("live feed: listening for other processes' changes");
          }
          for (const auto& payload : notices->wait(500ms)) {
            auto notice = parse_change_notice(payload);
            if (!notice || notice->origin == origin) continue;
            std::lock_guard lock(state_mutex);
            live.publish(store, notice->changes);
          }
        } catch (const std::exception& e) {
          notices.reset();
          log_warn(fmt::format("live feed: listening for changes failed: {}", e.what()));
          for (int i = 0; i < 10 && !stopping; ++i) std::this_thread::sleep_for(100ms);
        }
      }
    });
  }

  Ticker connect_ticker(io, 2s, [&] {
    link.ensure_connected();
    if (watch_link) watch_link->ensure_connected();
  });
  connect_ticker.start();

  // Hub silence: every process checks; the check is idempotent across processes (the hub's row
  // lock, the alert id derived from hub and silence start).
  Ticker silence_ticker(io, std::chrono::seconds(config.silence.check_interval_s), [&] {
    try {
      std::lock_guard lock(state_mutex);
      ingest.check_silence();
      Changes changes = ingest.take_changes();
      if (has_api && !changes.empty()) live.publish(store, changes);
    } catch (const std::exception& e) {
      log_error(fmt::format("hub silence check failed: {}", e.what()));
    }
  });
  silence_ticker.start();

  // Relayed notifications (API processes only: one sender per relay): the hub's webhook
  // notifier, one per configured channel.
  std::unique_ptr<RelaySender> relay;
  std::unique_ptr<Ticker> relay_ticker;
  std::unique_ptr<Ticker> ping_ticker;
  if (has_api) {
    std::vector<RelayTarget> targets;
    for (const auto& channel : config.relay.channels) {
      gateway::notify::WebhookOptions webhook;
      webhook.channel = channel.type;
      webhook.max_attempts = config.relay.attempts;
      webhook.ca_file = config.relay.ca_file;
      webhook.dingtalk_secret = channel.secret;
      if (channel.type == "webhook") webhook.template_text = relay_webhook_template();
      targets.push_back(
          {std::make_unique<gateway::notify::WebhookNotifier>(std::move(webhook)), channel.url});
    }
    log_info(fmt::format("relay: {} channel(s)", targets.size()));
    relay = std::make_unique<RelaySender>(store, clock, state_mutex, std::move(targets),
                                          config.utc_offset_minutes);
    relay->set_links(config.console.public_url, config.console.link_secret);
    relay_ticker = std::make_unique<Ticker>(io, 1s, [&] {
      try {
        relay->poll();
      } catch (const std::exception& e) {
        log_error(fmt::format("relay: {}", e.what()));
      }
    });
    relay_ticker->start();
    // The console's keep-alive: a connection that hears nothing for 45 s reconnects.
    ping_ticker = std::make_unique<Ticker>(io, 20s, [&] { live.ping(clock.now_ms()); });
    ping_ticker->start();
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int signal) {
    log_info(fmt::format("signal {}: stopping", signal));
    if (server) server->stop();
    connect_ticker.cancel();
    silence_ticker.cancel();
    if (relay_ticker) relay_ticker->cancel();
    if (ping_ticker) ping_ticker->cancel();
    io.stop();
  });
  io.run();

  // Store and ack what is queued, then disconnect (the links send the queued acks first).
  stopping = true;
  if (drain) drain->stop();
  if (watch_drain) watch_drain->stop();
  if (listener.joinable()) listener.join();
  link.disconnect();
  if (watch_link) watch_link->disconnect();
  std::uint64_t stored = 0, duplicates = 0, rejected = 0;
  {
    std::lock_guard lock(state_mutex);
    stored += ingest.stored_total();
    duplicates += ingest.duplicate_total();
    rejected += ingest.rejected_total();
  }
  if (watch_ingest) {
    std::lock_guard lock(watch_mutex);
    stored += watch_ingest->stored_total();
    duplicates += watch_ingest->duplicate_total();
    rejected += watch_ingest->rejected_total();
  }
  const std::uint64_t shed = (drain ? drain->shed() : 0) + (watch_drain ? watch_drain->shed() : 0);
  log_info(fmt::format(
      "stopped: stored {}, duplicates {}, rejected {}, shed {}, relays sent {}, failed {}", stored,
      duplicates, rejected, shed, relay ? relay->sent_total() : 0,
      relay ? relay->failed_total() : 0));
  return 0;
}

}  // namespace homesafe::township
