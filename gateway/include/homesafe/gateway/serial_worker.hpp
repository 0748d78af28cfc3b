#pragma once
// A thread that runs posted tasks one at a time, in order. Paho C 1.3 holds its client mutex
// while a message-arrived callback runs, and a callback that waits for a commit must never wait
// on a thread that calls into Paho: such calls are handed to a SerialWorker instead (the
// gateway's Paho client, the township service).

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace homesafe::gateway {

class SerialWorker {
 public:
  // `on_error` sees what a task throws; without it an exception ends the program (a bug).
  explicit SerialWorker(std::function<void(const std::exception&)> on_error = {})
      : on_error_(std::move(on_error)), thread_([this] { loop(); }) {}
  ~SerialWorker() { stop(); }
  SerialWorker(const SerialWorker&) = delete;
  SerialWorker& operator=(const SerialWorker&) = delete;

  // Queues `task`; ignored once stop() has begun.
  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      tasks_.push_back(std::move(task));
    }
    ready_.notify_one();
  }

  // Runs what is queued, then ends the thread.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    ready_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping and drained
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      if (on_error_) {
        try {
          task();
        } catch (const std::exception& e) {
          on_error_(e);
        }
      } else {
        task();
      }
      lock.lock();
    }
  }

  std::function<void(const std::exception&)> on_error_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace homesafe::gateway
