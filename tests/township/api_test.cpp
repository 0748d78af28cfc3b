#include "homesafe/township/api.hpp"

#include <gtest/gtest.h>

#include "api_fixture.hpp"
#include "homesafe/township/spot_check.hpp"

namespace homesafe::township {
namespace {

using namespace test;

TEST_F(ApiTest, EverythingButLoginNeedsASession) {
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/alerts?state=open"},
           {"GET", "/api/households"},
           {"GET", "/api/households/h001"},
           {"POST", "/api/alerts/h001-000001/ack"},
           {"GET", "/api/households/h001/visits"},
           {"GET", "/api/reports/visit-rate?month=2026-11"},
           {"POST", "/api/logout"},
           {"GET", "/api/me"}}) {
    EXPECT_EQ(call(method, target, "").status, 401) << target;
    EXPECT_EQ(call(method, target, "hs_session=" + std::string(64, 'a')).status, 401) << target;
  }
}

TEST_F(ApiTest, LoginSetsAHardenedCookieAndWrongPasswordsFail) {
  EXPECT_EQ(call("POST", "/api/login", "", R"({"username":"op_east","password":"nope"})").status,
            401);
  EXPECT_EQ(call("POST", "/api/login", "", R"({"username":"ghost","password":"nope"})").status,
            401);
  EXPECT_EQ(call("POST", "/api/login", "", R"({"username":1,"password":"x"})").status, 400);
  EXPECT_EQ(call("POST", "/api/login", "", "not json").status, 400);
  auto r = call("POST", "/api/login", "", R"({"username":"op_east","password":"east password"})");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(r.set_cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(r.set_cookie.find("Max-Age=28800"), std::string::npos);
  EXPECT_EQ(json::parse(r.body)["role"], "township_operator");
  // Failed and successful logins are audited.
  EXPECT_EQ(store_.db()
                .query_one("SELECT COUNT(*) FROM audit_log WHERE action = 'login_failed'")
                ->integer(0),
            2);
}

TEST_F(ApiTest, LogoutEndsTheSession) {
  const auto cookie = login("op_east", "east password");
  EXPECT_EQ(call("POST", "/api/logout", cookie).status, 200);
  EXPECT_EQ(call("GET", "/api/households", cookie).status, 401);
}

TEST_F(ApiTest, SessionsExpire) {
  const auto cookie = login("op_east", "east password");
  clock_.advance_ms(8LL * 3600 * 1000);
  EXPECT_EQ(call("GET", "/api/households", cookie).status, 401);
}

TEST_F(ApiTest, EachRoleSeesItsOwnHouseholds) {
  EXPECT_EQ(ids(get_json("/api/households", login("op_east", "east password")), "household_id"),
            (std::set<std::string>{"h001", "h002"}));
  EXPECT_EQ(ids(get_json("/api/households", login("op_west", "west password")), "household_id"),
            (std::set<std::string>{"h003"}));
  EXPECT_EQ(ids(get_json("/api/households", login("county", "county password")), "household_id"),
            (std::set<std::string>{"h001", "h002", "h003"}));
  EXPECT_EQ(ids(get_json("/api/households", login("cg_li", "li password!")), "household_id"),
            (std::set<std::string>{"h001", "h003"}));
}

TEST_F(ApiTest, AnotherTownshipsIdsGive404AndNoData) {
  const auto east = login("op_east", "east password");
  for (const std::string target :
       {"/api/households/h003", "/api/households/h004", "/api/households/h003/visits",
        "/api/households/nosuch", "/api/alerts/h003-000001", "/api/alerts/h004-000001"}) {
    auto r = call("GET", target, east);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.body.find("赵奶奶"), std::string::npos);
  }
  EXPECT_EQ(call("POST", "/api/alerts/h003-000001/ack", east, "{}").status, 404);
  EXPECT_EQ(call("POST", "/api/households/h003/visits", east,
                 R"({"type":"上门入户","date":"2026-11-05"})")
                .status,
            404);
  const auto li = login("cg_li", "li password!");
  EXPECT_EQ(call("GET", "/api/households/h002", li).status, 404);
  const auto county = login("county", "county password");
  EXPECT_EQ(call("GET", "/api/households/h004", county).status, 404);
  EXPECT_EQ(get_json("/api/households/h003", county)["display_name"], "赵奶奶");
}

