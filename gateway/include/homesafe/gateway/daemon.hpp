#pragma once
// The hub daemon: one Boost.Asio io_context owns all state; Paho's callbacks are posted onto
// it. Alarm-class messages are committed before the callback returns, so the broker is only
// acknowledged (PUBACK) for an alarm that is already on disk.

#include "homesafe/gateway/config.hpp"

namespace homesafe::gateway {

// Runs until SIGINT/SIGTERM. Returns the process exit code.
int run_daemon(const HubConfig& config);

}  // namespace homesafe::gateway
