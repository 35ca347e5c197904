#include "store/db.h"

#include "common/log.h"
#include "common/time.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include <mutex>

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

  Status run(std::string_view sql, const Params& params, Rows* out) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
        SQLITE_OK) {
      return db_error("prepare");
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> guard(stmt, sqlite3_finalize);
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

  sqlite3* db_;
};

class SqliteDatabase : public Database {
 public:
  explicit SqliteDatabase(sqlite3* db) : db_(db), session_(db) {}
  ~SqliteDatabase() override { sqlite3_close_v2(db_); }

  Status init() {
    return session_.exec_script(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
  }

  Result<Rows> query(std::string_view sql, const Params& params) override {
    std::lock_guard lock(mu_);
    return session_.query(sql, params);
  }
  Result<std::int64_t> exec(std::string_view sql, const Params& params) override {
    std::lock_guard lock(mu_);
    return session_.exec(sql, params);
  }

  Status transaction(const std::function<Status(Session&)>& fn) override {
    std::lock_guard lock(mu_);
    if (auto st = session_.exec_script("BEGIN IMMEDIATE"); !st) return st;
    Status result;
    try {
      result = fn(session_);
    } catch (...) {
      (void)session_.exec_script("ROLLBACK");
      throw;
    }
    if (!result) {
      (void)session_.exec_script("ROLLBACK");
      return result;
    }
    if (auto st = session_.exec_script("COMMIT"); !st) {
      (void)session_.exec_script("ROLLBACK");
      return st;
    }
    return {};
  }

  Status script(const std::string& sql) { return session_.exec_script(sql); }

 private:
  sqlite3* db_;
  std::mutex mu_;
  SqliteSession session_;  // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<Database>> Database::open_sqlite(const std::string& path) {
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
  auto out = std::make_unique<SqliteDatabase>(db);
  if (auto st = out->init(); !st) return st.error();
  return std::unique_ptr<Database>(std::move(out));
}

Status Database::migrate(const std::vector<Migration>& migrations) {
  auto created = exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
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
    auto st = transaction([&](Session& s) -> Status {
      for (const auto& stmt : m.statements) {
        auto r = s.exec(stmt);
        if (!r) return r.error();
      }
      auto r = s.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                      {m.version, m.name, now_ms()});
      if (!r) return r.error();
      return {};
    });
    if (!st) return st;
    log::info("db.migrated", {{"version", m.version}, {"name", m.name}});
  }
  return {};
}

}  // namespace reach::store
