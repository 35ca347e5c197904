#include "store/db.h"

#include "common/log.h"
#include "common/time.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

namespace reach::store {

std::string Row::text(std::size_t i) const {
  const auto& c = cols.at(i).v;
  if (auto* s = std::get_if<std::string>(&c)) return *s;
  if (auto* n = std::get_if<std::int64_t>(&c)) return std::to_string(*n);
  return {};
}

std::optional<std::string> Row::opt_text(std::size_t i) const {
  if (null(i)) return std::nullopt;
  return text(i);
}

std::int64_t Row::integer(std::size_t i) const {
  const auto& c = cols.at(i).v;
  if (auto* n = std::get_if<std::int64_t>(&c)) return *n;
  if (auto* s = std::get_if<std::string>(&c)) {
    try {
      return std::stoll(*s);
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

namespace {

class SqliteSession : public Session {
 public:
  explicit SqliteSession(sqlite3* db) : db_(db) {}
  ~SqliteSession() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  }
  SqliteSession(const SqliteSession&) = delete;
  SqliteSession& operator=(const SqliteSession&) = delete;
  sqlite3* connection() const { return db_; }

  Result<Rows> query(std::string_view sql, const Params& params) override {
    Rows out;
    auto st = run(sql, params, &out);
    if (!st) return st.error();
    return out;
  }

  Result<std::int64_t> exec(std::string_view sql, const Params& params) override {
    auto st = run(sql, params, nullptr);
    if (!st) return st.error();
    return static_cast<std::int64_t>(sqlite3_changes(db_));
  }

  // Runs the statement only if it just reads (it may then run on a reader connection);
  // nullopt, having run nothing, if it would write.
  Result<std::optional<Rows>> query_if_readonly(std::string_view sql, const Params& params) {
    Rows out;
    bool wrote = false;
    auto st = run(sql, params, &out, &wrote);
    if (!st) return st.error();
    if (wrote) return std::optional<Rows>();
    return std::optional<Rows>(std::move(out));
  }

  Status exec_script(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return internal_error("database: " + msg);
    }
    return {};
  }

 private:
  Error db_error(std::string_view what) {
    int code = sqlite3_extended_errcode(db_);
    std::string msg = fmt::format("database {}: {}", what, sqlite3_errmsg(db_));
    if ((code & 0xff) == SQLITE_CONSTRAINT) return conflict(msg);
    log::error("db.error", {{"what", what}, {"message", sqlite3_errmsg(db_)}});
    return internal_error(msg);
  }

  // The connection's prepared statement for `sql` (kept for the next call), or a new one the
  // caller finalizes (`cached` false) once the cache is full.
  Result<sqlite3_stmt*> prepare(std::string_view sql, bool* cached) {
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) {
      *cached = true;
      return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt, nullptr) != SQLITE_OK) {
      return db_error("prepare");
    }
    *cached = cache_.size() < kMaxCached;
    if (*cached) cache_.emplace(std::move(key), stmt);
    return stmt;
  }

  Status run(std::string_view sql, const Params& params, Rows* out, bool* refuse_writes = nullptr) {
    bool cached = false;
    auto prepared = prepare(sql, &cached);
    if (!prepared) return prepared.error();
    sqlite3_stmt* stmt = *prepared;
    // Done with the statement: a cached one is reset for its next use, another finalized.
    auto release = [cached](sqlite3_stmt* st) {
      if (cached) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
      } else {
        sqlite3_finalize(st);
      }
    };
    std::unique_ptr<sqlite3_stmt, decltype(release)> guard(stmt, release);
    if (refuse_writes && !sqlite3_stmt_readonly(stmt)) {
      *refuse_writes = true;
      return {};
    }
    REACH_CHECK(static_cast<int>(params.size()) == sqlite3_bind_parameter_count(stmt),
                "SQL parameter count does not match the statement");
    for (std::size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      const auto& v = params[i].v;
      if (auto* n = std::get_if<std::int64_t>(&v)) {
        sqlite3_bind_int64(stmt, idx, *n);
      } else if (auto* s = std::get_if<std::string>(&v)) {
        sqlite3_bind_text(stmt, idx, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(stmt, idx);
      }
    }
    if (out) {
      int n = sqlite3_column_count(stmt);
      out->columns.clear();
      for (int i = 0; i < n; ++i) out->columns.emplace_back(sqlite3_column_name(stmt, i));
    }
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return db_error("step");
      if (!out) continue;
      Row row;
      int n = sqlite3_column_count(stmt);
      row.cols.reserve(n);
      for (int i = 0; i < n; ++i) {
        switch (sqlite3_column_type(stmt, i)) {
          case SQLITE_NULL:
            row.cols.emplace_back();
            break;
          case SQLITE_INTEGER:
            row.cols.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, i)));
            break;
          default: {
            auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
            int len = sqlite3_column_bytes(stmt, i);
            row.cols.emplace_back(std::string(p ? p : "", static_cast<std::size_t>(len)));
          }
        }
      }
      out->rows.push_back(std::move(row));
    }
    return {};
  }

  static constexpr std::size_t kMaxCached = 256;
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// One SQLite connection per thread at a time: the writer (every write, every transaction) and a
// pool of readers for statements that only read, so a long read never waits on a write and
// readers run side by side (WAL gives each a consistent snapshot).
class SqliteDatabase : public Database {
  // A read transaction on one reader connection, given back when it ends.
  class Snapshot : public Session {
   public:
    Snapshot(SqliteDatabase& db, SqliteSession* reader) : db_(db), reader_(reader) {}
    ~Snapshot() override {
      // A read transaction has nothing to commit: COMMIT only ends it.
      if (!reader_->exec("COMMIT", {})) (void)reader_->exec_script("ROLLBACK");
      db_.give_back(reader_);
    }
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

