// The PostgreSQL backend (libpq): county scale, many processes over one database
// (docs/township.md, "Storage"; docs/deployment.md).

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>

#include <charconv>
#include <cstdlib>
#include <memory>
#include <unordered_map>

#include "homesafe/township/db.hpp"

namespace homesafe::township {
namespace {

// Type OIDs (server/catalog/pg_type_d.h; stable across releases).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// The oldest server the schema and its statements are written for (declarative partitioning
// with partitioned indexes, ON CONFLICT on partitioned tables' unique indexes).
constexpr int kMinServerVersion = 120000;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Value to_value(const PGresult* r, int row, int column) {
  if (PQgetisnull(r, row, column)) return nullptr;
  const char* text = PQgetvalue(r, row, column);
  const int length = PQgetlength(r, row, column);
  switch (PQftype(r, column)) {
    case kBoolOid:
      return std::int64_t{text[0] == 't' ? 1 : 0};
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
      return std::strtoll(text, nullptr, 10);
    case kNumericOid: {
      // SUM(bigint) is numeric: an integral value stays an integer.
      std::int64_t n = 0;
      const auto [end, ec] = std::from_chars(text, text + length, n);
      if (ec == std::errc() && end == text + length) return n;
      return std::strtod(text, nullptr);
    }
    case kFloat4Oid:
    case kFloat8Oid:
      return std::strtod(text, nullptr);
    default:
      return std::string(text, static_cast<std::size_t>(length));
  }
}

// The URL's parameters, then application_name (when given) over the URL's own.
PGconn* connect(const std::string& url, const std::string& application_name) {
  const char* keys[] = {"dbname", application_name.empty() ? nullptr : "application_name", nullptr};
  const char* values[] = {url.c_str(), application_name.c_str(), nullptr};
  return PQconnectdbParams(keys, values, 1);
}

class PgDb final : public DbBackend {
 public:
  PgDb(std::string url, std::string application_name)
      : url_(std::move(url)), application_name_(std::move(application_name)) {
    conn_ = connect(url_, application_name_);
    if (conn_ == nullptr) throw DbError("cannot connect to PostgreSQL: out of memory", "", true);
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = trim(PQerrorMessage(conn_));
      PQfinish(conn_);
      throw DbError("cannot connect to PostgreSQL " + redact_url(url_) + ": " + why, "08001", true);
    }
    if (PQserverVersion(conn_) < kMinServerVersion) {
      const int version = PQserverVersion(conn_);
      PQfinish(conn_);
      throw DbError("PostgreSQL server version " + std::to_string(version) +
                    " is too old (12 or newer needed)");
    }
    session_setup();
  }
  ~PgDb() override { PQfinish(conn_); }
  PgDb(const PgDb&) = delete;
  PgDb& operator=(const PgDb&) = delete;

  Dialect dialect() const override { return Dialect::kPostgresql; }

  void exec_script(const std::string& sql) override {
    ensure_connected();
    Result r(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && PQresultStatus(r.get()) != PGRES_TUPLES_OK &&
        !in_transaction_ && PQstatus(conn_) != CONNECTION_OK) {
      reconnect();  // closed before it ran: as in run()
      r.reset(PQexec(conn_, sql.c_str()));
    }
    check(r.get(), "exec");
  }

  int exec(const std::string& sql, const std::vector<Value>& params) override {
    Result r = run(sql, params);
    const char* tuples = PQcmdTuples(r.get());
    return tuples[0] ? std::atoi(tuples) : 0;
  }

