#include "relay/oauth_store.h"

#include <gtest/gtest.h>

namespace reach::relay {
namespace {

AccessToken token(std::int64_t expires_at, bool revoked = false) {
  return AccessToken{Account{"a1", "it@example.test", "IT", "Reach"}, expires_at, revoked};
}

TEST(RelayAccessToken, IsAcceptedUntilItsExpiryThenToBeRefreshed) {
  auto ok = accept_access_token(token(5000), 4999);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->id, "a1");
  for (std::int64_t now : {5000, 9000}) {
    auto expired = accept_access_token(token(5000), now);
    ASSERT_FALSE(expired);
    EXPECT_EQ(expired.error().kind, Errc::unauthenticated);
    EXPECT_EQ(expired.error().code, "token_expired");
  }
}

TEST(RelayAccessToken, ARevokedOrUnknownTokenIsInvalidWhateverTheTime) {
  auto revoked = accept_access_token(token(5000, true), 1000);
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().code, "invalid_token");
  auto unknown = accept_access_token(std::nullopt, 1000);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "invalid_token");
  // Revocation wins over expiry: a revoked token is not worth refreshing.
  auto both = accept_access_token(token(5000, true), 9000);
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().code, "invalid_token");
}

}  // namespace
}  // namespace reach::relay
