#pragma once
// Checkpoints a WAL-mode SQLite database from a thread of its own.
//
// By default SQLite checkpoints inside the commit that takes the WAL past 1,000 pages: that
// commit copies the pages into the database and waits for two more fsyncs. When that commit is
// an alarm's, its notification waits too. Here the writer's commits only report the WAL's size;
// a thread with its own connection runs a PASSIVE checkpoint (it never blocks the writer) once
// the WAL holds `start_frames`. Should the thread fall behind (a flood of commits that never
// leaves a gap for a complete checkpoint), a commit that takes the WAL past `inline_frames`
// checkpoints on the writer's thread as SQLite would, so the WAL stays bounded.
//
// After a complete checkpoint the writer's next commit starts the WAL over, and that commit first
// writes the WAL's header and syncs it: one fsync more than other commits. `completed` (called on
// the checkpointer's thread) lets the owner make that commit at a moment of its choosing rather
// than let it fall on an alarm (Store::restart_wal).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace homesafe::gateway {

class WalCheckpointer {
 public:
  struct Limits {
    int start_frames = 1000;   // wake the thread (SQLite's own automatic checkpoint size)
    int inline_frames = 8000;  // ~32 MiB of WAL at 4 KiB pages: the writer checkpoints itself
  };

  // Installs itself as `writer`'s WAL hook (replacing SQLite's automatic checkpoint) and opens a
  // second connection to `path`. Throws std::runtime_error if that connection cannot be opened.
  WalCheckpointer(sqlite3* writer, const std::string& path, Limits limits,
                  std::function<void()> completed = {});
  // Stops the thread and gives the writer back SQLite's automatic checkpoint.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Checkpoints that copied every frame: by the thread, and by the writer past inline_frames.
  std::uint64_t completed_in_background() const { return background_.load(); }
  std::uint64_t completed_inline() const { return inline_.load(); }
  // Frames in the WAL after the writer's last commit: small again once a complete checkpoint
  // let the WAL start over.
  int wal_frames() const { return wal_frames_.load(); }

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int frames);
  void run();

  sqlite3* writer_;
  sqlite3* own_ = nullptr;
  Limits limits_;
  std::function<void()> completed_;  // after each complete checkpoint of the thread
  std::mutex mutex_;
  std::condition_variable wake_;
  bool due_ = false;
  bool stopping_ = false;
  std::atomic<std::uint64_t> background_{0};
  std::atomic<std::uint64_t> inline_{0};
  std::atomic<int> wal_frames_{0};
  std::string last_error_;  // the thread's, logged once until it changes
  std::thread thread_;      // last: started when everything above is ready
};

}  // namespace homesafe::gateway
