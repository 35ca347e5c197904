#include "net/http.h"

#include <gtest/gtest.h>

namespace reach::net {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(Headers, LookupIsCaseInsensitiveAndOrdered) {
  Headers h;
  h.add("Set-Cookie", "a=1");
  h.add("set-cookie", "b=2");
  h.add("Content-Type", "text/plain");
  EXPECT_EQ(h.get("content-type"), "text/plain");
  EXPECT_EQ(h.get("SET-COOKIE"), "a=1");
  EXPECT_EQ(h.get_all("Set-Cookie"), (std::vector<std::string_view>{"a=1", "b=2"}));
  EXPECT_FALSE(h.get("X-Missing").has_value());
}

TEST(Headers, SetReplacesEveryValue) {
  Headers h;
  h.add("X-A", "1");
  h.add("x-a", "2");
  h.set("X-a", "3");
  EXPECT_EQ(h.get_all("x-A"), (std::vector<std::string_view>{"3"}));
  EXPECT_EQ(h.items().size(), 1u);
}

TEST(PercentDecode, DecodesEscapesAndOptionallyPlus) {
  EXPECT_EQ(percent_decode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("%e2%82%AC", false), "\xe2\x82\xac");
}

TEST(PercentDecode, KeepsInvalidEscapesVerbatim) {
  EXPECT_EQ(percent_decode("100%", false), "100%");
  EXPECT_EQ(percent_decode("%zz%4", false), "%zz%4");
  EXPECT_EQ(percent_decode("%%41", false), "%A");
}

TEST(PercentEncode, KeepsUnreservedOnly) {
  EXPECT_EQ(percent_encode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(percent_encode("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f");
  EXPECT_EQ(percent_encode("\xe2\x82\xac"), "%E2%82%AC");
  EXPECT_EQ(percent_decode(percent_encode("x y+z%"), false), "x y+z%");
}

TEST(ParseQuery, SplitsAndDecodesInOrder) {
  EXPECT_EQ(parse_query("a=1&b=%20x&c=d+e"), (Pairs{{"a", "1"}, {"b", " x"}, {"c", "d e"}}));
  EXPECT_EQ(parse_query("flag&&x=&=v"), (Pairs{{"flag", ""}, {"x", ""}, {"", "v"}}));
  EXPECT_EQ(parse_query("k=a=b"), (Pairs{{"k", "a=b"}}));
  EXPECT_EQ(parse_query("k=%zz"), (Pairs{{"k", "%zz"}}));
  EXPECT_TRUE(parse_query("").empty());
}

TEST(Request, QueryParamAndCookies) {
  Request r;
  r.query = {{"a", "1"}, {"a", "2"}, {"b", ""}};
  EXPECT_EQ(r.query_param("a"), "1");
  EXPECT_EQ(r.query_param("b"), "");
  EXPECT_FALSE(r.query_param("c").has_value());

  r.headers.add("Cookie", "session=abc; theme=\"dark\" ;x=1");
  r.headers.add("cookie", "later=2");
  EXPECT_EQ(r.cookie("session"), "abc");
  EXPECT_EQ(r.cookie("theme"), "dark");
  EXPECT_EQ(r.cookie("x"), "1");
  EXPECT_EQ(r.cookie("later"), "2");
  EXPECT_FALSE(r.cookie("sess").has_value());
}

TEST(Response, Helpers) {
  auto t = Response::text(201, "hi");
  EXPECT_EQ(t.status, 201);
  EXPECT_EQ(t.body, "hi");
  EXPECT_EQ(t.headers.get("content-type"), "text/plain; charset=utf-8");
  auto j = Response::json_text(400, "{}");
  EXPECT_EQ(j.headers.get("Content-Type"), "application/json");
  auto e = Response::empty(204);
  EXPECT_EQ(e.status, 204);
  EXPECT_TRUE(e.body.empty());
  EXPECT_TRUE(e.headers.items().empty());
}

TEST(ReasonPhrase, KnownAndUnknown) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(799), "Unknown");
}

}  // namespace
TEST(BearerToken, OneParserForEveryProgram) {
  auto token = [](const char* value) {
    Headers h;
    if (value) h.set("Authorization", value);
    auto t = bearer_token(h);
    return t ? std::string(*t) : std::string("<none>");
  };
  EXPECT_EQ(token("Bearer abc.DEF_-~+/9=="), "abc.DEF_-~+/9==");
  EXPECT_EQ(token("bearer abc"), "abc");
  EXPECT_EQ(token("BEARER   abc  "), "abc");
  for (const char* bad : {"Bearer", "Bearer ", "Basic abc", "Bearerabc", "Bearer a b",
                          "Bearer =abc", "Bearer a=b", "Bearer a\tb"})
    EXPECT_EQ(token(bad), "<none>") << bad;
  EXPECT_EQ(token(nullptr), "<none>");
}

TEST(RedactPath, CodesAndTokensNeverReachTheLog) {
  EXPECT_EQ(redact_path("/support/s12345678-abcdefghijklmnopqrstuvwxyz012_-9"),
            "/support/[redacted]");
  EXPECT_EQ(redact_path("/api/v1/stream/device/s12345678-abcdefghijklmnopqrstuvwxyz012_-9"),
            "/api/v1/stream/device/[redacted]");
  EXPECT_EQ(redact_path("/api/v1/sessions/s12-345-678"), "/api/v1/sessions/[redacted]");
  EXPECT_EQ(redact_path("/portal/sessions/s12345678/close"), "/portal/sessions/[redacted]/close");
  EXPECT_EQ(redact_path("/x/abcdefghijklmnopqrstuvwxyz"), "/x/[redacted]");
  const char* kept[] = {"/v1.0/users/0f8fad5b-d9cb-469f-a165-70867728950e",
                        "/api/health",
                        "/v1.0/deviceManagement/managedDevices",
                        "/static/viewer.js",
                        "/",
                        ""};
  for (const char* p : kept) EXPECT_EQ(redact_path(p), p);
}

}  // namespace reach::net