TEST_F(ApiTest, AlertsAreScoped) {
  EXPECT_EQ(ids(get_json("/api/alerts?state=open", login("op_east", "east password")), "alert_id"),
            (std::set<std::string>{"h001-000001"}));
  EXPECT_EQ(ids(get_json("/api/alerts?state=open", login("county", "county password")), "alert_id"),
            (std::set<std::string>{"h001-000001", "h003-000001"}));
  EXPECT_EQ(ids(get_json("/api/alerts?state=open", login("cg_li", "li password!")), "alert_id"),
            (std::set<std::string>{"h001-000001", "h003-000001"}));
  const json list = get_json("/api/alerts?state=open", login("op_west", "west password"));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["household"], "h003");
  EXPECT_EQ(list[0]["kind"], "smoke");
  EXPECT_EQ(list[0]["raised_at"], kT0);
  EXPECT_TRUE(get_json("/api/alerts?state=resolved", login("county", "county password")).empty());
}

TEST_F(ApiTest, AckRecordsAHandlingRecordAndSendsADownlinkCommand) {
  const auto east = login("op_east", "east password");
  auto r = call("POST", "/api/alerts/h001-000001/ack", east, R"({"note":"已电话联系"})");
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_EQ(r.publish.size(), 1u);
  EXPECT_EQ(r.publish[0].topic, "homesafe-down/h001/command");
  const json command = json::parse(r.publish[0].payload);
  EXPECT_EQ(command["v"], 1);
  EXPECT_EQ(command["type"], "ack");
  EXPECT_EQ(command["alert_id"], "h001-000001");
  EXPECT_EQ(command["by"], "township:op_east");
  EXPECT_EQ(command["note"], "已电话联系");
  EXPECT_TRUE(command["command_id"].get<std::string>().starts_with("c-"));
  auto record = store_.db().query_one(
      "SELECT event, by_whom, note FROM handling_records WHERE alert_id = 'h001-000001' AND source "
      "= "
      "'township'");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->text(0), "ack_requested");
  EXPECT_EQ(record->text(2), "已电话联系");
  EXPECT_TRUE(store_.db().query_one("SELECT 1 FROM commands WHERE command_id = ?",
                                    {command["command_id"].get<std::string>()}));
  // The hub answers with a command_result: the command is marked done.
  auto result = ingest_.handle(
      "homesafe-up/h001/event",
      event("h001", 2, "command_result", command_result_body(command["command_id"])).dump());
  EXPECT_EQ(result.outcome, IngestOutcome::kStored);
  EXPECT_EQ(store_.db().query_one("SELECT result_ok FROM commands")->integer(0), 1);
}

TEST_F(ApiTest, CountyStaffReadButDoNotHandleAlerts) {
  EXPECT_EQ(
      call("POST", "/api/alerts/h001-000001/resolve", login("county", "county password"), "{}")
          .status,
      403);
}

