#include "homesafe/gateway/daemon.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "homesafe/gateway/alert_json.hpp"
#include "homesafe/gateway/clock.hpp"
#include "homesafe/gateway/hub.hpp"
#include "homesafe/gateway/log.hpp"
#include "homesafe/gateway/mqtt_client.hpp"
#include "homesafe/gateway/notify/channels.hpp"
#include "homesafe/gateway/notify/mqtt_notifier.hpp"
#include "homesafe/gateway/store.hpp"
#include "homesafe/gateway/systemd.hpp"
#include "homesafe/gateway/time_zone_loader.hpp"

namespace homesafe::gateway {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// Fault injection for the crash tests (tests/integration): HOMESAFE_TEST_CRASH=before_commit or
// after_commit kills the process with SIGKILL at that point of the first alarm-class message.
enum class CrashPoint { none, before_commit, after_commit };

CrashPoint crash_point_from_env() {
  const char* value = std::getenv("HOMESAFE_TEST_CRASH");
  if (value == nullptr) return CrashPoint::none;
  const std::string_view text(value);
  if (text == "before_commit") return CrashPoint::before_commit;
  if (text == "after_commit") return CrashPoint::after_commit;
  return CrashPoint::none;
}

class Daemon final : public HubOutput {
 public:
  Daemon(const HubConfig& config, rules::TimeZone zone,
         std::vector<std::unique_ptr<DaemonExtension>> extensions)
      : config_(config),
        boot_id_(read_boot_id()),
        store_(config.storage.path),
        hub_(config, store_, *this, std::move(zone), boot_id_),
        extensions_(std::move(extensions)),
        signals_(io_, SIGINT, SIGTERM),
        reconnect_timer_(io_),
        connect_timer_(io_),
        inbox_timer_(io_),
        rule_timer_(io_),
        housekeeping_timer_(io_),
        shutdown_timer_(io_),
        crash_point_(crash_point_from_env()),
        rng_(std::random_device{}()) {}

  int run() {
    if (config_.uplink) {
      // Every change from here on is also written to the uplink outbox, in its transaction.
      store_.enable_outbox({config_.uplink->hub_id, config_.household.id}, clock_);
    }
    hub_.start(clock_.now());
    // From here on a full or failing disk is not fatal: alarms are notified from memory, and
    // the hub raises `storage_full` (see Store::tolerate_write_failures, Hub::check_storage).
    store_.tolerate_write_failures(true);
    try {
      // No alarm's commit waits for a checkpoint, nor (mostly) for the WAL's fresh header after
      // one: the io thread starts the WAL over as soon as the checkpoint is complete.
      store_.checkpoint_in_background(
          {}, [this] { asio::post(io_, [this] { store_.restart_wal(); }); });
    } catch (const StoreError& e) {
      log::warn("{}; SQLite checkpoints inside commits instead", e.what());
    }
    MqttSettings settings;
    settings.url = config_.broker.url;
    settings.client_id = config_.broker.client_id;
    settings.username = config_.broker.username;
    settings.password = config_.broker.password_file.empty()
                            ? config_.broker.password
                            : read_secret_file(config_.broker.password_file);
    settings.keepalive = config_.broker.keepalive;
    settings.tls = config_.broker.tls;
    settings.will = {hub_.topics().status(), "offline", 1, true};
    settings.clean_session = false;
    client_ = make_paho_client(settings);
    make_notifiers();
    client_->set_handlers({
        [this](MqttMessage&& message) { on_message_from_client(std::move(message)); },
        [this] { asio::post(io_, [this] { on_connected(); }); },
        [this](const std::string& reason) {
          asio::post(io_, [this, reason] { on_connection_lost(reason); });
        },
    });

    signals_.async_wait([this](const boost::system::error_code& error, int signal) {
      if (!error) {
        log::info("signal {}: shutting down", signal);
        shutdown();
      }
    });
    log::info("homesafe-gateway {} starting: household {}, broker {}", HOMESAFE_VERSION,
              config_.household.id, config_.broker.url);
    start_connect();
    for (auto& extension : extensions_) {
      extension->start(
          {io_, config_, store_, hub_, clock_, boot_id_, [this] { schedule_rule_timer(); }});
    }
    watchdog_.ready();
    schedule_housekeeping();
    schedule_rule_timer();
    io_.run();
    io_stopped_ = true;
    hub_.flush_telemetry();
    extensions_.clear();
    notifiers_.clear();  // before the client: the MQTT notifier publishes through it
    client_.reset();
    log::info("stopped: {} messages handled", hub_.messages_processed());
    return 0;
  }

