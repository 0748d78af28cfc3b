#pragma once
// A WebSocket client for tests (Boost.Beast) to 127.0.0.1: connects with a Cookie header and
// collects every text frame the server sends on a background thread.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace homesafe::test {

class WsClient {
 public:
  // Opens ws://127.0.0.1:PORT/TARGET. When the server declines the upgrade, connected() is false
  // and status() is the HTTP status it answered with; a network error throws.
  WsClient(int port, const std::string& target, const std::string& cookie);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  bool connected() const;
  int status() const;
  std::vector<std::string> frames() const;
  // Waits until a received frame satisfies `match`; returns it, or "" after `timeout`.
  std::string wait_for(const std::function<bool(const std::string&)>& match,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  // Whether the server has closed the connection (or it broke).
  bool closed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace homesafe::test
