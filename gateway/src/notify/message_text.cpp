#include "homesafe/gateway/notify/message_text.hpp"

#include <fmt/format.h>

#include "homesafe/gateway/labels.hpp"

namespace homesafe::gateway::notify {
namespace {

constexpr std::string_view kUrgentTemplate =
    "【平安守护】{reminder}{household} {location}{what}（{time}），请尽快查看。{ack}";
constexpr std::string_view kInfoTemplate =
    "【平安守护】{reminder}{household} {location}{what}（{time}），请方便时处理。{ack}";

std::size_t char_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;  // invalid lead byte: one unit
}

std::string substitute(std::string_view tmpl, std::string_view household, std::string_view location,
                       std::string_view what, std::string_view time, std::string_view ack,
                       std::string_view reminder) {
  std::string out;
  for (std::size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] == '{') {
      const auto close = tmpl.find('}', i);
      if (close != std::string_view::npos) {
        const auto name = tmpl.substr(i + 1, close - i - 1);
        bool known = true;
        if (name == "household") {
          out += household;
        } else if (name == "location") {
          out += location;
        } else if (name == "what") {
          out += what;
        } else if (name == "time") {
          out += time;
        } else if (name == "ack") {
          out += ack;
        } else if (name == "reminder") {
          out += reminder;
        } else {
          known = false;
        }
        if (known) {
          i = close + 1;
          continue;
        }
      }
    }
    out += tmpl[i++];
  }
  return out;
}

std::string short_time(const rules::TimeZone& zone, std::int64_t unix_ms) {
  // "2026-11-01T07:01:00+08:00" -> "11月1日07:01"
  const std::string iso = zone.format_iso(unix_ms);
  const int month = std::stoi(iso.substr(5, 2));
  const int day = std::stoi(iso.substr(8, 2));
  return fmt::format("{}月{}日{}", month, day, iso.substr(11, 5));
}

}  // namespace

std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); i += char_length(static_cast<unsigned char>(text[i]))) {
    ++count;
  }
  return count;
}

std::string utf8_truncate(std::string_view text, std::size_t max_chars) {
  if (utf8_length(text) <= max_chars) return std::string(text);
  if (max_chars == 0) return {};
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size() && chars + 1 < max_chars;) {
    const std::size_t n =
        std::min(char_length(static_cast<unsigned char>(text[i])), text.size() - i);
    out.append(text.substr(i, n));
    i += n;
    ++chars;
  }
  return out + "…";
}

std::string render_message(const MessageContext& context, const AlertRecord& alert,
                           std::string_view channel, int repeat) {
  std::string_view tmpl = alert.severity == rules::Severity::info ? kInfoTemplate : kUrgentTemplate;
  if (auto it = context.config.templates.find(std::string(rules::to_string(alert.kind)));
      it != context.config.templates.end()) {
    tmpl = it->second;
  } else if (auto fallback = context.config.templates.find("default");
             fallback != context.config.templates.end()) {
    tmpl = fallback->second;
  }
  const std::string what(zh_label(alert.kind));
  const std::string time = short_time(context.zone, alert.opened_at_ms);
  const std::string_view ack = channel == "sms" ? "回复1确认" : "";
  const std::string_view reminder = repeat > 0 ? "再次提醒：" : "";

  // Shorten the household name, then the location, until the text fits one SMS.
  std::string household(context.household_name);
  std::string location = alert.location;
  std::string text = substitute(tmpl, household, location, what, time, ack, reminder);
  while (utf8_length(text) > kMaxSmsChars && utf8_length(household) > 3) {
    household = utf8_truncate(household, utf8_length(household) - 1);
    text = substitute(tmpl, household, location, what, time, ack, reminder);
  }
  while (utf8_length(text) > kMaxSmsChars && utf8_length(location) > 2) {
    location = utf8_truncate(location, utf8_length(location) - 1);
    text = substitute(tmpl, household, location, what, time, ack, reminder);
  }
  return utf8_truncate(text, kMaxSmsChars);
}

}  // namespace homesafe::gateway::notify
