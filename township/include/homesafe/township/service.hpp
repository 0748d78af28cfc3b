#pragma once
// The running service: township broker (Paho), HTTP API (Beast), hub-silence timer, the store.
// `options.role` picks the parts (docs/deployment.md): `all` runs everything in one process,
// `ingest` only the uplink consumer, `api` only the HTTP API, console, live feed and relays.

#include "homesafe/township/config.hpp"

namespace homesafe::township {

// Runs until SIGINT or SIGTERM; returns the process exit code. Throws ConfigError when the
// options do not fit the config (check_service_options).
int run_service(const TownshipConfig& config, const ServiceOptions& options = {});

}  // namespace homesafe::township
