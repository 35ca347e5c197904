// The admin center's files (the browser app built by Vite from web/admin) as the hub serves
// them at "/": loaded into memory once at start, each with its gzip variant when the build made
// one. Paths without a file extension are the app's own routes (/devices/ID, …) and get
// index.html, which then loads the hashed assets. Thread-safe once constructed (read-only).
#pragma once

#include "net/http.h"

#include <map>
#include <string>

namespace reach::hub {

class AdminCenterFiles {
 public:
  // Reads every file under `dir` (empty or missing: the admin center is not installed).
  explicit AdminCenterFiles(const std::string& dir);

  bool installed() const { return !files_.empty(); }
  // GET or HEAD of a path outside /api, /v1.0 and /beta.
  net::Response serve(const net::Request& request) const;

 private:
  struct File {
    std::string type;
    std::string body;
    std::string gzip;  // empty when there is no .gz variant
  };
  std::map<std::string, File, std::less<>> files_;  // "/index.html", "/assets/app-1a2b.js"
};

}  // namespace reach::hub
