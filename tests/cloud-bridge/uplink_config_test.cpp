// The uplink: section of the hub config: defaults, and errors with line and column.
#include <gtest/gtest.h>

#include "homesafe/gateway/config.hpp"

namespace homesafe::gateway {
namespace {

const std::string kBase = R"(household: {id: h001, name: "测试户", timezone: Asia/Shanghai}
storage: {path: ":memory:"}
devices:
  - {id: kitchen-smoke, kind: smoke, location: 厨房}
contacts:
  - {id: li, name: 李阿姨, role: caregiver, channels: [{type: mqtt}]}
)";

TEST(UplinkConfig, AbsentMeansNoUplink) {
  auto result = parse_config(kBase, "h.yaml");
  ASSERT_TRUE(result.errors.empty());
  EXPECT_FALSE(result.config->uplink);
}

TEST(UplinkConfig, Defaults) {
  auto result = parse_config(kBase + "uplink: {url: \"ssl://township.example:8883\"}\n", "h.yaml");
  ASSERT_TRUE(result.errors.empty()) << result.errors.front().to_string();
  const auto& uplink = *result.config->uplink;
  EXPECT_EQ(uplink.url, "ssl://township.example:8883");
  EXPECT_EQ(uplink.hub_id, "h001");
  EXPECT_EQ(uplink.username, "h001");
  EXPECT_EQ(uplink.client_id, "homesafe-uplink-h001");
  EXPECT_EQ(uplink.heartbeat, std::chrono::minutes(5));
  EXPECT_EQ(uplink.ack_timeout, std::chrono::seconds(30));
  EXPECT_EQ(uplink.drain_rate, 20);
  EXPECT_EQ(uplink.inflight, 10);
  EXPECT_GT(uplink.max_outbox_rows, 0);
  EXPECT_GT(uplink.max_outbox_bytes, 0);
  EXPECT_FALSE(uplink.tls);
}

TEST(UplinkConfig, AllKeys) {
  auto result = parse_config(kBase + R"(uplink:
  url: "mqtts://127.0.0.1:8883"
  client_id: hub-h001
  username: hub7
  password_file: /etc/homesafe/uplink.secret
  hub_id: hub7
  keepalive: 30s
  heartbeat: 1m
  ack_timeout: 10s
  max_outbox_rows: 5000
  max_outbox_bytes: 1000000
  drain_rate: 50
  inflight: 4
  tls: {ca_file: /etc/homesafe/township-ca.pem, cert_file: /etc/homesafe/h.crt, key_file: /etc/homesafe/h.key}
)",
                             "h.yaml");
  ASSERT_TRUE(result.errors.empty()) << result.errors.front().to_string();
  const auto& uplink = *result.config->uplink;
  EXPECT_EQ(uplink.hub_id, "hub7");
  EXPECT_EQ(uplink.username, "hub7");
  EXPECT_EQ(uplink.client_id, "hub-h001");
  EXPECT_EQ(uplink.password_file, "/etc/homesafe/uplink.secret");
  EXPECT_EQ(uplink.heartbeat, std::chrono::minutes(1));
  EXPECT_EQ(uplink.ack_timeout, std::chrono::seconds(10));
  EXPECT_EQ(uplink.max_outbox_rows, 5000);
  EXPECT_EQ(uplink.max_outbox_bytes, 1'000'000);
  EXPECT_EQ(uplink.drain_rate, 50);
  EXPECT_EQ(uplink.inflight, 4);
  ASSERT_TRUE(uplink.tls);
  EXPECT_EQ(uplink.tls->ca_file, "/etc/homesafe/township-ca.pem");
  // The hub's own broker is unaffected.
  EXPECT_FALSE(result.config->broker.tls);
}

TEST(UplinkConfig, ErrorsHaveLineAndColumn) {
  auto result = parse_config(kBase + R"(uplink:
  url: "http://township"
  hub_id: "H 1"
  drain_rate: 0
  heartbeat: 1s
  inflght: 3
)",
                             "h.yaml");
  ASSERT_EQ(result.errors.size(), 5u);
  EXPECT_EQ(result.errors[0].line, 8);
  EXPECT_EQ(result.errors[0].column, 8);
  EXPECT_NE(result.errors[0].message.find("uplink broker url"), std::string::npos)
      << result.errors[0].message;
  EXPECT_EQ(result.errors[1].line, 9);
  EXPECT_NE(result.errors[1].message.find("hub_id"), std::string::npos);
  EXPECT_EQ(result.errors[2].line, 10);
  EXPECT_NE(result.errors[2].message.find("drain_rate must be between 1 and 10000"),
            std::string::npos);
  EXPECT_EQ(result.errors[3].line, 11);
  EXPECT_NE(result.errors[3].message.find("heartbeat"), std::string::npos);
  EXPECT_EQ(result.errors[4].line, 12);
  EXPECT_EQ(result.errors[4].column, 3);
  EXPECT_NE(result.errors[4].message.find("did you mean"), std::string::npos)
      << result.errors[4].message;
}

TEST(UplinkConfig, UrlIsRequired) {
  auto result = parse_config(kBase + "uplink: {hub_id: h001}\n", "h.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].line, 7);
  EXPECT_NE(result.errors[0].message.find("uplink has no url"), std::string::npos);
}

}  // namespace
}  // namespace homesafe::gateway
