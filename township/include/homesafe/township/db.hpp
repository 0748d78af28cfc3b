#pragma once
// A thin SQLite connection: statements with positional `?` parameters, rows of values. The SQL
// the service writes stays within what PostgreSQL also accepts (a PostgreSQL backend would
// rewrite `?` to `$n`); see docs/township.md.

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

struct sqlite3;

namespace homesafe::township {

struct DbError : std::runtime_error {
  using std::runtime_error::runtime_error;
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

class Db {
 public:
  // Opens (creates) the database; WAL journal, synchronous=FULL, foreign keys on.
  explicit Db(const std::filesystem::path& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without parameters.
  void exec_script(const std::string& sql);
  // Runs one statement; returns the number of rows changed.
  int exec(const std::string& sql, const std::vector<Value>& params = {});
  std::vector<Row> query(const std::string& sql, const std::vector<Value>& params = {});
  std::optional<Row> query_one(const std::string& sql, const std::vector<Value>& params = {});

  void begin();
  void commit();
  void rollback() noexcept;
  bool in_transaction() const { return in_transaction_; }

 private:
  sqlite3* db_ = nullptr;
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

// An optional text as a parameter (NULL when absent).
inline Value opt(const std::optional<std::string>& v) {
  return v ? Value{*v} : Value{nullptr};
}
inline Value opt(const std::optional<std::int64_t>& v) {
  return v ? Value{*v} : Value{nullptr};
}

}  // namespace homesafe::township
