#include "link/notice.h"

#include <gtest/gtest.h>

#include <string>

namespace reach::link {
namespace {

TEST(Notice, EachKindReadsBackAsItWasWritten) {
  Notice asking{Notice::Kind::asking, 295, false};
  auto a = parse_notice(to_json(asking));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->kind, Notice::Kind::asking);
  EXPECT_EQ(a->seconds, 295);
  EXPECT_EQ(to_json(asking), R"({"type":"asking","seconds":295})");

  for (bool view_only : {true, false}) {
    auto b = parse_notice(to_json({Notice::Kind::access, 0, view_only}));
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(b->kind, Notice::Kind::access);
    EXPECT_EQ(b->view_only, view_only);
  }

  Notice link{Notice::Kind::link};
  link.rtt_ms = 52;
  link.kbps = 8400;
  EXPECT_EQ(to_json(link), R"({"type":"link","rttMs":52,"kbps":8400})");
  auto c = parse_notice(to_json(link));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->kind, Notice::Kind::link);
  EXPECT_EQ(c->rtt_ms, 52);
  EXPECT_EQ(c->kbps, 8400);
}

TEST(Notice, AnythingElseIsRefusedWithAReason) {
  for (const char* bad : {
           "",
           "not json",
           "[]",
           R"({"type":"asking"})",
           R"({"type":"asking","seconds":0})",
           R"({"type":"asking","seconds":3601})",
           R"({"type":"asking","seconds":"5"})",
           R"({"type":"access"})",
           R"({"type":"access","viewOnly":1})",
           R"({"type":"chat"})",
           R"({"type":"link","rttMs":5})",
           R"({"type":"link","kbps":5})",
           R"({"type":"link","rttMs":-1,"kbps":5})",
           R"({"type":"link","rttMs":5,"kbps":100000001})",
           R"({"type":"link","rttMs":"5","kbps":5})",
           R"({"seconds":5})",
           "{\"type\":\"access\",\"viewOnly\":true,\"x\":\"\xff\xfe\"}",
       }) {
    auto n = parse_notice(bad);
    ASSERT_FALSE(n) << bad;
    EXPECT_FALSE(n.error().message.empty()) << bad;
  }
  std::string big = R"({"type":"access","viewOnly":true,"pad":")" + std::string(300, 'x') + "\"}";
  auto n = parse_notice(big);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, "noticeTooLarge");
}

}  // namespace
}  // namespace reach::link
