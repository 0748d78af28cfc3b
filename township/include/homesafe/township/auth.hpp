#pragma once
// Passwords (PBKDF2-HMAC-SHA256, per-user salt, constant-time compare), sessions (random token,
// stored as its SHA-256), users and what each role may see.

#include <cstdint>
#include <optional>
#include <string>

#include "homesafe/township/store.hpp"

namespace homesafe::township {

inline constexpr int kDefaultPbkdf2Iterations = 600'000;

// "pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX".
std::string hash_password(const std::string& password, int iterations = kDefaultPbkdf2Iterations);
bool verify_password(const std::string& password, const std::string& stored);
std::string sha256_hex(const std::string& data);
// 32 random bytes as hex.
std::string random_token();

enum class Role { kTownshipOperator, kCountyStaff, kCaregiver };
std::optional<Role> parse_role(const std::string& text);
std::string role_name(Role role);

struct User {
  std::string username;
  Role role = Role::kCaregiver;
  // township_operator: the township's name; county_staff: the county's name;
  // caregiver: the caregiver's contact id in the registry.
  std::string scope;
};

// Whether `user` may see `household`.
bool can_access(Store& store, const User& user, const Household& household);
// SQL condition (on table alias `o` = households) and its parameters restricting to the user's
// households.
std::string scope_condition(const User& user, std::vector<Value>& params);

void add_user(Store& store, const std::string& username, Role role, const std::string& scope,
              const std::string& password, std::int64_t now_ms,
              int iterations = kDefaultPbkdf2Iterations);
// The user when the password is right; nullopt otherwise (same time for unknown users).
std::optional<User> check_login(Store& store, const std::string& username,
                                const std::string& password);
std::string create_session(Store& store, const std::string& username, std::int64_t now_ms,
                           std::int64_t ttl_ms);
std::optional<User> find_session(Store& store, const std::string& token, std::int64_t now_ms);
void delete_session(Store& store, const std::string& token);

}  // namespace homesafe::township
