#include "hub/odata.h"

#include <gtest/gtest.h>

namespace reach::hub::odata {
namespace {

const std::vector<Field> kFields = {
    {"deviceName", "d.device_name", {}},
    {"operatingSystem", "d.os", {}},
    {"managedDeviceOwnerType", "d.owner", {"unknown", "company", "personal"}},
};

std::string text(const store::Value& v) {
  return std::get<std::string>(v.v);
}

TEST(ODataFilter, Equality) {
  auto f = compile_filter("operatingSystem eq 'Windows'", kFields);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->where, "((d.os = ?))");
  ASSERT_EQ(f->params.size(), 1u);
  EXPECT_EQ(text(f->params[0]), "Windows");
}

TEST(ODataFilter, NotEqualIncludesNull) {
  auto f = compile_filter("managedDeviceOwnerType ne 'company'", kFields);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->where, "((d.owner IS NULL OR d.owner <> ?))");
}

TEST(ODataFilter, StartsWithIsAPrefixCompareWithoutWildcards) {
  auto f = compile_filter("startswith(deviceName,'LAB_%')", kFields);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->where, "((SUBSTR(d.device_name, 1, 5) = ?))");
  EXPECT_EQ(text(f->params[0]), "LAB_%");
}

TEST(ODataFilter, StartsWithOnAnIndexedPropertyIsACaseInsensitiveRange) {
  std::vector<Field> fields = {
      {"deviceName", "d.name", {}, "lower(d.name) >= ? AND lower(d.name) < ?"}};
  auto f = compile_filter("startswith(deviceName,'Lab_%É')", fields);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->where, "((lower(d.name) >= ? AND lower(d.name) < ?))");
  ASSERT_EQ(f->params.size(), 2u);
  // ASCII letters folded as SQL's lower() does; wildcards and other letters kept as they are.
  EXPECT_EQ(text(f->params[0]), "lab_%É");
  EXPECT_EQ(text(f->params[1]), "lab_%É\xF4\x8F\xBF\xBF");
}

TEST(ODataFilter, AndBindsTighterThanOrAndParenthesesGroup) {
  auto f = compile_filter(
      "operatingSystem eq 'iOS' or operatingSystem eq 'Android' and "
      "(managedDeviceOwnerType eq 'personal' or startswith(deviceName, 'X'))",
      kFields);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->where,
            "((d.os = ?) OR (d.os = ?) AND ((d.owner = ?) OR (SUBSTR(d.device_name, 1, 1) = ?)))");
  EXPECT_EQ(f->params.size(), 4u);
}

TEST(ODataFilter, QuotesAreEscapedByDoubling) {
  auto f = compile_filter("deviceName eq 'O''Brien''s'", kFields);
  ASSERT_TRUE(f);
  EXPECT_EQ(text(f->params[0]), "O'Brien's");
}

TEST(ODataFilter, KeywordsAreCaseInsensitiveAndNullWorks) {
  auto f = compile_filter("deviceName EQ null AND operatingSystem Ne 'x'", kFields);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->where, "((d.device_name IS NULL) AND (d.os IS NULL OR d.os <> ?))");
}

TEST(ODataFilter, RejectsWhatItCannotParse) {
  for (const char* bad :
       {"", "   ", "deviceName", "deviceName eq", "deviceName gt 'a'", "unknownField eq 'a'",
        "deviceName eq 'unterminated", "(deviceName eq 'a'", "deviceName eq 'a')",
        "deviceName eq 'a' and", "startswith(deviceName 'a')", "startswith(deviceName,1)",
        "deviceName eq 'a'; DROP TABLE devices", "managedDeviceOwnerType eq 'mine'",
        "deviceName eq 5"}) {
    auto f = compile_filter(bad, kFields);
    ASSERT_FALSE(f) << bad;
    EXPECT_EQ(f.error().kind, Errc::invalid);
    EXPECT_TRUE(f.error().message.starts_with("Invalid $filter")) << f.error().message;
  }
}

TEST(ODataFilter, DeepNestingIsRefusedNotOverflowed) {
  std::string deep(5000, '(');
  deep += "deviceName eq 'a'";
  deep += std::string(5000, ')');
  EXPECT_FALSE(compile_filter(deep, kFields));
  std::string nested;
  for (int i = 0; i < 40; ++i) nested += "(";
  nested += "deviceName eq 'a'";
  for (int i = 0; i < 40; ++i) nested += ")";
  EXPECT_FALSE(compile_filter(nested, kFields));
}

TEST(ODataQuery, ParsesOptions) {
  auto q = parse_query({{"$top", "100"},
                        {"$count", "true"},
                        {"$select", "id, deviceName"},
                        {"$skiptoken", encode_skiptoken("abc")},
                        {"other", "x"}},
                       false, {"id", "deviceName"});
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->top, 100);
  EXPECT_TRUE(q->count);
  EXPECT_EQ(q->select, (std::vector<std::string>{"id", "deviceName"}));
  EXPECT_EQ(q->skiptoken, "abc");
}

TEST(ODataQuery, DollarIsOptionalOnlyWhenAllowed) {
  auto q = parse_query({{"top", "5"}}, true, {});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->top, 5);
  auto q2 = parse_query({{"top", "5"}}, false, {});
  ASSERT_TRUE(q2);
  EXPECT_EQ(q2->top, 1000);
}

TEST(ODataQuery, RejectsBadValues) {
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{{"$top", "0"},
                                                                      {"$top", "1001"},
                                                                      {"$top", "ten"},
                                                                      {"$top", "5x"},
                                                                      {"$count", "yes"},
                                                                      {"$select", "id,nope"},
                                                                      {"$skiptoken", "!!!"},
                                                                      {"$skiptoken", "Zm9v"},
                                                                      {"$orderby", "deviceName"}}) {
    auto q = parse_query({{k, v}}, false, {"id"});
    EXPECT_FALSE(q) << k << "=" << v;
  }
}

TEST(ODataQuery, OrderByOnlyWhereTheCollectionSortsAndWellFormed) {
  auto q = parse_query({{"$orderby", "deviceName desc"}}, false, {"id"}, 1000, true);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->orderby.value_or(""), "deviceName");
  EXPECT_TRUE(q->descending);
  EXPECT_FALSE(parse_query({{"$orderby", "deviceName"}}, false, {"id"}, 1000, false));
  for (const char* bad : {"", " deviceName", "deviceName sideways", "deviceName asc desc"})
    EXPECT_FALSE(parse_query({{"$orderby", bad}}, false, {"id"}, 1000, true)) << bad;
}

TEST(ODataQuery, SkiptokenRoundTrips) {
  auto t = encode_skiptoken("7f0c-id");
  EXPECT_EQ(decode_skiptoken(t).value(), "7f0c-id");
}

}  // namespace
}  // namespace reach::hub::odata
