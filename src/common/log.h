// Structured logging: one logfmt line per event on standard error
// (`ts=… level=info event=http.request method=GET status=200`). Values are quoted when needed.
// Thread-safe. Secrets (passwords, tokens) must never be passed as fields.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace reach::log {

enum class Level { debug, info, warn, error };

// Called once by each program; `level` is "debug", "info", "warn" or "error".
void init(std::string_view program, std::string_view level = "info");

struct Field {
  std::string_view key;
  std::string value;
  template <class T>
  Field(std::string_view k, const T& v) : key(k), value(fmt::format("{}", v)) {}
};

void event(Level level, std::string_view name, std::initializer_list<Field> fields = {});

inline void debug(std::string_view n, std::initializer_list<Field> f = {}) {
  event(Level::debug, n, f);
}
inline void info(std::string_view n, std::initializer_list<Field> f = {}) {
  event(Level::info, n, f);
}
inline void warn(std::string_view n, std::initializer_list<Field> f = {}) {
  event(Level::warn, n, f);
}
inline void error(std::string_view n, std::initializer_list<Field> f = {}) {
  event(Level::error, n, f);
}

// logfmt quoting of one value (exposed for tests).
std::string quote(std::string_view v);

}  // namespace reach::log