    Result<Rows> query(std::string_view sql, const Params& params) override {
      auto out = reader_->query_if_readonly(sql, params);
      if (!out) return out.error();
      if (!*out) return internal_error("database: a read snapshot cannot write");
      return std::move(**out);
    }
    Result<std::int64_t> exec(std::string_view, const Params&) override {
      return internal_error("database: a read snapshot cannot write");
    }

   private:
    SqliteDatabase& db_;
    SqliteSession* reader_;
  };

 public:
  SqliteDatabase(sqlite3* writer, std::string path)
      : path_(std::move(path)),
        writer_(writer),
        session_(std::make_unique<SqliteSession>(writer)) {}
  ~SqliteDatabase() override {
    idle_.clear();
    for (auto& r : readers_) {
      sqlite3* c = r->connection();
      r.reset();
      sqlite3_close_v2(c);
    }
    session_.reset();
    sqlite3_close_v2(writer_);
  }

  Status init() {
    return session_->exec_script(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
  }

  Backend backend() const override { return Backend::sqlite; }
  std::string describe() const override { return "sqlite:" + path_; }
  Status ping() override {
    auto r = query("SELECT 1", {});
    if (!r) return r.error();
    return {};
  }

  Status with_lock(const std::string& name, const std::function<Status()>& fn) override {
    std::mutex* m = nullptr;
    {
      std::lock_guard lock(locks_mu_);
      auto& slot = locks_[name];
      if (!slot) slot = std::make_unique<std::mutex>();
      m = slot.get();
    }
    std::lock_guard held(*m);
    return fn();
  }

  Status claim_presence(const std::string& name) override {
    std::lock_guard lock(locks_mu_);
    if (!present_.insert(name).second)
      return conflict("'" + name + "' is already held by this process");
    return {};
  }
  Result<bool> present(const std::string& name) override {
    std::lock_guard lock(locks_mu_);
    return present_.count(name) > 0;
  }

  Status notify(const std::string& channel, const std::string& payload) override {
    std::vector<std::function<void(const std::string&)>> to_call;
    {
      std::lock_guard lock(listeners_mu_);
      for (const auto& [c, fn] : listeners_)
        if (c == channel) to_call.push_back(fn);
    }
    for (const auto& fn : to_call) fn(payload);
    return {};
  }
  void listen(const std::string& channel, std::function<void(const std::string&)> fn) override {
    std::lock_guard lock(listeners_mu_);
    listeners_.emplace_back(channel, std::move(fn));
  }

  Result<Rows> query(std::string_view sql, const Params& params) override {
    if (SqliteSession* reader = take_reader()) {
      auto out = reader->query_if_readonly(sql, params);
      give_back(reader);
      if (!out) return out.error();
      if (*out) return std::move(**out);
    }
    std::lock_guard lock(mu_);
    return session_->query(sql, params);
  }
  Result<std::int64_t> exec(std::string_view sql, const Params& params) override {
    std::lock_guard lock(mu_);
    return session_->exec(sql, params);
  }

  std::unique_ptr<Session> read_snapshot() override {
    SqliteSession* reader = take_reader();
    if (!reader) return nullptr;
    // BEGIN (deferred) takes no lock: the first statement starts the read transaction.
    if (!reader->exec("BEGIN", {})) {
      give_back(reader);
      return nullptr;
    }
    return std::make_unique<Snapshot>(*this, reader);
  }

  Status transaction(const std::function<Status(Session&)>& fn) override {
    std::lock_guard lock(mu_);
    if (auto st = session_->exec_script("BEGIN IMMEDIATE"); !st) return st;
    Status result;
    try {
      result = fn(*session_);
    } catch (...) {
      (void)session_->exec_script("ROLLBACK");
      throw;
    }
    if (!result) {
      (void)session_->exec_script("ROLLBACK");
      return result;
    }
    if (auto st = session_->exec_script("COMMIT"); !st) {
      (void)session_->exec_script("ROLLBACK");
      return st;
    }
    return {};
  }

 private:
  static constexpr std::size_t kMaxReaders = 8;

  // A free reader, opened if there is none and the pool has room; nullptr when every reader is
  // busy (the statement then runs on the writer rather than wait).
  SqliteSession* take_reader() {
    {
      std::lock_guard lock(readers_mu_);
      if (!idle_.empty()) {
        SqliteSession* r = idle_.back();
        idle_.pop_back();
        return r;
      }
      if (readers_.size() >= kMaxReaders) return nullptr;
    }
    sqlite3* r = nullptr;
    if (sqlite3_open_v2(path_.c_str(), &r, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      log::warn("db.reader_open_failed", {{"message", r ? sqlite3_errmsg(r) : "out of memory"}});
      sqlite3_close_v2(r);
      return nullptr;
    }
    sqlite3_busy_timeout(r, 5000);
    std::lock_guard lock(readers_mu_);
    readers_.push_back(std::make_unique<SqliteSession>(r));
    return readers_.back().get();
  }
  void give_back(SqliteSession* r) {
    std::lock_guard lock(readers_mu_);
    idle_.push_back(r);
  }

  std::string path_;
  sqlite3* writer_;
  std::mutex mu_;
  std::unique_ptr<SqliteSession> session_;  // the writer; guarded by mu_
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<SqliteSession>> readers_;  // every reader; guarded by readers_mu_
  std::vector<SqliteSession*> idle_;                     // those not in use; guarded by readers_mu_
  std::mutex locks_mu_;
  std::map<std::string, std::unique_ptr<std::mutex>> locks_;  // guarded by locks_mu_
  std::set<std::string> present_;                             // guarded by locks_mu_
  std::mutex listeners_mu_;
  std::vector<std::pair<std::string, std::function<void(const std::string&)>>> listeners_;
};

}  // namespace

Result<std::unique_ptr<Database>> Database::open_sqlite(const std::string& path) {
  // SQLite's memory statistics take a process-wide mutex on every allocation: with several
  // connections in use at once that is where the threads would meet. Nothing here reads them.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return internal_error(fmt::format("cannot open database {}: {}", path, msg));
  }
  sqlite3_busy_timeout(db, 5000);
  auto out = std::make_unique<SqliteDatabase>(db, path);
  if (auto st = out->init(); !st) return st.error();
  return std::unique_ptr<Database>(std::move(out));
}

