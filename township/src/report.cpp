#include "homesafe/township/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "homesafe/township/clock.hpp"
#include "homesafe/township/csv.hpp"
#include "homesafe/township/xlsx.hpp"

namespace homesafe::township {
namespace {

using nlohmann::json;

struct Tally {
  int residents = 0;
  int visited = 0;
  std::map<std::string, int> by_type;
  std::map<std::string, std::pair<int, int>> by_risk;  // residents, visited
  int high_risk_missed = 0;

  void add(const Household& h, const std::set<std::string>& types, bool missed) {
    ++residents;
    auto& risk = by_risk[h.risk_class];
    ++risk.first;
    if (!types.empty()) {
      ++visited;
      ++risk.second;
    }
    for (const auto& t : types) ++by_type[t];
    if (missed) ++high_risk_missed;
  }

  json to_json() const {
    json out{{"residents", residents},
             {"visited", visited},
             {"visit_rate", residents ? static_cast<double>(visited) / residents : 0.0},
             {"high_risk_missed_week", high_risk_missed}};
    json types = json::object();
    for (const char* t : kVisitTypes) {
      auto it = by_type.find(t);
      types[t] = it == by_type.end() ? 0 : it->second;
    }
    out["by_type"] = types;
    json risks = json::object();
    for (const char* r : kRiskClasses) {
      auto it = by_risk.find(r);
      const auto counts = it == by_risk.end() ? std::pair{0, 0} : it->second;
      risks[r] = {{"residents", counts.first}, {"visited", counts.second}};
    }
    out["by_risk"] = risks;
    return out;
  }
};

std::string rate_text(const json& t) {
  return fmt::format("{:.1f}%", t.at("visit_rate").get<double>() * 100);
}

}  // namespace

std::optional<Month> parse_month(const std::string& text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 7 || !parse_date(text + "-01", y, m, d)) return std::nullopt;
  return Month{y, m};
}

json visit_rate_report(Store& store, const std::vector<Household>& households, Month month,
                       std::int64_t now_ms, int utc_offset_minutes) {
  const std::string prefix = fmt::format("{:04}-{:02}", month.year, month.month);
  const int last_day = days_in_month(month.year, month.month);
  // Which weeks have begun by now (local date).
  const std::string today = local_date(now_ms, utc_offset_minutes);
  const int week_starts[] = {1, 8, 15, 22};
  std::vector<int> weeks_due;
  json weeks = json::array();
  for (int w = 0; w < 4; ++w) {
    const std::string from = fmt::format("{}-{:02}", prefix, week_starts[w]);
    const std::string to = fmt::format("{}-{:02}", prefix, w == 3 ? last_day : week_starts[w] + 6);
    weeks.push_back({{"week", w + 1}, {"from", from}, {"to", to}, {"due", from <= today}});
    if (from <= today) weeks_due.push_back(w);
  }

  // household -> visit types, weeks with a visit
  std::map<std::string, std::set<std::string>> types;
  std::map<std::string, std::set<int>> visited_weeks;
  for (const auto& row : store.db().query(
           "SELECT household_id, visit_type, visit_date FROM visits WHERE visit_date >= ? AND "
           "visit_date <= ?",
           {prefix + "-01", fmt::format("{}-{:02}", prefix, last_day)})) {
    const std::string household = row.text(0);
    types[household].insert(row.text(1));
    const int day = std::stoi(row.text(2).substr(8, 2));
    visited_weeks[household].insert(std::min((day - 1) / 7, 3));
  }

  std::map<std::pair<std::string, std::string>, Tally> township_tally;
  std::map<std::tuple<std::string, std::string, std::string>, Tally> village_tally;
  json missed = json::array();
  for (const auto& h : households) {
    const auto& t = types[h.household_id];
    bool missed_week = false;
    if (h.risk_class == "高风险") {
      json missing = json::array();
      for (int w : weeks_due) {
        if (!visited_weeks[h.household_id].contains(w)) missing.push_back(w + 1);
      }
      if (!missing.empty()) {
        missed_week = true;
        missed.push_back({{"household", h.household_id},
                          {"resident_id", h.resident_id},
                          {"township", h.township},
                          {"village", h.village},
                          {"missed_weeks", missing}});
      }
    }
    township_tally[{h.county, h.township}].add(h, t, missed_week);
    village_tally[{h.county, h.township, h.village}].add(h, t, missed_week);
  }

  json townships = json::array();
  for (const auto& [key, tally] : township_tally) {
    json tj = tally.to_json();
    tj["county"] = key.first;
    tj["township"] = key.second;
    json villages = json::array();
    for (const auto& [vkey, vtally] : village_tally) {
      if (std::get<0>(vkey) != key.first || std::get<1>(vkey) != key.second) continue;
      json vj = vtally.to_json();
      vj["village"] = std::get<2>(vkey);
      villages.push_back(vj);
    }
    tj["villages"] = villages;
    townships.push_back(tj);
  }
  // Residents without any visit this month: high-risk first, then 重点, then the rest.
  json not_visited = json::array();
  for (const char* risk : kRiskClasses) {
    for (const auto& h : households) {
      if (h.risk_class != risk || !types[h.household_id].empty()) continue;
      auto last = store.db().query_one(
          "SELECT MAX(visit_date) FROM visits WHERE household_id = ? AND visit_date < ?",
          {h.household_id, prefix + "-01"});
      not_visited.push_back(
          {{"household", h.household_id},
           {"resident_id", h.resident_id},
           {"display_name", h.display_name},
           {"township", h.township},
           {"village", h.village},
           {"risk_class", h.risk_class},
           {"last_visit_date", last && !last->is_null(0) ? json(last->text(0)) : json(nullptr)}});
    }
  }
  return {{"month", prefix},
          {"weeks", weeks},
          {"townships", townships},
          {"high_risk_missed", missed},
          {"not_visited", not_visited}};
}

