#pragma once
// The township database connection: statements with positional `?` parameters, rows of values,
// transactions. One interface (DbBackend), two implementations: SQLite (sqlite_db.cpp, the
// embedded default) and PostgreSQL through libpq (pg_db.cpp, county scale). `Db` is the handle
// the rest of the service uses; it forwards to the backend. The SQL the service writes stays
// within what both accept (docs/township.md, "Storage").

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace homesafe::township {

struct DbError : std::runtime_error {
  using std::runtime_error::runtime_error;
  DbError(const std::string& what, std::string state, bool lost = false)
      : std::runtime_error(what), sqlstate(std::move(state)), connection_lost(lost) {}
  // PostgreSQL's SQLSTATE ("40P01" deadlock, "23505" unique violation, ...); SQLite: "SQLITE_n".
  std::string sqlstate;
  // The connection broke (server restarted, connection terminated): it is re-opened on next use.
  bool connection_lost = false;
  // Worth running the whole transaction again: deadlock, serialization failure, busy database,
  // lost connection.
  bool retryable() const;
};

using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  bool is_null(std::size_t i) const {
    return std::holds_alternative<std::nullptr_t>(values_.at(i));
  }
  std::string text(std::size_t i) const;      // "" for NULL
  std::int64_t integer(std::size_t i) const;  // 0 for NULL
  double real(std::size_t i) const;
  std::optional<std::int64_t> opt_integer(std::size_t i) const;
  std::optional<std::string> opt_text(std::size_t i) const;
  std::size_t size() const { return values_.size(); }

 private:
  std::vector<Value> values_;
};

enum class Dialect { kSqlite, kPostgresql };

// Which database: `storage:` in the service config (docs/township.md).
struct StorageConfig {
  Dialect backend = Dialect::kSqlite;
  std::filesystem::path path;  // SQLite file
  // PostgreSQL: a libpq connection URI (postgresql://USER@HOST:PORT/DB?...). It may hold a
  // password: never log it, log redact_url(url).
  std::string url;
  // PostgreSQL: libpq's application_name for every connection (it overrides one in `url`), so
  // an operator or a test can tell the processes apart in pg_stat_activity. Empty: the URL's.
  std::string application_name;

  static StorageConfig sqlite(std::filesystem::path path) {
    StorageConfig c;
    c.path = std::move(path);
    return c;
  }
  static StorageConfig postgresql(std::string url) {
    StorageConfig c;
    c.backend = Dialect::kPostgresql;
    c.url = std::move(url);
    return c;
  }
  // "sqlite FILE" or "postgresql URL-without-password": for logs.
  std::string describe() const;
};

// A connection URI with its password (user:PASSWORD@, password=...) replaced by "***".
std::string redact_url(const std::string& url);
// `?` placeholders outside quoted literals, identifiers and comments → `$1`, `$2`, ...; sets
// `count` to the number of placeholders.
std::string to_numbered_placeholders(const std::string& sql, int& count);

// One database connection. Implementations throw DbError for every failure.
class DbBackend {
 public:
  virtual ~DbBackend() = default;
  virtual Dialect dialect() const = 0;
  // Runs one or more statements without parameters.
  virtual void exec_script(const std::string& sql) = 0;
  // Runs one statement; returns the number of rows changed (0 for a conflict that did nothing).
  virtual int exec(const std::string& sql, const std::vector<Value>& params) = 0;
  virtual std::vector<Row> query(const std::string& sql, const std::vector<Value>& params) = 0;
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
};

std::unique_ptr<DbBackend> open_sqlite(const std::filesystem::path& path);
std::unique_ptr<DbBackend> open_postgresql(const std::string& url,
                                           const std::string& application_name = {});

// A PostgreSQL connection of its own that LISTENs on one channel (the API processes learn of
// what ingest workers changed: docs/deployment.md, "API processes").
class NotificationListener {
 public:
  virtual ~NotificationListener() = default;
  // Waits up to `timeout` for notifications; returns their payloads (empty after the timeout).
  // Throws DbError (connection_lost) when the connection broke: open a new listener.
  virtual std::vector<std::string> wait(std::chrono::milliseconds timeout) = 0;
};
std::unique_ptr<NotificationListener> listen_postgresql(const std::string& url,
                                                        const std::string& application_name,
                                                        const std::string& channel);

// Opens what `config` names, through the opener installed with set_db_opener() if any.
std::unique_ptr<DbBackend> open_backend(const StorageConfig& config);
// Replaces how open_backend() opens databases, process-wide (empty: the default). For the test
// suite, which runs the same tests on PostgreSQL by mapping each SQLite path to a database
// schema (tests/township/backend_environment.cpp). Not for production use.
using DbOpener = std::function<std::unique_ptr<DbBackend>(const StorageConfig&)>;
void set_db_opener(DbOpener opener);

class Db {
 public:
  // SQLite: opens (creates) the file; WAL journal, synchronous=FULL, foreign keys on.
  explicit Db(const std::filesystem::path& path);
  explicit Db(const StorageConfig& config);
  explicit Db(std::unique_ptr<DbBackend> backend);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Dialect dialect() const { return backend_->dialect(); }
  DbBackend& backend() { return *backend_; }

  void exec_script(const std::string& sql) { backend_->exec_script(sql); }
  int exec(const std::string& sql, const std::vector<Value>& params = {}) {
    return backend_->exec(sql, params);
  }
  std::vector<Row> query(const std::string& sql, const std::vector<Value>& params = {}) {
    return backend_->query(sql, params);
  }
  std::optional<Row> query_one(const std::string& sql, const std::vector<Value>& params = {});

  void begin();
  void commit();
  void rollback() noexcept;
  bool in_transaction() const { return in_transaction_; }

 private:
  std::unique_ptr<DbBackend> backend_;
  bool in_transaction_ = false;
};

// Commits on commit(), rolls back if destroyed before.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) { db_.begin(); }
  ~Transaction() {
    if (!done_) db_.rollback();
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    db_.commit();
    done_ = true;
  }

 private:
  Db& db_;
  bool done_ = false;
};

// A savepoint inside a transaction: release() keeps its work, destruction before that undoes it
// (and only it). SQL `SAVEPOINT`, the same on both backends.
class Savepoint {
 public:
  Savepoint(Db& db, std::string name);
  ~Savepoint();
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  void release();

 private:
  Db& db_;
  std::string name_;
  bool done_ = false;
};

// An optional text as a parameter (NULL when absent).
inline Value opt(const std::optional<std::string>& v) {
  return v ? Value{*v} : Value{nullptr};
}
inline Value opt(const std::optional<std::int64_t>& v) {
  return v ? Value{*v} : Value{nullptr};
}

}  // namespace homesafe::township
