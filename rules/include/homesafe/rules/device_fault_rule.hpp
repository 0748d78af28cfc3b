#pragma once
// An alarm-class device that keeps sending messages we cannot read is a device fault: it might
// be trying to tell us about a fire. A readable message clears it.

#include "homesafe/rules/rule.hpp"

namespace homesafe::rules {

class DeviceFaultRule final : public Rule {
 public:
  static constexpr int kBadMessagesForFault = 3;  // consecutive unreadable messages

  std::string_view name() const override { return "device_fault"; }
  void on_message(const Observation& observation, RuleState& state,
                  std::vector<RuleEvent>& out) override;
};

}  // namespace homesafe::rules
