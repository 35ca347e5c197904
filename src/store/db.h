// The storage layer: a small SQL interface with bound parameters, transactions and forward-only
// migrations. The SQL the rest of Reach writes is kept portable to PostgreSQL: `?` placeholders
// (rewritten to `$n` by a PostgreSQL backend), TEXT/BIGINT/INTEGER columns, times as BIGINT
// milliseconds, booleans as INTEGER 0/1, no SQLite-only functions.
//
// Thread-safety: a Database may be shared by all threads. Statements are serialised (SQLite has a
// single writer anyway); transaction() holds the database for the duration of its callback.
// Durability: a statement or transaction that returned success is on disk (WAL, synchronous=FULL).
#pragma once

#include "common/result.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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

struct Migration {
  int version;  // strictly increasing from 1
  std::string name;
  std::vector<std::string> statements;
};

class Database : public Session {
 public:
  // Opens (creating if needed) a SQLite database file in WAL mode.
  static Result<std::unique_ptr<Database>> open_sqlite(const std::string& path);

  // Runs `fn` in a transaction: commits if it returns success, rolls back otherwise (and on
  // exceptions, which are rethrown). Nothing else runs on the database meanwhile.
  virtual Status transaction(const std::function<Status(Session&)>& fn) = 0;

  // Applies the migrations whose version is above the stored one, each in its own transaction.
  // Refuses a database whose schema is newer than the newest migration known.
  Status migrate(const std::vector<Migration>& migrations);
};

}  // namespace reach::store
