#include <mqtt/async_client.h>

#include <memory>

#include "homesafe/gateway/log.hpp"
#include "homesafe/gateway/mqtt_client.hpp"
#include "homesafe/gateway/serial_worker.hpp"

namespace homesafe::gateway {
namespace {

using Completion = std::function<void(bool ok, const std::string& why)>;

// One listener serves every operation: the completion to run travels as the token's user
// context (heap-allocated, deleted when it has run), so nothing accumulates per publish.
class CompletionListener final : public mqtt::iaction_listener {
 public:
  void on_success(const mqtt::token& token) override { finish(token, true, {}); }
  void on_failure(const mqtt::token& token) override {
    finish(token, false,
           "reason " + std::to_string(token.get_reason_code()) + ", rc " +
               std::to_string(token.get_return_code()));
  }

  static void* context(Completion completion) { return new Completion(std::move(completion)); }
  // Runs and frees a completion whose operation never started.
  static void abandon(void* context, const std::string& why) {
    std::unique_ptr<Completion> completion(static_cast<Completion*>(context));
    if (*completion) (*completion)(false, why);
  }

 private:
  static void finish(const mqtt::token& token, bool ok, const std::string& why) {
    std::unique_ptr<Completion> completion(static_cast<Completion*>(token.get_user_context()));
    if (completion && *completion) (*completion)(ok, why);
  }
};

class PahoClient final : public MqttClient {
 public:
  explicit PahoClient(const MqttSettings& settings)
      : settings_(settings), client_(settings.url, settings.client_id, nullptr) {
    // nullptr persistence: Paho keeps nothing on disk; the gateway's store is the record.
    auto builder = mqtt::connect_options_builder()
                       .clean_session(settings.clean_session)
                       .keep_alive_interval(settings.keepalive)
                       .connect_timeout(std::chrono::seconds(10))
                       .automatic_reconnect(false);  // the daemon reconnects with jitter
    if (!settings.username.empty()) builder.user_name(settings.username);
    if (!settings.password.empty()) builder.password(settings.password);
    if (!settings.will.topic.empty()) {
      builder.will(mqtt::message(settings.will.topic, settings.will.payload, settings.will.qos,
                                 settings.will.retained));
    }
    const bool tls_url =
        settings.url.rfind("ssl://", 0) == 0 || settings.url.rfind("mqtts://", 0) == 0;
    if (settings.tls || tls_url) {
      mqtt::ssl_options ssl;
      if (settings.tls) {
        if (!settings.tls->ca_file.empty()) ssl.set_trust_store(settings.tls->ca_file);
        if (!settings.tls->cert_file.empty()) ssl.set_key_store(settings.tls->cert_file);
        if (!settings.tls->key_file.empty()) ssl.set_private_key(settings.tls->key_file);
        ssl.set_enable_server_cert_auth(settings.tls->verify);
        ssl.set_verify(settings.tls->verify);
      }
      builder.ssl(std::move(ssl));
    }
    options_ = builder.finalize();

    client_.set_message_callback([this](mqtt::const_message_ptr message) {
      if (!handlers_.on_message) return;
      MqttMessage m{message->get_topic(), message->get_payload_str(), message->get_qos(),
                    message->is_retained()};
      handlers_.on_message(m);
    });
    client_.set_connection_lost_handler([this](const std::string& cause) {
      if (handlers_.on_connection_lost)
        handlers_.on_connection_lost(cause.empty() ? "lost" : cause);
    });
  }

  ~PahoClient() override {
    worker_.stop();
    try {
      if (client_.is_connected()) client_.disconnect(0)->wait_for(std::chrono::seconds(2));
    } catch (const std::exception&) {
      // Shutting down anyway.
    }
  }

  void set_handlers(Handlers handlers) override { handlers_ = std::move(handlers); }

  void connect() override {
    worker_.post([this]() mutable {
      void* context = CompletionListener::context([this](bool ok, const std::string& why) {
        if (ok) {
          if (handlers_.on_connected) handlers_.on_connected();
        } else if (handlers_.on_connection_lost) {
          handlers_.on_connection_lost("connect failed: " + why);
        }
      });
      try {
        client_.connect(options_, context, listener_);
      } catch (const mqtt::exception& e) {
        CompletionListener::abandon(context, e.what());
      }
    });
  }

  void subscribe(const std::vector<std::string>& filters, const std::vector<int>& qos) override {
    worker_.post([this, filters, qos]() mutable {
      void* context = CompletionListener::context([](bool ok, const std::string& why) {
        if (!ok) log::error("mqtt: subscribe failed: {}", why);
      });
      try {
        client_.subscribe(mqtt::string_collection::create(filters),
                          mqtt::iasync_client::qos_collection(qos.begin(), qos.end()), context,
                          listener_);
      } catch (const mqtt::exception& e) {
        CompletionListener::abandon(context, e.what());
      }
    });
  }

  void publish(const MqttMessage& message, std::function<void(bool)> done) override {
    worker_.post([this, message, done = std::move(done)]() mutable {
      void* context =
          CompletionListener::context([done = std::move(done)](bool ok, const std::string&) {
            if (done) done(ok);
          });
      try {
        auto msg =
            mqtt::make_message(message.topic, message.payload, message.qos, message.retained);
        client_.publish(msg, context, listener_);
      } catch (const mqtt::exception& e) {
        log::warn("mqtt: publish on {} failed: {}", message.topic, e.what());
        CompletionListener::abandon(context, e.what());
      }
    });
  }

  void disconnect(std::chrono::milliseconds timeout, std::function<void()> done) override {
    worker_.post([this, timeout, done = std::move(done)]() mutable {
      void* context =
          CompletionListener::context([done = std::move(done)](bool, const std::string&) {
            if (done) done();
          });
      try {
        client_.disconnect(static_cast<int>(timeout.count()), context, listener_);
      } catch (const mqtt::exception& e) {
        CompletionListener::abandon(context, e.what());
      }
    });
  }

 private:
  // Declared before client_ so that they outlive every callback the client makes.
  MqttSettings settings_;
  Handlers handlers_;
  CompletionListener listener_;
  mqtt::connect_options options_;
  mqtt::async_client client_;
  // Every Paho operation runs here, never on the io thread (see serial_worker.hpp).
  SerialWorker worker_;  // last: stopped first, before the client goes away
};

}  // namespace

std::unique_ptr<MqttClient> make_paho_client(const MqttSettings& settings) {
  return std::make_unique<PahoClient>(settings);
}

}  // namespace homesafe::gateway
