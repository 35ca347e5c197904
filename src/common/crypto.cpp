#include "common/crypto.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace reach {

void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(e.code + ": " + e.message);
}

void check_failed(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "FATAL %s:%d: check failed: %s: %s\n", file, line, expr, msg);
  std::abort();
}

}  // namespace reach

namespace reach::crypto {

void init() {
  REACH_CHECK(sodium_init() >= 0, "libsodium failed to initialise");
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string random_token(std::size_t bytes) {
  return base64url_encode(random_bytes(bytes));
}

std::string uuid_v4() {
  auto b = random_bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string out;
  out.reserve(36);
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    auto c = static_cast<unsigned char>(b[i]);
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  std::string out;
  out.reserve(64);
  for (unsigned char c : md) out += fmt::format("{:02x}", c);
  return out;
}

std::string sha256_raw(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

static std::string b64_encode(std::string_view data, int variant) {
  std::string out(sodium_base64_encoded_len(data.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()),
                    data.size(), variant);
  out.resize(std::strlen(out.c_str()));
  return out;
}

static Result<std::string> b64_decode(std::string_view text, int variant) {
  std::string out(text.size(), '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr, variant) != 0) {
    return bad_request("invalid base64 text");
  }
  out.resize(len);
  return out;
}

std::string base64url_encode(std::string_view data) {
  return b64_encode(data, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
Result<std::string> base64url_decode(std::string_view text) {
  return b64_decode(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
std::string base64_encode(std::string_view data) {
  return b64_encode(data, sodium_base64_VARIANT_ORIGINAL);
}
Result<std::string> base64_decode(std::string_view text) {
  return b64_decode(text, sodium_base64_VARIANT_ORIGINAL);
}

std::string password_hash(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  int rc = crypto_pwhash_str_alg(out, password.data(), password.size(),
                                 crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
  REACH_CHECK(rc == 0, "argon2id hashing ran out of memory");
  return out;
}

bool password_verify(std::string_view hash, std::string_view password) {
  std::string h(hash);  // needs a NUL-terminated string
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

std::string seal(std::string_view key, std::string_view plaintext) {
  REACH_CHECK(key.size() == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "bad key size");
  std::string out(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plaintext.size() +
                      crypto_aead_xchacha20poly1305_ietf_ABYTES,
                  '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &clen,
      reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(), nullptr, 0,
      nullptr, nonce, reinterpret_cast<const unsigned char*>(key.data()));
  out.resize(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + clen);
  return out;
}

Result<std::string> open(std::string_view key, std::string_view sealed) {
  REACH_CHECK(key.size() == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "bad key size");
  constexpr auto kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  if (sealed.size() < kNonce + crypto_aead_xchacha20poly1305_ietf_ABYTES)
    return internal_error("sealed secret is truncated");
  std::string out(sealed.size() - kNonce, '\0');
  unsigned long long mlen = 0;
  auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &mlen, nullptr, nonce + kNonce,
          sealed.size() - kNonce, nullptr, 0, nonce,
          reinterpret_cast<const unsigned char*>(key.data())) != 0) {
    return internal_error("sealed secret does not open with this key");
  }
  out.resize(mlen);
  return out;
}

Result<std::string> load_or_create_key(const std::string& path) {
  constexpr std::size_t kLen = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    std::string key(kLen + 1, '\0');
    ssize_t n = ::read(fd, key.data(), key.size());
    ::close(fd);
    if (n != static_cast<ssize_t>(kLen))
      return internal_error(fmt::format("key file {} is not {} bytes", path, kLen));
    key.resize(kLen);
    return key;
  }
  if (errno != ENOENT) return internal_error(fmt::format("cannot read key file {}", path));
  std::string key = random_bytes(kLen);
  std::string tmp = path + ".tmp";
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return internal_error(fmt::format("cannot create key file {}", path));
  bool ok =
      ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0)
    return internal_error(fmt::format("cannot write key file {}", path));
  return key;
}

std::string seal_text(std::string_view key, std::string_view plaintext) {
  return base64_encode(seal(key, plaintext));
}

std::string open_text(std::string_view key, std::string_view sealed_base64) {
  if (sealed_base64.empty()) return {};
  auto raw = base64_decode(sealed_base64);
  if (!raw) return {};
  auto plain = open(key, *raw);
  return plain ? *plain : std::string();
}

}  // namespace reach::crypto
