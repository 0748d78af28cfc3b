#pragma once
// The console's live feed (docs/console.md "Live updates"): open WebSocket connections, each with
// its user, and the JSON frames sent to them when an alert or a household's health changes. Only
// what a connection's user may see reaches it. Thread-safe; knows nothing of sockets: a
// connection is a function that queues a frame.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "homesafe/township/auth.hpp"
#include "homesafe/township/ingest.hpp"
#include "homesafe/township/store.hpp"

namespace homesafe::township {

using Frame = std::shared_ptr<const std::string>;

class LiveFeed {
 public:
  using Send = std::function<void(Frame)>;

  // Registers a connection; returns its id (never 0).
  std::uint64_t subscribe(User user, Send send);
  void unsubscribe(std::uint64_t id);
  std::size_t connections() const;

  // Sends a frame for every changed alert and household to the connections whose user may see
  // it. Reads the store: the caller holds whatever guards it.
  void publish(Store& store, const Changes& changes);
  // {"type":"ping","now":...} to every connection.
  void ping(std::int64_t now_ms);

  static std::string hello_frame(const User& user, std::int64_t now_ms);

 private:
  struct Connection {
    User user;
    Send send;
  };
  mutable std::mutex mutex_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Connection> connections_;
};

}  // namespace homesafe::township
