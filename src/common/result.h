// Expected failures as values. `Result<T>` is boost::system::result with a domain `Error` that
// carries a machine-readable code, a message a person can act on, and the HTTP status it maps to
// at an API boundary. Exceptions are for start-up only; broken invariants crash (REACH_CHECK).
#pragma once

#include <boost/system/result.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

namespace reach {

struct Error {
  // Not an aggregate on purpose: C++20 parenthesised aggregate init would make Error
  // constructible from an int, and Result<int64_t> ambiguous.
  Error() = default;
  Error(int s, std::string c, std::string m)
      : status(s), code(std::move(c)), message(std::move(m)) {}

  int status = 500;     // HTTP status at an API boundary
  std::string code;     // e.g. "invalidRequest", "itemNotFound"
  std::string message;  // for the person who sent the request
};

[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;
using Status = boost::system::result<void, Error>;

inline Error make_error(int status, std::string code, std::string message) {
  return Error{status, std::move(code), std::move(message)};
}
inline Error bad_request(std::string message) {
  return make_error(400, "invalidRequest", std::move(message));
}
inline Error not_found(std::string message) {
  return make_error(404, "itemNotFound", std::move(message));
}
inline Error forbidden(std::string message) {
  return make_error(403, "accessDenied", std::move(message));
}
inline Error unauthenticated(std::string message) {
  return make_error(401, "unauthenticated", std::move(message));
}
inline Error conflict(std::string message) {
  return make_error(409, "conflict", std::move(message));
}
inline Error internal_error(std::string message) {
  return make_error(500, "generalException", std::move(message));
}

[[noreturn]] void check_failed(const char* expr, const char* file, int line, const char* msg);

}  // namespace reach

// A broken invariant: crash loudly with a message. Never for input from outside the process.
#define REACH_CHECK(cond, msg)                                          \
  do {                                                                  \
    if (!(cond)) ::reach::check_failed(#cond, __FILE__, __LINE__, msg); \
  } while (0)
