#include "reach/link.h"

#include <gtest/gtest.h>

namespace reach::cli {
namespace {

constexpr const char* kToken = "abcdefghijklmnopqrstuvwxyz012_-9";

TEST(SessionLink, SupporterLinkLeadsToTheSupporterStream) {
  auto l = parse_session_link(std::string("http://127.0.0.1:8500/support/s12345678-") + kToken,
                              "support");
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->stream_url,
            std::string("ws://127.0.0.1:8500/api/v1/stream/supporter/s12345678-") + kToken);
  EXPECT_EQ(l->code, "s12345678");
}

TEST(SessionLink, HttpsBecomesWssAndPrefixesStay) {
  auto l = parse_session_link(std::string("https://relay.example/r/join/s12345678-") + kToken + "/",
                              "join");
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->stream_url,
            std::string("wss://relay.example/r/api/v1/stream/device/s12345678-") + kToken);
}

TEST(SessionLink, RejectsWhatIsNotALink) {
  for (std::string bad :
       {std::string("ftp://h/support/s12345678-") + kToken, std::string("http:///support/x"),
        std::string("http://h/join/s12345678-") + kToken, std::string("http://h/support/s1234-abc"),
        std::string("http://h/support/s12345678-") + kToken + "!", std::string("s123-456-789")}) {
    auto l = parse_session_link(bad, "support");
    EXPECT_FALSE(l) << bad;
    if (!l) {
      EXPECT_EQ(l.error().status, 400);
    }
  }
}

}  // namespace
}  // namespace reach::cli
