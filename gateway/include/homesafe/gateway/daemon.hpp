#pragma once
// The hub daemon: one Boost.Asio io_context owns all state; Paho's callbacks are posted onto
// it. Alarm-class messages are committed before the callback returns, so the broker is only
// acknowledged (PUBACK) for an alarm that is already on disk.

#include <functional>
#include <memory>
#include <vector>

#include "homesafe/gateway/config.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace homesafe::gateway {

class Clock;
class Hub;
class Store;

// What an extension (the township uplink in cloud-bridge/) gets from the daemon. Everything here
// belongs to the io_context's thread: use it only from handlers running on `io`.
struct DaemonContext {
  boost::asio::io_context& io;
  const HubConfig& config;
  Store& store;
  Hub& hub;
  const Clock& clock;
  std::string boot_id;
  // Call after changing the hub outside a message (a downlink command): the daemon re-arms its
  // timer for the hub's next rule or escalation deadline.
  std::function<void()> deadlines_changed;
};

// A part of the daemon that lives in a library the gateway does not depend on. Started after the
// hub has loaded its state; stopped when the daemon shuts down (it has a few seconds to say
// goodbye before the io_context stops); destroyed before the store and the hub.
class DaemonExtension {
 public:
  virtual ~DaemonExtension() = default;
  virtual void start(const DaemonContext& context) = 0;
  virtual void stop() = 0;
};

// Makes the extensions for a config (none when it does not need them).
using ExtensionFactory =
    std::function<std::vector<std::unique_ptr<DaemonExtension>>(const HubConfig& config)>;

// Runs until SIGINT/SIGTERM. Returns the process exit code.
int run_daemon(const HubConfig& config, const ExtensionFactory& extensions = {});

}  // namespace homesafe::gateway
