// The primitives of the session's end-to-end encryption (docs/session-security.md, issue 24):
// X25519 key agreement, HKDF-SHA-256, AES-256-GCM records and Ed25519 signatures, over OpenSSL 3
// (libsodium 1.0.18 has no HKDF). Every key and value is raw bytes in a std::string: X25519 and
// Ed25519 keys 32 bytes (an Ed25519 private key is its 32-byte seed), signatures 64, AES keys 32,
// GCM nonces 12, tags 16 (sealed output is ciphertext || tag, as WebCrypto gives it).
// Thread-safe; crypto::init() first, as for common/crypto.h.
#pragma once

#include "common/result.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace reach::crypto {

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kSignatureBytes = 64;
constexpr std::size_t kGcmNonceBytes = 12;
constexpr std::size_t kGcmTagBytes = 16;

struct KeyPair {
  std::string private_key;  // 32 bytes; never logged
  std::string public_key;   // 32 bytes
};

// A fresh X25519 pair, and the shared secret with a peer's public key. Errors (invalid,
// "badKey"): a key of the wrong size, or a peer key that gives the all-zero secret (a
// low-order point: someone forcing a known key).
KeyPair x25519_keypair();
Result<std::string> x25519_shared(std::string_view private_key, std::string_view peer_public);

// RFC 5869 with SHA-256: `length` bytes (at most 255 * 32). An empty salt is the RFC's default
// (32 zero bytes).
std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info,
                        std::size_t length);

// AES-256-GCM with a 12-byte nonce and a 16-byte tag appended. open: Errors (invalid, "badTag")
// when the tag does not match (altered, replayed under another nonce, wrong key).
std::string aes256gcm_seal(std::string_view key, std::string_view nonce, std::string_view plaintext,
                           std::string_view aad = {});
Result<std::string> aes256gcm_open(std::string_view key, std::string_view nonce,
                                   std::string_view sealed, std::string_view aad = {});
// The same as aes256gcm_seal(first + second) without making that concatenation (a record's kind
// byte and its payload).
std::string aes256gcm_seal_parts(std::string_view key, std::string_view nonce,
                                 std::string_view first, std::string_view second,
                                 std::string_view aad = {});

// Ed25519 (RFC 8032): a fresh pair, the public key of a seed, a signature, a check.
KeyPair ed25519_keypair();
Result<std::string> ed25519_public_key(std::string_view private_key);
Result<std::string> ed25519_sign(std::string_view private_key, std::string_view message);
bool ed25519_verify(std::string_view public_key, std::string_view message,
                    std::string_view signature);

}  // namespace reach::crypto
