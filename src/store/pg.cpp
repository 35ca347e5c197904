// The PostgreSQL backend (libpq): a pool of connections, `?` placeholders rewritten to `$n`,
// statements prepared once per connection. Transactions are SERIALIZABLE: they run side by side,
// on every process sharing the database, and PostgreSQL aborts one that could not have run alone
// in some order; that one is run again (the guarantee SQLite's single writer gives the embedded
// store, without making every node's writes wait on one lock).
#include "common/log.h"
#include "store/db.h"

#include <libpq-fe.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include <poll.h>
#include <unordered_map>

namespace reach::store {
namespace {

// How many times a transaction aborted by a serialization failure or a deadlock is run again.
constexpr int kTransactionAttempts = 30;
constexpr std::size_t kMaxPreparedPerConnection = 256;
constexpr auto kPoolWait = std::chrono::seconds(15);

// Type OIDs from PostgreSQL's pg_type.h (stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

// libpq's messages run over several lines ("…failed: …\n\tIs the server running…?"): one line.
std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "; ";
    } else if (c != '\t') {
      out.push_back(c);
    }
  }
  return out;
}

// `?` to `$1…$n`, leaving quoted strings, quoted identifiers and comments alone.
std::string number_placeholders(std::string_view sql, std::size_t* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  std::size_t n = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      std::size_t end = sql.find(c, i + 1);
      if (end == std::string_view::npos) end = sql.size() - 1;
      out.append(sql.substr(i, end - i + 1));
      i = end;  // a doubled quote is two quoted runs back to back: same text out
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      std::size_t end = sql.find('\n', i);
      if (end == std::string_view::npos) end = sql.size() - 1;
      out.append(sql.substr(i, end - i + 1));
      i = end;
    } else if (c == '?') {
      out += fmt::format("${}", ++n);
    } else {
      out.push_back(c);
    }
  }
  *count = n;
  return out;
}

struct PgResult {
  PGresult* r;
  explicit PgResult(PGresult* p) : r(p) {}
  ~PgResult() { PQclear(r); }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
};

struct Connection {
  PGconn* conn = nullptr;
  std::unordered_map<std::string, std::string> prepared;  // SQL -> statement name
  ~Connection() { PQfinish(conn); }
  bool broken() const { return PQstatus(conn) != CONNECTION_OK; }
};

void ignore_notice(void*, const char*) {}

class PgSession : public Session {
 public:
  explicit PgSession(Connection& c) : c_(c) {}

  Result<Rows> query(std::string_view sql, const Params& params) override {
    Rows out;
    auto st = run(sql, params, &out, nullptr);
    if (!st) return st.error();
    return out;
  }

  Result<std::int64_t> exec(std::string_view sql, const Params& params) override {
    std::int64_t changed = 0;
    auto st = run(sql, params, nullptr, &changed);
    if (!st) return st.error();
    return changed;
  }

  // Whether a statement of this session failed because its transaction could not be serialised
  // with a concurrent one (40001) or was chosen to end a deadlock (40P01): the transaction is to
  // be run again, whatever the code that ran the statement made of its error.
  bool must_retry() const { return must_retry_; }
  // Whether the transaction this session is in has failed (a statement's error).
  bool failed() const { return PQtransactionStatus(c_.conn) == PQTRANS_INERROR; }

  // A statement without parameters or results (BEGIN, COMMIT, SET …).
  Status command(const char* sql) {
    PgResult r(PQexec(c_.conn, sql));
    auto s = PQresultStatus(r.r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) return error(r.r, "statement");
    return {};
  }

 private:
  Error error(PGresult* r, std::string_view what) {
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    // The primary message only: the detail can quote the row's values, which a caller may show.
    const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string text = one_line(primary ? primary : "");
    if (text.empty()) text = one_line(PQerrorMessage(c_.conn));
    std::string msg = fmt::format("database {}: {}", what, text);
    std::string_view sqlstate = state ? state : "";
    if (sqlstate == "40001" || sqlstate == "40P01") {
      must_retry_ = true;
      return unavailable("the database is busy: " + text);
    }
    if (sqlstate.starts_with("23")) return conflict(msg);  // integrity constraint violation
    if (sqlstate.starts_with("22"))  // data exception: a value the column cannot hold
      return bad_request("a value cannot be stored: " + text);
    if (c_.broken() || sqlstate.starts_with("08") || sqlstate.starts_with("57") ||
        sqlstate == "55P03" || sqlstate == "53300") {
      log::warn("db.unavailable", {{"what", what}, {"sqlstate", sqlstate}, {"message", text}});
      return unavailable("the database is unavailable: " + text);
    }
    log::error("db.error", {{"what", what}, {"sqlstate", sqlstate}, {"message", text}});
    return internal_error(msg);
  }

