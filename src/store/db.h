// The storage layer: a small SQL interface with bound parameters, transactions and forward-only
// migrations, over two backends: SQLite (the embedded default) and PostgreSQL (the multi-node
// store, through libpq). The SQL the rest of Reach writes is portable between them: `?`
// placeholders (rewritten to `$n` for PostgreSQL), TEXT/BIGINT/INTEGER columns, times as BIGINT
// milliseconds, booleans as INTEGER 0/1, no backend-only functions. Where a migration cannot be
// portable (identity columns), it carries its PostgreSQL form beside the SQLite one.
//
// Thread-safety: a Database may be shared by all threads. Statements outside a transaction run
// concurrently: SQLite reads go to a pool of reader connections while the single writer
// connection takes writes; PostgreSQL statements go to a pool of connections. transaction()
// serialises writers, across processes too (SQLite's write lock; a PostgreSQL advisory lock), so
// a read-then-write inside one sees no other writer between its statements.
// Durability: a statement or transaction that returned success is on disk (SQLite: WAL,
// synchronous=FULL; PostgreSQL: its commit).
#pragma once

#include "common/result.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace reach::store {

// A SQL value: NULL, a 64-bit integer or text.
struct Value {
  std::variant<std::monostate, std::int64_t, std::string> v;
  Value() = default;
  Value(std::nullptr_t) {}
  Value(std::int64_t i) : v(i) {}
  Value(int i) : v(static_cast<std::int64_t>(i)) {}
  Value(bool b) : v(static_cast<std::int64_t>(b ? 1 : 0)) {}
  Value(std::string s) : v(std::move(s)) {}
  Value(std::string_view s) : v(std::string(s)) {}
  Value(const char* s) : v(std::string(s)) {}
  template <class T>
  Value(const std::optional<T>& o) {
    if (o) *this = Value(*o);
  }
  bool is_null() const { return std::holds_alternative<std::monostate>(v); }
};
using Params = std::vector<Value>;

struct Row {
  std::vector<Value> cols;
  bool null(std::size_t i) const { return cols.at(i).is_null(); }
  // Text of column i ("" for NULL; integers are formatted).
  std::string text(std::size_t i) const;
  std::optional<std::string> opt_text(std::size_t i) const;
  std::int64_t integer(std::size_t i) const;  // 0 for NULL
  bool boolean(std::size_t i) const { return integer(i) != 0; }
};

struct Rows {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  bool empty() const { return rows.empty(); }
};

// Statements run inside a transaction (or auto-committed on a Database).
class Session {
 public:
  virtual ~Session() = default;
  virtual Result<Rows> query(std::string_view sql, const Params& params = {}) = 0;
  // Returns the number of rows changed.
  virtual Result<std::int64_t> exec(std::string_view sql, const Params& params = {}) = 0;
};

// `sql` run for its effect: whether it failed, not how many rows it changed.
inline Status exec_ok(Session& s, std::string_view sql, const Params& params = {}) {
  auto r = s.exec(sql, params);
  if (!r) return r.error();
  return {};
}

// The first row of `sql` as `map` reads it, or nullopt when there is none: a look-up by key.
template <class Map>
auto query_one(Session& s, std::string_view sql, const Params& params, Map map)
    -> Result<std::optional<std::invoke_result_t<Map&, const Row&>>> {
  using T = std::invoke_result_t<Map&, const Row&>;
  auto rows = s.query(sql, params);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<T>();
  return std::optional<T>(map(rows->rows.front()));
}

// Whether `sql` returns any row.
inline Result<bool> exists(Session& s, std::string_view sql, const Params& params = {}) {
  auto rows = s.query(sql, params);
  if (!rows) return rows.error();
  return !rows->empty();
}

// The first column of `sql`'s one row as an integer (a COUNT(*), a version); not_found when
// there is no row.
inline Result<std::int64_t> query_int(Session& s, std::string_view sql, const Params& params = {}) {
  auto rows = s.query(sql, params);
  if (!rows) return rows.error();
  if (rows->empty()) return make_error(Errc::not_found, "notFound", "the query returned no row");
  return rows->rows.front().integer(0);
}

struct Migration {
  int version;  // strictly increasing from 1
  std::string name;
  std::vector<std::string> statements;
  // When not empty, run on PostgreSQL instead of `statements`.
  std::vector<std::string> postgresql = {};
};

enum class Backend { sqlite, postgresql };