TEST_F(ApiTest, TownshipAlertsAreHandledInPlace) {
  clock_.advance_ms(21 * 60'000);
  ASSERT_FALSE(ingest_.check_silence().empty());
  const auto east = login("op_east", "east password");
  const json open = get_json("/api/alerts?state=open", east);
  std::string silent;
  for (const auto& a : open) {
    if (a["kind"] == "hub_silent") silent = a["alert_id"];
  }
  ASSERT_FALSE(silent.empty());
  auto r =
      call("POST", "/api/alerts/" + silent + "/resolve", east, R"({"note":"户主外出，已断电"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.publish.empty());
  EXPECT_EQ(get_json("/api/alerts/" + silent, east)["state"], "resolved");
  EXPECT_EQ(call("POST", "/api/alerts/" + silent + "/ack", east, "{}").status, 409);
}

TEST_F(ApiTest, BadInputAndInjectionGet400) {
  const auto east = login("op_east", "east password");
  for (const std::string target :
       {"/api/households/h001'%20OR%20'1'='1", "/api/households/h001%27--",
        "/api/alerts?state=open'--", "/api/alerts?state=open&state=all",
        "/api/reports/visit-rate?month=2026-11'%3B%20DROP%20TABLE%20visits",
        "/api/reports/visit-rate?month=2026-11&format=xml", "/api/alerts/%zz", "/api/alerts/a%00b",
        "/api/households/h001/visits?month=11-2026"}) {
    auto r = call("GET", target, east);
    EXPECT_EQ(r.status, 400) << target << " " << r.body;
  }
  EXPECT_EQ(call("POST", "/api/alerts/h001-000001/ack", east, "[1]").status, 400);
  EXPECT_EQ(call("POST", "/api/alerts/h001-000001/ack", east, R"({"note":5})").status, 400);
  EXPECT_EQ(call("POST", "/api/households/h001/visits", east, R"({"type":"x","date":"2026-11-05"})")
                .status,
            400);
  EXPECT_EQ(call("POST", "/api/households/h001/visits", east,
                 R"({"type":"上门入户","date":"2099-01-01"})")
                .status,
            400);
  EXPECT_EQ(call("POST", "/api/households/h001/visits", east,
                 R"({"type":"上门入户","date":"2026-11-05","aspects":{"心情":"好"}})")
                .status,
            400);
  EXPECT_EQ(store_.households().size(), 4u);
  EXPECT_EQ(call("DELETE", "/api/households/h001", east).status, 405);
  EXPECT_EQ(call("GET", "/api/nothing", east).status, 404);
}

TEST_F(ApiTest, VisitsAreRecordedListedAndCounted) {
  const auto east = login("op_east", "east password");
  auto r = call(
      "POST", "/api/households/h002/visits", east,
      R"({"type":"上门入户","date":"2026-11-05","aspects":{"健康":"血压偏高","经济":"低保按时发放","赡养扶养":"儿子每周来","居家安全隐患":"电线老化","服务需求":"需要助浴"},"note":"下次带血压计"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const json visits = get_json("/api/households/h002/visits?month=2026-11", east);
  ASSERT_EQ(visits.size(), 1u);
  EXPECT_EQ(visits[0]["type"], "上门入户");
  EXPECT_EQ(visits[0]["aspects"]["居家安全隐患"], "电线老化");
  EXPECT_EQ(visits[0]["visitor"], "op_east");
  const json report = get_json("/api/reports/visit-rate?month=2026-11", east);
  ASSERT_EQ(report["townships"].size(), 1u);
  EXPECT_EQ(report["townships"][0]["residents"], 2);
  EXPECT_EQ(report["townships"][0]["visited"], 1);
  auto csv = call("GET", "/api/reports/visit-rate?month=2026-11&format=csv", east);
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_NE(csv.body.find("\"东乡\""), std::string::npos);
  EXPECT_EQ(csv.body.find("西乡"), std::string::npos);
  // County staff's report covers both of its townships.
  EXPECT_EQ(get_json("/api/reports/visit-rate?month=2026-11",
                     login("county", "county password"))["townships"]
                .size(),
            2u);
}

TEST_F(ApiTest, ReadsOfPersonalDataAndChangesAreAudited) {
  const auto east = login("op_east", "east password");
  get_json("/api/households/h001", east);
  call("POST", "/api/alerts/h001-000001/ack", east, "{}");
  auto read = store_.db().query_one(
      "SELECT username, ids, at FROM audit_log WHERE action = 'read' AND target = 'household'");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->text(0), "op_east");
  EXPECT_EQ(read->text(1), R"(["h001"])");
  EXPECT_EQ(read->integer(2), clock_.now_ms());
  auto change = store_.db().query_one(
      "SELECT username, ids, detail FROM audit_log WHERE action = 'ack' AND target = 'alert'");
  ASSERT_TRUE(change);
  EXPECT_EQ(change->text(2), "h001-000001");
}

}  // namespace
}  // namespace homesafe::township

