#include "homesafe/township/db.hpp"

#include <sqlite3.h>

#include <memory>

namespace homesafe::township {
namespace {

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw DbError(what + ": " + sqlite3_errmsg(db));
}

Stmt prepare(sqlite3* db, const std::string& sql, const std::vector<Value>& params) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) !=
      SQLITE_OK) {
    fail(db, "prepare");
  }
  Stmt stmt(raw);
  if (static_cast<std::size_t>(sqlite3_bind_parameter_count(raw)) != params.size()) {
    throw DbError("statement expects " + std::to_string(sqlite3_bind_parameter_count(raw)) +
                  " parameters, got " + std::to_string(params.size()));
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    int rc = SQLITE_OK;
    const Value& v = params[i];
    if (std::holds_alternative<std::nullptr_t>(v)) {
      rc = sqlite3_bind_null(raw, index);
    } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
      rc = sqlite3_bind_int64(raw, index, *n);
    } else if (const auto* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(raw, index, *d);
    } else {
      const auto& s = std::get<std::string>(v);
      rc = sqlite3_bind_text(raw, index, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
    if (rc != SQLITE_OK) fail(db, "bind");
  }
  return stmt;
}

}  // namespace

std::string Row::text(std::size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  if (const auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  return {};
}

std::int64_t Row::integer(std::size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return std::stoll(*s);
  return 0;
}

double Row::real(std::size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return static_cast<double>(*n);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return 0.0;
}

std::optional<std::int64_t> Row::opt_integer(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return integer(i);
}

std::optional<std::string> Row::opt_text(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

Db::Db(const std::filesystem::path& path) {
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw DbError("cannot open " + path.string() + ": " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  exec_script("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
}

Db::~Db() {
  sqlite3_close(db_);
}

void Db::exec_script(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string why = error ? error : "unknown error";
    sqlite3_free(error);
    throw DbError("exec: " + why);
  }
}

int Db::exec(const std::string& sql, const std::vector<Value>& params) {
  Stmt stmt = prepare(db_, sql, params);
  int rc = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) fail(db_, "step");
  return sqlite3_changes(db_);
}

std::vector<Row> Db::query(const std::string& sql, const std::vector<Value>& params) {
  Stmt stmt = prepare(db_, sql, params);
  std::vector<Row> rows;
  int rc = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    const int n = sqlite3_column_count(stmt.get());
    std::vector<Value> values;
    values.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      switch (sqlite3_column_type(stmt.get(), i)) {
        case SQLITE_NULL:
          values.emplace_back(nullptr);
          break;
        case SQLITE_INTEGER:
          values.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt.get(), i)));
          break;
        case SQLITE_FLOAT:
          values.emplace_back(sqlite3_column_double(stmt.get(), i));
          break;
        default: {
          const auto* text = sqlite3_column_text(stmt.get(), i);
          const int size = sqlite3_column_bytes(stmt.get(), i);
          values.emplace_back(
              std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size)));
        }
      }
    }
    rows.emplace_back(std::move(values));
  }
  if (rc != SQLITE_DONE) fail(db_, "step");
  return rows;
}

std::optional<Row> Db::query_one(const std::string& sql, const std::vector<Value>& params) {
  auto rows = query(sql, params);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

void Db::begin() {
  exec_script("BEGIN");
  in_transaction_ = true;
}

void Db::commit() {
  exec_script("COMMIT");
  in_transaction_ = false;
}

void Db::rollback() noexcept {
  if (!in_transaction_) return;
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  in_transaction_ = false;
}

}  // namespace homesafe::township
