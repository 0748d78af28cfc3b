#include "homesafe/township/auth.hpp"

#include <gtest/gtest.h>

#include "homesafe/township/registry.hpp"
#include "support/temp_dir.hpp"
#include "township_test_support.hpp"

namespace homesafe::township {
namespace {

using namespace test;

TEST(PasswordHash, VerifiesTheRightPasswordOnly) {
  const std::string stored = hash_password("correct horse battery", 1000);
  EXPECT_TRUE(stored.starts_with("pbkdf2-sha256$1000$"));
  EXPECT_TRUE(verify_password("correct horse battery", stored));
  EXPECT_FALSE(verify_password("correct horse batterY", stored));
  EXPECT_FALSE(verify_password("", stored));
}

TEST(PasswordHash, SaltsEveryHash) {
  EXPECT_NE(hash_password("same password", 1000), hash_password("same password", 1000));
}

TEST(PasswordHash, DefaultIsAHighIterationCount) {
  const std::string stored = hash_password("a long password");
  EXPECT_TRUE(stored.starts_with("pbkdf2-sha256$600000$")) << stored;
  EXPECT_TRUE(verify_password("a long password", stored));
}

TEST(PasswordHash, RejectsTamperedOrForeignHashes) {
  std::string stored = hash_password("secret password", 1000);
  std::string tampered = stored;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_FALSE(verify_password("secret password", tampered));
  std::string fewer = stored;
  fewer.replace(fewer.find("$1000$"), 6, "$999$");
  EXPECT_FALSE(verify_password("secret password", fewer));
  EXPECT_FALSE(verify_password("secret password", "md5$abc"));
  EXPECT_FALSE(verify_password("secret password", "pbkdf2-sha256$x$00$00"));
  EXPECT_FALSE(verify_password("secret password", ""));
}

class UsersTest : public ::testing::Test {
 protected:
  UsersTest() : store_(dir_ / "t.db") { import_households(store_, registry_csv(), kT0); }
  homesafe::test::TempDir dir_{"township-auth"};
  Store store_;
};

TEST_F(UsersTest, LoginAndSessionsExpire) {
  add_user(store_, "op", Role::kTownshipOperator, "东乡", "operator password", kT0, 1000);
  EXPECT_FALSE(check_login(store_, "op", "wrong password"));
  EXPECT_FALSE(check_login(store_, "nobody", "operator password"));
  auto user = check_login(store_, "op", "operator password");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->role, Role::kTownshipOperator);
  EXPECT_EQ(user->scope, "东乡");

  const std::string token = create_session(store_, "op", kT0, 60'000);
  EXPECT_EQ(token.size(), 64u);
  // Only the hash of the token is stored.
  EXPECT_FALSE(store_.db().query_one("SELECT 1 FROM sessions WHERE token_hash = ?", {token}));
  EXPECT_TRUE(find_session(store_, token, kT0 + 59'999));
  EXPECT_FALSE(find_session(store_, token, kT0 + 60'000));
  EXPECT_FALSE(find_session(store_, token.substr(0, 63) + "x", kT0));
  delete_session(store_, token);
  EXPECT_FALSE(find_session(store_, token, kT0));
}

TEST_F(UsersTest, RolesSeeTheirOwnHouseholdsOnly) {
  const auto h1 = *store_.household("h001");  // 南县/东乡, caregiver li
  const auto h2 = *store_.household("h002");  // 南县/东乡, caregiver wang
  const auto h3 = *store_.household("h003");  // 南县/西乡, caregiver li
  const auto h4 = *store_.household("h004");  // 北县/北乡
  const User op{"op", Role::kTownshipOperator, "东乡"};
  const User county{"cs", Role::kCountyStaff, "南县"};
  const User li{"li", Role::kCaregiver, "li"};
  EXPECT_TRUE(can_access(store_, op, h1));
  EXPECT_TRUE(can_access(store_, op, h2));
  EXPECT_FALSE(can_access(store_, op, h3));
  EXPECT_FALSE(can_access(store_, op, h4));
  EXPECT_TRUE(can_access(store_, county, h1));
  EXPECT_TRUE(can_access(store_, county, h3));
  EXPECT_FALSE(can_access(store_, county, h4));
  EXPECT_TRUE(can_access(store_, li, h1));
  EXPECT_FALSE(can_access(store_, li, h2));
  EXPECT_TRUE(can_access(store_, li, h3));
  // An emergency contact id is not a caregiver scope.
  EXPECT_FALSE(can_access(store_, User{"son", Role::kCaregiver, "son1"}, h1));
}

}  // namespace
}  // namespace homesafe::township
