// `reach-agent run` for integration tests: its own state directory, its command line, and its
// notifications and status as JSON.
#pragma once

#include "integration/process.h"

#include <boost/json.hpp>

#include <string>
#include <vector>

namespace reach::itest {

namespace bj = boost::json;

// `reach-agent` with its own state directory.
class Agent {
 public:
  explicit Agent(std::string state) : state_(std::move(state)) {}
  CommandResult cli(std::vector<std::string> args) const {
    args.insert(args.begin(), program_path("reach-agent"));
    args.push_back("--state");
    args.push_back(state_);
    return run_command(args);
  }
  ::testing::AssertionResult start(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        program_path("reach-agent"), "run", "--state",          state_, "--heartbeat-ms", "500",
        "--backoff-min-ms",          "100", "--backoff-max-ms", "500"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return process_.start(argv, state_ + "/run.log");
  }
  // `notifications --json`, parsed.
  bj::object notifications() const {
    auto r = cli({"notifications", "--json"});
    auto v = bj::parse(r.out, ec_);
    return v.is_object() ? v.as_object() : bj::object{};
  }
  bj::object status() const {
    auto r = cli({"status", "--json"});
    auto v = bj::parse(r.out, ec_);
    return v.is_object() ? v.as_object() : bj::object{};
  }
  bool has_notification(const std::string& title) const {
    auto n = notifications();
    if (!n.contains("notifications")) return false;
    for (const auto& v : n.at("notifications").as_array())
      if (str_of(v.as_object(), "title") == title) return true;
    return false;
  }
  ChildProcess& process() { return process_; }
  const std::string& state() const { return state_; }

 private:
  std::string state_;
  ChildProcess process_;
  mutable boost::system::error_code ec_;
};

}  // namespace reach::itest
