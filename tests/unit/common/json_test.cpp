#include "common/json.h"

#include <gtest/gtest.h>

namespace reach::json {
namespace {

TEST(Json, ParseObjectRejectsNonObjectsAndGarbage) {
  EXPECT_TRUE(parse_object(R"({"a":1})"));
  auto arr = parse_object("[1,2]");
  ASSERT_FALSE(arr);
  EXPECT_EQ(arr.error().kind, Errc::invalid);
  auto bad = parse_object("{\"a\":");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not valid JSON"), std::string::npos);
}

TEST(Json, DeepNestingIsRefused) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_FALSE(parse(deep));
}

TEST(Json, TypedAccessorsNameTheProperty) {
  auto o = parse_object(R"({"s":"x","b":true,"n":3,"wrong":5})").value();
  EXPECT_EQ(opt_string(o, "s").value(), std::optional<std::string>("x"));
  EXPECT_EQ(opt_bool(o, "b").value(), std::optional<bool>(true));
  EXPECT_EQ(opt_int(o, "n").value(), std::optional<std::int64_t>(3));
  EXPECT_FALSE(opt_string(o, "absent").value().has_value());
  auto e = opt_string(o, "wrong");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("'wrong'"), std::string::npos);
  EXPECT_FALSE(req_string(o, "absent"));
}

TEST(Json, OnlyKeysAllowsAnnotations) {
  auto o = parse_object(R"({"notes":"x","@odata.type":"#m"})").value();
  EXPECT_TRUE(only_keys(o, {"notes"}));
  auto o2 = parse_object(R"({"notes":"x","deviceName":"y"})").value();
  auto st = only_keys(o2, {"notes"});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("deviceName"), std::string::npos);
}

}  // namespace
}  // namespace reach::json
