#pragma once
// Which database the township unit tests run on. HOMESAFE_TEST_DB=postgresql (set by the CTest
// entry homesafe_township_test_postgresql) starts a private PostgreSQL for the test process and
// routes every Store/Db the tests open to it (backend_environment.cpp); otherwise SQLite files.

#include <string>

#include "support/postgres.hpp"

namespace homesafe::township::test {

// True when this run is on PostgreSQL.
bool on_postgresql();
// The run's server (nullptr on SQLite): for tests of PostgreSQL's own behaviour.
homesafe::test::Postgres* postgres_server();
// A URL of the run's test database (`homesafe`) with `schema` first on its search path, the
// schema created if needed. Only on PostgreSQL.
std::string postgres_url_for_schema(const std::string& schema);

}  // namespace homesafe::township::test
