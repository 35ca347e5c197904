// The session's end-to-end encryption (docs/session-security.md), sans-I/O: one E2eChannel per
// end of a relay stream, fed the binary WebSocket messages that arrive and asked for the ones
// to send. The relay in between sees the handshake's public values and then only records it
// cannot read or alter unnoticed.
//
// Handshake (the supporter's end opens; every message one binary WebSocket message):
//   S -> A  commit   0x01 "REACH-E2E-1" flags(1) H(S_pub || n_S)(32)
//   A -> S  hello    0x02 flags(1) A_pub(32) n_A(32)
//   S -> A  reveal   0x03 S_pub(32) n_S(32), then at once the supporter-proof record
//   A -> S  the device-proof record: the device's Ed25519 key and its signature over the
//           transcript hash
// flags bit 0: this end holds the hub's session secret. Keys, IVs and the 6-digit verification
// code come from HKDF over the X25519 secret, salted with the session secret (32 zero bytes
// without one), each bound to th = H(commit || hello || reveal).
//
// Records: AES-256-GCM (ciphertext || tag) under the direction's key, the nonce being the
// direction's IV XOR the record's sequence number (never sent: a dropped, replayed or reordered
// record fails its tag). Plaintext: kind(1) payload. Kinds: stream bytes (RFB), a notice (JSON,
// link/notice.h), close (a reason in words), proof (the handshake's last step).
//
// Any failure is final: receive() returns an Error whose message says what happened, in words
// for the person at this end, and the channel refuses everything after it. Nothing is ever
// passed on unencrypted.
#pragma once

#include "common/result.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reach::link {

inline constexpr std::size_t kSessionSecretBytes = 32;
// What a record adds to its payload: the kind byte and the GCM tag.
inline constexpr std::size_t kRecordOverhead = 1 + 16;
// The largest handshake message (hello), for parsers that bound what they read.
inline constexpr std::size_t kMaxHandshakeMessage = 66;

enum class E2eRole { device, supporter };

struct E2eOptions {
  E2eRole role = E2eRole::supporter;
  // The hub's per-session secret (32 bytes), when the session is the hub's; empty otherwise.
  std::string session_secret;
  // device: the device's Ed25519 private key (32-byte seed), which proves the device's end.
  std::string device_private_key;
  // supporter: the device key's fingerprint the hub gave (device_key_fingerprint()); empty for
  // a session started by code, where the verification code is the check.
  std::string expected_fingerprint;
};

// The fingerprint of a device's Ed25519 public key: the first 16 bytes of its SHA-256, as 8
// groups of 4 lowercase hex digits separated by '-' (what the company portal shows).
std::string device_key_fingerprint(std::string_view public_key);

class E2eChannel {
 public:
  enum class State { handshake, established, failed, closed };

  explicit E2eChannel(E2eOptions options);

  // The messages to send first (the supporter's commit; nothing for the device's end).
  std::vector<std::string> start();

  // What one received message gave.
  struct Received {
    std::vector<std::string> send;      // handshake answers, in order, to send at once
    std::string stream;                 // stream bytes (RFB) to pass on
    std::vector<std::string> notices;   // notices (JSON text) from the device's end
    bool established = false;           // the handshake finished with this message
    std::optional<std::string> closed;  // the peer closed the session, with its reason
  };
  // Takes one binary message. Errors (all final, Errc::invalid with a code): "e2eHandshake" (a
  // malformed or out-of-turn handshake message, a version this end does not speak),
  // "e2eCommitment" (the supporter's keys changed between commit and reveal), "e2eBadRecord"
  // (a record that does not decrypt: altered, dropped, replayed, reordered or from someone
  // without the keys), "e2eDeviceKey" (the device's proof is wrong or its key is not the one
  // the hub gave), "e2eSecret" (one end holds the hub's session secret and the other does not).
  Result<Received> receive(std::string_view message);

  // Records to send once established (REACH_CHECK otherwise). `payload` may be empty (not for
  // the stream). A notice goes from the device's end only.
  std::string seal_stream(std::string_view bytes);
  std::string seal_notice(std::string_view json);
  std::string seal_close(std::string_view reason);

  State state() const { return state_; }
  bool established() const { return state_ == State::established; }
  // Once the keys are known (the supporter after hello, the device after reveal): the
  // verification code both ends show, six digits; empty before.
  const std::string& verification_code() const { return code_; }
  // H(commit || hello || reveal), 32 bytes; empty before the reveal.
  const std::string& transcript_hash() const { return th_; }
  // The supporter's end, once established: the device's Ed25519 public key.
  const std::string& device_public_key() const { return device_public_; }

 private:
  enum class Kind : std::uint8_t { stream = 0, notice = 1, close = 2, proof = 3 };
  Error fail(std::string code, std::string message);
  Result<Received> on_commit(std::string_view m);
  Result<Received> on_hello(std::string_view m);
  Result<Received> on_reveal(std::string_view m);
  Result<Received> on_record(std::string_view m);
  void derive();
  std::string seal(Kind kind, std::string_view payload);

  enum class Step { commit, hello, reveal, proof, done };
  E2eOptions options_;
  State state_ = State::handshake;
  Step step_;
  std::string own_private_, own_public_, own_nonce_;
  std::string commit_msg_, hello_msg_, reveal_msg_;
  std::string peer_commitment_;  // device: H(S_pub || n_S) from the commit
  bool peer_has_secret_ = false;
  std::string peer_public_;
  std::string th_, code_, device_public_;
  std::string send_key_, send_iv_, recv_key_, recv_iv_;
  std::uint64_t send_seq_ = 0, recv_seq_ = 0;
};

}  // namespace reach::link
