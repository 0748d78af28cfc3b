#include "homesafe/cloud_bridge/uplink.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <functional>
#include <future>
#include <random>

#include "homesafe/cloud_bridge/commands.hpp"
#include "homesafe/cloud_bridge/daily_summary.hpp"
#include "homesafe/cloud_bridge/forwarder.hpp"
#include "homesafe/gateway/hub.hpp"
#include "homesafe/gateway/log.hpp"
#include "homesafe/gateway/mqtt_client.hpp"

namespace homesafe::cloud_bridge {
namespace {

namespace asio = boost::asio;
namespace log = gateway::log;
using std::chrono::milliseconds;

// Downlink commands go through the hub's own paths (channel "township").
class HubAdapter final : public HubActions {
 public:
  HubAdapter(gateway::Hub& hub, std::function<void()> deadlines_changed)
      : hub_(hub), deadlines_changed_(std::move(deadlines_changed)) {}
  gateway::AckOutcome acknowledge(const gateway::AckRequest& request,
                                  const rules::Instant& now) override {
    auto outcome = hub_.acknowledge(request, now);
    deadlines_changed_();
    return outcome;
  }
  void set_away(std::int64_t until_wall_ms, const std::string& by, const std::string& note,
                const rules::Instant& now) override {
    hub_.set_away(until_wall_ms, by, note, now);
    deadlines_changed_();
  }
  void end_away(const std::string& by, const rules::Instant& now) override {
    hub_.end_away(by, now);
    deadlines_changed_();
  }
  std::string configure(const std::string& patch, const std::string& command_id,
                        const rules::Instant& now) override {
    std::string error = hub_.apply_config_patch(patch, command_id, now);
    deadlines_changed_();  // new rule limits and ladder steps
    return error;
  }

