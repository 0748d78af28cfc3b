#include "homesafe/township/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>
#include <vector>

namespace homesafe::township {
namespace {

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

bool from_hex(const std::string& hex, std::vector<unsigned char>& out) {
  if (hex.size() % 2) return false;
  out.clear();
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<unsigned char>(hi * 16 + lo));
  }
  return true;
}

std::vector<unsigned char> pbkdf2(const std::string& password,
                                  const std::vector<unsigned char>& salt, int iterations) {
  std::vector<unsigned char> out(32);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(out.size()), out.data()) != 1) {
    throw std::runtime_error("PBKDF2 failed");
  }
  return out;
}

// Used to spend the same time on unknown users as on known ones.
const std::string& dummy_hash() {
  static const std::string kHash = hash_password("homesafe-dummy-password");
  return kHash;
}

}  // namespace

std::string hash_password(const std::string& password, int iterations) {
  std::vector<unsigned char> salt(16);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  const auto hash = pbkdf2(password, salt, iterations);
  return "pbkdf2-sha256$" + std::to_string(iterations) + "$" + to_hex(salt.data(), salt.size()) +
         "$" + to_hex(hash.data(), hash.size());
}

bool verify_password(const std::string& password, const std::string& stored) {
  // pbkdf2-sha256$ITER$SALT$HASH
  const auto p1 = stored.find('$');
  const auto p2 = stored.find('$', p1 + 1);
  const auto p3 = stored.find('$', p2 + 1);
  if (p1 == std::string::npos || p2 == std::string::npos || p3 == std::string::npos) return false;
  if (stored.substr(0, p1) != "pbkdf2-sha256") return false;
  int iterations = 0;
  try {
    iterations = std::stoi(stored.substr(p1 + 1, p2 - p1 - 1));
  } catch (const std::exception&) {
    return false;
  }
  if (iterations < 1) return false;
  std::vector<unsigned char> salt, expected;
  if (!from_hex(stored.substr(p2 + 1, p3 - p2 - 1), salt)) return false;
  if (!from_hex(stored.substr(p3 + 1), expected) || expected.size() != 32) return false;
  const auto actual = pbkdf2(password, salt, iterations);
  return CRYPTO_memcmp(actual.data(), expected.data(), expected.size()) == 0;
}

std::string sha256_hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return to_hex(digest, sizeof digest);
}

std::string random_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  return to_hex(bytes, sizeof bytes);
}

std::optional<Role> parse_role(const std::string& text) {
  if (text == "township_operator") return Role::kTownshipOperator;
  if (text == "county_staff") return Role::kCountyStaff;
  if (text == "caregiver") return Role::kCaregiver;
  return std::nullopt;
}

std::string role_name(Role role) {
  switch (role) {
    case Role::kTownshipOperator:
      return "township_operator";
    case Role::kCountyStaff:
      return "county_staff";
    case Role::kCaregiver:
      return "caregiver";
  }
  return "caregiver";
}

bool can_access(Store& store, const User& user, const Household& household) {
  switch (user.role) {
    case Role::kTownshipOperator:
      return household.township == user.scope;
    case Role::kCountyStaff:
      return household.county == user.scope;
    case Role::kCaregiver:
      return store.db()
          .query_one(
              "SELECT 1 FROM contacts WHERE household_id = ? AND contact_id = ? AND role = "
              "'caregiver'",
              {household.household_id, user.scope})
          .has_value();
  }
  return false;
}

std::string scope_condition(const User& user, std::vector<Value>& params) {
  params.emplace_back(user.scope);
  switch (user.role) {
    case Role::kTownshipOperator:
      return "o.township = ?";
    case Role::kCountyStaff:
      return "o.county = ?";
    case Role::kCaregiver:
      return "o.household_id IN (SELECT household_id FROM contacts WHERE contact_id = ? AND role "
             "= 'caregiver')";
  }
  return "1 = 0";
}

void add_user(Store& store, const std::string& username, Role role, const std::string& scope,
              const std::string& password, std::int64_t now_ms, int iterations) {
  store.db().exec(
      "INSERT INTO users (username, role, scope, password_hash, created_at, updated_at) VALUES "
      "(?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO UPDATE SET role = excluded.role, scope = "
      "excluded.scope, password_hash = excluded.password_hash, updated_at = excluded.updated_at",
      {username, role_name(role), scope, hash_password(password, iterations), now_ms, now_ms});
}

std::optional<User> check_login(Store& store, const std::string& username,
                                const std::string& password) {
  auto row = store.db().query_one(
      "SELECT username, role, scope, password_hash FROM users WHERE username = ?", {username});
  if (!row) {
    verify_password(password, dummy_hash());
    return std::nullopt;
  }
  if (!verify_password(password, row->text(3))) return std::nullopt;
  auto role = parse_role(row->text(1));
  if (!role) return std::nullopt;
  return User{row->text(0), *role, row->text(2)};
}

std::string create_session(Store& store, const std::string& username, std::int64_t now_ms,
                           std::int64_t ttl_ms) {
  const std::string token = random_token();
  store.db().exec("DELETE FROM sessions WHERE expires_at <= ?", {now_ms});
  store.db().exec(
      "INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)",
      {sha256_hex(token), username, now_ms, now_ms + ttl_ms});
  return token;
}

std::optional<User> find_session(Store& store, const std::string& token, std::int64_t now_ms) {
  if (token.size() != 64) return std::nullopt;
  auto row = store.db().query_one(
      "SELECT u.username, u.role, u.scope FROM sessions s JOIN users u ON u.username = "
      "s.username WHERE s.token_hash = ? AND s.expires_at > ?",
      {sha256_hex(token), now_ms});
  if (!row) return std::nullopt;
  auto role = parse_role(row->text(1));
  if (!role) return std::nullopt;
  return User{row->text(0), *role, row->text(2)};
}

void delete_session(Store& store, const std::string& token) {
  store.db().exec("DELETE FROM sessions WHERE token_hash = ?", {sha256_hex(token)});
}

}  // namespace homesafe::township
