#include "pg_client.hpp"

#include <libpq-fe.h>

namespace homesafe::test::county {

PgClient::PgClient(const std::string& url) {
  const std::string with_name = url + (url.find('?') == std::string::npos ? "?" : "&") +
                                "application_name=homesafe-county-proof";
  conn_ = PQconnectdb(with_name.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string why = PQerrorMessage(conn_);
    PQfinish(conn_);
    conn_ = nullptr;
    throw std::runtime_error("cannot connect to PostgreSQL: " + why);
  }
}

PgClient::~PgClient() {
  if (conn_ != nullptr) PQfinish(conn_);
}

std::vector<Row> PgClient::query(const std::string& sql) {
  PGresult* res = PQexec(conn_, sql.c_str());
  const auto status = PQresultStatus(res);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    const std::string why = PQresultErrorMessage(res);
    PQclear(res);
    throw std::runtime_error("query failed: " + why + "  (" + sql + ")");
  }
  std::vector<Row> rows;
  const int n = PQntuples(res);
  const int columns = PQnfields(res);
  for (int r = 0; r < n; ++r) {
    Row row;
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(res, r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
      }
    }
    rows.push_back(std::move(row));
  }
  PQclear(res);
  return rows;
}

long long PgClient::scalar(const std::string& sql) {
  const auto rows = query(sql);
  if (rows.empty() || rows[0].empty() || !rows[0][0]) return 0;
  return std::stoll(*rows[0][0]);
}

}  // namespace homesafe::test::county
