#include "homesafe/township/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

namespace homesafe::township {
namespace {
std::mutex g_mutex;
std::atomic<bool> g_quiet{false};
}  // namespace

void set_log_quiet(bool quiet) {
  g_quiet = quiet;
}

void log(LogLevel level, std::string_view message) {
  if (g_quiet && level < LogLevel::kWarn) return;
  static constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
  std::lock_guard lock(g_mutex);
  std::fprintf(stderr, "[%s] %.*s\n", kNames[static_cast<int>(level)],
               static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

}  // namespace homesafe::township
