// The SQLite backend: the embedded default for one township (docs/township.md, "Storage").

#include <sqlite3.h>

#include <memory>

#include "homesafe/township/db.hpp"

namespace homesafe::township {
namespace {

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw DbError(what + ": " + sqlite3_errmsg(db), "SQLITE_" + std::to_string(sqlite3_errcode(db)));
}

class SqliteDb final : public DbBackend {
 public:
  explicit SqliteDb(const std::filesystem::path& path) {
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
  ~SqliteDb() override { sqlite3_close(db_); }
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  Dialect dialect() const override { return Dialect::kSqlite; }

  void exec_script(const std::string& sql) override {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string why = error ? error : "unknown error";
      sqlite3_free(error);
      throw DbError("exec: " + why, "SQLITE_" + std::to_string(sqlite3_errcode(db_)));
    }
  }

  int exec(const std::string& sql, const std::vector<Value>& params) override {
    Stmt stmt = prepare(sql, params);
    int rc = 0;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) fail(db_, "step");
    return sqlite3_changes(db_);
  }

  std::vector<Row> query(const std::string& sql, const std::vector<Value>& params) override {
    Stmt stmt = prepare(sql, params);
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

  // IMMEDIATE: a second connection (another process) waits for the write lock up front instead of
  // failing with SQLITE_BUSY when its read turns into a write.
  void begin() override { exec_script("BEGIN IMMEDIATE"); }
  void commit() override { exec_script("COMMIT"); }
  void rollback() noexcept override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

 private:
  Stmt prepare(const std::string& sql, const std::vector<Value>& params) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) !=
        SQLITE_OK) {
      fail(db_, "prepare");
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
      if (rc != SQLITE_OK) fail(db_, "bind");
    }
    return stmt;
  }

  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<DbBackend> open_sqlite(const std::filesystem::path& path) {
  return std::make_unique<SqliteDb>(path);
}

}  // namespace homesafe::township