bool Database::is_postgresql_url(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

Result<std::unique_ptr<Database>> Database::open(const std::string& url) {
  if (is_postgresql_url(url)) return open_postgresql(url);
  if (url.starts_with("sqlite:")) return open_sqlite(url.substr(7));
  if (url.find("://") != std::string::npos)
    return bad_request(fmt::format(
        "unsupported database URL '{}': use postgresql://… or sqlite:PATH", url.substr(0, 40)));
  return open_sqlite(url);
}

namespace {
std::string url_file(const std::string& data_dir) {
  return data_dir + "/database";
}
}  // namespace

std::string database_url(const std::string& data_dir, std::string_view sqlite_file) {
  std::ifstream in(url_file(data_dir));
  std::string url;
  if (in && std::getline(in, url) && !url.empty()) return url;
  return "sqlite:" + data_dir + "/" + std::string(sqlite_file);
}

Status remember_database_url(const std::string& data_dir, const std::string& url) {
  std::string path = url_file(data_dir);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return internal_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  std::string line = url + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) return internal_error(fmt::format("cannot write {}", path));
  return {};
}

bool has_database(const std::string& data_dir, std::string_view sqlite_file) {
  return std::filesystem::exists(url_file(data_dir)) ||
         std::filesystem::exists(data_dir + "/" + std::string(sqlite_file));
}

Status Database::migrate(const std::vector<Migration>& migrations) {
  // Every step is a transaction, and transactions exclude each other across processes: nodes
  // that start together on one PostgreSQL apply each migration once.
  auto created = transaction([](Session& s) -> Status {
    auto r = s.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
    if (!r) return r.error();
    return {};
  });
  if (!created) return created.error();
  auto rows = query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!rows) return rows.error();
  std::int64_t current = rows->rows.at(0).integer(0);
  int newest = migrations.empty() ? 0 : migrations.back().version;
  if (current > newest) {
    return internal_error(
        fmt::format("the database schema is version {}, newer than this program knows ({}); "
                    "run a newer release",
                    current, newest));
  }
  int prev = 0;
  for (const auto& m : migrations) {
    REACH_CHECK(m.version > prev, "migrations must have strictly increasing versions");
    prev = m.version;
    if (m.version <= current) continue;
    const auto& statements =
        backend() == Backend::postgresql && !m.postgresql.empty() ? m.postgresql : m.statements;
    bool applied = false;
    auto st = transaction([&](Session& s) -> Status {
      auto done = s.query("SELECT 1 FROM schema_migrations WHERE version = ?", {m.version});
      if (!done) return done.error();
      if (!done->empty()) return {};  // another process applied it meanwhile
      for (const auto& stmt : statements) {
        auto r = s.exec(stmt);
        if (!r) return r.error();
      }
      auto r = s.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                      {m.version, m.name, now_ms()});
      if (!r) return r.error();
      applied = true;
      return {};
    });
    if (!st) return st;
    if (applied) log::info("db.migrated", {{"version", m.version}, {"name", m.name}});
  }
  return {};
}

}  // namespace reach::store
