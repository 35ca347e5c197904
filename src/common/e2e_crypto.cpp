#include "common/e2e_crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>

namespace reach::crypto {
namespace {

// OpenSSL objects owned by unique_ptr, freed by their own function.
template <auto Free>
struct Freer {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
template <typename T, auto Free>
using Owned = std::unique_ptr<T, Freer<Free>>;
using Pkey = Owned<EVP_PKEY, EVP_PKEY_free>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* bytes(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

Error bad_key(const char* what) {
  return make_error(Errc::invalid, "badKey", what);
}

KeyPair keypair(const char* algorithm) {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, algorithm));
  REACH_CHECK(key != nullptr, "key generation failed");
  KeyPair pair{std::string(kKeyBytes, '\0'), std::string(kKeyBytes, '\0')};
  std::size_t n = kKeyBytes, m = kKeyBytes;
  REACH_CHECK(EVP_PKEY_get_raw_private_key(key.get(), bytes(pair.private_key), &n) == 1 &&
                  EVP_PKEY_get_raw_public_key(key.get(), bytes(pair.public_key), &m) == 1 &&
                  n == kKeyBytes && m == kKeyBytes,
              "raw key export failed");
  return pair;
}

Pkey private_key(int type, std::string_view raw) {
  if (raw.size() != kKeyBytes) return nullptr;
  return Pkey(EVP_PKEY_new_raw_private_key(type, nullptr, bytes(raw), raw.size()));
}
Pkey public_key(int type, std::string_view raw) {
  if (raw.size() != kKeyBytes) return nullptr;
  return Pkey(EVP_PKEY_new_raw_public_key(type, nullptr, bytes(raw), raw.size()));
}

}  // namespace

KeyPair x25519_keypair() {
  return keypair("X25519");
}

Result<std::string> x25519_shared(std::string_view private_key_raw, std::string_view peer_public) {
  Pkey own = private_key(EVP_PKEY_X25519, private_key_raw);
  Pkey peer = public_key(EVP_PKEY_X25519, peer_public);
  if (!own || !peer) return bad_key("an X25519 key is not 32 bytes");
  Owned<EVP_PKEY_CTX, EVP_PKEY_CTX_free> ctx(EVP_PKEY_CTX_new(own.get(), nullptr));
  REACH_CHECK(ctx != nullptr, "EVP_PKEY_CTX_new failed");
  std::string shared(kKeyBytes, '\0');
  std::size_t n = shared.size();
  if (EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), bytes(shared), &n) != 1 || n != kKeyBytes)
    return bad_key("the peer's X25519 key gives no shared secret");
  unsigned char any = 0;
  for (unsigned char c : shared) any |= c;
  if (any == 0) return bad_key("the peer's X25519 key gives the all-zero secret");
  return shared;
}

std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info,
                        std::size_t length) {
  REACH_CHECK(length > 0 && length <= 255 * 32, "HKDF-SHA-256 gives 1 to 8160 bytes");
  Owned<EVP_KDF, EVP_KDF_free> kdf(EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr));
  REACH_CHECK(kdf != nullptr, "OpenSSL has no HKDF");
  Owned<EVP_KDF_CTX, EVP_KDF_CTX_free> ctx(EVP_KDF_CTX_new(kdf.get()));
  REACH_CHECK(ctx != nullptr, "EVP_KDF_CTX_new failed");
  std::string digest = "SHA256";
  const std::string zeros(32, '\0');
  if (salt.empty()) salt = zeros;  // RFC 5869: a string of HashLen zeros
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()), ikm.size()),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
                         OSSL_PARAM_construct_end()};
  std::string out(length, '\0');
  REACH_CHECK(EVP_KDF_derive(ctx.get(), bytes(out), out.size(), params) == 1,
              "HKDF derivation failed");
  return out;
}

std::string aes256gcm_seal(std::string_view key, std::string_view nonce, std::string_view plaintext,
                           std::string_view aad) {
  return aes256gcm_seal_parts(key, nonce, {}, plaintext, aad);
}

