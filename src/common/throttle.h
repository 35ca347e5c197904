// Exponential back-off after repeated failures, per key (an email, a client network, a session
// code): the first five failures are free, then each failure doubles the wait (1 s, 2 s, 4 s, …
// up to 15 minutes). Used for sign-ins and for guesses of session codes and link tokens.
//
// A key's failures are forgotten `forget_after` after its last one (24 h by default, the life of
// a session code), or by success() where the caller decides a success proves something. Memory
// is bounded: past `max_keys` the key whose last failure is oldest is evicted (a flood of new
// keys frees a throttled key only after `max_keys` newer failures, not all at once).
//
// Thread-safe. Time is the caller's (`now`, milliseconds), so tests drive it without sleeping.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace reach {

class Throttle {
 public:
  struct Options {
    int free_failures = 5;
    std::int64_t max_block_ms = 15 * 60 * 1000;
    std::int64_t forget_after_ms = 24 * 3600 * 1000;
    std::size_t max_keys = 100000;
  };

  Throttle() : Throttle(Options{}) {}
  explicit Throttle(Options options) : options_(options) {}

  // One key's record, and what a failure does to it: the rule, shared with the throttles the hub
  // keeps in its store (one record per key whichever node saw the failure).
  struct Record {
    int failures = 0;
    std::int64_t blocked_until = 0;
    std::int64_t last_failure = 0;
    std::int64_t refusal_noted_for = -1;  // the blocked_until whose first refusal was noted
  };
  static Record after_failure(Record r, std::int64_t now, const Options& options);

  // Milliseconds the caller must still wait before a new attempt for `key` (0: go ahead).
  std::int64_t wait_ms(const std::string& key, std::int64_t now) const;
  void failure(const std::string& key, std::int64_t now);
  void success(const std::string& key);
  // Records that an attempt for `key` was refused while it waits; true for the first refusal of
  // the current wait, so that a flood is audited and logged once per key and window.
  bool first_refusal(const std::string& key, std::int64_t now);
  std::size_t size() const;

 private:
  struct State {
    Record r;
    std::list<std::string>::iterator order;
  };
  // Drops keys not failed for forget_after_ms, oldest first. Needs mu_.
  void forget_stale(std::int64_t now);

  const Options options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, State> state_;  // guarded by mu_
  std::list<std::string> order_;  // guarded by mu_; keys by last failure, oldest first
};

// Sign-ins (hub and relay) are throttled two ways. A client's failures (its client_key) block
// that client, hard, with the back-off above. An account's failures only slow its sign-ins:
// refusing them would let anyone anywhere lock the owner out. This is how long to hold the
// answer to an attempt on an account whose own throttle says `account_wait_ms`: that wait,
// never more than `cap_ms`; every answer to it, right password or wrong, is held alike.
inline constexpr std::int64_t kMaxAccountSlowingMs = 3000;
std::int64_t account_slowing_ms(std::int64_t account_wait_ms,
                                std::int64_t cap_ms = kMaxAccountSlowingMs);

// The throttling key of a client address: an IPv4 address as it is, an IPv6 address by its /64
// (one subscriber's prefix: every address in it is one client), an IPv4-mapped IPv6 address as
// the IPv4 address. Anything unparsable is its own key.
std::string client_key(std::string_view address);
// For what anyone can guess (session codes): the client_key, and for IPv6 also its /48, so that
// a whole allocation (65,536 /64s) is throttled as one client too.
std::vector<std::string> client_keys(std::string_view address);

}  // namespace reach