class Database : public Session {
 public:
  // Opens (creating if needed) a SQLite database file in WAL mode.
  static Result<std::unique_ptr<Database>> open_sqlite(const std::string& path);
  // Connects to PostgreSQL: a libpq URL (postgresql://user@host:port/db?options). The pool
  // holds up to `pool_size` connections, opened as needed.
  static Result<std::unique_ptr<Database>> open_postgresql(const std::string& url,
                                                           std::size_t pool_size = 16);
  // "postgresql://…" or "postgres://…" opens PostgreSQL; "sqlite:PATH" or a path opens SQLite.
  static Result<std::unique_ptr<Database>> open(const std::string& url);
  static bool is_postgresql_url(std::string_view url);

  virtual Backend backend() const = 0;
  // Where the data is, for people: the SQLite path, or the PostgreSQL URL without its password.
  virtual std::string describe() const = 0;
  // Whether the store answers a trivial statement now (health checks).
  virtual Status ping() = 0;

  // Runs `fn` holding the lock called `name`, which excludes every other holder of that name in
  // every process on this store (PostgreSQL: an advisory lock; SQLite: a lock in this process,
  // its only one). For work that must not run twice at once but cannot sit in a transaction,
  // such as a call to another service whose answer is then stored. Unavailable (503) when the
  // lock cannot be had within the store's lock timeout.
  virtual Status with_lock(const std::string& name, const std::function<Status()>& fn) = 0;

  // A process's sign of life on this store, for the nodes that share it. claim_presence(name)
  // holds `name` for as long as this Database lives; present(name) says whether a live process
  // holds it now. PostgreSQL: a session advisory lock on a connection of its own, which the
  // server lets go the moment that connection ends, a process killed with SIGKILL included, so
  // the others see a dead node at once; if the connection breaks while the process lives, it is
  // retaken (and logged). SQLite: this process alone. Conflict (409) when another live process
  // holds the name.
  virtual Status claim_presence(const std::string& name) = 0;
  virtual Result<bool> present(const std::string& name) = 0;

  // Signals between the processes that share this store: notify() reaches every listen()er of
  // the channel — in every process on one PostgreSQL (LISTEN/NOTIFY), in this process alone on
  // SQLite (which has a single process). Best effort and at most once: whatever must not be lost
  // is in a table first, and the signal only says "look now". When a PostgreSQL listener had to
  // reconnect (and may have missed signals) it is called with an empty payload.
  virtual Status notify(const std::string& channel, const std::string& payload) = 0;
  // `fn` runs on a thread of the database's (PostgreSQL) or the notifier's (SQLite); it must be
  // quick and thread-safe. Listeners stop when the Database is destroyed.
  virtual void listen(const std::string& channel, std::function<void(const std::string&)> fn) = 0;

  // Runs `fn` in a transaction: commits if it returns success, rolls back otherwise (and on
  // exceptions, which are rethrown). Nothing else runs on the database meanwhile.
  virtual Status transaction(const std::function<Status(Session&)>& fn) = 0;

  // A read snapshot: a Session whose statements all see one state of the store, as one read
  // transaction, for a request's reads before it changes anything (its own later writes are not
  // in it: read from the Database after writing). It only reads: exec, or a statement that would
  // write, fails. Release it soon: it keeps a reader connection, and SQLite cannot checkpoint
  // past it. nullptr when there is nothing to gain from one (PostgreSQL: every statement is a
  // round trip either way) or every reader is busy; read from the Database then. On SQLite it
  // saves every statement after the first its own read transaction (locking the WAL index and
  // checking the file, then unlocking).
  virtual std::unique_ptr<Session> read_snapshot() { return nullptr; }

  // Applies the migrations whose version is above the stored one, each in its own transaction.
  // Refuses a database whose schema is newer than the newest migration known.
  Status migrate(const std::vector<Migration>& migrations);
};

// A program's data directory and its database. `init --db URL` records the URL in DIR/database
// (mode 0600: it may hold a password), so every later command on DIR uses the same store;
// without one, the store is the embedded SQLite file DIR/`sqlite_file`.
std::string database_url(const std::string& data_dir, std::string_view sqlite_file);
Status remember_database_url(const std::string& data_dir, const std::string& url);
// Whether DIR has a database: the recorded URL or the SQLite file.
bool has_database(const std::string& data_dir, std::string_view sqlite_file);

}  // namespace reach::store
