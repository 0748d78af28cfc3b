#pragma once
// The HTTP JSON API as a plain function from request to response: the Beast server
// (http_server.hpp) only moves bytes, so tests can drive every rule without a socket.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "homesafe/township/auth.hpp"
#include "homesafe/township/clock.hpp"
#include "homesafe/township/ingest.hpp"
#include "homesafe/township/store.hpp"

namespace homesafe::township {

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as received
  std::string body;
  std::string cookie;  // the Cookie header
  std::string remote;  // peer address, for the audit log
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::string set_cookie;         // empty: none
  std::vector<Outgoing> publish;  // downlink commands to publish (QoS 1) after the response
  std::vector<std::pair<std::string, std::string>> headers;  // further response headers
  Changes changes;                                           // for the live feed
};

struct ApiOptions {
  std::int64_t session_ttl_ms = 8 * 3600 * 1000;
  bool secure_cookie = false;
  int utc_offset_minutes = 480;
  std::string link_secret;  // console.link_secret: caregivers' one-tap links; empty: none
};

inline constexpr const char* kSessionCookie = "hs_session";

class Api {
 public:
  Api(Store& store, const Clock& clock, ApiOptions options = {});
  ApiResponse handle(const ApiRequest& request);
  // The user of a request's session cookie (for the live feed's upgrade), or nullopt.
  std::optional<User> session_user(const ApiRequest& request);
  // The ingest whose counters GET /api/status reports (optional).
  void set_ingest(const Ingest* ingest) { ingest_ = ingest; }

  // Failed logins per username within the last kLoginWindowMs; at kMaxFailedLogins further
  // attempts get 429 until the oldest failure leaves the window (also for unknown usernames).
  static constexpr int kMaxFailedLogins = 5;
  static constexpr std::int64_t kLoginWindowMs = 15 * 60'000;
  using LoginFailures = std::map<std::string, std::deque<std::int64_t>>;

 private:
  Store& store_;
  const Clock& clock_;
  ApiOptions options_;
  LoginFailures failures_;
  const Ingest* ingest_ = nullptr;
};

// Percent-decoding of a path segment or query value; false on a bad escape.
bool url_decode(const std::string& in, std::string& out, bool plus_is_space);
std::map<std::string, std::string> parse_query(const std::string& query, bool& ok);

}  // namespace homesafe::township
