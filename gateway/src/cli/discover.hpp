#pragma once

#include <string>

namespace homesafe::gateway::cli {

// Listens on the hub's broker for `seconds` and prints a ready-to-paste `devices:` snippet for
// every device it sees announced (Home Assistant MQTT discovery) or publishing.
int discover(const std::string& config_path, int seconds);

}  // namespace homesafe::gateway::cli
