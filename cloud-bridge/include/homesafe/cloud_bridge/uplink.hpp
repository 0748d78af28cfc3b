#pragma once
// The township uplink as a part of the hub daemon: a second MQTT connection (to the township
// broker) driving the Forwarder on the daemon's io_context. Paho's callbacks are posted onto the
// io_context; a downlink command is committed (applied and answered in the outbox) before its
// callback returns, so the broker is only acknowledged for a command that is on disk.

#include <memory>
#include <vector>

#include "homesafe/gateway/config.hpp"
#include "homesafe/gateway/daemon.hpp"

namespace homesafe::cloud_bridge {

// The daemon extensions for a config: the uplink when it has an `uplink:` section, else none.
std::vector<std::unique_ptr<gateway::DaemonExtension>> uplink_extensions(
    const gateway::HubConfig& config);

}  // namespace homesafe::cloud_bridge