namespace homesafe::township {
namespace {

TEST(SpotCheck, DrawsTheRoundedUpShareReproduciblyFromTheSeed) {
  std::vector<std::string> population;
  for (int i = 0; i < 20; ++i) population.push_back("h" + std::to_string(100 + i));
  const auto a = draw_sample(population, 30, 42);
  EXPECT_EQ(a.size(), 6u);
  std::vector<std::string> shuffled(population.rbegin(), population.rend());
  EXPECT_EQ(draw_sample(shuffled, 30, 42), a);  // input order does not matter
  EXPECT_NE(draw_sample(population, 30, 43), a);
  EXPECT_EQ(draw_sample({"a", "b", "c"}, 30, 1).size(), 1u);  // ceil(0.9)
  EXPECT_TRUE(draw_sample({}, 30, 1).empty());
  EXPECT_EQ(draw_sample(population, 100, 7), population);
  // Every resident can be drawn: over many seeds each is picked about 30% of the time.
  std::map<std::string, int> picked;
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    for (const auto& id : draw_sample(population, 30, seed)) ++picked[id];
  }
  ASSERT_EQ(picked.size(), 20u);
  for (const auto& [id, n] : picked) {
    EXPECT_GT(n, 450) << id;
    EXPECT_LT(n, 750) << id;
  }
}

using namespace test;

TEST_F(ApiTest, CountyStaffDrawSpotChecksThatCanBeReproduced) {
  EXPECT_EQ(call("POST", "/api/spot-checks", login("op_east", "east password"),
                 R"({"since":"2026-10-01"})")
                .status,
            403);
  // Re-assessing h002 later: only it is new since then.
  clock_.advance_ms(86'400'000);
  const auto county = login("county", "county password");
  std::string csv = registry_csv();
  csv.replace(csv.find("二村,一般"), std::string("二村,一般").size(), "二村,重点");
  import_households(store_, csv, clock_.now_ms());
  auto r = call("POST", "/api/spot-checks", county,
                json{{"since", local_date(clock_.now_ms(), 480)}, {"rate_percent", 30}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["population"], json({"h002"}));
  EXPECT_EQ(json::parse(r.body)["selected"], json({"h002"}));

  r = call("POST", "/api/spot-checks", county, R"({"since":"2026-10-01"})");
  ASSERT_EQ(r.status, 201);
  const json draw = json::parse(r.body);
  EXPECT_EQ(draw["population"], json({"h001", "h002", "h003"}));  // not 北县's h004
  EXPECT_EQ(draw["selected"].size(), 1u);
  const json stored = get_json("/api/spot-checks/" + draw["draw_id"].get<std::string>(), county);
  EXPECT_EQ(stored["seed"], draw["seed"]);
  EXPECT_EQ(stored["selected"], draw["selected"]);
  EXPECT_TRUE(stored["reproduced"].get<bool>());
  EXPECT_EQ(draw_sample(draw["population"], 30, std::stoull(draw["seed"].get<std::string>())),
            draw["selected"].get<std::vector<std::string>>());
  EXPECT_EQ(
      call("POST", "/api/spot-checks", county, R"({"since":"2026-10-01","rate_percent":0})").status,
      400);
}

}  // namespace
}  // namespace homesafe::township

namespace homesafe::township {
namespace {

using namespace test;

TEST_F(ApiTest, RepeatedFailedLoginsAreThrottled) {
  const std::string wrong = R"({"username":"op_east","password":"guess"})";
  const std::string right = R"({"username":"op_east","password":"east password"})";
  for (int i = 0; i < Api::kMaxFailedLogins; ++i) {
    EXPECT_EQ(call("POST", "/api/login", "", wrong).status, 401);
  }
  EXPECT_EQ(call("POST", "/api/login", "", wrong).status, 429);
  EXPECT_EQ(call("POST", "/api/login", "", right).status, 429);  // even the right password
  // Another user is not affected.
  EXPECT_EQ(call("POST", "/api/login", "", R"({"username":"county","password":"county password"})")
                .status,
            200);
  clock_.advance_ms(Api::kLoginWindowMs);
  EXPECT_EQ(call("POST", "/api/login", "", right).status, 200);
}

}  // namespace
}  // namespace homesafe::township

namespace homesafe::township {
namespace {

using namespace test;

TEST_F(ApiTest, StatusReportsIngestCounters) {
  ingest_.handle("homesafe-up/h001/event", "garbage");
  const json status = get_json("/api/status", login("op_east", "east password"));
  EXPECT_EQ(status["ingest"]["stored"], 3);  // the fixture's three alerts
  EXPECT_EQ(status["ingest"]["rejected"], 1);
  EXPECT_EQ(status["ingest"]["rejected_by_reason"]["not valid JSON"], 1);
  EXPECT_EQ(call("GET", "/api/status", "").status, 401);
}

}  // namespace
}  // namespace homesafe::township
