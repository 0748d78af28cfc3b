#include "homesafe/township/service.hpp"

#include <fmt/format.h>
#include <mqtt/async_client.h>

#include <atomic>
#include <boost/asio.hpp>
#include <functional>
#include <mutex>
#include <thread>

#include "homesafe/gateway/notify/webhook.hpp"
#include "homesafe/gateway/serial_worker.hpp"
#include "homesafe/township/api.hpp"
#include "homesafe/township/http_server.hpp"
#include "homesafe/township/ingest.hpp"
#include "homesafe/township/live.hpp"
#include "homesafe/township/log.hpp"
#include "homesafe/township/relay.hpp"

namespace homesafe::township {
namespace {

namespace asio = boost::asio;

const std::vector<std::string> kFilters{"homesafe-up/+/event", "homesafe-up/+/heartbeat",
                                        "homesafe-up/+/status"};

}  // namespace

int run_service(const TownshipConfig& config) {
  Store store(config.storage());
  log_info(fmt::format("storage: {}, schema version {}", config.storage().describe(),
                       store.schema_version()));
  SystemClock clock;
  Ingest ingest(store, clock,
                IngestOptions{config.silence_allowance_ms(), config.utc_offset_minutes});
  Api api(store, clock,
          ApiOptions{config.http.session_ttl_s * 1000, config.http.secure_cookie,
                     config.utc_offset_minutes, config.console.link_secret});
  api.set_ingest(&ingest);
  LiveFeed live;
  std::mutex state_mutex;  // guards store, ingest and api
  if (config.console.link_secret.empty()) {
    log_info("console: no link secret configured, caregivers' one-tap links are off");
  }

  // No Paho persistence: the hub's outbox is the record; a lost ack makes the hub send again.
  mqtt::async_client client(config.broker.url, config.broker.client_id, nullptr);
  auto builder = mqtt::connect_options_builder()
                     .clean_session(false)  // the broker keeps our subscription and QoS 1 queue
                     .keep_alive_interval(std::chrono::seconds(30))
                     .connect_timeout(std::chrono::seconds(10))
                     .automatic_reconnect(false);
  if (!config.broker.username.empty()) builder.user_name(config.broker.username);
  if (!config.broker.password.empty()) builder.password(config.broker.password);
  if (config.broker.url.starts_with("ssl://") || config.broker.url.starts_with("mqtts://")) {
    builder.ssl(mqtt::ssl_options());
  }
  const mqtt::connect_options options = builder.finalize();
  // Every call into Paho happens on this thread. Paho C holds its client mutex while a message
  // callback runs, and our callback waits for the state mutex (to commit before it returns), so a
  // thread that holds the state mutex must never call into Paho: it hands the call over to here.
  gateway::SerialWorker worker(
      [](const std::exception& e) { log_warn(fmt::format("mqtt: {}", e.what())); });

  auto publish = [&](const Outgoing& out) {
    worker.post([&client, out] {
      auto token = client.publish(mqtt::make_message(out.topic, out.payload, 1, false));
      if (!token->wait_for(std::chrono::seconds(10))) {
        log_warn(fmt::format("mqtt: publish on {} not confirmed", out.topic));
      }
    });
  };

  // Runs on Paho's thread. It returns (and Paho sends the PUBACK) only after the commit.
  client.set_message_callback([&](mqtt::const_message_ptr message) {
    IngestResult result;
    try {
      std::lock_guard lock(state_mutex);
      result = ingest.handle(message->get_topic(), message->get_payload_str());
      if (auto changes = ingest.take_changes(); !changes.empty()) live.publish(store, changes);
    } catch (const std::exception& e) {
      log_error(
          fmt::format("storing a message from {} failed: {}", message->get_topic(), e.what()));
      return;  // not acknowledged: the hub sends it again
    }
    if (result.ack) publish(*result.ack);
  });

  std::atomic<bool> connect_pending{false};
  std::atomic<bool> announced{false};
  std::atomic<bool> http_ready{false};
  auto ensure_connected = [&] {
    if (connect_pending.exchange(true)) return;
    worker.post([&] {
      connect_pending = false;
      if (client.is_connected()) return;
      try {
        client.connect(options)->wait_for(std::chrono::seconds(10));
        if (!client.is_connected()) return;
        client
            .subscribe(mqtt::string_collection::create(kFilters),
                       mqtt::iasync_client::qos_collection{1, 1, 1})
            ->wait_for(std::chrono::seconds(10));
        log_info(fmt::format("mqtt: connected to {} and subscribed", config.broker.url));
        if (http_ready && !announced.exchange(true)) log_info("homesafe-township ready");
      } catch (const mqtt::exception& e) {
        log_warn(fmt::format("mqtt: cannot connect to {}: {}", config.broker.url, e.what()));
      }
    });
  };

  asio::io_context io;
  LiveEndpoint live_endpoint{
      [&](const ApiRequest& request) {
        std::lock_guard lock(state_mutex);
        return api.session_user(request);
      },
      [&](const User& user) { return LiveFeed::hello_frame(user, clock.now_ms()); }, &live};
  HttpServer server(
      io, config.http.address, config.http.port,
      [&](const ApiRequest& request) {
        ApiResponse response;
        {
          std::lock_guard lock(state_mutex);
          response = api.handle(request);
          if (!response.changes.empty()) live.publish(store, response.changes);
        }
        for (const auto& out : response.publish) publish(out);
        return response;
      },
      live_endpoint);
  log_info(fmt::format("http: listening on {}:{}", config.http.address, server.port()));
  http_ready = true;

  asio::steady_timer connect_timer(io);
  std::function<void()> connect_tick = [&] {
    ensure_connected();
    connect_timer.expires_after(std::chrono::seconds(2));
    connect_timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) connect_tick();
    });
  };
  connect_tick();

  asio::steady_timer silence_timer(io);
  std::function<void()> silence_tick = [&] {
    try {
      std::lock_guard lock(state_mutex);
      ingest.check_silence();
      if (auto changes = ingest.take_changes(); !changes.empty()) live.publish(store, changes);
    } catch (const std::exception& e) {
      log_error(fmt::format("hub silence check failed: {}", e.what()));
    }
    silence_timer.expires_after(std::chrono::seconds(config.silence.check_interval_s));
    silence_timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) silence_tick();
    });
  };
  silence_tick();

  // Relayed notifications: the hub's webhook notifier, one per configured channel.
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
  RelaySender relay(store, clock, state_mutex, std::move(targets), config.utc_offset_minutes);
  relay.set_links(config.console.public_url, config.console.link_secret);
  asio::steady_timer relay_timer(io);
  std::function<void()> relay_tick = [&] {
    try {
      relay.poll();
    } catch (const std::exception& e) {
      log_error(fmt::format("relay: {}", e.what()));
    }
    relay_timer.expires_after(std::chrono::seconds(1));
    relay_timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) relay_tick();
    });
  };
  relay_tick();

  // The console's keep-alive: a connection that hears nothing for 45 s reconnects.
  asio::steady_timer ping_timer(io);
  std::function<void()> ping_tick = [&] {
    live.ping(clock.now_ms());
    ping_timer.expires_after(std::chrono::seconds(20));
    ping_timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) ping_tick();
    });
  };
  ping_tick();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int signal) {
    log_info(fmt::format("signal {}: stopping", signal));
    server.stop();
    connect_timer.cancel();
    silence_timer.cancel();
    relay_timer.cancel();
    ping_timer.cancel();
    io.stop();
  });
  io.run();

  worker.post([&client] {
    if (client.is_connected()) client.disconnect()->wait_for(std::chrono::seconds(2));
  });
  worker.stop();
  {
    std::lock_guard lock(state_mutex);
    log_info(
        fmt::format("stopped: stored {}, duplicates {}, rejected {}, relays sent {}, failed {}",
                    ingest.stored_total(), ingest.duplicate_total(), ingest.rejected_total(),
                    relay.sent_total(), relay.failed_total()));
  }
  return 0;
}

}  // namespace homesafe::township
