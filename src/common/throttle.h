// Exponential back-off after repeated failures, per key (an email, an address, a session code):
// the first five failures are free, then each failure doubles the wait (1 s, 2 s, 4 s, … up to
// 15 minutes). Used for sign-ins and for guesses of session codes and link tokens.
// Thread-safe. Memory is bounded: past 100,000 keys the table is cleared.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace reach {

class Throttle {
 public:
  // Milliseconds the caller must still wait before a new attempt for `key` (0: go ahead).
  std::int64_t wait_ms(const std::string& key, std::int64_t now) const;
  void failure(const std::string& key, std::int64_t now);
  void success(const std::string& key);

 private:
  struct State {
    int failures = 0;
    std::int64_t blocked_until = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, State> state_;  // guarded by mu_
};

}  // namespace reach
