#include "homesafe/township/config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.hpp"

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

// The console section: the link secret is read from its file by load_config, relative to the
// config's folder, and must be long enough.
TEST(TownshipConfig, TheLinkSecretComesFromItsFile) {
  homesafe::test::TempDir dir{"township-config"};
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  write("link.secret", std::string(64, 'f') + "\n");
  const auto c = load_config(write(
      "a.yaml",
      "storage: {path: t.db}\nconsole: {public_url: \"https://hs.example.cn\", link_secret_file: "
      "link.secret}\n"));
  EXPECT_EQ(c.console.public_url, "https://hs.example.cn");
  EXPECT_EQ(c.console.link_secret, std::string(64, 'f'));
  EXPECT_TRUE(load_config(write("b.yaml", "storage: {path: t.db}\n")).console.link_secret.empty());

  write("short.secret", "abc\n");
  EXPECT_THROW(load_config(write(
                   "c.yaml", "storage: {path: t.db}\nconsole: {link_secret_file: short.secret}\n")),
               ConfigError);
  EXPECT_THROW(load_config(write(
                   "d.yaml", "storage: {path: t.db}\nconsole: {link_secret_file: none.secret}\n")),
               ConfigError);
  EXPECT_THROW(parse_config("storage: {path: t.db}\nconsole: {public_url: hs.example.cn}\n"),
               ConfigError);
  EXPECT_THROW(parse_config("storage: {path: t.db}\nconsole: {colour: red}\n"), ConfigError);
}

}  // namespace
}  // namespace homesafe::township
