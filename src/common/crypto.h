// Randomness, hashing, password hashing and secret-box encryption. Backed by libsodium and
// OpenSSL. All functions are thread-safe; init() must run once before any of them (programs do it
// in main, tests in their environment).
#pragma once

#include "common/result.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace reach::crypto {

void init();

std::string random_bytes(std::size_t n);
// Unguessable token: `bytes` random bytes, base64url without padding.
std::string random_token(std::size_t bytes = 32);
// Random UUID v4 in canonical lowercase form.
std::string uuid_v4();
bool is_uuid(std::string_view s);

std::string sha256_hex(std::string_view data);
std::string sha256_raw(std::string_view data);                         // 32 bytes
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes
bool constant_time_equal(std::string_view a, std::string_view b);

std::string base64url_encode(std::string_view data);
Result<std::string> base64url_decode(std::string_view text);
std::string base64_encode(std::string_view data);
Result<std::string> base64_decode(std::string_view text);

// argon2id (libsodium's crypto_pwhash_str, "interactive" limits). Slow on purpose (tens of ms,
// 64 MiB): never call on an I/O thread.
std::string password_hash(std::string_view password);
bool password_verify(std::string_view hash, std::string_view password);

// XChaCha20-Poly1305 secret box with a 32-byte key; output is nonce || ciphertext.
std::string seal(std::string_view key, std::string_view plaintext);
Result<std::string> open(std::string_view key, std::string_view sealed);
// The same as text for a database column: base64 of seal(); open_text gives "" for an empty,
// malformed or foreign value (a secret that does not open is as good as none).
std::string seal_text(std::string_view key, std::string_view plaintext);
std::string open_text(std::string_view key, std::string_view sealed_base64);

// Loads the 32-byte key from `path`, creating it (mode 0600) if it does not exist.
Result<std::string> load_or_create_key(const std::string& path);

}  // namespace reach::crypto
