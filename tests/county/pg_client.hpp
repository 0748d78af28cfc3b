#pragma once
// A small libpq connection for the county proof's checks: text rows, errors as exceptions. The
// proof reads the database on its own (not through the township's storage layer), so a bug there
// cannot hide itself.

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct pg_conn;

namespace homesafe::test::county {

using Row = std::vector<std::optional<std::string>>;

class PgClient {
 public:
  // `url` is a libpq URI; application_name is set to homesafe-county-proof.
  explicit PgClient(const std::string& url);
  ~PgClient();
  PgClient(const PgClient&) = delete;
  PgClient& operator=(const PgClient&) = delete;

  std::vector<Row> query(const std::string& sql);
  // The first column of the first row as an integer (0 when NULL or no row).
  long long scalar(const std::string& sql);

 private:
  pg_conn* conn_ = nullptr;
};

}  // namespace homesafe::test::county
