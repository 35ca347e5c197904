#include "common/crypto.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <filesystem>
#include <set>

namespace reach::crypto {
namespace {

TEST(Crypto, TokensAreUniqueAndUrlSafe) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto t = random_token(32);
    EXPECT_EQ(t.size(), 43u);
    EXPECT_EQ(t.find_first_of("+/="), std::string::npos);
    EXPECT_TRUE(seen.insert(t).second);
  }
}

TEST(Crypto, UuidFormat) {
  auto u = uuid_v4();
  EXPECT_TRUE(is_uuid(u));
  EXPECT_EQ(u[14], '4');
  EXPECT_FALSE(is_uuid("not-a-uuid"));
  EXPECT_FALSE(is_uuid("123e4567-e89b-12d3-a456-42661417400Z"));
}

TEST(Crypto, Sha256KnownAnswer) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, Base64UrlRoundTripAndRejectsGarbage) {
  std::string data = random_bytes(100);
  auto enc = base64url_encode(data);
  auto dec = base64url_decode(enc);
  ASSERT_TRUE(dec);
  EXPECT_EQ(*dec, data);
  EXPECT_FALSE(base64url_decode("***"));
}

TEST(Crypto, PasswordHashIsArgon2idAndVerifies) {
  auto h = password_hash("correct horse");
  EXPECT_TRUE(h.starts_with("$argon2id$"));
  EXPECT_EQ(h.find("correct horse"), std::string::npos);
  EXPECT_TRUE(password_verify(h, "correct horse"));
  EXPECT_FALSE(password_verify(h, "correct horsf"));
  EXPECT_FALSE(password_verify("garbage", "correct horse"));
}

TEST(Crypto, SealOpensOnlyWithTheRightKeyAndIntactText) {
  std::string key = random_bytes(32);
  auto sealed = seal(key, "refresh-token-value");
  EXPECT_EQ(sealed.find("refresh-token-value"), std::string::npos);
  auto opened = open(key, sealed);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, "refresh-token-value");
  EXPECT_FALSE(open(random_bytes(32), sealed));
  sealed[30] ^= 1;
  EXPECT_FALSE(open(key, sealed));
  EXPECT_FALSE(open(key, "short"));
}

TEST(Crypto, KeyFileIsCreatedPrivateAndReloaded) {
  auto dir = std::filesystem::temp_directory_path() / ("reach-key-" + random_token(6));
  std::filesystem::create_directories(dir);
  auto path = (dir / "secret.key").string();
  auto k1 = load_or_create_key(path);
  ASSERT_TRUE(k1);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto k2 = load_or_create_key(path);
  ASSERT_TRUE(k2);
  EXPECT_EQ(*k1, *k2);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace reach::crypto
