#pragma once
// The zh-CN text a caregiver receives: short enough for one SMS (70 characters), from the
// templates in the hub config or the built-in ones.

#include <cstddef>
#include <string>
#include <string_view>

#include "homesafe/gateway/alert.hpp"
#include "homesafe/gateway/config.hpp"
#include "homesafe/rules/time_zone.hpp"

namespace homesafe::gateway::notify {

inline constexpr std::size_t kMaxSmsChars = 70;

// Number of Unicode code points in UTF-8 text (invalid bytes count as one each).
std::size_t utf8_length(std::string_view text);
// At most `max_chars` code points, ending in "…" when shortened; never splits a character.
std::string utf8_truncate(std::string_view text, std::size_t max_chars);

struct MessageContext {
  const NotifyConfig& config;
  std::string_view household_name;
  const rules::TimeZone& zone;
};

// Renders the message for one notification of `alert` on `channel` (the ack hint depends on the
// channel: an SMS can be answered with "1"); `repeat` > 0 marks a reminder.
std::string render_message(const MessageContext& context, const AlertRecord& alert,
                           std::string_view channel, int repeat);

}  // namespace homesafe::gateway::notify
