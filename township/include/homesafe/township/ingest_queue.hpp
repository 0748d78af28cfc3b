#pragma once
// Batched ingest between the MQTT callback and the database (docs/deployment.md, "Ingest
// workers"): the callback queues each message and returns; one drain thread takes up to
// `batch_max` messages, stores them in one transaction (Ingest::handle_batch) and only after the
// commit publishes the hubs' acks. The queue is bounded: a full queue blocks the callback, which
// stops the MQTT client reading and so pushes back on the broker.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "homesafe/township/ingest.hpp"

namespace homesafe::township {

struct IngestQueueOptions {
  std::size_t batch_max = 200;
  // After the first message of a batch, wait this long for more (0: take what is there).
  std::chrono::milliseconds batch_wait{5};
  std::size_t capacity = 2000;
  // true (ingest workers, clean sessions): an ordinary message finding the queue full is shed.
  // false (the township's one process, persistent session): push() waits for room, and the
  // broker holds the rest (see IngestDrain::push).
  bool shed_when_full = true;
  // After a batch failed (database unreachable), pause before the next one.
  std::chrono::milliseconds failure_pause{500};
};

// A bounded, closable FIFO of messages. Thread-safe.
class IngestQueue {
 public:
  explicit IngestQueue(std::size_t capacity);

  // Blocks while the queue is full. Returns the message's number (1, 2, ... in queue order), or
  // 0 (the message is dropped) once the queue is closed. An `urgent` message (an alarm) ends the
  // wait of take() for more messages: it is stored now, with whatever is queued before it.
  std::uint64_t push(IngestMessage message, bool urgent = false);
  // Never blocks: as push(), but returns 0 also when the queue is full, unless `urgent` (an
  // alarm is always taken; only alarms can make the queue exceed its capacity).
  std::uint64_t offer(IngestMessage message, bool urgent = false);
  bool closed() const;
  // Waits for a first message, then up to `wait` for more (not while an urgent one is queued),
  // and returns at most `max`. Returns what is there at once when closed; empty only when closed
  // and drained.
  std::vector<IngestMessage> take(std::size_t max, std::chrono::milliseconds wait);
  // Refuses further pushes (blocked pushers return false); take() drains what is left.
  void close();
  std::size_t size() const;

 private:
  // With `lock` held on mutex_: queues the message, unlocks, wakes the drain.
  std::uint64_t append(std::unique_lock<std::mutex>& lock, IngestMessage message, bool urgent);

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<IngestMessage> items_;
  std::uint64_t pushed_ = 0;
  std::uint64_t taken_ = 0;
  std::uint64_t last_urgent_ = 0;  // number of the last urgent message; queued while > taken_
  bool closed_ = false;
};

// The drain thread: handler(batch) stores a batch and returns its acks; publish(acks) runs after
// the handler returned (the commit). A batch whose handler throws is logged and not acked: the
// hubs send those events again.
class IngestDrain {
 public:
  using Handler = std::function<IngestBatchResult(const std::vector<IngestMessage>&)>;
  using Publish = std::function<void(std::vector<Outgoing>)>;

  // `name` labels log lines ("ingest", "alarm watch").
  IngestDrain(IngestQueueOptions options, Handler handler, Publish publish, std::string name);
  ~IngestDrain();
  IngestDrain(const IngestDrain&) = delete;
  IngestDrain& operator=(const IngestDrain&) = delete;

  // From the MQTT callback. With `shed_when_full` it never blocks: an `urgent` message (an alarm)
  // is always taken and stored in the next batch without waiting for more. Another one finding the
  // queue full is shed: not stored and not acked (Paho still PUBACKs it), so the hub sends it again
  // after its ack timeout. Blocking here instead would hold Paho C's client mutex, which also stops
  // every send of the process, our acks included: under a resend storm (after a broker restart) the
  // hubs then get no acks, resend more, and the queue never empties (seen in the county proof).
  // Without it, push() waits for room as before (the township's one process, whose persistent
  // session keeps what it has not read with the broker). False when the message was not taken
  // (shed, or stopping).
  bool push(IngestMessage message, bool urgent = false);
  // Messages shed so far.
  std::uint64_t shed() const;
  // As push() of an urgent message, then waits until the batch holding the message was handled
  // (committed, or failed). For alarms: the MQTT callback returns, and the broker gets its PUBACK,
  // only once the alarm is stored (DESIGN.md, "Acknowledge after commit").
  bool push_and_wait(IngestMessage message);
  // Stops taking messages, stores and acks what is queued, joins the thread. Idempotent.
  void stop();

  std::uint64_t batches() const;
  std::uint64_t failed_batches() const;
  std::size_t queued() const { return queue_.size(); }

 private:
  void run();

  IngestQueueOptions options_;
  Handler handler_;
  Publish publish_;
  std::string name_;
  IngestQueue queue_;
  mutable std::mutex counters_mutex_;
  std::uint64_t batches_ = 0;
  std::uint64_t failed_batches_ = 0;
  std::uint64_t shed_ = 0;
  std::uint64_t shed_logged_ = 0;
  std::chrono::steady_clock::time_point shed_logged_at_{};
  std::uint64_t handled_ = 0;  // messages handled so far (queue order)
  std::condition_variable handled_changed_;
  std::thread thread_;  // last: starts after everything it uses
};

}  // namespace homesafe::township
