#include "homesafe/gateway/wal_checkpointer.hpp"

#include <sqlite3.h>

#include <stdexcept>
#include <utility>

#include "homesafe/gateway/log.hpp"

namespace homesafe::gateway {

WalCheckpointer::WalCheckpointer(sqlite3* writer, const std::string& path, Limits limits,
                                 std::function<void()> completed)
    : writer_(writer), limits_(limits), completed_(std::move(completed)) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &own_, flags, nullptr) != SQLITE_OK) {
    std::string message = own_ != nullptr ? sqlite3_errmsg(own_) : "out of memory";
    sqlite3_close(own_);
    throw std::runtime_error("cannot open " + path + " for checkpoints: " + message);
  }
  // A page cache for the checkpoint only (it copies through its own buffer): keep it small.
  sqlite3_exec(own_, "PRAGMA cache_size=-64", nullptr, nullptr, nullptr);
  thread_ = std::thread([this] { run(); });
  sqlite3_wal_hook(writer_, &WalCheckpointer::on_commit, this);
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_autocheckpoint(writer_, 1000);  // also removes our hook
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_close(own_);
}

// On the writer's thread, after each commit, with the number of frames now in the WAL.
int WalCheckpointer::on_commit(void* self, sqlite3* db, const char* schema, int frames) {
  auto& me = *static_cast<WalCheckpointer*>(self);
  me.wal_frames_ = frames;
  if (frames >= me.limits_.inline_frames) {
    int in_wal = 0;
    int copied = 0;
    if (sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, &in_wal, &copied) ==
            SQLITE_OK &&
        copied == in_wal) {
      ++me.inline_;
    }
    return SQLITE_OK;  // a failed checkpoint does not fail the commit that has happened
  }
  if (frames >= me.limits_.start_frames) {
    {
      std::lock_guard lock(me.mutex_);
      me.due_ = true;
    }
    me.wake_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return due_ || stopping_; });
    if (stopping_) return;
    due_ = false;
    lock.unlock();
    int in_wal = 0;
    int copied = 0;
    const int rc =
        sqlite3_wal_checkpoint_v2(own_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &in_wal, &copied);
    if (rc == SQLITE_OK) {
      // Partial when the writer committed meanwhile: its next commit wakes us again.
      last_error_.clear();
      if (copied == in_wal && in_wal > 0) {
        ++background_;
        if (completed_) completed_();
      }
    } else if (rc != SQLITE_BUSY) {  // BUSY: the writer is checkpointing itself right now
      const std::string error = sqlite3_errmsg(own_);
      if (error != last_error_) log::warn("store: background checkpoint failed: {}", error);
      last_error_ = error;
    }
    lock.lock();
  }
}

}  // namespace homesafe::gateway
