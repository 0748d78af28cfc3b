// HOMESAFE_TEST_DB=postgresql: one private PostgreSQL for the whole test process (a GoogleTest
// global environment), and every SQLite path a test opens becomes its own schema in database
// `homesafe`, so the tests run unchanged: a fresh temp dir is a fresh schema, opening the same
// path again opens the same schema.

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>

#include "backend.hpp"
#include "homesafe/township/db.hpp"

namespace homesafe::township::test {
namespace {

class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    try {
      server_ = std::make_unique<homesafe::test::Postgres>();
      open_postgresql(server_->url("postgres"))->exec_script("CREATE DATABASE homesafe");
      control_ = open_postgresql(server_->url("homesafe"));
    } catch (const std::exception& e) {
      FAIL() << "HOMESAFE_TEST_DB=postgresql but PostgreSQL could not start: " << e.what();
    }
    set_db_opener([this](const StorageConfig& config) -> std::unique_ptr<DbBackend> {
      if (config.backend == Dialect::kPostgresql) {
        return open_postgresql(config.url, config.application_name);
      }
      const auto hash = std::hash<std::string>{}(std::filesystem::absolute(config.path).string());
      char name[32];
      std::snprintf(name, sizeof name, "t_%016zx", hash);
      return open_postgresql(url_for_schema(name), config.application_name);
    });
  }

  void TearDown() override {
    set_db_opener({});
    control_.reset();
    server_.reset();
  }

  std::string url_for_schema(const std::string& schema) {
    {
      std::lock_guard lock(mutex_);
      control_->exec_script("CREATE SCHEMA IF NOT EXISTS " + schema);
    }
    return server_->url("homesafe") + "?options=-csearch_path%3D" + schema;
  }

  homesafe::test::Postgres* server() { return server_.get(); }

 private:
  std::unique_ptr<homesafe::test::Postgres> server_;
  std::mutex mutex_;
  std::unique_ptr<DbBackend> control_;
};

PostgresEnvironment* environment = nullptr;

const bool registered = [] {
  const char* db = std::getenv("HOMESAFE_TEST_DB");
  if (db != nullptr && std::string(db) == "postgresql") {
    environment = new PostgresEnvironment;
    ::testing::AddGlobalTestEnvironment(environment);  // GoogleTest owns it
  }
  return true;
}();

}  // namespace

bool on_postgresql() {
  return environment != nullptr;
}

homesafe::test::Postgres* postgres_server() {
  return environment ? environment->server() : nullptr;
}

std::string postgres_url_for_schema(const std::string& schema) {
  return environment->url_for_schema(schema);
}

}  // namespace homesafe::township::test
