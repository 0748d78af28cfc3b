#include "homesafe/township/ingest_queue.hpp"

#include <fmt/format.h>

#include "homesafe/township/log.hpp"

namespace homesafe::township {

IngestQueue::IngestQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

std::uint64_t IngestQueue::push(IngestMessage message, bool urgent) {
  std::unique_lock lock(mutex_);
  not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
  if (closed_) return 0;
  return append(lock, std::move(message), urgent);
}

std::uint64_t IngestQueue::offer(IngestMessage message, bool urgent) {
  std::unique_lock lock(mutex_);
  if (closed_ || (!urgent && items_.size() >= capacity_)) return 0;
  return append(lock, std::move(message), urgent);
}

std::uint64_t IngestQueue::append(std::unique_lock<std::mutex>& lock, IngestMessage message,
                                  bool urgent) {
  items_.push_back(std::move(message));
  const std::uint64_t number = ++pushed_;
  if (urgent) last_urgent_ = number;
  lock.unlock();
  not_empty_.notify_one();
  return number;
}

bool IngestQueue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::vector<IngestMessage> IngestQueue::take(std::size_t max, std::chrono::milliseconds wait) {
  std::vector<IngestMessage> out;
  if (max == 0) return out;
  std::unique_lock lock(mutex_);
  not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
  if (!closed_ && items_.size() < max && wait.count() > 0) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    not_empty_.wait_until(lock, deadline,
                          [&] { return closed_ || items_.size() >= max || last_urgent_ > taken_; });
  }
  while (!items_.empty() && out.size() < max) {
    out.push_back(std::move(items_.front()));
    items_.pop_front();
    ++taken_;
  }
  lock.unlock();
  not_full_.notify_all();
  return out;
}

void IngestQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
}

std::size_t IngestQueue::size() const {
  std::lock_guard lock(mutex_);
  return items_.size();
}

IngestDrain::IngestDrain(IngestQueueOptions options, Handler handler, Publish publish,
                         std::string name)
    : options_(options),
      handler_(std::move(handler)),
      publish_(std::move(publish)),
      name_(std::move(name)),
      queue_(options.capacity),
      thread_([this] { run(); }) {}

IngestDrain::~IngestDrain() {
  stop();
}

void IngestDrain::stop() {
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t IngestDrain::batches() const {
  std::lock_guard lock(counters_mutex_);
  return batches_;
}

std::uint64_t IngestDrain::failed_batches() const {
  std::lock_guard lock(counters_mutex_);
  return failed_batches_;
}

bool IngestDrain::push(IngestMessage message, bool urgent) {
  if (!options_.shed_when_full) return queue_.push(std::move(message), urgent) != 0;
  if (queue_.offer(std::move(message), urgent) != 0) return true;
  if (queue_.closed()) return false;
  std::lock_guard lock(counters_mutex_);
  ++shed_;
  const auto now = std::chrono::steady_clock::now();
  if (now - shed_logged_at_ >= std::chrono::seconds(10)) {
    log_warn(fmt::format(
        "{}: queue full ({} messages): {} event(s) not taken since the last report, the hubs "
        "send them again",
        name_, queue_.size(), shed_ - shed_logged_));
    shed_logged_ = shed_;
    shed_logged_at_ = now;
  }
  return false;
}

std::uint64_t IngestDrain::shed() const {
  std::lock_guard lock(counters_mutex_);
  return shed_;
}

bool IngestDrain::push_and_wait(IngestMessage message) {
  const std::uint64_t number = queue_.offer(std::move(message), /*urgent=*/true);
  if (number == 0) return false;
  std::unique_lock lock(counters_mutex_);
  handled_changed_.wait(lock, [&] { return handled_ >= number; });
  return true;
}

void IngestDrain::run() {
  for (;;) {
    std::vector<IngestMessage> batch = queue_.take(options_.batch_max, options_.batch_wait);
    if (batch.empty()) return;  // closed and drained
    IngestBatchResult result;
    auto handled = [&](bool ok) {
      {
        std::lock_guard lock(counters_mutex_);
        ++(ok ? batches_ : failed_batches_);
        handled_ += batch.size();
      }
      handled_changed_.notify_all();
    };
    try {
      result = handler_(batch);
    } catch (const std::exception& e) {
      handled(false);
      // Not acknowledged: the hubs send these events again.
      log_error(fmt::format("{}: storing a batch of {} failed, not acknowledged: {}", name_,
                            batch.size(), e.what()));
      if (options_.failure_pause.count() > 0) std::this_thread::sleep_for(options_.failure_pause);
      continue;
    }
    handled(true);
    if (!result.acks.empty()) {
      try {
        publish_(std::move(result.acks));
      } catch (const std::exception& e) {
        log_warn(fmt::format("{}: publishing acks failed: {}", name_, e.what()));
      }
    }
  }
}

}  // namespace homesafe::township