namespace {

// The report as a table: a header row, then one row per village and a total per township.
std::vector<std::vector<XlsxCell>> visit_rate_table(const json& report) {
  std::vector<std::vector<XlsxCell>> rows;
  std::vector<XlsxCell> header;
  for (const char* h : {"月份", "县", "乡镇", "村", "居民数", "已探访", "探访率", "上门入户",
                        "电话视频", "远程监测", "高风险居民", "高风险已探访", "重点居民",
                        "重点已探访", "一般居民", "一般已探访", "高风险漏周人数"}) {
    header.push_back({h, false});
  }
  rows.push_back(std::move(header));
  auto row = [&](const json& t, const std::string& county, const std::string& township,
                 const std::string& village) {
    auto n = [](int v) { return XlsxCell{std::to_string(v), true}; };
    std::vector<XlsxCell> f{{report.at("month").get<std::string>(), false},
                            {county, false},
                            {township, false},
                            {village, false},
                            n(t.at("residents").get<int>()),
                            n(t.at("visited").get<int>()),
                            {rate_text(t), false}};
    for (const char* type : kVisitTypes) f.push_back(n(t.at("by_type").at(type).get<int>()));
    for (const char* risk : kRiskClasses) {
      f.push_back(n(t.at("by_risk").at(risk).at("residents").get<int>()));
      f.push_back(n(t.at("by_risk").at(risk).at("visited").get<int>()));
    }
    f.push_back(n(t.at("high_risk_missed_week").get<int>()));
    rows.push_back(std::move(f));
  };
  for (const auto& t : report.at("townships")) {
    const std::string county = t.at("county").get<std::string>();
    const std::string township = t.at("township").get<std::string>();
    for (const auto& v : t.at("villages")) {
      row(v, county, township, v.at("village").get<std::string>());
    }
    row(t, county, township, "合计");
  }
  return rows;
}

}  // namespace

