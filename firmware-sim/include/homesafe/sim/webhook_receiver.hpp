#pragma once
// A tiny HTTP receiver for demos: stands in for an SMS provider or a WeCom/DingTalk group robot
// and prints what a caregiver would receive.

#include <iosfwd>
#include <string>

namespace homesafe::sim {

struct WebhookReceiverOptions {
  std::string bind = "127.0.0.1";
  int port = 0;           // 0: pick a free port (printed at start)
  int fail_first = 0;     // answer 503 to the first N requests (to show retries)
  std::string port_file;  // if set, the chosen port is written there
  bool quiet = false;
};

// Serves until SIGINT/SIGTERM. Returns the exit code.
int run_webhook_receiver(const WebhookReceiverOptions& options, std::ostream& out);

// The human-readable text in a notification body: "text", or WeCom/DingTalk "text.content".
std::string text_of_body(const std::string& body);

}  // namespace homesafe::sim
