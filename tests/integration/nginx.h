// Debian's nginx running one of the README's configurations (deploy/nginx/*.conf), its files in
// a directory of its own, for the multi-node tests. The test names the configuration and the
// addresses to put in place of the file's own (each must occur in the file: a configuration
// that drifted from its test fails it); nothing else is changed.
#pragma once

#include "integration/process.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace reach::itest {

// A loopback TCP port that was free a moment ago (for a server that must be named before it
// starts, as a node's URL through nginx must).
std::uint16_t free_port();

class Nginx {
 public:
  ~Nginx();  // kills nginx; its directory is kept when the test failed

  // Starts nginx on 127.0.0.1:`port` with deploy/nginx/`conf`, each `replacements` pair's first
  // text replaced by its second. Waits until `health_path` answers 200 through it.
  ::testing::AssertionResult start(
      const std::string& conf, std::uint16_t port,
      const std::vector<std::pair<std::string, std::string>>& replacements,
      const std::string& health_path = "/api/health");

  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::uint16_t port() const { return port_; }
  std::string error_log() const;

 private:
  std::string dir_;
  std::uint16_t port_ = 0;
  ChildProcess process_;
};

}  // namespace reach::itest