 private:
  gateway::Hub& hub_;
  std::function<void()> deadlines_changed_;
};

class Uplink final : public gateway::DaemonExtension {
 public:
  static constexpr milliseconds kTick{100};
  static constexpr milliseconds kMinBackoff{1000};
  static constexpr milliseconds kMaxBackoff{60'000};
  static constexpr milliseconds kConnectDeadline{20'000};

  void start(const gateway::DaemonContext& context) override {
    io_ = &context.io;
    const auto& config = *context.config.uplink;
    gateway::MqttSettings settings;
    settings.url = config.url;
    settings.client_id = config.client_id;
    settings.username = config.username;
    try {
      settings.password = config.password_file.empty()
                              ? config.password
                              : gateway::read_secret_file(config.password_file);
    } catch (const std::exception& e) {
      // The hub's own safety work goes on; the outbox keeps everything until this is fixed.
      log::error("uplink disabled: {}", e.what());
      return;
    }
    settings.keepalive = config.keepalive;
    settings.tls = config.tls;
    UplinkTopics topics(config.hub_id);
    settings.will = {topics.status, "offline", 1, true};
    settings.clean_session = false;  // commands queued while we are away are delivered

    auto forwarder_settings = ForwarderSettings::from_config(context.config);
    forwarder_settings.boot_id = context.boot_id;
    client_ = gateway::make_paho_client(settings);
    hub_actions_ = std::make_unique<HubAdapter>(
        context.hub, context.deadlines_changed ? context.deadlines_changed : [] {});
    commands_ = std::make_unique<CommandProcessor>(context.store, *hub_actions_);
    summary_ =
        std::make_unique<DailySummary>(context.config, context.store, context.hub.time_zone());
    forwarder_ = std::make_unique<Forwarder>(
        forwarder_settings, context.store, *client_, context.clock,
        [io = io_](std::function<void()> task) { asio::post(*io, std::move(task)); },
        commands_.get(), summary_.get());
    tick_timer_ = std::make_unique<asio::steady_timer>(*io_);
    reconnect_timer_ = std::make_unique<asio::steady_timer>(*io_);
    connect_timer_ = std::make_unique<asio::steady_timer>(*io_);
    command_topic_ = topics.command;

    client_->set_handlers({
        [this](gateway::MqttMessage&& message) { on_message_from_client(message); },
        [this] { asio::post(*io_, [this] { on_connected(); }); },
        [this](const std::string& reason) {
          asio::post(*io_, [this, reason] { on_connection_lost(reason); });
        },
    });
    log::info("uplink: hub {} to township broker {}", config.hub_id, config.url);
    start_connect();
    schedule_tick();
  }

  void stop() override {
    if (stopping_ || !forwarder_) return;
    stopping_ = true;
    tick_timer_->cancel();
    reconnect_timer_->cancel();
    connect_timer_->cancel();
    if (!connected_) return;
    // A clean stop says so (the last will covers crashes).
    // The completion runs on the client's thread: back to the io thread, which never runs it once
    // the daemon has stopped (and then destroys this extension and its client).
    forwarder_->say_offline([this](bool) {
      asio::post(*io_, [this] { client_->disconnect(milliseconds(1000), nullptr); });
    });
  }

  ~Uplink() override {
    client_.reset();  // first: no callback may reach the forwarder after this
  }

 private:
  // Runs on the MQTT client's thread.
  void on_message_from_client(const gateway::MqttMessage& message) {
    if (message.topic != command_topic_) {
      asio::post(*io_, [this, message] { guarded([&] { forwarder_->on_message(message); }); });
      return;
    }
    // A command is applied and answered in one transaction before the callback returns (and
    // Paho sends the PUBACK): a crash before that leaves it with the broker, not lost.
    std::promise<void> committed;
    auto done = committed.get_future();
    asio::post(*io_, [this, &message, &committed] {
      guarded([&] { forwarder_->on_message(message); });
      committed.set_value();
    });
    while (done.wait_for(milliseconds(200)) != std::future_status::ready) {
      if (io_->stopped()) {
        log::warn("uplink: exiting with a command not yet applied; the broker will resend it");
        std::_Exit(EXIT_FAILURE);
      }
    }
  }

  // Store failures are fatal, as in the rest of the daemon: exit and let the service manager
  // restart us, rather than acknowledge what could not be kept.
  template <typename F>
  void guarded(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      log::error("fatal: uplink: {}", e.what());
      std::_Exit(EXIT_FAILURE);
    }
  }

  void schedule_tick() {
    tick_timer_->expires_after(kTick);
    tick_timer_->async_wait([this](const boost::system::error_code& error) {
      if (error || stopping_) return;
      guarded([&] { forwarder_->on_tick(); });
      schedule_tick();
    });
  }

  void start_connect() {
    client_->connect();
    connect_timer_->expires_after(kConnectDeadline);
    connect_timer_->async_wait([this](const boost::system::error_code& error) {
      if (error || connected_ || stopping_) return;
      on_connection_lost("connect attempt did not finish in time");
    });
  }

  void on_connected() {
    if (stopping_) return;
    connected_ = true;
    connect_timer_->cancel();
    reconnect_timer_->cancel();
    backoff_ = milliseconds(0);
    guarded([&] { forwarder_->on_connected(); });
  }

  void on_connection_lost(const std::string& reason) {
    const bool was_connected = connected_;
    connected_ = false;
    connect_timer_->cancel();
    if (stopping_) return;
    if (was_connected) forwarder_->on_connection_lost();
    backoff_ = backoff_.count() == 0 ? kMinBackoff : std::min(backoff_ * 2, kMaxBackoff);
    std::uniform_real_distribution<double> jitter(0.75, 1.25);
    const auto delay = milliseconds(static_cast<std::int64_t>(backoff_.count() * jitter(rng_)));
    log::warn("uplink: {}; reconnecting in {} ms", reason, delay.count());
    reconnect_timer_->expires_after(delay);
    reconnect_timer_->async_wait([this](const boost::system::error_code& error) {
      if (!error && !stopping_ && !connected_) start_connect();
    });
  }

  asio::io_context* io_ = nullptr;
  std::unique_ptr<HubActions> hub_actions_;
  std::unique_ptr<CommandProcessor> commands_;
  std::unique_ptr<DailySummary> summary_;
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<gateway::MqttClient> client_;  // last declared: destroyed first
  std::unique_ptr<asio::steady_timer> tick_timer_;
  std::unique_ptr<asio::steady_timer> reconnect_timer_;
  std::unique_ptr<asio::steady_timer> connect_timer_;
  std::string command_topic_;
  std::mt19937 rng_{std::random_device{}()};
  milliseconds backoff_{0};
  bool connected_ = false;
  bool stopping_ = false;
};

}  // namespace

std::vector<std::unique_ptr<gateway::DaemonExtension>> uplink_extensions(
    const gateway::HubConfig& config) {
  std::vector<std::unique_ptr<gateway::DaemonExtension>> out;
  if (config.uplink) out.push_back(std::make_unique<Uplink>());
  return out;
}

}  // namespace homesafe::cloud_bridge
