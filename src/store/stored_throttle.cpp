#include "store/stored_throttle.h"

#include "common/crypto.h"
#include "common/log.h"

namespace reach::store {
namespace {

// Stale records are swept once every this many failures.
constexpr std::uint32_t kSweepEvery = 256;

Result<Throttle::Record> load(Session& s, const std::string& scope, const std::string& hash) {
  auto rows = s.query(
      "SELECT failures, blocked_until, last_failure, refusal_noted_for FROM throttles"
      " WHERE scope = ? AND key_hash = ?",
      {scope, hash});
  if (!rows) return rows.error();
  Throttle::Record r;
  if (rows->empty()) return r;
  const auto& row = rows->rows[0];
  r.failures = static_cast<int>(row.integer(0));
  r.blocked_until = row.integer(1);
  r.last_failure = row.integer(2);
  r.refusal_noted_for = row.integer(3);
  return r;
}

Status save(Session& s, const std::string& scope, const std::string& hash,
            const Throttle::Record& r) {
  auto done = s.exec(
      "INSERT INTO throttles (scope, key_hash, failures, blocked_until, last_failure,"
      " refusal_noted_for) VALUES (?, ?, ?, ?, ?, ?)"
      " ON CONFLICT (scope, key_hash) DO UPDATE SET failures = excluded.failures,"
      " blocked_until = excluded.blocked_until, last_failure = excluded.last_failure,"
      " refusal_noted_for = excluded.refusal_noted_for",
      {scope, hash, r.failures, r.blocked_until, r.last_failure, r.refusal_noted_for});
  if (!done) return done.error();
  return {};
}

void log_failure(const std::string& scope, const Error& e) {
  log::warn("throttle.store_failed", {{"scope", scope}, {"error", e.message}});
}

}  // namespace

std::int64_t StoredThrottle::wait_ms(const std::string& key, std::int64_t now) const {
  auto r = load(*db_, scope_, crypto::sha256_hex(key));
  if (!r) {
    log_failure(scope_, r.error());
    return 0;
  }
  return r->blocked_until > now ? r->blocked_until - now : 0;
}

void StoredThrottle::failure(const std::string& key, std::int64_t now) {
  std::string hash = crypto::sha256_hex(key);
  auto st = db_->transaction([&](Session& s) -> Status {
    auto r = load(s, scope_, hash);
    if (!r) return r.error();
    return save(s, scope_, hash, Throttle::after_failure(*r, now, options_));
  });
  if (!st) log_failure(scope_, st.error());
  if (++failures_seen_ % kSweepEvery == 0) {
    auto swept = db_->exec("DELETE FROM throttles WHERE scope = ? AND last_failure < ?",
                           {scope_, now - options_.forget_after_ms});
    if (!swept) log_failure(scope_, swept.error());
  }
}

void StoredThrottle::success(const std::string& key) {
  auto r = db_->exec("DELETE FROM throttles WHERE scope = ? AND key_hash = ?",
                     {scope_, crypto::sha256_hex(key)});
  if (!r) log_failure(scope_, r.error());
}

bool StoredThrottle::first_refusal(const std::string& key, std::int64_t now) {
  std::string hash = crypto::sha256_hex(key);
  bool first = false;
  auto st = db_->transaction([&](Session& s) -> Status {
    auto r = load(s, scope_, hash);
    if (!r) return r.error();
    if (r->blocked_until <= now || r->refusal_noted_for == r->blocked_until) return {};
    r->refusal_noted_for = r->blocked_until;
    first = true;
    return save(s, scope_, hash, *r);
  });
  if (!st) log_failure(scope_, st.error());
  return first && st;
}

}  // namespace reach::store
