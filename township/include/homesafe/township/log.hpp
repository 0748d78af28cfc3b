#pragma once
// One line per event on stderr. Never log a resident's name, phone or address: ids only.

#include <string_view>

namespace homesafe::township {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

void log(LogLevel level, std::string_view message);
inline void log_info(std::string_view m) {
  log(LogLevel::kInfo, m);
}
inline void log_warn(std::string_view m) {
  log(LogLevel::kWarn, m);
}
inline void log_error(std::string_view m) {
  log(LogLevel::kError, m);
}
void set_log_quiet(bool quiet);

}  // namespace homesafe::township
