#include "homesafe/gateway/storage_monitor.hpp"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <filesystem>

namespace homesafe::gateway {

StorageMonitor::Decision StorageMonitor::update(std::uint64_t failed_commits,
                                                const std::string& last_error,
                                                std::optional<std::uint64_t> free_bytes,
                                                std::int64_t mono_ms) {
  const bool new_failure = failed_commits > seen_failed_commits_;
  if (new_failure) {
    failures_ += failed_commits - seen_failed_commits_;
    last_failure_ms_ = mono_ms;
  }
  seen_failed_commits_ = failed_commits;
  if (free_bytes) free_bytes_ = free_bytes;

  const std::uint64_t min_free = options_.min_free_bytes;
  const bool low = min_free > 0 && free_bytes_ && *free_bytes_ < min_free;
  Decision decision;
  if (!raised_ && (new_failure || low)) {
    raised_ = true;
    decision.action = Decision::Action::raise;
    decision.detail = new_failure
                          ? "writes failing: " + last_error
                          : fmt::format("free space {} MB, below {} MB",
                                        *free_bytes_ / (1024 * 1024), min_free / (1024 * 1024));
    return decision;
  }
  if (raised_) {
    const bool space_back = min_free == 0 || !free_bytes_ || *free_bytes_ >= min_free / 2 * 3;
    const bool writes_back =
        !last_failure_ms_ || mono_ms - *last_failure_ms_ >= options_.recovery_ms;
    if (space_back && writes_back) {
      raised_ = false;
      decision.action = Decision::Action::clear;
    }
  }
  return decision;
}

std::optional<std::uint64_t> free_bytes_at(const std::string& path) {
  std::error_code error;
  auto folder = std::filesystem::absolute(path, error).parent_path();
  if (error) return std::nullopt;
  struct statvfs info {};
  if (::statvfs(folder.c_str(), &info) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(info.f_bavail) * info.f_frsize;
}

}  // namespace homesafe::gateway
