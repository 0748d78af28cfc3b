#include "homesafe/township/db.hpp"

#include <mutex>

namespace homesafe::township {
namespace {

std::mutex& opener_mutex() {
  static std::mutex m;
  return m;
}

DbOpener& opener() {
  static DbOpener o;
  return o;
}

}  // namespace

bool DbError::retryable() const {
  return connection_lost || sqlstate == "40P01" || sqlstate == "40001" || sqlstate == "SQLITE_5" ||
         sqlstate == "SQLITE_6";
}

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

std::string StorageConfig::describe() const {
  if (backend == Dialect::kSqlite) return "sqlite " + path.string();
  return "postgresql " + redact_url(url);
}

std::string redact_url(const std::string& url) {
  std::string out = url;
  // URI form: scheme://user:password@host...
  const auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    const auto start = scheme + 3;
    const auto at = out.find('@', start);
    const auto slash = out.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const auto colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... as a URI query parameter or a key=value connection string.
  for (std::size_t pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    if (pos > 0 && out[pos - 1] != '?' && out[pos - 1] != '&' && out[pos - 1] != ' ') continue;
    const auto value = pos + 9;
    auto end = out.find_first_of("& ", value);
    if (end == std::string::npos) end = out.size();
    out.replace(value, end - value, "***");
  }
  return out;
}

std::string to_numbered_placeholders(const std::string& sql, int& count) {
  std::string out;
  out.reserve(sql.size() + 16);
  count = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      // A quoted literal or identifier; a doubled quote inside it is an escaped quote.
      const auto end = sql.find(c, i + 1);
      const auto stop = end == std::string::npos ? sql.size() : end + 1;
      out.append(sql, i, stop - i);
      i = stop - 1;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      const auto end = sql.find('\n', i);
      const auto stop = end == std::string::npos ? sql.size() : end;
      out.append(sql, i, stop - i);
      i = stop - 1;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++count);
    } else {
      out += c;
    }
  }
  return out;
}

void set_db_opener(DbOpener o) {
  std::lock_guard lock(opener_mutex());
  opener() = std::move(o);
}

std::unique_ptr<DbBackend> open_backend(const StorageConfig& config) {
  DbOpener o;
  {
    std::lock_guard lock(opener_mutex());
    o = opener();
  }
  if (o) return o(config);
  if (config.backend == Dialect::kPostgresql) {
    return open_postgresql(config.url, config.application_name);
  }
  return open_sqlite(config.path);
}

Db::Db(const std::filesystem::path& path) : Db(StorageConfig::sqlite(path)) {}

Db::Db(const StorageConfig& config) : Db(open_backend(config)) {}

Db::Db(std::unique_ptr<DbBackend> backend) : backend_(std::move(backend)) {
  if (!backend_) throw DbError("no database backend");
}

std::optional<Row> Db::query_one(const std::string& sql, const std::vector<Value>& params) {
  auto rows = query(sql, params);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

void Db::begin() {
  backend_->begin();
  in_transaction_ = true;
}

void Db::commit() {
  backend_->commit();
  in_transaction_ = false;
}

void Db::rollback() noexcept {
  if (!in_transaction_) return;
  backend_->rollback();
  in_transaction_ = false;
}

Savepoint::Savepoint(Db& db, std::string name) : db_(db), name_(std::move(name)) {
  db_.exec_script("SAVEPOINT " + name_);
}

Savepoint::~Savepoint() {
  if (done_ || !db_.in_transaction()) return;
  try {
    db_.exec_script("ROLLBACK TO SAVEPOINT " + name_);
    db_.exec_script("RELEASE SAVEPOINT " + name_);
  } catch (const DbError&) {
    // The transaction itself is broken; its owner rolls it back.
  }
}

void Savepoint::release() {
  db_.exec_script("RELEASE SAVEPOINT " + name_);
  done_ = true;
}

}  // namespace homesafe::township
