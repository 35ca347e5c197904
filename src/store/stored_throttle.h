// Throttle (common/throttle.h) with its records in the store (a `throttles` table in the hub's
// and the relay's schemas), so that every node sharing the store throttles a key alike (a flood
// spread over nodes by a load balancer is one flood) and a restart forgets nothing. Keys are stored
// as SHA-256 hashes: the table says how often something failed, not which email or address it was.
//
// Thread-safe. A store error reads as "no wait" (the sign-in then fails on the store itself) and
// is logged.
#pragma once

#include "common/throttle.h"
#include "store/db.h"

#include <atomic>
#include <string>

namespace reach::store {

class StoredThrottle {
 public:
  explicit StoredThrottle(std::string scope, Throttle::Options options = {})
      : scope_(std::move(scope)), options_(options) {}

  void attach(Database* db) { db_ = db; }

  std::int64_t wait_ms(const std::string& key, std::int64_t now) const;
  void failure(const std::string& key, std::int64_t now);
  void success(const std::string& key);
  bool first_refusal(const std::string& key, std::int64_t now);

 private:
  const std::string scope_;
  const Throttle::Options options_;
  Database* db_ = nullptr;
  std::atomic<std::uint32_t> failures_seen_{0};
};

}  // namespace reach::store