  Status run(std::string_view sql, const Params& params, Rows* out, std::int64_t* changed) {
    std::size_t n = 0;
    std::string numbered = number_placeholders(sql, &n);
    REACH_CHECK(n == params.size(), "SQL parameter count does not match the statement");
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& v = params[i].v;
      if (auto* num = std::get_if<std::int64_t>(&v)) {
        texts[i] = std::to_string(*num);
      } else if (auto* s = std::get_if<std::string>(&v)) {
        if (s->find('\0') != std::string::npos)
          return bad_request("a value cannot be stored: text holds a NUL character");
        texts[i] = *s;
      } else {
        continue;  // NULL
      }
      values[i] = texts[i].c_str();
    }
    auto name = prepare(numbered, static_cast<int>(n));
    if (!name) return name.error();
    PgResult r(PQexecPrepared(c_.conn, name->c_str(), static_cast<int>(n), values.data(), nullptr,
                              nullptr, 0));
    auto status = PQresultStatus(r.r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return error(r.r, "statement");
    if (changed) {
      const char* t = PQcmdTuples(r.r);
      *changed = (t && *t) ? std::strtoll(t, nullptr, 10) : 0;
    }
    if (!out) return {};
    int cols = PQnfields(r.r);
    std::vector<Oid> types(cols);
    out->columns.clear();
    for (int c = 0; c < cols; ++c) {
      out->columns.emplace_back(PQfname(r.r, c));
      types[c] = PQftype(r.r, c);
    }
    int rows = PQntuples(r.r);
    out->rows.reserve(rows);
    for (int i = 0; i < rows; ++i) {
      Row row;
      row.cols.reserve(cols);
      for (int c = 0; c < cols; ++c) {
        if (PQgetisnull(r.r, i, c)) {
          row.cols.emplace_back();
          continue;
        }
        const char* v = PQgetvalue(r.r, i, c);
        switch (types[c]) {
          case kInt8Oid:
          case kInt4Oid:
          case kInt2Oid:
            row.cols.emplace_back(static_cast<std::int64_t>(std::strtoll(v, nullptr, 10)));
            break;
          case kBoolOid:
            row.cols.emplace_back(static_cast<std::int64_t>(v[0] == 't' ? 1 : 0));
            break;
          default:
            row.cols.emplace_back(std::string(v, static_cast<std::size_t>(PQgetlength(r.r, i, c))));
        }
      }
      out->rows.push_back(std::move(row));
    }
    return {};
  }

  // The statement's server-side name, prepared on first use on this connection.
  Result<std::string> prepare(const std::string& sql, int nparams) {
    if (auto it = c_.prepared.find(sql); it != c_.prepared.end()) return it->second;
    if (c_.prepared.size() >= kMaxPreparedPerConnection) {
      if (auto st = command("DEALLOCATE ALL"); !st) return st.error();
      c_.prepared.clear();
    }
    std::string name = fmt::format("r{}", next_name_++);
    PgResult r(PQprepare(c_.conn, name.c_str(), sql.c_str(), nparams, nullptr));
    if (PQresultStatus(r.r) != PGRES_COMMAND_OK) return error(r.r, "prepare");
    c_.prepared.emplace(sql, name);
    return name;
  }

  Connection& c_;
  bool must_retry_ = false;
  static inline std::atomic<std::uint64_t> next_name_{0};
};

class PgDatabase : public Database {
 public:
  PgDatabase(std::string url, std::size_t pool_size) : url_(std::move(url)), max_(pool_size) {}
  ~PgDatabase() override {
    stopping_ = true;
    for (auto& t : listeners_) t.join();
  }

  // A session-level advisory lock on a connection of the pool, held while `fn` runs (its
  // statements use other connections).
  Status with_lock(const std::string& name, const std::function<Status()>& fn) override {
    auto c = acquire();
    if (!c) return c.error();
    PgSession s(**c);
    auto locked = s.query("SELECT pg_advisory_lock(hashtext(?))", {"reach:" + name});
    if (!locked) {
      release(std::move(*c));
      return locked.error();
    }
    Status result;
    try {
      result = fn();
    } catch (...) {
      (void)s.query("SELECT pg_advisory_unlock(hashtext(?))", {"reach:" + name});
      release(std::move(*c));
      throw;
    }
    // A connection that broke lost its lock with it; either way the lock is no longer held.
    (void)s.query("SELECT pg_advisory_unlock(hashtext(?))", {"reach:" + name});
    release(std::move(*c));
    return result;
  }