  // HubOutput: publish every committed alert change, retained; mark it published on PUBACK.
  void alert_changed(const AlertChange& change, const rules::Instant& /*now*/) override {
    publish_alert(change.alert, change.event);
  }

  // HubOutput: hand the notification to its channel's notifier; the outcome comes back here.
  void notification_created(const notify::Notification& notification,
                            const rules::Instant& /*now*/) override {
    dispatch(notification);
  }

 private:
  // Runs on the MQTT client's thread.
  void on_message_from_client(MqttMessage&& message) {
    if (!hub_.is_alarm_topic(message.topic)) {
      // Ordinary messages wait in the inbox; the loop takes them in batches, woken once per
      // batch rather than once per message (under a flood the wake-ups cost more than the
      // rules). The first message of a batch starts a short gathering window (kInboxGather);
      // an alarm does not wait for it (it drains the inbox itself).
      bool first = false;
      {
        std::lock_guard lock(inbox_mutex_);
        first = inbox_.empty();
        inbox_.push_back(std::move(message));
      }
      if (first) asio::post(io_, [this] { gather_inbox(); });
      return;
    }
    // Alarm class: wait until the io thread has committed it, so that returning (which lets
    // Paho send the PUBACK) never acknowledges an alarm that a crash could lose.
    std::promise<void> committed;
    auto done = committed.get_future();
    std::vector<Publication> publications;
    asio::post(io_, [this, &message, &committed, &publications] {
      if (crash_point_ == CrashPoint::before_commit) ::raise(SIGKILL);
      drain_inbox();  // what arrived before the alarm is handled before it, in order
      // What handling the alarm publishes (its alert state, its notification) is sent from this
      // callback once committed, unless something published earlier still waits for the client
      // (then it queues behind that, to keep the order).
      if (client_->publishes_waiting() == 0) alarm_publications_ = &publications;
      handle_message(message);
      alarm_publications_ = nullptr;
      schedule_rule_timer();
      if (crash_point_ == CrashPoint::after_commit) ::raise(SIGKILL);
      committed.set_value();
    });
    while (done.wait_for(milliseconds(200)) != std::future_status::ready) {
      if (io_stopped_) {
        // The loop is gone (shutdown): leave without acknowledging; the broker keeps the
        // message for the next start.
        log::warn("exiting with an alarm message not yet processed; the broker will resend it");
        std::_Exit(EXIT_FAILURE);
      }
    }
    // Still inside the client's callback: the client queues them at once, and sends them as soon
    // as this callback returns. Handed to publish() on another thread, they would first wait for
    // the client's lock, which its receive thread holds while it reads on (docs/gateway.md).
    for (auto& publication : publications) {
      client_->publish_from_handler(publication.message, std::move(publication.done));
    }
  }

  // Every publication of the io thread: during an alarm's handling it is kept for the alarm's
  // callback to send (see on_message_from_client).
  void publish(const MqttMessage& message, std::function<void(bool)> done) {
    if (alarm_publications_ != nullptr) {
      alarm_publications_->push_back({message, std::move(done)});
      return;
    }
    client_->publish(message, std::move(done));
  }

  // Runs on the io thread: drains the inbox once the gathering window has passed. A window
  // already open (an alarm drained the inbox meanwhile) is not restarted.
  void gather_inbox() {
    if (inbox_gathering_) return;
    inbox_gathering_ = true;
    inbox_timer_.expires_after(kInboxGather);
    inbox_timer_.async_wait([this](const boost::system::error_code&) {
      inbox_gathering_ = false;
      drain_inbox();
    });
  }