std::string aes256gcm_seal_parts(std::string_view key, std::string_view nonce,
                                 std::string_view first, std::string_view second,
                                 std::string_view aad) {
  REACH_CHECK(key.size() == kKeyBytes && nonce.size() == kGcmNonceBytes,
              "AES-256-GCM takes a 32-byte key and a 12-byte nonce");
  Owned<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free> ctx(EVP_CIPHER_CTX_new());
  REACH_CHECK(ctx != nullptr, "EVP_CIPHER_CTX_new failed");
  const std::size_t length = first.size() + second.size();
  // One buffer, written once: a copy of the plaintext first would double the memory the
  // allocator churns through for every record (a quarter MiB each), which cost more than the
  // cipher.
  std::string out(length + kGcmTagBytes, '\0');
  int n = 0, m = 0, k = 0;
  bool ok =
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce)) == 1;
  if (ok && !aad.empty())
    ok = EVP_EncryptUpdate(ctx.get(), nullptr, &n, bytes(aad), static_cast<int>(aad.size())) == 1;
  n = 0;
  if (ok && !first.empty())
    ok = EVP_EncryptUpdate(ctx.get(), bytes(out), &n, bytes(first),
                           static_cast<int>(first.size())) == 1;
  if (ok && !second.empty())
    ok = EVP_EncryptUpdate(ctx.get(), bytes(out) + n, &k, bytes(second),
                           static_cast<int>(second.size())) == 1;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), bytes(out) + n + k, &m) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagBytes),
                                 bytes(out) + length) == 1;
  REACH_CHECK(ok && static_cast<std::size_t>(n + k + m) == length, "AES-GCM sealing failed");
  return out;
}

Result<std::string> aes256gcm_open(std::string_view key, std::string_view nonce,
                                   std::string_view sealed, std::string_view aad) {
  REACH_CHECK(key.size() == kKeyBytes && nonce.size() == kGcmNonceBytes,
              "AES-256-GCM takes a 32-byte key and a 12-byte nonce");
  if (sealed.size() < kGcmTagBytes)
    return make_error(Errc::invalid, "badTag", "the record is shorter than its tag");
  const std::size_t length = sealed.size() - kGcmTagBytes;
  Owned<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free> ctx(EVP_CIPHER_CTX_new());
  REACH_CHECK(ctx != nullptr, "EVP_CIPHER_CTX_new failed");
  std::string out(length, '\0');
  std::string tag(sealed.substr(length));
  int n = 0, m = 0;
  bool ok =
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce)) == 1;
  if (ok && !aad.empty())
    ok = EVP_DecryptUpdate(ctx.get(), nullptr, &n, bytes(aad), static_cast<int>(aad.size())) == 1;
  ok = ok &&
       EVP_DecryptUpdate(ctx.get(), bytes(out), &n, bytes(sealed), static_cast<int>(length)) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagBytes),
                                 tag.data()) == 1;
  if (!ok || EVP_DecryptFinal_ex(ctx.get(), bytes(out) + n, &m) != 1)
    return make_error(Errc::invalid, "badTag", "the record's tag does not match");
  return out;
}

KeyPair ed25519_keypair() {
  return keypair("ED25519");
}

Result<std::string> ed25519_public_key(std::string_view private_key_raw) {
  Pkey key = private_key(EVP_PKEY_ED25519, private_key_raw);
  if (!key) return bad_key("an Ed25519 private key is a 32-byte seed");
  std::string pub(kKeyBytes, '\0');
  std::size_t n = pub.size();
  REACH_CHECK(EVP_PKEY_get_raw_public_key(key.get(), bytes(pub), &n) == 1 && n == kKeyBytes,
              "raw key export failed");
  return pub;
}

Result<std::string> ed25519_sign(std::string_view private_key_raw, std::string_view message) {
  Pkey key = private_key(EVP_PKEY_ED25519, private_key_raw);
  if (!key) return bad_key("an Ed25519 private key is a 32-byte seed");
  Owned<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  REACH_CHECK(ctx != nullptr, "EVP_MD_CTX_new failed");
  std::string sig(kSignatureBytes, '\0');
  std::size_t n = sig.size();
  REACH_CHECK(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
                  EVP_DigestSign(ctx.get(), bytes(sig), &n, bytes(message), message.size()) == 1 &&
                  n == kSignatureBytes,
              "Ed25519 signing failed");
  return sig;
}

bool ed25519_verify(std::string_view public_key_raw, std::string_view message,
                    std::string_view signature) {
  Pkey key = public_key(EVP_PKEY_ED25519, public_key_raw);
  if (!key || signature.size() != kSignatureBytes) return false;
  Owned<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(message),
                          message.size()) == 1;
}

}  // namespace reach::crypto