  // The lock lives on a connection of its own, watched by a thread that retakes it if the
  // connection breaks.
  Status claim_presence(const std::string& name) override {
    auto c = connect();
    if (!c) return c.error();
    auto got = take_presence(**c, name);
    if (!got) return got.error();
    if (!*got) return conflict("another live process holds '" + name + "' on this database");
    std::shared_ptr<Connection> held = std::move(*c);
    listeners_.emplace_back([this, name, held] { presence_loop(name, held); });
    return {};
  }

  Result<bool> present(const std::string& name) override {
    // A bigint advisory key is shown in pg_locks as its high half (classid) and low half (objid).
    auto r = query(
        "SELECT COUNT(*) FROM pg_locks l, (SELECT hashtext(?)::bigint AS k) h"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
        " AND l.classid::bigint = ((h.k >> 32) & 4294967295)"
        " AND l.objid::bigint = (h.k & 4294967295)",
        {presence_key(name)});
    if (!r) return r.error();
    return !r->empty() && r->rows[0].integer(0) > 0;
  }

  Status notify(const std::string& channel, const std::string& payload) override {
    auto r = query("SELECT pg_notify(?, ?)", {channel, payload});
    if (!r) return r.error();
    return {};
  }

  // One connection and thread per listened channel: LISTEN, then wait on its socket.
  void listen(const std::string& channel, std::function<void(const std::string&)> fn) override {
    listeners_.emplace_back([this, channel, fn = std::move(fn)] { listen_loop(channel, fn); });
  }

  Backend backend() const override { return Backend::postgresql; }
  std::string describe() const override { return described_; }

  Status start() {
    auto c = acquire();
    if (!c) return c.error();
    described_ = fmt::format("postgresql://{}@{}:{}/{}", PQuser((*c)->conn), PQhost((*c)->conn),
                             PQport((*c)->conn), PQdb((*c)->conn));
    release(std::move(*c));
    return {};
  }

  Status ping() override {
    auto r = query("SELECT 1", {});
    if (!r) return r.error();
    return {};
  }

  Result<Rows> query(std::string_view sql, const Params& params) override {
    auto c = acquire();
    if (!c) return c.error();
    auto out = PgSession(**c).query(sql, params);
    release(std::move(*c));
    return out;
  }

  Result<std::int64_t> exec(std::string_view sql, const Params& params) override {
    auto c = acquire();
    if (!c) return c.error();
    auto out = PgSession(**c).exec(sql, params);
    release(std::move(*c));
    return out;
  }

  Status transaction(const std::function<Status(Session&)>& fn) override {
    auto c = acquire();
    if (!c) return c.error();
    Status result;
    for (int attempt = 1;; ++attempt) {
      PgSession s(**c);
      try {
        result = attempt_transaction(s, fn);
      } catch (...) {
        (void)s.command("ROLLBACK");
        release(std::move(*c));
        throw;
      }
      if (!s.must_retry()) break;
      (void)s.command("ROLLBACK");
      if (attempt == kTransactionAttempts) {
        log::warn("db.transaction_gave_up", {{"attempts", attempt}});
        result = unavailable("the database is too busy: try again");
        break;
      }
      // A little random wait, longer each time, so that the same two do not collide again.
      thread_local std::minstd_rand jitter(std::random_device{}());
      std::this_thread::sleep_for(
          std::chrono::microseconds(static_cast<int>(jitter() % 1000) * std::min(attempt, 10)));
    }
    release(std::move(*c));
    return result;
  }

  // One run of `fn` in a transaction, committed when it succeeds. A failed statement whose error
  // `fn` did not return still fails the transaction: PostgreSQL would have rolled it back at
  // COMMIT, and the caller would have been told it was done.
  static Status attempt_transaction(PgSession& s, const std::function<Status(Session&)>& fn) {
    if (auto st = s.command("BEGIN ISOLATION LEVEL SERIALIZABLE"); !st) return st;
    Status inner = fn(s);
    if (!inner) {
      (void)s.command("ROLLBACK");
      return inner;
    }
    if (s.failed()) {
      (void)s.command("ROLLBACK");
      log::error("db.statement_error_ignored", {});
      return internal_error("database: a statement of the transaction failed");
    }
    if (auto st = s.command("COMMIT"); !st) {
      (void)s.command("ROLLBACK");
      return st;
    }
    return {};
  }

