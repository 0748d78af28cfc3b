#pragma once
// Watches the hub's storage: failed commits (a full or failing disk) and free space on the
// store's file system. Decides when the hub raises its `storage_full` alert and when it clears
// it. Pure logic: the caller brings the figures (Store::failed_commits, statvfs) and the time.

#include <cstdint>
#include <optional>
#include <string>

namespace homesafe::gateway {

struct StorageMonitorOptions {
  // Raise below this much free space (0: no free-space check). Clear once free space is back
  // above 1.5 times it.
  std::uint64_t min_free_bytes = 50ull * 1024 * 1024;
  // After the last failed commit, clear only when commits have worked for this long.
  std::int64_t recovery_ms = 10 * 60'000;
};

class StorageMonitor {
 public:
  struct Decision {
    enum class Action { none, raise, clear } action = Action::none;
    std::string
        detail;  // for raise: what is wrong, e.g. "writes failing: database or disk is full"
  };

  explicit StorageMonitor(StorageMonitorOptions options = {}) : options_(options) {}

  // `failed_commits`: the store's running count; `last_error`: its last message; `free_bytes`:
  // free space for the hub's user when known (not checked every time).
  Decision update(std::uint64_t failed_commits, const std::string& last_error,
                  std::optional<std::uint64_t> free_bytes, std::int64_t mono_ms);

  bool raised() const { return raised_; }
  // The alert is open already (found at start-up): the next decision can clear it.
  void assume_raised() { raised_ = true; }
  // Failed commits since the monitor started.
  std::uint64_t failures() const { return failures_; }

 private:
  StorageMonitorOptions options_;
  std::uint64_t seen_failed_commits_ = 0;
  std::uint64_t failures_ = 0;
  std::optional<std::int64_t> last_failure_ms_;
  std::optional<std::uint64_t> free_bytes_;
  bool raised_ = false;
};

// Free bytes on the file system holding `path` (statvfs, for an unprivileged user), or nothing
// when it cannot be read.
std::optional<std::uint64_t> free_bytes_at(const std::string& path);

}  // namespace homesafe::gateway