  // Runs on the io thread.
  void drain_inbox() {
    {
      std::lock_guard lock(inbox_mutex_);
      draining_.swap(inbox_);
    }
    for (const auto& message : draining_) handle_message(message);
    schedule_rule_timer();  // once per batch: the deadline can only have moved by the batch
    draining_.clear();      // keeps its capacity for the next batch, unless a flood grew it
    if (draining_.capacity() > 1024) std::vector<MqttMessage>().swap(draining_);
  }

  void handle_message(const MqttMessage& message) {
    try {
      hub_.on_message(message.topic, message.payload, clock_.now());
    } catch (const std::exception& e) {
      // The store could not commit: do not acknowledge what we could not keep. Exit without
      // returning to the client (no PUBACK); the service manager restarts us and the broker
      // delivers the message again.
      log::error("fatal: cannot process message on {}: {}", message.topic, e.what());
      std::_Exit(EXIT_FAILURE);
    }
  }

  void make_notifiers() {
    notifiers_["mqtt"] = std::make_unique<notify::MqttNotifier>(
        hub_.topics().notify(),
        [this](const MqttMessage& message, std::function<void(bool)> done) {
          publish(message, std::move(done));
        },
        [this] { return hub_.time_zone().format_iso(clock_.now().wall_ms); });
    if (config_.checkin) {
      notifiers_["device_command"] = std::make_unique<notify::DeviceCommandNotifier>(
          [this](const MqttMessage& message, std::function<void(bool)> done) {
            publish(message, std::move(done));
          },
          config_.checkin->retain);
    }
    for (auto& [channel, notifier] : notify::make_channel_notifiers(
             config_,
             [this](const std::string&from, const std::string&text) {
               asio::post(io_, [this, from, text] { hub_.on_sms_reply(from, text, clock_.now()); });
             },
             &store_, &clock_)) {
      notifiers_[channel] = std::move(notifier);
    }
  }

  void dispatch(const notify::Notification& notification) {
    auto it = notifiers_.find(notification.channel);
    if (it == notifiers_.end()) {
      hub_.record_delivery(notification.notification_id,
                           {false, false, "no notifier for channel " + notification.channel}, 0,
                           clock_.now());
      return;
    }
    log::info("notification {} to {} via {}", notification.notification_id, notification.contact_id,
              notification.channel);
    it->second->send(notification, [this, id = notification.notification_id](
                                       const notify::DeliveryResult& result) {
      asio::post(io_, [this, id, result] { hub_.record_delivery(id, result, 1, clock_.now()); });
    });
  }

  // One connection attempt, with a deadline of our own: an attempt that reports neither success
  // nor failure must not leave the hub disconnected for good.
  void start_connect() {
    client_->connect();
    connect_timer_.expires_after(kConnectDeadline);
    connect_timer_.async_wait([this](const boost::system::error_code& error) {
      if (error || connected_ || stopping_) return;
      on_connection_lost("connect attempt did not finish in time");
    });
  }

  void on_connected() {
    if (stopping_) return;
    connected_ = true;
    connect_timer_.cancel();
    reconnect_timer_.cancel();
    if (!pending_dispatched_) {
      // Notifications committed before a crash but never confirmed: send them again with the
      // same ids, so receivers recognise a retry.
      pending_dispatched_ = true;
      for (const auto& notification : hub_.pending_notifications()) dispatch(notification);
    }
    backoff_ = milliseconds(0);
    log::info("mqtt: connected to {}", config_.broker.url);
    std::vector<std::string> filters;
    std::vector<int> qos;
    for (const auto& sub : hub_.subscriptions()) {
      filters.push_back(sub.filter);
      qos.push_back(sub.qos);
    }
    client_->subscribe(filters, qos);
    client_->publish({hub_.topics().status(), "online", 1, true}, nullptr);
    // Re-publish every state that was committed but not confirmed published (a crash between
    // commit and publish, or a broker outage), and the current state of every active alert.
    std::map<std::string, AlertRecord> to_publish;
    for (auto& alert : hub_.pending_publications()) to_publish[alert.alert_id] = alert;
    for (const auto& [id, alert] : hub_.alerts().active()) to_publish.try_emplace(id, alert);
    for (const auto& [id, alert] : to_publish) publish_alert(alert, "republished");
  }

