// The device list's page cache: a page is returned only for the version it was stored at, the
// bound holds, the least recently used page goes first, and an older read never replaces a newer.
#include "hub/page_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace reach::hub {
namespace {

TEST(PageCache, APageIsReturnedOnlyForItsVersion) {
  PageCache cache(1 << 20);
  EXPECT_FALSE(cache.find("k", 1));
  cache.store("k", 1, "page one");
  ASSERT_TRUE(cache.find("k", 1));
  EXPECT_EQ(*cache.find("k", 1), "page one");
  EXPECT_FALSE(cache.find("k", 2)) << "the data changed since";
  EXPECT_FALSE(cache.find("k", 1)) << "a page from another version is dropped when found";
  EXPECT_FALSE(cache.find("other", 1));
  auto st = cache.stats();
  EXPECT_EQ(st.hits, 2u);
  EXPECT_EQ(st.misses, 4u);
  EXPECT_EQ(st.pages, 0u);
  EXPECT_EQ(st.bytes, 0u);
}

TEST(PageCache, AnOlderReadNeverReplacesANewerPage) {
  PageCache cache(1 << 20);
  cache.store("k", 5, "new");
  cache.store("k", 4, "old");  // a request that read version 4 finished last
  EXPECT_FALSE(cache.find("k", 4)) << "a request that read version 4 gets no page of 5";
  ASSERT_TRUE(cache.find("k", 5)) << "and does not drop it for those after it";
  EXPECT_EQ(*cache.find("k", 5), "new");
  cache.store("k", 6, "newer");
  EXPECT_EQ(cache.find("k", 6).value_or(""), "newer");
}

TEST(PageCache, TheBoundHoldsAndTheLeastRecentlyUsedPageGoesFirst) {
  const std::size_t bound = 64 * 1024;
  PageCache cache(bound);
  const std::string body(4000, 'x');
  for (int i = 0; i < 10; ++i) cache.store("page" + std::to_string(i), 1, body);
  // page0 is used again: it is now the most recent.
  ASSERT_TRUE(cache.find("page0", 1));
  for (int i = 10; i < 40; ++i) {
    cache.store("page" + std::to_string(i), 1, body);
    ASSERT_LE(cache.stats().bytes, bound);
    if (i < 15) ASSERT_TRUE(cache.find("page0", 1)) << "evicted before older pages at " << i;
  }
  auto st = cache.stats();
  EXPECT_GT(st.evictions, 0u);
  EXPECT_FALSE(cache.find("page1", 1)) << "the least recently used page stayed";
  EXPECT_TRUE(cache.find("page39", 1));
  EXPECT_GE(st.pages * body.size(), bound / 2) << "the bound is used, not left empty";
}

TEST(PageCache, APageLargerThanAnEighthOfTheBoundIsNotKept) {
  PageCache cache(80 * 1024);
  cache.store("big", 1, std::string(11 * 1024, 'x'));
  EXPECT_FALSE(cache.find("big", 1));
  cache.store("small", 1, std::string(9 * 1024, 'x'));
  EXPECT_TRUE(cache.find("small", 1));
}

}  // namespace
}  // namespace reach::hub
