#include "homesafe/township/messages.hpp"

#include <gtest/gtest.h>

#include "township_test_support.hpp"

namespace homesafe::township {
namespace {

using namespace test;

std::string reason(const Parsed<Event>& p) {
  const auto* r = std::get_if<std::string>(&p);
  return r ? *r : "";
}

TEST(UplinkTopic, ParsesTheThreeUplinkTopicsOnly) {
  auto t = parse_uplink_topic("homesafe-up/h001/event");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->hub, "h001");
  EXPECT_EQ(t->kind, UplinkKind::kEvent);
  EXPECT_EQ(parse_uplink_topic("homesafe-up/h-2/heartbeat")->kind, UplinkKind::kHeartbeat);
  EXPECT_EQ(parse_uplink_topic("homesafe-up/h_3/status")->kind, UplinkKind::kStatus);
  EXPECT_FALSE(parse_uplink_topic("homesafe-up/h001/other"));
  EXPECT_FALSE(parse_uplink_topic("homesafe-up/H001/event"));  // uppercase is not a hub id
  EXPECT_FALSE(parse_uplink_topic("homesafe-up/h001/event/x"));
  EXPECT_FALSE(parse_uplink_topic("homesafe-down/h001/ack"));
  EXPECT_FALSE(parse_uplink_topic("homesafe-up//event"));
}

TEST(ParseEvent, AcceptsEveryWellFormedType) {
  const json bodies[] = {
      alert_body("h001-000001", "open", kT0), alert_event_body("h001-000001", "acknowledged", kT0),
      notification_body("h001-000001"),       device_health_body(),
      daily_summary_body("2026-11-01"),       command_result_body("c-1")};
  const char* types[] = {"alert",         "alert_event",   "notification",
                         "device_health", "daily_summary", "command_result"};
  for (int i = 0; i < 6; ++i) {
    auto parsed = parse_event(event("h001", i + 1, types[i], bodies[i]).dump());
    ASSERT_TRUE(std::holds_alternative<Event>(parsed)) << types[i] << ": " << reason(parsed);
    const Event& e = std::get<Event>(parsed);
    EXPECT_EQ(e.type, types[i]);
    EXPECT_EQ(e.seq, i + 1);
    EXPECT_EQ(e.epoch, "3f9c2a7d");
    EXPECT_EQ(e.hub, "h001");
  }
}

TEST(ParseEvent, IgnoresUnknownKeys) {
  json e = event("h001", 1, "command_result", command_result_body("c-1"));
  e["extra"] = "x";
  e["body"]["more"] = 5;
  EXPECT_TRUE(std::holds_alternative<Event>(parse_event(e.dump())));
}

TEST(ParseEvent, RejectsMalformedEnvelopes) {
  const json good = event("h001", 7, "alert", alert_body("h001-000001", "open", kT0));
  auto with = [&](const std::function<void(json&)>& change) {
    json e = good;
    change(e);
    return reason(parse_event(e.dump()));
  };
  EXPECT_EQ(reason(parse_event("not json")), "not valid JSON");
  EXPECT_EQ(reason(parse_event("[1,2]")), "not a JSON object");
  EXPECT_EQ(reason(parse_event("")), "not valid JSON");
  EXPECT_EQ(with([](json& e) { e["v"] = 2; }), "unsupported version");
  EXPECT_EQ(with([](json& e) { e.erase("v"); }), "missing key 'v'");
  EXPECT_EQ(with([](json& e) { e.erase("event_id"); }), "missing key 'event_id'");
  EXPECT_EQ(with([](json& e) { e["seq"] = "7"; }), "key 'seq' must be an integer");
  EXPECT_EQ(with([](json& e) { e["seq"] = 8; }), "event_id does not end in seq");
  EXPECT_EQ(with([](json& e) { e["seq"] = 0; }), "seq must be at least 1");
  EXPECT_EQ(with([](json& e) { e["event_id"] = "h002/3f9c2a7d/7"; }),
            "event_id does not name the hub");
  EXPECT_EQ(with([](json& e) { e["event_id"] = "h001/3f9c2a7/7"; }),
            "event_id epoch is not 8 hex digits");
  EXPECT_EQ(with([](json& e) { e["event_id"] = "h001/3F9C2A7D/7"; }),
            "event_id epoch is not 8 hex digits");
  EXPECT_EQ(with([](json& e) { e["priority"] = 4; }), "priority out of range");
  EXPECT_EQ(with([](json& e) { e["ts"] = 1.5; }), "key 'ts' must be an integer");
  EXPECT_EQ(with([](json& e) { e["clock_synced"] = 1; }), "key 'clock_synced' must be a boolean");
  EXPECT_EQ(with([](json& e) { e["body"] = "x"; }), "key 'body' must be an object");
  EXPECT_EQ(with([](json& e) { e["type"] = "gossip"; }), "unknown event type");
  EXPECT_EQ(with([](json& e) { e["hub"] = "H 1"; }), "bad hub id");
  EXPECT_EQ(with([](json& e) { e["household"] = ""; }), "bad household id");
}

TEST(ParseEvent, RejectsMalformedBodiesOfEveryType) {
  auto body_reason = [](const std::string& type, json body) {
    return reason(parse_event(event("h001", 1, type, std::move(body)).dump()));
  };
  json a = alert_body("h001-000001", "open", kT0);
  a["state"] = "closed";
  EXPECT_EQ(body_reason("alert", a), "key 'state' has unknown value");
  a = alert_body("h001-000001", "open", kT0);
  a.erase("updated_at");
  EXPECT_EQ(body_reason("alert", a), "missing key 'updated_at'");
  a = alert_body("h001-000001", "open", kT0);
  a["acknowledged_at"] = "yesterday";
  EXPECT_EQ(body_reason("alert", a), "key 'acknowledged_at' must be an integer or null");
  a = alert_body("h001-000001", "open", kT0);
  a["alert_id"] = "";
  EXPECT_EQ(body_reason("alert", a), "key 'alert_id' is empty");

  json ae = alert_event_body("h001-000001", "acknowledged", kT0);
  ae["at"] = nullptr;
  EXPECT_EQ(body_reason("alert_event", ae), "key 'at' must be an integer");

  json n = notification_body("h001-000001");
  n["state"] = "lost";
  EXPECT_EQ(body_reason("notification", n), "key 'state' has unknown value");
  n = notification_body("h001-000001");
  n.erase("contact_id");
  EXPECT_EQ(body_reason("notification", n), "missing key 'contact_id'");

  json d = device_health_body();
  d["event"] = "exploded";
  EXPECT_EQ(body_reason("device_health", d), "key 'event' has unknown value");

  json s = daily_summary_body("2026-11-01");
  s["date"] = "2026-02-30";
  EXPECT_EQ(body_reason("daily_summary", s), "key 'date' is not a date");
  s = daily_summary_body("2026-11-01");
  s["hazards"] = json::array({1});
  EXPECT_EQ(body_reason("daily_summary", s), "hazards[] must be strings");
  s = daily_summary_body("2026-11-01");
  s["devices"] = json::array({"x"});
  EXPECT_EQ(body_reason("daily_summary", s), "devices[] must be objects");
  s = daily_summary_body("2026-11-01");
  s["alerts"]["smoke"] = "one";
  EXPECT_EQ(body_reason("daily_summary", s), "alert counts must be integers");

  json c = command_result_body("c-1");
  c["ok"] = "yes";
  EXPECT_EQ(body_reason("command_result", c), "key 'ok' must be a boolean");
}

TEST(ParseHeartbeat, AcceptsWellFormedAndRejectsMalformed) {
  auto ok = parse_heartbeat(heartbeat("h001").dump());
  ASSERT_TRUE(std::holds_alternative<Heartbeat>(ok));
  EXPECT_EQ(std::get<Heartbeat>(ok).hub, "h001");

  json hb = heartbeat("h001");
  hb["outbox"].erase("dropped");
  auto bad = parse_heartbeat(hb.dump());
  ASSERT_TRUE(std::holds_alternative<std::string>(bad));
  EXPECT_EQ(std::get<std::string>(bad), "missing key 'dropped'");

  hb = heartbeat("h001");
  hb["uptime_s"] = "long";
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_heartbeat(hb.dump())));
  hb = heartbeat("h001");
  hb["outbox"]["oldest_ts"] = nullptr;  // an empty outbox has no oldest event
  EXPECT_TRUE(std::holds_alternative<Heartbeat>(parse_heartbeat(hb.dump())));
}

TEST(ParseStatus, OnlineOfflineOnly) {
  EXPECT_EQ(parse_status("online"), "online");
  EXPECT_EQ(parse_status("offline\n"), "offline");
  EXPECT_EQ(parse_status("\"online\""), "online");
  EXPECT_FALSE(parse_status("on"));
  EXPECT_FALSE(parse_status(""));
}

}  // namespace
}  // namespace homesafe::township
