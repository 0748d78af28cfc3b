// The storage layer on whichever backend this run uses (SQLite, or PostgreSQL with
// HOMESAFE_TEST_DB=postgresql), plus what is specific to each: placeholders, URL redaction, the
// storage config, an old SQLite database migrating, PostgreSQL connections that break.

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <thread>

#include "backend.hpp"
#include "homesafe/township/config.hpp"
#include "homesafe/township/registry.hpp"
#include "homesafe/township/store.hpp"
#include "support/temp_dir.hpp"
#include "township_test_support.hpp"

namespace homesafe::township {
namespace {

TEST(Placeholders, NumberedOutsideQuotesAndComments) {
  int n = 0;
  EXPECT_EQ(to_numbered_placeholders("SELECT ? , ?", n), "SELECT $1 , $2");
  EXPECT_EQ(n, 2);
  EXPECT_EQ(to_numbered_placeholders("SELECT '?', 'it''s ?', \"a?\" , ? -- why?\n, ?", n),
            "SELECT '?', 'it''s ?', \"a?\" , $1 -- why?\n, $2");
  EXPECT_EQ(n, 2);
  EXPECT_EQ(to_numbered_placeholders("SELECT 1", n), "SELECT 1");
  EXPECT_EQ(n, 0);
}

TEST(RedactUrl, HidesPasswordsOnly) {
  EXPECT_EQ(redact_url("postgresql://homesafe:s3cret@10.0.0.5:5432/township"),
            "postgresql://homesafe:***@10.0.0.5:5432/township");
  EXPECT_EQ(redact_url("postgresql://homesafe@127.0.0.1:5432/db?password=s3cret&sslmode=require"),
            "postgresql://homesafe@127.0.0.1:5432/db?password=***&sslmode=require");
  EXPECT_EQ(redact_url("postgresql://homesafe@127.0.0.1/db"), "postgresql://homesafe@127.0.0.1/db");
  EXPECT_EQ(StorageConfig::postgresql("postgresql://u:pw@127.0.0.1/d").describe(),
            "postgresql postgresql://u:***@127.0.0.1/d");
}

std::string config_error(const std::string& yaml) {
  try {
    parse_config(yaml, "t.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(StorageConfig, PathIsSqliteUrlIsPostgresql) {
  const auto sqlite = parse_config("storage: {path: /var/lib/t.db}\n");
  EXPECT_EQ(sqlite.storage().backend, Dialect::kSqlite);
  EXPECT_EQ(sqlite.storage().path, "/var/lib/t.db");
  const auto pg =
      parse_config("storage: {url: \"postgresql://homesafe:pw@127.0.0.1:5432/county\"}\n");
  EXPECT_EQ(pg.storage().backend, Dialect::kPostgresql);
  EXPECT_EQ(pg.storage().url, "postgresql://homesafe:pw@127.0.0.1:5432/county");
  const auto explicit_pg =
      parse_config("storage: {backend: postgresql, url: \"postgres://h@127.0.0.1/c\"}\n");
  EXPECT_EQ(explicit_pg.storage().backend, Dialect::kPostgresql);
  EXPECT_EQ(parse_config("storage: {backend: sqlite, path: t.db}\n").storage().backend,
            Dialect::kSqlite);
}

TEST(StorageConfig, BadValuesAreClearErrorsWithoutThePassword) {
  EXPECT_EQ(config_error("storage: {backend: mysql, path: t.db}\n"),
            "t.yaml:1:20: backend must be sqlite or postgresql");
  EXPECT_EQ(config_error("storage: {path: t.db, url: \"postgresql://127.0.0.1/x\"}\n"),
            "t.yaml:1:10: give either 'path' (SQLite) or 'url' (PostgreSQL), not both");
  EXPECT_EQ(config_error("storage: {backend: postgresql}\n"), "t.yaml:1:10: missing 'url'");
  EXPECT_EQ(config_error("storage: {backend: postgresql, path: t.db}\n"),
            "t.yaml:1:20: backend postgresql takes 'url', not 'path'");
  EXPECT_EQ(config_error("storage: {backend: sqlite, url: \"postgresql://a/b\"}\n"),
            "t.yaml:1:20: backend sqlite takes 'path', not 'url'");
  const auto wrong_scheme = config_error("storage: {url: \"mysql://root:hunter2@127.0.0.1/db\"}\n");
  EXPECT_EQ(wrong_scheme,
            "t.yaml:1:16: url must start with postgresql:// (a libpq connection URI)");
  EXPECT_EQ(wrong_scheme.find("hunter2"), std::string::npos);
  EXPECT_EQ(config_error("storage: {}\n"), "t.yaml:1:10: missing 'path' (or 'url')");
}

TEST(StorageConfig, AnUnreachableServerIsAnErrorWithoutThePassword) {
  try {
    // Port 1 on loopback: nothing listens there.
    Db db(
        StorageConfig::postgresql("postgresql://homesafe:hunter2@127.0.0.1:1/x?connect_timeout=2"));
    FAIL() << "connected to nothing";
  } catch (const DbError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot connect to PostgreSQL postgresql://homesafe:***@127.0.0.1:1/x"),
              std::string::npos)
        << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
  }
}

// The storage contract on this run's backend.
class DbContract : public ::testing::Test {
 protected:
  homesafe::test::TempDir dir_{"township-storage"};
  Store store_{dir_ / "t.db"};
  Db& db_ = store_.db();
};

TEST_F(DbContract, ValuesKeepTheirTypes) {
  db_.exec_script("CREATE TABLE kv (k TEXT PRIMARY KEY, n BIGINT, i INTEGER, r DOUBLE PRECISION)");
  db_.exec("INSERT INTO kv (k, n, i, r) VALUES (?, ?, ?, ?)",
           {std::string("a"), std::int64_t{1'793'491'200'000}, std::int64_t{7}, 2.5});
  db_.exec("INSERT INTO kv (k, n, i, r) VALUES (?, ?, ?, ?)",
           {std::string("b"), nullptr, std::int64_t{-3}, nullptr});
  auto rows = db_.query("SELECT k, n, i, r FROM kv ORDER BY k");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].text(0), "a");
  EXPECT_EQ(rows[0].integer(1), 1'793'491'200'000);
  EXPECT_EQ(rows[0].integer(2), 7);
  EXPECT_DOUBLE_EQ(rows[0].real(3), 2.5);
  EXPECT_TRUE(rows[1].is_null(1));
  EXPECT_FALSE(rows[1].opt_integer(1));
  EXPECT_TRUE(rows[1].is_null(3));
  // Aggregates: COUNT, SUM of BIGINT (numeric on PostgreSQL) and MAX come back as integers.
  auto agg = db_.query_one("SELECT COUNT(*), SUM(i), MAX(n), SUM(n) FROM kv");
  ASSERT_TRUE(agg);
  EXPECT_EQ(agg->integer(0), 2);
  EXPECT_EQ(agg->integer(1), 4);
  EXPECT_EQ(agg->integer(2), 1'793'491'200'000);
  EXPECT_EQ(agg->text(3), "1793491200000");
  // Texts with quotes and question marks are data, not syntax.
  db_.exec("INSERT INTO kv (k) VALUES (?)", {std::string("it's ? 王")});
  EXPECT_EQ(db_.query_one("SELECT k FROM kv WHERE k = ?", {std::string("it's ? 王")})->text(0),
            "it's ? 王");
}

TEST_F(DbContract, ConflictDoNothingReportsNoRowChanged) {
  db_.exec_script("CREATE TABLE once (id TEXT PRIMARY KEY, v BIGINT NOT NULL)");
  const std::string sql = "INSERT INTO once (id, v) VALUES (?, ?) ON CONFLICT (id) DO NOTHING";
  EXPECT_EQ(db_.exec(sql, {std::string("x"), std::int64_t{1}}), 1);
  EXPECT_EQ(db_.exec(sql, {std::string("x"), std::int64_t{2}}), 0);
  const std::string upsert =
      "INSERT INTO once (id, v) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET v = excluded.v "
      "WHERE excluded.v > once.v";
  EXPECT_EQ(db_.exec(upsert, {std::string("x"), std::int64_t{5}}), 1);
  EXPECT_EQ(db_.exec(upsert, {std::string("x"), std::int64_t{3}}), 0);
  EXPECT_EQ(db_.query_one("SELECT v FROM once")->integer(0), 5);
  EXPECT_EQ(db_.exec("UPDATE once SET v = v + 1"), 1);
  EXPECT_EQ(db_.exec("DELETE FROM once WHERE id = ?", {std::string("nothing")}), 0);
}

TEST_F(DbContract, ErrorsAreDbErrors) {
  EXPECT_THROW(db_.exec("SELECT ?, ?", {std::int64_t{1}}), DbError);
  EXPECT_THROW(db_.query("SELECT * FROM no_such_table"), DbError);
  db_.exec_script("CREATE TABLE u (id TEXT PRIMARY KEY)");
  db_.exec("INSERT INTO u (id) VALUES ('a')");
  EXPECT_THROW(db_.exec("INSERT INTO u (id) VALUES ('a')"), DbError);
  // The connection is still usable.
  EXPECT_EQ(db_.query_one("SELECT COUNT(*) FROM u")->integer(0), 1);
}

TEST_F(DbContract, TransactionsAndSavepoints) {
  db_.exec_script("CREATE TABLE t (id TEXT PRIMARY KEY)");
  {
    Transaction tx(db_);
    db_.exec("INSERT INTO t (id) VALUES ('rolled-back')");
  }
  {
    Transaction tx(db_);
    db_.exec("INSERT INTO t (id) VALUES ('kept')");
    {
      Savepoint sp(db_, "one");
      db_.exec("INSERT INTO t (id) VALUES ('undone')");
      // A failed statement inside the savepoint: undoing the savepoint saves the transaction.
      EXPECT_THROW(db_.exec("INSERT INTO t (id) VALUES ('kept')"), DbError);
    }
    {
      Savepoint sp(db_, "two");
      db_.exec("INSERT INTO t (id) VALUES ('released')");
      sp.release();
    }
    tx.commit();
  }
  std::vector<std::string> ids;
  for (const auto& r : db_.query("SELECT id FROM t ORDER BY id")) ids.push_back(r.text(0));
  EXPECT_EQ(ids, (std::vector<std::string>{"kept", "released"}));
}

TEST_F(DbContract, SchemaVersionIsATableOnBothBackends) {
  EXPECT_EQ(store_.schema_version(),
            db_.query_one("SELECT MAX(version) FROM schema_version")->integer(0));
  EXPECT_GE(store_.schema_version(), 3);
  // Opening again migrates nothing.
  const auto rows = db_.query_one("SELECT COUNT(*) FROM schema_version")->integer(0);
  Store again(dir_ / "t.db");
  EXPECT_EQ(again.db().query_one("SELECT COUNT(*) FROM schema_version")->integer(0), rows);
}

TEST_F(DbContract, ProcessesStartingTogetherMigrateOnce) {
  homesafe::test::TempDir dir("township-storage-race");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      try {
        Store store(dir / "t.db");
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  Store store(dir / "t.db");
  EXPECT_EQ(store.db().query_one("SELECT COUNT(*) FROM schema_version")->integer(0),
            store.schema_version());
}

// A database made by the code before the storage interface (schema version 3, SQLite) opens,
// keeps its data and migrates to the current version.
TEST(StoreMigration, AnOldSqliteDatabaseOpensAndMigrates) {
  if (test::on_postgresql()) GTEST_SKIP() << "a SQLite file: covered by the SQLite run";
  homesafe::test::TempDir dir("township-old");
  const auto dump = homesafe::test::read_file(std::filesystem::path(HOMESAFE_SOURCE_DIR) /
                                              "tests/township/fixtures/township-schema-v3.sql");
  ASSERT_FALSE(dump.empty());
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "old.db").c_str(), &raw), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(raw, dump.c_str(), nullptr, nullptr, &error);
    const std::string why = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(raw);
    ASSERT_EQ(rc, SQLITE_OK) << why;
  }
  Store store(dir / "old.db");
  EXPECT_GE(store.schema_version(), 3);
  EXPECT_EQ(store.households().size(), 2u);
  EXPECT_EQ(store.household("h001")->contacts.size(), 2u);
  EXPECT_EQ(
      store.db().query_one("SELECT state FROM alerts WHERE alert_id = 'h001-000001'")->text(0),
      "open");
  EXPECT_EQ(store.db().query_one("SELECT COUNT(*) FROM events")->integer(0), 1);
  EXPECT_EQ(store.db().query_one("SELECT COUNT(*) FROM users")->integer(0), 1);
}

