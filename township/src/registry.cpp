#include "homesafe/township/registry.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "homesafe/township/csv.hpp"

namespace homesafe::township {
namespace {

std::string join_problems(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += p + "\n";
  return out;
}

bool valid_contact_id(const std::string& id) {
  return valid_id(id);
}

}  // namespace

ImportError::ImportError(std::vector<std::string> p)
    : std::runtime_error(join_problems(p)), problems(std::move(p)) {}

const std::vector<std::string>& household_csv_columns() {
  static const std::vector<std::string> kColumns{
      "household_id",   "resident_id",     "display_name", "county",         "township",
      "village",        "risk_class",      "hub_id",       "address",        "caregiver_id",
      "caregiver_name", "caregiver_phone", "emergency_id", "emergency_name", "emergency_phone"};
  return kColumns;
}

int import_households(Store& store, const std::string& csv, std::int64_t now_ms) {
  std::vector<CsvRecord> records;
  try {
    records = parse_csv(csv);
  } catch (const std::runtime_error& e) {
    throw ImportError({e.what()});
  }
  const auto& columns = household_csv_columns();
  if (records.empty()) throw ImportError({"line 1: the file is empty (header expected)"});
  if (records.front().fields != columns) {
    throw ImportError(
        {"line 1: the header must be: " + fmt::format("{}", fmt::join(columns, ","))});
  }
  std::vector<std::string> problems;
  std::vector<Household> households;
  std::set<std::string> ids, residents, hubs;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& rec = records[r];
    auto problem = [&](const std::string& what) {
      problems.push_back(fmt::format("line {}: {}", rec.line, what));
    };
    if (rec.fields.size() != columns.size()) {
      problem(fmt::format("{} fields, expected {}", rec.fields.size(), columns.size()));
      continue;
    }
    std::map<std::string, std::string> f;
    for (std::size_t i = 0; i < columns.size(); ++i) f[columns[i]] = rec.fields[i];
    Household h;
    h.household_id = f["household_id"];
    h.resident_id = f["resident_id"];
    h.display_name = f["display_name"];
    h.county = f["county"];
    h.township = f["township"];
    h.village = f["village"];
    h.risk_class = f["risk_class"];
    h.hub_id = f["hub_id"];
    h.address = f["address"];
    const std::size_t before = problems.size();
    if (!valid_id(h.household_id)) problem("household_id must match [a-z0-9_-]{1,32}");
    if (h.resident_id.empty() || h.resident_id.size() > 64) problem("resident_id is required");
    if (h.display_name.empty()) problem("display_name is required");
    if (h.county.empty()) problem("county is required");
    if (h.township.empty()) problem("township is required");
    if (h.village.empty()) problem("village is required");
    if (h.risk_class != "高风险" && h.risk_class != "重点" && h.risk_class != "一般") {
      problem("risk_class must be 高风险, 重点 or 一般");
    }
    if (!h.hub_id.empty() && !valid_id(h.hub_id)) problem("hub_id must match [a-z0-9_-]{1,32}");
    if (!ids.insert(h.household_id).second) problem("household_id appears twice");
    if (!residents.insert(h.resident_id).second) problem("resident_id appears twice");
    if (!h.hub_id.empty() && !hubs.insert(h.hub_id).second) problem("hub_id appears twice");
    for (const auto& [role, prefix] :
         {std::pair{"caregiver", "caregiver"}, std::pair{"emergency_contact", "emergency"}}) {
      const std::string id = f[std::string(prefix) + "_id"];
      const std::string name = f[std::string(prefix) + "_name"];
      const std::string phone = f[std::string(prefix) + "_phone"];
      if (id.empty() && name.empty() && phone.empty()) continue;
      if (!valid_contact_id(id)) problem(std::string(prefix) + "_id must match [a-z0-9_-]{1,32}");
      if (name.empty()) problem(std::string(prefix) + "_name is required with an id");
      h.contacts.push_back({id, role, name, phone});
    }
    if (problems.size() == before) households.push_back(std::move(h));
  }
  if (!problems.empty()) throw ImportError(std::move(problems));
  Transaction tx(store.db());
  for (const auto& h : households) {
    // A hub id already used by another household of the registry is refused too.
    auto other = store.db().query_one(
        "SELECT household_id FROM households WHERE hub_id = ? AND household_id <> ?",
        {h.hub_id, h.household_id});
    if (other) problems.push_back("household " + h.household_id + ": hub_id is already used");
    auto resident = store.db().query_one(
        "SELECT household_id FROM households WHERE resident_id = ? AND household_id <> ?",
        {h.resident_id, h.household_id});
    if (resident)
      problems.push_back("household " + h.household_id + ": resident_id is already used");
    if (problems.empty()) store.upsert_household(h, now_ms);
  }
  if (!problems.empty()) throw ImportError(std::move(problems));
  tx.commit();
  return static_cast<int>(households.size());
}

std::string export_households(Store& store) {
  std::string out = csv_line(household_csv_columns());
  for (const auto& h : store.households()) {
    std::vector<std::string> row{h.household_id, h.resident_id, h.display_name,
                                 h.county,       h.township,    h.village,
                                 h.risk_class,   h.hub_id,      h.address};
    for (const char* role : {"caregiver", "emergency_contact"}) {
      const Contact* found = nullptr;
      for (const auto& c : h.contacts) {
        if (c.role == role) {
          found = &c;
          break;
        }
      }
      row.push_back(found ? found->contact_id : "");
      row.push_back(found ? found->name : "");
      row.push_back(found ? found->phone : "");
    }
    out += csv_line(row);
  }
  return out;
}

}  // namespace homesafe::township
