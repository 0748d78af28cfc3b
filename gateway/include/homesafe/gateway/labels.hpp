#pragma once
// zh-CN labels for people (caregivers, duty desk, installers).

#include <string_view>

#include "homesafe/gateway/alert.hpp"
#include "homesafe/rules/alert_kind.hpp"

namespace homesafe::gateway {

std::string_view zh_label(rules::AlertKind kind);
std::string_view zh_label(rules::Severity severity);
std::string_view zh_label(AlertState state);

}  // namespace homesafe::gateway