// PostgreSQL only: a connection the server ends (pg_terminate_backend, a restart) is re-opened.
class PgConnections : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::on_postgresql()) GTEST_SKIP() << "PostgreSQL only";
  }
  static void terminate_others() {
    Db admin(StorageConfig::postgresql(test::postgres_server()->url("homesafe")));
    admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'homesafe' AND "
        "pid <> pg_backend_pid() AND backend_type = 'client backend'");
  }
};

TEST_F(PgConnections, ATerminatedIdleConnectionIsReopened) {
  homesafe::test::TempDir dir("township-pg");
  Store store(dir / "t.db");
  import_households(store, test::registry_csv(), test::kT0);
  terminate_others();
  // The next statement, transaction and write all work on a new connection.
  EXPECT_EQ(store.households().size(), 4u);
  terminate_others();
  {
    Transaction tx(store.db());
    store.audit(test::kT0, "t", "test", "x", {});
    tx.commit();
  }
  terminate_others();
  store.audit(test::kT0, "t", "test", "y", {});
  EXPECT_EQ(store.db().query_one("SELECT COUNT(*) FROM audit_log WHERE username = 't'")->integer(0),
            2);
}

TEST_F(PgConnections, ALostConnectionInsideATransactionIsRetryable) {
  homesafe::test::TempDir dir("township-pg");
  Store store(dir / "t.db");
  try {
    Transaction tx(store.db());
    store.audit(test::kT0, "t", "test", "lost", {});
    terminate_others();
    store.audit(test::kT0, "t", "test", "lost2", {});
    tx.commit();
    FAIL() << "the transaction survived its connection";
  } catch (const DbError& e) {
    EXPECT_TRUE(e.retryable()) << e.what();
  }
  EXPECT_EQ(store.db().query_one("SELECT COUNT(*) FROM audit_log WHERE username = 't'")->integer(0),
            0);
}

}  // namespace
}  // namespace homesafe::township
