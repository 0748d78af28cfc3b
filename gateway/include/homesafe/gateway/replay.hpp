#pragma once
// `homesafe-gateway replay`: the full pipeline on recorded messages in virtual time, as fast as
// the CPU allows, printing one JSON object per line for every alert state change (and, with
// escalation, every notification). Deterministic: the same input gives the same output.

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>

#include "homesafe/gateway/config.hpp"

namespace homesafe::gateway {

struct ReplayOptions {
  // Virtual time to keep running after the last message (timers still due then fire).
  std::int64_t tail_ms = 0;
  // Store: ":memory:" by default so that a replay never touches the hub's real database.
  std::string store_path = ":memory:";
};

struct ReplayStats {
  std::int64_t lines = 0;
  std::int64_t messages = 0;
  std::int64_t bad_lines = 0;
  std::int64_t outputs = 0;
  std::map<std::string, std::int64_t> suppressed;  // alerts not raised on purpose, "kind/reason"
};

// Reads replay input lines from `in`, writes output lines to `out` and line-numbered problems
// with the input to `err`. Returns the statistics; throws StoreError only for store failures.
ReplayStats run_replay(const HubConfig& config, std::istream& in, std::ostream& out,
                       std::ostream& err, const ReplayOptions& options = {});

}  // namespace homesafe::gateway
