// A bounded cache of rendered list pages, each valid for one version of the data it was read
// from. The version is a counter the store's own triggers advance on every change to a table the
// page reads (migration 12, `data_versions`), so a change made by any connection of any process
// on the database — an API call, `reach-hub` on the command line, sqlite3 — makes every older
// page a miss. A caller reads the version before it reads the page, so a page stored under a
// version was read from that version's data or newer: a later request can miss needlessly, never
// be answered from older data.
//
// The key names everything else the page depends on (the statement and its parameters, which
// carry the caller's identity and scope, and the URL the links are built on), so a page is only
// ever returned to a request that would have read the same rows the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace reach::hub {

class PageCache {
 public:
  // `max_bytes` bounds the bodies and keys held; a page larger than an eighth of it is not kept.
  explicit PageCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // The page stored under `key` for `version`; nullopt when absent or from another version (an
  // older one is then dropped).
  std::optional<std::string> find(const std::string& key, std::int64_t version);
  // Keeps `body` under `key` for `version`, evicting the least recently used pages beyond the
  // bound.
  void store(const std::string& key, std::int64_t version, std::string body);

  struct Stats {
    std::uint64_t hits = 0, misses = 0, evictions = 0;
    std::size_t pages = 0, bytes = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    std::string key;
    std::int64_t version;
    std::string body;
    std::size_t size() const { return key.size() * 2 + body.size() + 128; }
  };
  void drop(std::list<Entry>::iterator it);

  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  std::size_t bytes_ = 0;
  Stats stats_;
};

}  // namespace reach::hub
