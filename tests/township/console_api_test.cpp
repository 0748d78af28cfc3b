// The API behind the duty-desk console (docs/console.md): the board's alert objects, handling
// notes, the household page, hub health, the visit report's exports, the caregiver's one-tap
// link and the live feed's scoping.
#include <gtest/gtest.h>

#include "api_fixture.hpp"
#include "homesafe/gateway/notify/link.hpp"
#include "homesafe/township/assets.hpp"
#include "homesafe/township/live.hpp"
#include "homesafe/township/views.hpp"
#include "homesafe/township/xlsx.hpp"

namespace homesafe::township {
namespace {

using namespace test;

constexpr const char* kLinkSecret = "0123456789abcdef0123456789abcdef-test-secret";

class ConsoleApiTest : public ApiTest {
 protected:
  ConsoleApiTest() : ApiTest(ApiOptions{8 * 3600 * 1000, false, 480, kLinkSecret}) {}

  void feed_event(const std::string& hub, std::int64_t seq, const std::string& type,
                  const json& body) {
    auto r = ingest_.handle("homesafe-up/" + hub + "/event", event(hub, seq, type, body).dump());
    ASSERT_EQ(r.outcome, IngestOutcome::kStored) << r.reason;
  }

  std::string link_path(const std::string& alert_id, const std::string& contact) {
    const auto key = gateway::notify::link_key_for_hub(kLinkSecret, "h001");
    return "/api/link/" + alert_id + "/" + contact + "/" +
           gateway::notify::link_mac(key, alert_id, contact);
  }
};

TEST_F(ConsoleApiTest, TheBoardListsEmergenciesFirstWithLabelsEscalationAndHandling) {
  json later = alert_body("h001-000002", "open", kT0 + 60'000);
  later["kind"] = "inactivity";
  later["severity"] = "warning";
  later["opened_at"] = kT0 + 60'000;
  feed_event("h001", 2, "alert", later);
  feed_event("h001", 3, "notification", notification_body("h001-000001"));
  feed_event("h001", 4, "alert_event", alert_event_body("h001-000001", "opened", kT0));

  const json list = get_json("/api/alerts?state=active", login("op_east", "east password"));
  ASSERT_EQ(list.size(), 2u);
  // The older emergency comes before the newer warning.
  EXPECT_EQ(list[0]["alert_id"], "h001-000001");
  EXPECT_EQ(list[1]["alert_id"], "h001-000002");
  EXPECT_EQ(list[0]["display_name"], "王奶奶");
  EXPECT_EQ(list[0]["village"], "一村");
  EXPECT_EQ(list[0]["state_label"], "待处理");
  EXPECT_NE(list[0]["kind_label"], "smoke");
  EXPECT_FALSE(list[0]["kind_label"].get<std::string>().empty());
  EXPECT_NE(list[0]["severity_label"], "emergency");
  ASSERT_EQ(list[0]["escalation"].size(), 1u);
  EXPECT_EQ(list[0]["escalation"][0]["name"], "李阿姨");
  EXPECT_EQ(list[0]["escalation"][0]["channel"], "sms");
  EXPECT_EQ(list[0]["escalation"][0]["state"], "sent");
  ASSERT_EQ(list[0]["handling"].size(), 1u);
  EXPECT_EQ(list[0]["handling"][0]["event"], "opened");
  EXPECT_TRUE(list[1]["escalation"].empty());
}

TEST_F(ConsoleApiTest, HandlingNotesAreRecordedScopedAndReachTheLiveFeed) {
  const auto east = login("op_east", "east password");
  auto r = call("POST", "/api/alerts/h001-000001/note", east, R"({"note":"已联系村医上门"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(r.publish.empty());  // a note stays on the township
  EXPECT_EQ(r.changes.alerts, std::set<std::string>{"h001-000001"});
  const json alert = get_json("/api/alerts/h001-000001", east);
  ASSERT_FALSE(alert["handling"].empty());
  EXPECT_EQ(alert["handling"].back()["event"], "note");
  EXPECT_EQ(alert["handling"].back()["note"], "已联系村医上门");
  EXPECT_EQ(alert["handling"].back()["by"], "township:op_east");

  EXPECT_EQ(call("POST", "/api/alerts/h001-000001/note", east, R"({"note":"  "})").status, 400);
  EXPECT_EQ(call("POST", "/api/alerts/h001-000001/note", east, R"({"note":5})").status, 400);
  EXPECT_EQ(call("POST", "/api/alerts/h001-000001/note", login("op_west", "west password"),
                 R"({"note":"x"})")
                .status,
            404);
  EXPECT_EQ(call("POST", "/api/alerts/h001-000001/note", login("county", "county password"),
                 R"({"note":"x"})")
                .status,
            403);
  // Acknowledging also reports the change.
  EXPECT_EQ(call("POST", "/api/alerts/h001-000001/ack", east, "{}").changes.alerts.size(), 1u);
}

TEST_F(ConsoleApiTest, IngestReportsWhatChangedForTheLiveFeed) {
  ingest_.take_changes();
  feed_event("h001", 2, "alert_event", alert_event_body("h001-000001", "acknowledged", kT0));
  feed_event("h001", 3, "device_health", device_health_body());
  const Changes changes = ingest_.take_changes();
  EXPECT_EQ(changes.alerts, std::set<std::string>{"h001-000001"});
  EXPECT_EQ(changes.health, std::set<std::string>{"h001"});
  EXPECT_TRUE(ingest_.take_changes().empty());
  // A duplicate changes nothing.
  ingest_.handle("homesafe-up/h001/event",
                 event("h001", 3, "device_health", device_health_body()).dump());
  EXPECT_TRUE(ingest_.take_changes().empty());
}

TEST_F(ConsoleApiTest, TheHouseholdPageHasDevicesWithTheirProblemsAndTheAlertHistory) {
  feed_event("h001", 2, "daily_summary", daily_summary_body("2026-11-01"));
  json back_online{
      {"device", "door"}, {"event", "online"}, {"at", kT0 + 5000}, {"detail", nullptr}};
  const json page = get_json("/api/households/h001", login("op_east", "east password"));
  ASSERT_EQ(page["devices"].size(), 2u);
  std::map<std::string, json> devices;
  for (const auto& d : page["devices"]) devices[d["device"]] = d;
  EXPECT_EQ(devices["door"]["problem"], "offline");
  EXPECT_EQ(devices["door"]["problem_since"], kT0);
  EXPECT_EQ(devices["kitchen-smoke"]["problem"], "low_battery");
  EXPECT_EQ(devices["kitchen-smoke"]["battery"], 12);
  ASSERT_EQ(page["alerts"].size(), 1u);
  EXPECT_EQ(page["alerts"][0]["alert_id"], "h001-000001");
  EXPECT_EQ(page["contacts"].size(), 2u);

  // The door comes back after the summary: no longer a problem.
  feed_event("h001", 3, "device_health", back_online);
  const json after = get_json("/api/households/h001", login("op_east", "east password"));
  for (const auto& d : after["devices"]) {
    if (d["device"] == "door") {
      EXPECT_TRUE(d["problem"].is_null());
      EXPECT_EQ(d["online"], true);
    }
  }
}

TEST(Percentile, InterpolatesBetweenRanks) {
  EXPECT_DOUBLE_EQ(percentile({5, 1, 3, 2, 4}, 10), 1.4);
  EXPECT_DOUBLE_EQ(percentile({5, 1, 3, 2, 4}, 90), 4.6);
  EXPECT_DOUBLE_EQ(percentile({7}, 90), 7);
  EXPECT_EQ(add_days("2026-03-01", -1), "2026-02-28");
  EXPECT_EQ(add_days("2026-12-31", 1), "2027-01-01");
}

TEST_F(ConsoleApiTest, DailyFiguresComeWithTheLearnedNormalRange) {
  // Today is 2026-11-11 (kT0 + 10 days): the chart ends with 2026-11-10. Summaries from 09-20,
  // water 100..104 l in a weekly-ish pattern, none on 11-05, and a low 10 l on 11-10.
  std::int64_t seq = 2;
  for (std::string date = "2026-09-20"; date <= "2026-11-10"; date = add_days(date, 1)) {
    if (date == "2026-11-05") continue;
    json body = daily_summary_body(date);
    body["water_l"] = date == "2026-11-10" ? 10.0 : 100.0 + static_cast<double>(seq % 5);
    feed_event("h001", seq++, "daily_summary", body);
  }
  const json series =
      get_json("/api/households/h001/daily?days=30", login("op_east", "east password"));
  const json& days = series["days"];
  ASSERT_EQ(days.size(), 30u);
  EXPECT_EQ(days[0]["date"], "2026-10-12");
  EXPECT_EQ(days[29]["date"], "2026-11-10");
  EXPECT_EQ(days[29]["water_l"], 10.0);
  const json& band = days[29]["normal"]["water_l"];
  ASSERT_TRUE(band.is_array());
  EXPECT_GE(band[0].get<double>(), 100.0);
  EXPECT_LE(band[1].get<double>(), 104.0);
  EXPECT_LT(band[0].get<double>(), band[1].get<double>());
  EXPECT_LT(days[29]["water_l"].get<double>(), band[0].get<double>());  // the drop is outside
  // The missing day is there, empty.
  const json& missing = days[24];
  EXPECT_EQ(missing["date"], "2026-11-05");
  EXPECT_TRUE(missing["water_l"].is_null());
  EXPECT_EQ(days[0]["activity_events"], 37);

  EXPECT_EQ(get_json("/api/households/h001/daily?days=0", login("op_east", "east password"), 400)
                .value("error", ""),
            "bad_request");
  EXPECT_EQ(call("GET", "/api/households/h003/daily", login("op_east", "east password")).status,
            404);
}

TEST_F(ConsoleApiTest, TheNormalRangeNeedsAWeekOfHistory) {
  std::int64_t seq = 2;
  for (std::string date = "2026-11-04"; date <= "2026-11-10"; date = add_days(date, 1)) {
    feed_event("h001", seq++, "daily_summary", daily_summary_body(date));
  }
  const json days =
      get_json("/api/households/h001/daily?days=7", login("op_east", "east password"))["days"];
  ASSERT_EQ(days.size(), 7u);
  for (const auto& day : days) EXPECT_TRUE(day["normal"].is_null()) << day.dump();
}

TEST_F(ConsoleApiTest, HubHealthListsSilentHubsAndDeviceProblemsInScope) {
  feed_event("h001", 2, "daily_summary", daily_summary_body("2026-11-01"));
  clock_.advance_ms(3'600'000);
  ASSERT_EQ(ingest_.handle("homesafe-up/h001/heartbeat", heartbeat("h001").dump()).outcome,
            IngestOutcome::kAccepted);
  const auto silent = ingest_.check_silence();
  EXPECT_EQ(std::set<std::string>(silent.begin(), silent.end()),
            (std::set<std::string>{"h002", "h003", "h004"}));

  const json health = get_json("/api/health", login("op_east", "east password"));
  ASSERT_EQ(health["hubs"].size(), 1u);
  EXPECT_EQ(health["hubs"][0]["hub_id"], "h002");
  EXPECT_EQ(health["hubs"][0]["status"], "silent");
  EXPECT_EQ(health["hubs"][0]["display_name"], "张爷爷");
  EXPECT_TRUE(health["hubs"][0]["since"].is_number());
  ASSERT_EQ(health["devices"].size(), 2u);
  std::set<std::string> problems;
  for (const auto& d : health["devices"]) {
    EXPECT_EQ(d["household"], "h001");
    problems.insert(d["device"].get<std::string>() + ":" + d["problem"].get<std::string>());
  }
  EXPECT_EQ(problems, (std::set<std::string>{"door:offline", "kitchen-smoke:low_battery"}));
  EXPECT_EQ(health["counts"]["hubs"], 2);
  EXPECT_EQ(health["counts"]["hubs_ok"], 1);

  const json west = get_json("/api/health", login("op_west", "west password"));
  ASSERT_EQ(west["hubs"].size(), 1u);
  EXPECT_EQ(west["hubs"][0]["hub_id"], "h003");
  EXPECT_TRUE(west["devices"].empty());
}

// The entries of a stored ZIP archive, checked against their CRC-32.
std::map<std::string, std::string> unzip_stored(const std::string& zip) {
  auto u16 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(zip.at(at))) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(zip.at(at + 1))) << 8;
  };
  auto u32 = [&](std::size_t at) { return u16(at) | u16(at + 2) << 16; };
  std::map<std::string, std::string> out;
  std::size_t at = 0;
  while (at + 30 <= zip.size() && u32(at) == 0x04034b50) {
    EXPECT_EQ(u16(at + 8), 0u) << "stored";
    const std::uint32_t crc = u32(at + 14);
    const std::uint32_t size = u32(at + 18);
    const std::uint32_t name_length = u16(at + 26);
    const std::uint32_t extra = u16(at + 28);
    const std::string name = zip.substr(at + 30, name_length);
    const std::string content = zip.substr(at + 30 + name_length + extra, size);
    EXPECT_EQ(crc32(content), crc) << name;
    out[name] = content;
    at += 30 + name_length + extra + size;
  }
  EXPECT_EQ(u32(at), 0x02014b50u) << "central directory follows the entries";
  EXPECT_EQ(u32(zip.size() - 22), 0x06054b50u) << "end of central directory";
  EXPECT_EQ(u16(zip.size() - 22 + 10), out.size());
  return out;
}

TEST(Xlsx, Crc32AndTheWorkbookParts) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32(""), 0u);
  const std::string book = xlsx_workbook(
      {{"探访率", {{{"村", false}, {"居民数", false}}, {{"一村<&>", false}, {"12", true}}}},
       {"a/b:c", {}}});
  const auto parts = unzip_stored(book);
  for (const char* name :
       {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
        "xl/styles.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"}) {
    EXPECT_TRUE(parts.contains(name)) << name;
  }
  const std::string& sheet = parts.at("xl/worksheets/sheet1.xml");
  EXPECT_NE(sheet.find("<t xml:space=\"preserve\">一村&lt;&amp;&gt;</t>"), std::string::npos);
  EXPECT_NE(sheet.find("<c r=\"B2\"><v>12</v></c>"), std::string::npos);
  EXPECT_NE(parts.at("xl/workbook.xml").find("name=\"a_b_c\""), std::string::npos);
}

