// Expected failures as values. `Result<T>` is boost::system::result with a domain `Error` that
// carries what kind of failure it is (`Errc`), a machine-readable code, and a message a person
// can act on. Exceptions are for start-up only; broken invariants crash (REACH_CHECK).
//
// Code below the API handlers (the store, the repositories, the rules, the partner client) says
// what went wrong with a kind only. The HTTP status a kind becomes is http_status(Errc) below,
// read by the HTTP edges alone (the hub's Graph errors, the relay's API errors, the server);
// handlers compare kinds. An HTTP client's error keeps the status the other side answered.
#pragma once

#include <boost/system/result.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

namespace reach {

enum class Errc {
  invalid,          // the request is not right
  unauthenticated,  // who is asking is not known
  forbidden,        // they may not
  not_found,        // no such thing
  conflict,         // it clashes with what is stored (a duplicate, a state that forbids it)
  gone,             // it existed and is over
  too_large,        // more than is accepted
  throttled,        // too many attempts: wait
  unavailable,      // a dependency (the store) cannot be reached or is too busy: try again
  upstream,         // a partner (the relay) answered wrongly or not at all
  timeout,          // a partner did not answer in time
  internal,         // a fault of this program (the last: kind_of_status counts up to it)
};

// The HTTP status of each kind, for the edges.
constexpr int http_status(Errc kind) {
  switch (kind) {
    case Errc::invalid:
      return 400;
    case Errc::unauthenticated:
      return 401;
    case Errc::forbidden:
      return 403;
    case Errc::not_found:
      return 404;
    case Errc::conflict:
      return 409;
    case Errc::gone:
      return 410;
    case Errc::too_large:
      return 413;
    case Errc::throttled:
      return 429;
    case Errc::unavailable:
      return 503;
    case Errc::upstream:
      return 502;
    case Errc::timeout:
      return 504;
    case Errc::internal:
      return 500;
  }
  return 500;
}

// The kind of an HTTP status (an edge's error, or another server's answer): the kind whose
// status it is, else by its class.
constexpr Errc kind_of_status(int status) {
  if (status == 0) return Errc::unavailable;  // no answer at all (an HTTP client's error)
  for (int k = 0; k <= static_cast<int>(Errc::internal); ++k)
    if (http_status(static_cast<Errc>(k)) == status) return static_cast<Errc>(k);
  return status >= 400 && status < 500 ? Errc::invalid : Errc::internal;
}

struct Error {
  // Not an aggregate on purpose: C++20 parenthesised aggregate init would make Error
  // constructible from an int, and Result<int64_t> ambiguous.
  Error() = default;
  Error(Errc k, std::string c, std::string m)
      : kind(k), status(http_status(k)), code(std::move(c)), message(std::move(m)) {}
  // At an HTTP edge: a status of its own (405, 426, …), or another server's answer (0: none).
  Error(int s, std::string c, std::string m)
      : kind(kind_of_status(s)), status(s), code(std::move(c)), message(std::move(m)) {}

  Errc kind = Errc::internal;
  int status = 500;     // HTTP status at an API boundary (http_status(kind) unless an edge's own)
  std::string code;     // e.g. "invalidRequest", "itemNotFound"
  std::string message;  // for the person who sent the request
};

[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;
using Status = boost::system::result<void, Error>;

inline Error make_error(Errc kind, std::string code, std::string message) {
  return Error{kind, std::move(code), std::move(message)};
}
inline Error make_error(int status, std::string code, std::string message) {
  return Error{status, std::move(code), std::move(message)};
}
inline Error bad_request(std::string message) {
  return make_error(Errc::invalid, "invalidRequest", std::move(message));
}
inline Error not_found(std::string message) {
  return make_error(Errc::not_found, "itemNotFound", std::move(message));
}
inline Error forbidden(std::string message) {
  return make_error(Errc::forbidden, "accessDenied", std::move(message));
}
inline Error unauthenticated(std::string message) {
  return make_error(Errc::unauthenticated, "unauthenticated", std::move(message));
}
inline Error conflict(std::string message) {
  return make_error(Errc::conflict, "conflict", std::move(message));
}
inline Error unavailable(std::string message) {
  return make_error(Errc::unavailable, "serviceUnavailable", std::move(message));
}
inline Error internal_error(std::string message) {
  return make_error(Errc::internal, "generalException", std::move(message));
}

[[noreturn]] void check_failed(const char* expr, const char* file, int line, const char* msg);

}  // namespace reach

// A broken invariant: crash loudly with a message. Never for input from outside the process.
#define REACH_CHECK(cond, msg)                                          \
  do {                                                                  \
    if (!(cond)) ::reach::check_failed(#cond, __FILE__, __LINE__, msg); \
  } while (0)
