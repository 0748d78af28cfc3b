#pragma once
// An Api over a fresh store with the test registry (township_test_support.hpp), four users and
// three open hub alerts: the fixture of the API tests.

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "homesafe/township/api.hpp"
#include "homesafe/township/auth.hpp"
#include "homesafe/township/registry.hpp"
#include "support/temp_dir.hpp"
#include "township_test_support.hpp"

namespace homesafe::township::test {

class ApiTest : public ::testing::Test {
 protected:
  explicit ApiTest(ApiOptions options = {})
      : store_(dir_ / "t.db"),
        clock_(kT0 + 10LL * 86'400'000),
        ingest_(store_, clock_),
        api_(store_, clock_, options) {
    api_.set_ingest(&ingest_);
    import_households(store_, registry_csv(), kT0);
    add_user(store_, "op_east", Role::kTownshipOperator, "东乡", "east password", kT0, 1000);
    add_user(store_, "op_west", Role::kTownshipOperator, "西乡", "west password", kT0, 1000);
    add_user(store_, "county", Role::kCountyStaff, "南县", "county password", kT0, 1000);
    add_user(store_, "cg_li", Role::kCaregiver, "li", "li password!", kT0, 1000);
    feed("h001", 1, alert_body("h001-000001", "open", kT0));
    feed("h003", 1, alert_body("h003-000001", "open", kT0));
    feed("h004", 1, alert_body("h004-000001", "open", kT0));
  }

  void feed(const std::string& hub, std::int64_t seq, const json& body) {
    auto r =
        ingest_.handle("homesafe-up/" + hub + "/event", event(hub, seq, "alert", body, 0).dump());
    ASSERT_EQ(r.outcome, IngestOutcome::kStored) << r.reason;
  }

  std::string login(const std::string& user, const std::string& password) {
    auto r =
        call("POST", "/api/login", "", json{{"username", user}, {"password", password}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    const auto start = r.set_cookie.find('=') + 1;
    return "hs_session=" + r.set_cookie.substr(start, r.set_cookie.find(';') - start);
  }

  ApiResponse call(const std::string& method, const std::string& target, const std::string& cookie,
                   const std::string& body = "") {
    return api_.handle(ApiRequest{method, target, body, cookie, "127.0.0.1"});
  }

  json get_json(const std::string& target, const std::string& cookie, int expected = 200) {
    auto r = call("GET", target, cookie);
    EXPECT_EQ(r.status, expected) << target << ": " << r.body;
    return json::parse(r.body);
  }

  static std::set<std::string> ids(const json& list, const char* key) {
    std::set<std::string> out;
    for (const auto& item : list) out.insert(item[key].get<std::string>());
    return out;
  }

  homesafe::test::TempDir dir_{"township-api"};
  Store store_;
  ManualClock clock_;
  Ingest ingest_;
  Api api_;
};

}  // namespace homesafe::township::test
