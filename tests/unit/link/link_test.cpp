#include "link/link.h"

#include <gtest/gtest.h>

namespace reach::link {
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

// A link the hub made carries the session's end-to-end secret and the device key's fingerprint
// in its fragment (docs/session-security.md); the stream URL and the link itself leave it out.
TEST(SessionLink, TheFragmentGivesTheSecretAndFingerprintAndIsNeverPassedOn) {
  std::string secret(32, '\x07');
  std::string fp = "0123-4567-89ab-cdef-0123-4567-89ab-cdef";
  std::string base = std::string("https://relay.example/support/s12345678-") + kToken;
  auto l = parse_session_link(base + link_fragment(secret, fp), "support");
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->session_secret, secret);
  EXPECT_EQ(l->device_fingerprint, fp);
  EXPECT_EQ(l->url, base);
  EXPECT_EQ(l->stream_url.find('#'), std::string::npos);
  // The end customer's link: the secret alone.
  auto j = parse_session_link(
      std::string("https://relay.example/join/s12345678-") + kToken + link_fragment(secret, ""),
      "join");
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_EQ(j->session_secret, secret);
  EXPECT_EQ(j->device_fingerprint, "");
  // Without a fragment: none (a session made at the relay).
  auto plain = parse_session_link(base, "support");
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->session_secret.empty());
}

TEST(SessionLink, AFragmentReachDidNotMakeIsRefused) {
  std::string base = std::string("https://relay.example/support/s12345678-") + kToken;
  std::string good = link_fragment(std::string(32, 'k'), "");
  for (std::string bad :
       {base + "#s=short", base + "#s=" + std::string(43, '!'), base + good + "&fp=0123",
        base + good + "&fp=0123-4567-89ab-cdef-0123-4567-89ab-cdeg",
        base + "#fp=0123-4567-89ab-cdef-0123-4567-89ab-cdef", base + good + "&x=1",
        base + "#page=2"}) {
    auto l = parse_session_link(bad, "support");
    EXPECT_FALSE(l) << bad;
  }
}

TEST(SessionLink, RejectsWhatIsNotALink) {
  for (std::string bad :
       {std::string("ftp://h/support/s12345678-") + kToken, std::string("http:///support/x"),
        std::string("http://h/join/s12345678-") + kToken, std::string("http://h/support/s1234-abc"),
        std::string("http://h/support/s12345678-") + kToken + "!", std::string("s123-456-789")}) {
    auto l = parse_session_link(bad, "support");
    EXPECT_FALSE(l) << bad;
    if (!l) {
      EXPECT_EQ(l.error().kind, Errc::invalid);
    }
  }
}

TEST(SessionCode, OneShapeForEveryEnd) {
  EXPECT_EQ(normalize_code("s12-345-678").value(), "s12345678");
  EXPECT_EQ(normalize_code("S12 345 678").value(), "s12345678");
  for (const char* bad :
       {"", "-s12345678", "s1234567", "s123456789", "x12345678", "s12-345-67a", "s12345678\n"})
    EXPECT_FALSE(normalize_code(bad)) << bad;
  EXPECT_EQ(display_code("s12345678"), "s12-345-678");
}

TEST(SessionCode, TheAgentsCodeUrlUsesTheSameRules) {
  EXPECT_EQ(code_stream_url("https://relay.example/", "S12-345-678").value(),
            "wss://relay.example/api/v1/stream/device?code=s12345678");
  // The agent used to take a leading '-' that the relay refused.
  EXPECT_FALSE(code_stream_url("http://relay", "-s12345678"));
  EXPECT_FALSE(code_stream_url("ftp://relay", "s12345678"));
  EXPECT_FALSE(code_stream_url("http://", "s12345678"));
}

TEST(LinkRef, OnlyTheCanonicalShape) {
  auto r = parse_link_ref(std::string("s12345678-") + kToken);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, "s12345678");
  EXPECT_EQ(r->token, kToken);
  for (std::string bad : {std::string(""), std::string("s12345678-"), std::string("s12345678"),
                          std::string("S12345678-") + kToken, std::string("s12-345-678-") + kToken,
                          std::string("s12345678-") + kToken + "A",
                          std::string("s12345678-") + std::string(31, 'A') + "/"})
    EXPECT_FALSE(parse_link_ref(bad)) << bad;
}

}  // namespace
}  // namespace reach::link
