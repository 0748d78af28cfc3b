#pragma once
// The township database: versioned forward migrations and the registry/audit helpers the other
// parts share. Tables are documented in docs/township.md.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "homesafe/township/db.hpp"

namespace homesafe::township {

inline constexpr const char* kRiskClasses[] = {"高风险", "重点", "一般"};

struct Contact {
  std::string contact_id;
  std::string role;  // caregiver | emergency_contact
  std::string name;
  std::string phone;
};

struct Household {
  std::string household_id;
  std::string resident_id;  // pseudonymous
  std::string display_name;
  std::string county;
  std::string township;
  std::string village;
  std::string risk_class;
  std::string hub_id;  // empty: no hub
  std::string address;
  std::vector<Contact> contacts;
};

class Store {
 public:
  // SQLite at `path`.
  explicit Store(const std::filesystem::path& path);
  // The backend `config` names (docs/township.md, "Storage"); migrates the schema.
  explicit Store(const StorageConfig& config);

  Db& db() { return db_; }
  int schema_version();

  // Before storing events received at `now_ms`: on PostgreSQL, makes sure the monthly partitions
  // of `events` for this month and the next exist (docs/township.md, "Storage"). No-op on SQLite.
  void prepare_events(std::int64_t now_ms);

  std::optional<Household> household(const std::string& household_id);
  std::vector<Household> households();  // ordered by id, with contacts
  // Inserts or replaces one household and its contacts (caller owns the transaction).
  void upsert_household(const Household& household, std::int64_t now_ms);

  // One audit row: who did what to which ids.
  void audit(std::int64_t at_ms, const std::string& username, const std::string& action,
             const std::string& target, const std::vector<std::string>& ids,
             const std::string& detail = {});

 private:
  void migrate();
  Db db_;
  std::set<std::string> partitions_;  // event partitions known to exist
};

// 16 random bytes as 32 hex digits (OpenSSL RAND_bytes).
std::string random_id();
// Whether `id` is a well-formed hub or household id: [a-z0-9_-]{1,32}.
bool valid_id(const std::string& id);

}  // namespace homesafe::township