  void on_connection_lost(const std::string& reason) {
    connected_ = false;
    connect_timer_.cancel();
    if (stopping_) return;
    backoff_ = backoff_.count() == 0 ? kMinBackoff : std::min(backoff_ * 2, kMaxBackoff);
    std::uniform_real_distribution<double> jitter(0.75, 1.25);
    const auto delay = milliseconds(static_cast<std::int64_t>(backoff_.count() * jitter(rng_)));
    log::warn("mqtt: {}; reconnecting in {} ms", reason, delay.count());
    reconnect_timer_.expires_after(delay);
    reconnect_timer_.async_wait([this](const boost::system::error_code& error) {
      if (!error && !stopping_ && !connected_) start_connect();
    });
  }

  void publish_alert(const AlertRecord& alert, std::string_view event) {
    const std::string payload =
        alert_to_json(alert, event, config_.household.id, hub_.time_zone()).dump();
    publish({hub_.topics().alert(alert.alert_id), payload, 1, true},
            [this, id = alert.alert_id, updated = alert.updated_at_ms](bool ok) {
              if (!ok) return;  // still pending: re-published on the next connect
              asio::post(io_, [this, id, updated] { hub_.mark_published(id, updated); });
            });
  }

  // Arms the rule timer for the hub's next deadline. A deadline the timer already waits for is
  // left alone: re-arming cancels the wait and re-programs the kernel's timer.
  void schedule_rule_timer() {
    const auto deadline = hub_.next_deadline_mono_ms();
    if (deadline == armed_deadline_) return;
    armed_deadline_ = deadline;
    if (!deadline) {
      rule_timer_.cancel();
      return;
    }
    const auto wait = std::max<std::int64_t>(0, *deadline - clock_.now().mono_ms);
    rule_timer_.expires_after(milliseconds(wait));
    rule_timer_.async_wait([this](const boost::system::error_code& error) {
      if (error || stopping_) return;
      armed_deadline_.reset();
      hub_.on_tick(clock_.now());
      schedule_rule_timer();
    });
  }

  void schedule_housekeeping() {
    housekeeping_timer_.expires_after(std::chrono::seconds(1));
    housekeeping_timer_.async_wait([this](const boost::system::error_code& error) {
      if (error || stopping_) return;
      hub_.flush_telemetry();
      watchdog_.alive();  // only a running loop gets here: a stuck one is restarted
      if (++housekeeping_ticks_ % 3600 == 1) hub_.prune_telemetry(clock_.now());
      if (housekeeping_ticks_ % 10 == 1) check_storage(housekeeping_ticks_ % 60 == 1);
      if (housekeeping_ticks_ % 60 == 0 && connected_) publish_stats();
      schedule_housekeeping();
    });
  }

  // Every 10 s; the free space every minute. Failed writes are logged at most once a minute.
  void check_storage(bool with_free_space) {
    std::optional<std::uint64_t> free;
    if (with_free_space && config_.storage.path != ":memory:") {
      free = free_bytes_at(config_.storage.path);
    }
    hub_.check_storage(free, clock_.now());
    const auto failed = store_.failed_commits();
    if (failed != logged_failed_commits_ && housekeeping_ticks_ - logged_failures_at_ >= 60) {
      log::error(
          "storage: {} writes lost since the last report ({} in all, {} telemetry rows "
          "dropped); last error: {}",
          failed - logged_failed_commits_, failed, hub_.telemetry_rows_dropped(),
          store_.last_write_error());
      logged_failed_commits_ = failed;
      logged_failures_at_ = housekeeping_ticks_;
    }
  }

  void publish_stats() {
    nlohmann::ordered_json stats;
    stats["ts"] = hub_.time_zone().format_iso(clock_.now().wall_ms);
    stats["messages"] = hub_.messages_processed();
    stats["active_alerts"] = hub_.alerts().active().size();
    stats["storage"] = {{"failed_writes", store_.failed_commits()},
                        {"telemetry_rows_dropped", hub_.telemetry_rows_dropped()}};
    auto& rejected = stats["rejected"] = nlohmann::ordered_json::object();
    for (const auto& [key, counter] : hub_.input_errors().counters()) {
      rejected[key.first][key.second] = counter.total;
    }
    client_->publish({hub_.topics().stats(), stats.dump(), 0, true}, nullptr);
  }

