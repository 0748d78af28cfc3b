#pragma once
// Downlink commands from the township (homesafe-down/HUB/command, docs/uplink.md): applied
// through the hub's own paths, once per command_id, and answered with a command_result event in
// the outbox every time (also for a repeat), in the same transaction as the change.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "homesafe/gateway/alert_manager.hpp"
#include "homesafe/gateway/store.hpp"
#include "homesafe/rules/rule.hpp"

namespace homesafe::cloud_bridge {

// What a command may do to the hub (gateway::Hub in the daemon, a fake in tests).
class HubActions {
 public:
  virtual ~HubActions() = default;
  virtual gateway::AckOutcome acknowledge(const gateway::AckRequest& request,
                                          const rules::Instant& now) = 0;
  virtual void set_away(std::int64_t until_wall_ms, const std::string& by, const std::string& note,
                        const rules::Instant& now) = 0;
  virtual void end_away(const std::string& by, const rules::Instant& now) = 0;
  // A `config` command's patch (a JSON object): why it is refused, or empty when applied
  // (gateway::Hub::apply_config_patch).
  virtual std::string configure(const std::string& patch, const std::string& command_id,
                                const rules::Instant& now) = 0;
};

struct CommandOutcome {
  std::string command_id;
  bool ok = false;
  std::string error;  // empty when ok
  bool repeated = false;
};

class CommandProcessor {
 public:
  static constexpr std::int64_t kMaxAwayMs = 90LL * 86'400'000;

  CommandProcessor(gateway::Store& store, HubActions& hub);

  // One payload from the command topic. Nothing when it carries no usable command_id (logged and
  // counted: there is nothing to answer to). Throws gateway::StoreError when it cannot commit.
  std::optional<CommandOutcome> handle(std::string_view payload, const rules::Instant& now);

  std::int64_t malformed() const { return malformed_; }

 private:
  CommandOutcome apply(const std::string& command_id, const nlohmann::json& json,
                       const rules::Instant& now);

  gateway::Store& store_;
  HubActions& hub_;
  std::int64_t malformed_ = 0;
};

}  // namespace homesafe::cloud_bridge
