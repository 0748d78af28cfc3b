#include "homesafe/township/config.hpp"

#include <gtest/gtest.h>

namespace homesafe::township {
namespace {

TEST(TownshipConfig, DefaultsAndOverrides) {
  const auto c = parse_config("storage: {path: /var/lib/t.db}\n");
  EXPECT_EQ(c.storage_path, "/var/lib/t.db");
  EXPECT_EQ(c.broker.url, "tcp://127.0.0.1:1883");
  EXPECT_EQ(c.http.port, 8080);
  EXPECT_EQ(c.silence_allowance_ms(), 20 * 60'000);  // 3 × 5 min + 5 min
  const auto d = parse_config(
      "storage: {path: t.db}\nsilence: {heartbeat_s: 60, missed: 2, grace_s: 30}\n"
      "http: {port: 9000, secure_cookie: true}\nutc_offset_minutes: 420\n");
  EXPECT_EQ(d.silence_allowance_ms(), 150'000);
  EXPECT_EQ(d.http.port, 9000);
  EXPECT_TRUE(d.http.secure_cookie);
  EXPECT_EQ(d.utc_offset_minutes, 420);
}

TEST(TownshipConfig, ErrorsCarryLineAndColumn) {
  auto message = [](const std::string& yaml) {
    try {
      parse_config(yaml, "t.yaml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("storage: {path: t.db}\nhttp: {port: 70000}\n"),
            "t.yaml:2:14: must be between 0 and 65535");
  EXPECT_EQ(message("storage: {path: t.db}\nhtp: {}\n"), "t.yaml:2:1: unknown key 'htp'");
  EXPECT_EQ(message("broker: {}\n"), "t.yaml: missing 'storage'");
  EXPECT_NE(message("storage: [\n"), "no error");
}

}  // namespace
}  // namespace homesafe::township
