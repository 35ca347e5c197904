#include "common/log.h"

#include "common/time.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace reach::log {
namespace {
std::shared_ptr<spdlog::logger> g_logger;
std::string g_program = "reach";

spdlog::level::level_enum to_spd(Level l) {
  switch (l) {
    case Level::debug:
      return spdlog::level::debug;
    case Level::info:
      return spdlog::level::info;
    case Level::warn:
      return spdlog::level::warn;
    case Level::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}
const char* name_of(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}
std::shared_ptr<spdlog::logger> logger() {
  if (!g_logger) {
    g_logger = spdlog::stderr_logger_mt("reach");
    g_logger->set_pattern("%v");
  }
  return g_logger;
}
}  // namespace

void init(std::string_view program, std::string_view level) {
  g_program = std::string(program);
  auto l = logger();
  l->set_level(level == "debug"   ? spdlog::level::debug
               : level == "warn"  ? spdlog::level::warn
               : level == "error" ? spdlog::level::err
                                  : spdlog::level::info);
  l->flush_on(spdlog::level::debug);
}

std::string quote(std::string_view v) {
  bool needs = v.empty();
  for (char c : v) needs = needs || c == ' ' || c == '"' || c == '=' || c < 0x20;
  if (!needs) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

void event(Level level, std::string_view name, std::initializer_list<Field> fields) {
  auto l = logger();
  if (!l->should_log(to_spd(level))) return;
  std::string line = fmt::format("ts={} level={} prog={} event={}", iso8601(now_ms()),
                                 name_of(level), g_program, quote(name));
  for (const auto& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    line += quote(f.value);
  }
  l->log(to_spd(level), line);
}

}  // namespace reach::log