 private:
  void listen_loop(const std::string& channel, const std::function<void(const std::string&)>& fn) {
    bool first = true;
    while (!stopping_) {
      auto c = connect();
      if (!c) {
        log::warn("db.listen_failed", {{"channel", channel}, {"error", c.error().message}});
        for (int i = 0; i < 10 && !stopping_; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      std::unique_ptr<char, decltype(&PQfreemem)> quoted(
          PQescapeIdentifier((*c)->conn, channel.c_str(), channel.size()), PQfreemem);
      if (!quoted || !PgSession(**c).command(("LISTEN " + std::string(quoted.get())).c_str())) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      // Signals sent while this listener was away are lost: say so, so that it catches up.
      if (!first) fn("");
      first = false;
      while (!stopping_) {
        pollfd p{PQsocket((*c)->conn), POLLIN, 0};
        int n = ::poll(&p, 1, 200);
        if (n < 0 && errno != EINTR) break;
        if (n <= 0) continue;
        if (!PQconsumeInput((*c)->conn)) break;  // the connection is gone: reconnect
        while (PGnotify* note = PQnotifies((*c)->conn)) {
          std::string payload = note->extra ? note->extra : "";
          PQfreemem(note);
          fn(payload);
        }
      }
      if (!stopping_) log::warn("db.listen_lost", {{"channel", channel}});
    }
  }

  static std::string presence_key(const std::string& name) { return "reach:presence:" + name; }

  Result<bool> take_presence(Connection& c, const std::string& name) {
    auto r =
        PgSession(c).query("SELECT CASE WHEN pg_try_advisory_lock(hashtext(?)) THEN 1 ELSE 0 END",
                           {presence_key(name)});
    if (!r) return r.error();
    return !r->empty() && r->rows[0].integer(0) == 1;
  }

  // Watches the connection that holds a presence; when it breaks, reconnects and retakes it.
  void presence_loop(const std::string& name, std::shared_ptr<Connection> c) {
    bool warned_taken = false;
    while (!stopping_) {
      if (c) {
        pollfd p{PQsocket(c->conn), POLLIN, 0};
        int n = ::poll(&p, 1, 200);
        if (n < 0 && errno != EINTR) c.reset();
        if (n > 0 && !PQconsumeInput(c->conn)) {
          log::warn("db.presence_lost", {{"name", name}});
          c.reset();
        }
        continue;
      }
      for (int i = 0; i < 5 && !stopping_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      auto fresh = connect();
      if (!fresh) continue;
      auto got = take_presence(**fresh, name);
      if (got && *got) {
        log::info("db.presence_retaken", {{"name", name}});
        c = std::move(*fresh);
        warned_taken = false;
      } else if (got && !std::exchange(warned_taken, true)) {
        log::error("db.presence_taken", {{"name", name}});
      }
    }
  }

  Result<std::unique_ptr<Connection>> acquire() {
    {
      std::unique_lock lock(mu_);
      bool ok = cv_.wait_for(lock, kPoolWait, [&] { return !idle_.empty() || open_ < max_; });
      if (!ok)
        return unavailable(fmt::format("every one of the {} database connections is busy", max_));
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
      ++open_;
    }
    auto c = connect();
    if (!c) {
      std::lock_guard lock(mu_);
      --open_;
      cv_.notify_one();
    }
    return c;
  }

  void release(std::unique_ptr<Connection> c) {
    std::lock_guard lock(mu_);
    // A connection that broke (server restart, network) is dropped; the next user opens anew.
    if (c->broken() || PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
      c.reset();
      --open_;
    } else {
      idle_.push_back(std::move(c));
    }
    cv_.notify_one();
  }

  Result<std::unique_ptr<Connection>> connect() {
    // Defaults first: what the URL says wins.
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* vals[] = {"10", "reach", url_.c_str(), nullptr};
    auto c = std::make_unique<Connection>();
    c->conn = PQconnectdbParams(keys, vals, 1);
    if (!c->conn) return unavailable("cannot connect to the database: out of memory");
    if (PQstatus(c->conn) != CONNECTION_OK) {
      return unavailable("cannot connect to the database: " + one_line(PQerrorMessage(c->conn)));
    }
    PQsetNoticeProcessor(c->conn, ignore_notice, nullptr);
    // No statement may hold the others up for long: the pool is shared by every request.
    PgSession s(*c);
    if (auto st = s.command("SET statement_timeout = '15s'; SET lock_timeout = '15s';"
                            " SET idle_in_transaction_session_timeout = '60s'");
        !st)
      return st.error();
    return c;
  }

  std::string url_;
  std::size_t max_;
  std::string described_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  std::size_t open_ = 0;                           // guarded by mu_
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> listeners_;
};

}  // namespace

Result<std::unique_ptr<Database>> Database::open_postgresql(const std::string& url,
                                                            std::size_t pool_size) {
  auto db = std::make_unique<PgDatabase>(url, pool_size == 0 ? 1 : pool_size);
  if (auto st = db->start(); !st) return st.error();
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace reach::store
