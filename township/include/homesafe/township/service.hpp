#pragma once
// The running service: township broker (Paho), HTTP API (Beast), hub-silence timer, one store.

#include "homesafe/township/config.hpp"

namespace homesafe::township {

// Runs until SIGINT or SIGTERM; returns the process exit code.
int run_service(const TownshipConfig& config);

}  // namespace homesafe::township