  std::vector<Row> query(const std::string& sql, const std::vector<Value>& params) override {
    Result r = run(sql, params);
    std::vector<Row> rows;
    const int n = PQntuples(r.get());
    const int columns = PQnfields(r.get());
    rows.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) values.push_back(to_value(r.get(), i, c));
      rows.emplace_back(std::move(values));
    }
    return rows;
  }

  void begin() override {
    ensure_connected();
    Result r(PQexec(conn_, "BEGIN"));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && PQstatus(conn_) != CONNECTION_OK) {
      // The connection died while idle (server restart, terminated backend): nothing ran yet.
      reconnect();
      r.reset(PQexec(conn_, "BEGIN"));
    }
    check(r.get(), "begin");
    in_transaction_ = true;
  }

  void commit() override {
    Result r(PQexec(conn_, "COMMIT"));
    in_transaction_ = false;
    check(r.get(), "commit");
    // A COMMIT of a failed transaction answers ROLLBACK without an error.
    if (std::string(PQcmdStatus(r.get())) == "ROLLBACK") {
      throw DbError("commit: the transaction was rolled back", "25P02");
    }
  }

  void rollback() noexcept override {
    in_transaction_ = false;
    if (PQstatus(conn_) != CONNECTION_OK) return;
    PQclear(PQexec(conn_, "ROLLBACK"));
  }

 private:
  static void ignore_notice(void*, const char*) {}

  void session_setup() {
    PQsetNoticeProcessor(conn_, &PgDb::ignore_notice, nullptr);
    // Integer-millisecond times only; a fixed zone keeps any server-side date maths stable.
    Result r(PQexec(conn_, "SET TIME ZONE 'UTC'"));
    check(r.get(), "session setup");
  }

  void reconnect() {
    broken_ = false;
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      throw DbError(
          "cannot reconnect to PostgreSQL " + redact_url(url_) + ": " + trim(PQerrorMessage(conn_)),
          "08001", true);
    }
    session_setup();
  }

  // Before a statement outside a transaction: notice a connection the server closed while we
  // were idle (its termination message is waiting on the socket) and open a new one.
  void ensure_connected() {
    if (in_transaction_) {
      if (PQstatus(conn_) != CONNECTION_OK) {
        throw DbError("connection to PostgreSQL lost inside a transaction", "08006", true);
      }
      return;
    }
    if (!broken_ && PQstatus(conn_) == CONNECTION_OK && PQconsumeInput(conn_) == 1 &&
        PQstatus(conn_) == CONNECTION_OK) {
      return;
    }
    reconnect();
  }

  void check(const PGresult* r, const char* what) {
    const auto status = PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    // The server ended the session (pg_terminate_backend: 57P01; shutdown, crash; class 08):
    // libpq may not have seen the socket close yet, but the connection is gone all the same.
    const std::string code = state ? state : "";
    const bool lost = PQstatus(conn_) != CONNECTION_OK || code.starts_with("08") ||
                      code == "57P01" || code == "57P02" || code == "57P03";
    if (lost) broken_ = true;
    std::string why = r ? trim(PQresultErrorMessage(r)) : std::string();
    if (why.empty()) why = trim(PQerrorMessage(conn_));
    throw DbError(std::string(what) + ": " + why, state ? state : (lost ? "08006" : ""), lost);
  }

  const std::pair<std::string, int>& translate(const std::string& sql) {
    auto it = translated_.find(sql);
    if (it != translated_.end()) return it->second;
    if (translated_.size() > 4096) translated_.clear();
    int count = 0;
    std::string numbered = to_numbered_placeholders(sql, count);
    return translated_.emplace(sql, std::make_pair(std::move(numbered), count)).first->second;
  }

  Result run(const std::string& sql, const std::vector<Value>& params) {
    const auto& [numbered, count] = translate(sql);
    if (static_cast<std::size_t>(count) != params.size()) {
      throw DbError("statement expects " + std::to_string(count) + " parameters, got " +
                    std::to_string(params.size()));
    }
    // Integers and reals go typed (int8, float8); texts go untyped so the server reads them as
    // the column or operand they meet; NULL is untyped too.
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<Oid> types(params.size(), 0);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        texts[i] = std::to_string(*n);
        types[i] = kInt8Oid;
      } else if (const auto* d = std::get_if<double>(&v)) {
        char buffer[64];
        const auto end = std::to_chars(buffer, buffer + sizeof buffer, *d).ptr;
        texts[i].assign(buffer, end);
        types[i] = kFloat8Oid;
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        texts[i] = *s;
      } else {
        continue;  // NULL
      }
      values[i] = texts[i].c_str();
    }
    ensure_connected();
    auto send = [&] {
      return Result(PQexecParams(conn_, numbered.c_str(), count, types.data(), values.data(),
                                 nullptr, nullptr, 0));
    };
    Result r = send();
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && !in_transaction_ &&
        PQstatus(conn_) != CONNECTION_OK) {
      // The server closed the connection (terminated while idle, restarted) before the
      // statement ran: send it again on a new one. Outside a transaction the statement cannot
      // have half-run; that it committed just before the connection broke is possible only in
      // a window of microseconds, and the service's writes outside transactions are idempotent.
      reconnect();
      r = send();
    }
    check(r.get(), "statement");
    return r;
  }

  std::string url_;
  std::string application_name_;
  PGconn* conn_ = nullptr;
  bool in_transaction_ = false;
  bool broken_ = false;  // the server ended the session: open a new one before the next use
  std::unordered_map<std::string, std::pair<std::string, int>> translated_;
};

class PgListener final : public NotificationListener {
 public:
  PgListener(const std::string& url, const std::string& application_name,
             const std::string& channel) {
    conn_ = connect(url, application_name);
    if (conn_ == nullptr) throw DbError("cannot connect to PostgreSQL: out of memory", "", true);
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = trim(PQerrorMessage(conn_));
      PQfinish(conn_);
      throw DbError("cannot connect to PostgreSQL " + redact_url(url) + ": " + why, "08001", true);
    }
    char* quoted = PQescapeIdentifier(conn_, channel.c_str(), channel.size());
    const std::string sql = std::string("LISTEN ") + (quoted ? quoted : "");
    PQfreemem(quoted);
    Result r(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      const std::string why = trim(PQerrorMessage(conn_));
      PQfinish(conn_);
      throw DbError("LISTEN failed: " + why, "", true);
    }
  }
  ~PgListener() override { PQfinish(conn_); }
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  std::vector<std::string> wait(std::chrono::milliseconds timeout) override {
    std::vector<std::string> out;
    collect(out);
    if (!out.empty()) return out;
    pollfd fd{PQsocket(conn_), POLLIN, 0};
    if (fd.fd < 0) throw DbError("listener: connection lost", "08006", true);
    const int ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
    if (ready < 0 && errno != EINTR) throw DbError("listener: poll failed", "", true);
    if (ready > 0 && PQconsumeInput(conn_) != 1) {
      throw DbError("listener: " + trim(PQerrorMessage(conn_)), "08006", true);
    }
    collect(out);
    if (PQstatus(conn_) != CONNECTION_OK) {
      throw DbError("listener: connection lost", "08006", true);
    }
    return out;
  }

 private:
  void collect(std::vector<std::string>& out) {
    while (PGnotify* n = PQnotifies(conn_)) {
      out.emplace_back(n->extra ? n->extra : "");
      PQfreemem(n);
    }
  }

  PGconn* conn_ = nullptr;
};

}  // namespace

std::unique_ptr<DbBackend> open_postgresql(const std::string& url,
                                           const std::string& application_name) {
  return std::make_unique<PgDb>(url, application_name);
}

std::unique_ptr<NotificationListener> listen_postgresql(const std::string& url,
                                                        const std::string& application_name,
                                                        const std::string& channel) {
  return std::make_unique<PgListener>(url, application_name, channel);
}

}  // namespace homesafe::township
