#include "common/json_text.h"
#include "common/json.h"
#include "common/time.h"

#include <gtest/gtest.h>

#include <random>

namespace reach::json {
namespace {

TEST(JsonText, PlacesCommasInNestedObjectsAndArrays) {
  Text t;
  t.begin_object();
  t.key("a").number(1);
  t.key("b").begin_array().end_array();
  t.key("c").begin_array();
  t.begin_object().end_object();
  t.begin_object().key("x").null().key("y").boolean(false).end_object();
  t.string("s").number(-9223372036854775807 - 1);
  t.end_array();
  t.key("d").raw(R"({"k":[1,2]})");
  t.key("e").date_time(1795267328123);
  t.end_object();
  EXPECT_EQ(t.str(), R"({"a":1,"b":[],"c":[{},{"x":null,"y":false},"s",-9223372036854775808],)"
                     R"("d":{"k":[1,2]},"e":"2026-11-21T13:22:08.123Z"})");
  EXPECT_TRUE(parse(t.str()));
}

TEST(JsonText, EscapesWhatBoostJsonEscapesAndReadsBackTheSameString) {
  // Every byte value at every position of an eight-byte word, and long runs around it, so both
  // the word-at-a-time scan and the byte loop see each one.
  for (int c = 0; c < 256; ++c) {
    for (std::size_t at = 0; at < 17; ++at) {
      std::string s(17, 'a');
      s[at] = static_cast<char>(c);
      Text t;
      t.string(s);
      if (c >= 0x80) {  // other bytes go out as they are (alone, not valid UTF-8 to parse)
        EXPECT_EQ(t.str(), '"' + s + '"') << c << " at " << at;
        continue;
      }
      EXPECT_EQ(t.str(), serialize(bj::value(s))) << c << " at " << at;
      auto back = parse(t.str());
      ASSERT_TRUE(back) << c << " at " << at;
      EXPECT_EQ(std::string(back->as_string()), s) << c << " at " << at;
    }
  }
}

TEST(JsonText, EscapesKeys) {
  Text t;
  t.begin_object().key("a\"b\\c\n").string("v").end_object();
  auto back = parse(t.str());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->as_object().at("a\"b\\c\n").as_string(), "v");
}

TEST(JsonText, RandomTextsReadBackTheSame) {
  std::mt19937 rng(12);
  for (int n = 0; n < 2000; ++n) {
    std::string s(rng() % 40, '\0');
    for (auto& ch : s) ch = static_cast<char>(rng() % 0x80);  // ASCII, controls included
    Text t;
    t.begin_array().string(s).string(s).end_array();
    auto back = parse(t.str());
    ASSERT_TRUE(back) << t.str();
    EXPECT_EQ(std::string(back->as_array().at(1).as_string()), s);
  }
}

}  // namespace
}  // namespace reach::json
