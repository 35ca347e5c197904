#include "hub/page_cache.h"

namespace reach::hub {

std::optional<std::string> PageCache::find(const std::string& key, std::int64_t version) {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end() || it->second->version != version) {
    // A page from before `version` is dropped; one from after it (a request that read the
    // version later and finished first) stays for the requests after this one.
    if (it != index_.end() && it->second->version < version) drop(it->second);
    ++stats_.misses;
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  ++stats_.hits;
  return it->second->body;
}

void PageCache::store(const std::string& key, std::int64_t version, std::string body) {
  Entry e{key, version, std::move(body)};
  if (e.size() > max_bytes_ / 8) return;
  std::lock_guard lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    // Another request read the same page meanwhile: the newer version stays.
    if (it->second->version > version) return;
    drop(it->second);
  }
  bytes_ += e.size();
  lru_.push_front(std::move(e));
  index_.emplace(lru_.front().key, lru_.begin());
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    drop(std::prev(lru_.end()));
    ++stats_.evictions;
  }
}

void PageCache::drop(std::list<Entry>::iterator it) {
  bytes_ -= it->size();
  index_.erase(it->key);
  lru_.erase(it);
}

PageCache::Stats PageCache::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.pages = lru_.size();
  s.bytes = bytes_;
  return s;
}

}  // namespace reach::hub
