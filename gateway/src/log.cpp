#include "homesafe/gateway/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace homesafe::gateway::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::mutex g_mutex;

constexpr std::string_view name_of(Level level) {
  switch (level) {
    case Level::debug:
      return "DEBUG";
    case Level::info:
      return "INFO";
    case Level::warn:
      return "WARN";
    case Level::error:
      return "ERROR";
  }
  return "?";
}

}  // namespace

void set_level(Level new_level) {
  g_level = new_level;
}
Level level() {
  return g_level;
}

void write(Level message_level, std::string_view message) {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::lock_guard lock(g_mutex);
  std::fprintf(stderr, "%s.%03dZ %-5s %.*s\n", stamp, static_cast<int>(ms.count() % 1000),
               name_of(message_level).data(), static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

}  // namespace homesafe::gateway::log