TEST_F(ConsoleApiTest, TheVisitReportListsResidentsWithoutAVisitHighRiskFirstAndExports) {
  const auto east = login("op_east", "east password");
  json report = get_json("/api/reports/visit-rate?month=2026-11", east);
  ASSERT_EQ(report["not_visited"].size(), 2u);
  EXPECT_EQ(report["not_visited"][0]["household"], "h001");  // 高风险 before 一般
  EXPECT_EQ(report["not_visited"][0]["risk_class"], "高风险");
  EXPECT_EQ(report["not_visited"][1]["household"], "h002");
  EXPECT_TRUE(report["not_visited"][0]["last_visit_date"].is_null());

  ASSERT_EQ(call("POST", "/api/households/h001/visits", east,
                 R"({"type":"上门入户","date":"2026-11-09","aspects":{"健康":"良好"}})")
                .status,
            201);
  report = get_json("/api/reports/visit-rate?month=2026-11", east);
  ASSERT_EQ(report["not_visited"].size(), 1u);
  EXPECT_EQ(report["not_visited"][0]["household"], "h002");

  auto xlsx = call("GET", "/api/reports/visit-rate?month=2026-11&format=xlsx", east);
  ASSERT_EQ(xlsx.status, 200);
  EXPECT_EQ(xlsx.content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  ASSERT_FALSE(xlsx.headers.empty());
  EXPECT_EQ(xlsx.headers[0].first, "Content-Disposition");
  EXPECT_NE(xlsx.headers[0].second.find("visit-rate-2026-11.xlsx"), std::string::npos);
  const auto parts = unzip_stored(xlsx.body);
  const std::string& rates = parts.at("xl/worksheets/sheet1.xml");
  EXPECT_NE(rates.find("一村"), std::string::npos);
  EXPECT_NE(rates.find("50.0%"), std::string::npos);  // 1 of the township's 2 residents
  EXPECT_NE(parts.at("xl/worksheets/sheet2.xml").find("张爷爷"), std::string::npos);
  EXPECT_EQ(parts.at("xl/worksheets/sheet2.xml").find("王奶奶"), std::string::npos);
  EXPECT_EQ(call("GET", "/api/reports/visit-rate?month=2026-11&format=pdf", east).status, 400);
}

TEST_F(ConsoleApiTest, TheCaregiverLinkShowsTheAlertWithoutASession) {
  clock_.set_ms(kT0 + 3'600'000);
  const auto r = call("GET", link_path("h001-000001", "li"), "");
  ASSERT_EQ(r.status, 200) << r.body;
  const json page = json::parse(r.body);
  EXPECT_EQ(page["alert"]["alert_id"], "h001-000001");
  EXPECT_EQ(page["alert"]["state"], "open");
  EXPECT_EQ(page["alert"]["location"], "厨房");
  EXPECT_FALSE(page["alert"].contains("address"));
  EXPECT_EQ(page["contact"]["contact_id"], "li");
  EXPECT_TRUE(page["done"].empty());
  // A MAC for someone else, a changed MAC and another hub's alert are refused alike.
  std::string forged = link_path("h001-000001", "li");
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(call("GET", forged, "").status, 404);
  const std::string other = link_path("h001-000001", "son1");
  EXPECT_EQ(
      call("GET", "/api/link/h001-000001/li/" + other.substr(other.rfind('/') + 1), "").status,
      404);
  EXPECT_EQ(call("GET", link_path("h003-000001", "li"), "").status, 404);  // signed for h001
  EXPECT_EQ(call("GET", "/api/link/h001-000001/li", "").status, 404);
}

TEST_F(ConsoleApiTest, TappingAcknowledgesOnTheHubOnceAndHelpFlagsTheBoard) {
  clock_.set_ms(kT0 + 3'600'000);
  const std::string path = link_path("h001-000001", "li");
  auto ack = call("POST", path, "", R"({"action":"ack"})");
  ASSERT_EQ(ack.status, 202) << ack.body;
  ASSERT_EQ(ack.publish.size(), 1u);
  EXPECT_EQ(ack.publish[0].topic, "homesafe-down/h001/command");
  const json command = json::parse(ack.publish[0].payload);
  EXPECT_EQ(command["type"], "ack");
  EXPECT_EQ(command["by"], "li");
  EXPECT_EQ(command["channel"], "link");
  EXPECT_EQ(command["alert_id"], "h001-000001");
  EXPECT_EQ(ack.changes.alerts, std::set<std::string>{"h001-000001"});

  // A second tap is the same tap.
  auto again = call("POST", path, "", R"({"action":"ack"})");
  EXPECT_EQ(again.status, 202);
  EXPECT_TRUE(again.publish.empty());
  EXPECT_EQ(json::parse(again.body)["repeated"], true);

  auto help = call("POST", path, "", R"({"action":"need_help"})");
  EXPECT_EQ(help.status, 202);
  EXPECT_TRUE(help.publish.empty());  // the escalation goes on
  const json alert = get_json("/api/alerts/h001-000001", login("op_east", "east password"));
  EXPECT_TRUE(alert["help_requested_at"].is_number());
  const json page = json::parse(call("GET", path, "").body);
  EXPECT_EQ(page["done"].size(), 3u);  // link_ack, link_need_help, help_requested

  EXPECT_EQ(call("POST", path, "", R"({"action":"resolve"})").status, 400);
  EXPECT_EQ(call("POST", path, "", "not json").status, 400);

  // Resolved on the hub: the link has done its job.
  feed("h001", 2, alert_body("h001-000001", "resolved", kT0 + 600'000));
  EXPECT_EQ(call("GET", path, "").status, 410);
  EXPECT_EQ(call("POST", path, "", R"({"action":"ack"})").status, 410);
}

TEST_F(ConsoleApiTest, LinksExpireAfterAWeek) {
  clock_.set_ms(kT0 + 8LL * 86'400'000);
  EXPECT_EQ(call("GET", link_path("h001-000001", "li"), "").status, 410);
}

TEST_F(ApiTest, WithoutALinkSecretThereAreNoLinks) {
  const auto key = gateway::notify::link_key_for_hub("", "h001");
  const auto r = call(
      "GET", "/api/link/h001-000001/li/" + gateway::notify::link_mac(key, "h001-000001", "li"), "");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["error"], "links_disabled");
}

TEST_F(ApiTest, TheConsolePagesAreServedWithASecurityPolicy) {
  ASSERT_TRUE(find_asset("index.html")) << "township/console/index.html is embedded";
  for (const std::string target : {"/", "/index.html", "/c/h001-000001/li/abc"}) {
    auto r = call("GET", target, "");
    ASSERT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << target;
    bool csp = false;
    for (const auto& [name, value] : r.headers) {
      if (name == "Content-Security-Policy") csp = value.find("default-src 'self'") == 0;
    }
    EXPECT_TRUE(csp) << target;
  }
  EXPECT_NE(call("GET", "/", "").body.find("<html"), std::string::npos);
  EXPECT_EQ(call("GET", "/assets/nothing-here.js", "").status, 404);
  EXPECT_EQ(call("GET", "/assets/../index.html", "").status, 404);
  EXPECT_EQ(call("GET", "/etc/passwd", "").status, 404);
  EXPECT_EQ(call("POST", "/", "").status, 405);
}

TEST_F(ApiTest, TheLiveFeedSendsEachUserOnlyWhatTheyMaySee) {
  LiveFeed live;
  std::map<std::string, std::vector<json>> got;
  const std::map<std::string, std::string> passwords{
      {"op_east", "east password"}, {"op_west", "west password"}, {"cg_li", "li password!"}};
  auto user = [&](const std::string& name) {
    return *api_.session_user(
        ApiRequest{"GET", "/api/live", "", login(name, passwords.at(name)), ""});
  };
  for (const std::string name : {"op_east", "op_west", "cg_li"}) {
    live.subscribe(user(name), [&got, name](Frame f) { got[name].push_back(json::parse(*f)); });
  }
  EXPECT_EQ(live.connections(), 3u);
  Changes changes;
  changes.alerts = {"h001-000001", "h003-000001", "h004-000001", "no-such-alert"};
  changes.health = {"h002"};
  live.publish(store_, changes);
  auto alert_ids = [&](const std::string& name) {
    std::set<std::string> ids;
    for (const auto& f : got[name]) {
      if (f["type"] == "alert") ids.insert(f["alert"]["alert_id"].get<std::string>());
    }
    return ids;
  };
  EXPECT_EQ(alert_ids("op_east"), std::set<std::string>{"h001-000001"});
  EXPECT_EQ(alert_ids("op_west"), std::set<std::string>{"h003-000001"});
  EXPECT_EQ(alert_ids("cg_li"), (std::set<std::string>{"h001-000001", "h003-000001"}));
  EXPECT_EQ(got["op_east"].back(), (json{{"type", "health"}, {"household", "h002"}}));
  EXPECT_EQ(got["op_west"].size(), 1u);
  EXPECT_EQ(got["op_east"][0]["alert"]["display_name"], "王奶奶");

  live.ping(123);
  EXPECT_EQ(got["op_west"].back(), (json{{"type", "ping"}, {"now", 123}}));
  const json hello = json::parse(LiveFeed::hello_frame(user("op_west"), 5));
  EXPECT_EQ(hello["user"]["scope"], "西乡");
  EXPECT_FALSE(api_.session_user(ApiRequest{"GET", "/api/live", "", "hs_session=bogus", ""}));
}

}  // namespace
}  // namespace homesafe::township