std::string visit_rate_csv(const json& report) {
  std::string out = "\xEF\xBB\xBF";
  for (const auto& row : visit_rate_table(report)) {
    std::vector<std::string> fields;
    for (const auto& cell : row) fields.push_back(cell.text);
    out += csv_line(fields);
  }
  return out;
}

std::string visit_rate_xlsx(const json& report) {
  XlsxSheet rates{"探访率 " + report.at("month").get<std::string>(), visit_rate_table(report)};
  XlsxSheet missing{"本月未探访", {}};
  std::vector<XlsxCell> header;
  for (const char* h : {"户编号", "居民编号", "姓名", "乡镇", "村", "风险等级", "上次探访"}) {
    header.push_back({h, false});
  }
  missing.rows.push_back(std::move(header));
  for (const auto& r : report.at("not_visited")) {
    missing.rows.push_back(
        {{r.at("household").get<std::string>(), false},
         {r.at("resident_id").get<std::string>(), false},
         {r.at("display_name").get<std::string>(), false},
         {r.at("township").get<std::string>(), false},
         {r.at("village").get<std::string>(), false},
         {r.at("risk_class").get<std::string>(), false},
         {r.at("last_visit_date").is_null() ? std::string("从未探访")
                                            : r.at("last_visit_date").get<std::string>(),
          false}});
  }
  return xlsx_workbook({rates, missing});
}

json caregiver_response(Store& store, const std::vector<Household>& households,
                        std::int64_t from_ms, std::int64_t to_ms) {
  std::set<std::string> allowed;
  for (const auto& h : households) allowed.insert(h.household_id);
  // First acknowledgement of each alert opened in the period.
  std::map<std::string, std::vector<std::int64_t>> by_person;
  std::vector<std::int64_t> all;
  int alerts = 0, unacknowledged = 0;
  for (const auto& row : store.db().query(
           "SELECT a.alert_id, a.household_id, a.opened_at, "
           "(SELECT MIN(r.at) FROM handling_records r WHERE r.alert_id = a.alert_id AND r.event = "
           "'acknowledged'), "
           "(SELECT r.by_whom FROM handling_records r WHERE r.alert_id = a.alert_id AND r.event = "
           "'acknowledged' ORDER BY r.at LIMIT 1) "
           "FROM alerts a WHERE a.source = 'hub' AND a.opened_at >= ? AND a.opened_at < ?",
           {from_ms, to_ms})) {
    if (!allowed.contains(row.text(1))) continue;
    ++alerts;
    if (row.is_null(3)) {
      ++unacknowledged;
      continue;
    }
    const std::int64_t delay = std::max<std::int64_t>(0, row.integer(3) - row.integer(2));
    all.push_back(delay);
    by_person[row.text(4)].push_back(delay);
  }
  auto figures = [](std::vector<std::int64_t> delays, int total) {
    std::sort(delays.begin(), delays.end());
    json out{{"alerts", total}, {"acknowledged", delays.size()}};
    if (delays.empty()) {
      out["median_s"] = nullptr;
    } else {
      const std::size_t n = delays.size();
      const double median = n % 2 ? static_cast<double>(delays[n / 2])
                                  : (static_cast<double>(delays[n / 2 - 1]) + delays[n / 2]) / 2.0;
      out["median_s"] = median / 1000.0;
    }
    const auto within =
        std::count_if(delays.begin(), delays.end(), [](std::int64_t d) { return d <= 5 * 60'000; });
    out["within_5min_share"] = total ? static_cast<double>(within) / total : 0.0;
    return out;
  };
  json people = json::array();
  for (const auto& [person, delays] : by_person) {
    json p = figures(delays, static_cast<int>(delays.size()));
    p["by"] = person;
    people.push_back(p);
  }
  json overall = figures(all, alerts);
  overall["unacknowledged"] = unacknowledged;
  return {{"overall", overall}, {"by_person", people}};
}

}  // namespace homesafe::township