  void shutdown() {
    if (stopping_) return;
    stopping_ = true;
    watchdog_.stopping();
    reconnect_timer_.cancel();
    connect_timer_.cancel();
    rule_timer_.cancel();
    housekeeping_timer_.cancel();
    hub_.flush_telemetry();
    for (auto& extension : extensions_) extension->stop();
    shutdown_timer_.expires_after(std::chrono::seconds(5));
    shutdown_timer_.async_wait([this](const boost::system::error_code& error) {
      if (!error) io_.stop();
    });
    auto disconnect = [this] {
      client_->disconnect(milliseconds(2000), [this] { asio::post(io_, [this] { io_.stop(); }); });
    };
    if (!connected_) {
      io_.stop();
      return;
    }
    // A clean stop says so on the status topic (the will covers crashes).
    client_->publish({hub_.topics().status(), "offline", 1, true},
                     [this, disconnect](bool) { asio::post(io_, disconnect); });
  }

  static constexpr milliseconds kMinBackoff{1000};
  static constexpr milliseconds kMaxBackoff{60'000};
  // Paho's own connect timeout is 10 s; past this the attempt is given up on.
  static constexpr milliseconds kConnectDeadline{20'000};

  const HubConfig& config_;
  asio::io_context io_;
  SystemClock clock_;
  std::string boot_id_;
  Store store_;
  Hub hub_;
  std::vector<std::unique_ptr<DaemonExtension>> extensions_;
  std::unique_ptr<MqttClient> client_;
  std::map<std::string, std::unique_ptr<notify::Notifier>> notifiers_;
  std::mutex inbox_mutex_;
  std::vector<MqttMessage> inbox_;     // filled on the MQTT client's thread
  std::vector<MqttMessage> draining_;  // the io thread's batch
  struct Publication {
    MqttMessage message;
    std::function<void(bool)> done;
  };
  std::vector<Publication>* alarm_publications_ = nullptr;  // io thread: while an alarm is handled
  bool pending_dispatched_ = false;
  SystemdNotifier watchdog_;
  asio::signal_set signals_;
  asio::steady_timer reconnect_timer_;
  asio::steady_timer connect_timer_;
  // Meter readings may wait this long for the io thread; under a flood a batch then holds
  // dozens of messages instead of one or two.
  static constexpr std::chrono::microseconds kInboxGather{1000};
  asio::steady_timer inbox_timer_;
  bool inbox_gathering_ = false;
  asio::steady_timer rule_timer_;
  std::optional<std::int64_t> armed_deadline_;  // what rule_timer_ waits for, if anything
  asio::steady_timer housekeeping_timer_;
  asio::steady_timer shutdown_timer_;
  CrashPoint crash_point_;
  std::mt19937 rng_;
  milliseconds backoff_{0};
  bool connected_ = false;
  bool stopping_ = false;
  std::atomic<bool> io_stopped_{false};
  std::int64_t housekeeping_ticks_ = 0;
  std::uint64_t logged_failed_commits_ = 0;
  std::int64_t logged_failures_at_ = -60;
};

}  // namespace

int run_daemon(const HubConfig& config, const ExtensionFactory& extensions) {
  auto zone = load_time_zone(config.household.timezone);
  if (!zone) {
    log::error("unknown time zone {}", config.household.timezone);
    return 2;
  }
  try {
    Daemon daemon(
        config, std::move(*zone),
        extensions ? extensions(config) : std::vector<std::unique_ptr<DaemonExtension>>{});
    return daemon.run();
  } catch (const StoreError& e) {
    log::error("store: {}", e.what());
    return 1;
  } catch (const std::exception& e) {
    log::error("fatal: {}", e.what());
    return 1;
  }
}

}  // namespace homesafe::gateway
