// The end-to-end encryption's primitives against their RFCs' test vectors, and what they refuse.
#include "common/e2e_crypto.h"

#include <gtest/gtest.h>

#include <string>

#include "common/crypto.h"

namespace reach::crypto {
namespace {

std::string unhex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}
std::string hex(std::string_view b) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

// RFC 7748 section 6.1.
TEST(E2eCrypto, X25519AgreesAsRfc7748Says) {
  const std::string alice =
      unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const std::string alice_pub =
      unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const std::string bob = unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const std::string bob_pub =
      unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const std::string expected = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  auto a = x25519_shared(alice, bob_pub);
  auto b = x25519_shared(bob, alice_pub);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(hex(*a), expected);
  EXPECT_EQ(hex(*b), expected);
}

TEST(E2eCrypto, FreshX25519PairsAgreeAndBadKeysAreRefused) {
  KeyPair a = x25519_keypair(), b = x25519_keypair();
  EXPECT_EQ(a.public_key.size(), 32u);
  EXPECT_NE(a.private_key, b.private_key);
  auto ab = x25519_shared(a.private_key, b.public_key);
  auto ba = x25519_shared(b.private_key, a.public_key);
  ASSERT_TRUE(ab && ba);
  EXPECT_EQ(*ab, *ba);
  // A low-order point (here zero) forces the all-zero secret: someone choosing the key.
  auto zero = x25519_shared(a.private_key, std::string(32, '\0'));
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, "badKey");
  EXPECT_FALSE(x25519_shared(a.private_key, b.public_key.substr(1)));
  EXPECT_FALSE(x25519_shared(a.private_key.substr(2), b.public_key));
}

// RFC 5869 appendix A.1 (and A.3: no salt, no info).
TEST(E2eCrypto, HkdfSha256AsRfc5869Says) {
  EXPECT_EQ(hex(hkdf_sha256(std::string(22, '\x0b'), unhex("000102030405060708090a0b0c"),
                            unhex("f0f1f2f3f4f5f6f7f8f9"), 42)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  EXPECT_EQ(hex(hkdf_sha256(std::string(22, '\x0b'), "", "", 42)),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

// The GCM specification's test case 14 (AES-256, zero key, zero nonce, one zero block).
TEST(E2eCrypto, AesGcmAsTheSpecificationSaysAndTamperingIsCaught) {
  const std::string key(32, '\0'), nonce(12, '\0'), block(16, '\0');
  const std::string sealed = aes256gcm_seal(key, nonce, block);
  EXPECT_EQ(hex(sealed), "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
  auto opened = aes256gcm_open(key, nonce, sealed);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, block);

  const std::string k = random_bytes(32), n = random_bytes(12);
  const std::string record = aes256gcm_seal(k, n, "pixels", "aad");
  for (std::size_t i = 0; i < record.size(); ++i) {  // every flipped byte, tag included
    std::string bad = record;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto r = aes256gcm_open(k, n, bad, "aad");
    ASSERT_FALSE(r) << i;
    EXPECT_EQ(r.error().code, "badTag");
  }
  EXPECT_FALSE(aes256gcm_open(k, n, record, "other"));  // other associated data
  std::string other_nonce = n;
  other_nonce[11] = static_cast<char>(other_nonce[11] ^ 1);  // the next record's: a replay
  EXPECT_FALSE(aes256gcm_open(k, other_nonce, record, "aad"));
  EXPECT_FALSE(aes256gcm_open(k, n, record.substr(0, 10), "aad"));  // shorter than its tag
  EXPECT_EQ(*aes256gcm_open(k, n, record, "aad"), "pixels");
  EXPECT_EQ(*aes256gcm_open(k, n, aes256gcm_seal(k, n, ""), ""), "");
}

// RFC 8032 section 7.1, test 1 (the empty message).
TEST(E2eCrypto, Ed25519AsRfc8032Says) {
  const std::string seed =
      unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  auto pub = ed25519_public_key(seed);
  ASSERT_TRUE(pub);
  EXPECT_EQ(hex(*pub), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  auto sig = ed25519_sign(seed, "");
  ASSERT_TRUE(sig);
  EXPECT_EQ(
      hex(*sig),
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
      "1cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(ed25519_verify(*pub, "", *sig));
}

TEST(E2eCrypto, Ed25519RefusesAnyChangeAndAnotherKey) {
  KeyPair device = ed25519_keypair(), other = ed25519_keypair();
  auto pub = ed25519_public_key(device.private_key);
  ASSERT_TRUE(pub);
  EXPECT_EQ(*pub, device.public_key);
  const std::string receipt = R"({"decision":"allowed","sessionId":"s1"})";
  auto sig = ed25519_sign(device.private_key, receipt);
  ASSERT_TRUE(sig);
  EXPECT_TRUE(ed25519_verify(device.public_key, receipt, *sig));
  EXPECT_FALSE(ed25519_verify(other.public_key, receipt, *sig)) << "another device's key";
  std::string changed = receipt;
  changed[14] = 'd';
  EXPECT_FALSE(ed25519_verify(device.public_key, changed, *sig)) << "a changed field";
  std::string bad_sig = *sig;
  bad_sig[0] = static_cast<char>(bad_sig[0] ^ 0x80);
  EXPECT_FALSE(ed25519_verify(device.public_key, receipt, bad_sig));
  EXPECT_FALSE(ed25519_verify(device.public_key, receipt, sig->substr(1)));
  EXPECT_FALSE(ed25519_verify(device.public_key.substr(1), receipt, *sig));
  EXPECT_FALSE(ed25519_sign("short", receipt));
  EXPECT_FALSE(ed25519_public_key(std::string(31, 'x')));
}

// A record's kind byte and payload sealed as two parts are the one plaintext sealed whole.
TEST(E2eCrypto, SealingInPartsIsSealingTheConcatenation) {
  std::string key(32, '\x42'), nonce(12, '\x24');
  for (std::string second : {std::string(), std::string("x"), std::string(70000, 'p')}) {
    EXPECT_EQ(aes256gcm_seal_parts(key, nonce, "\x01", second),
              aes256gcm_seal(key, nonce, "\x01" + second));
    EXPECT_EQ(aes256gcm_seal_parts(key, nonce, "", second, "aad"),
              aes256gcm_seal(key, nonce, second, "aad"));
  }
}

}  // namespace
}  // namespace reach::crypto
