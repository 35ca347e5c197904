#include "link/e2e.h"

#include "common/crypto.h"
#include "common/e2e_crypto.h"

#include <fmt/format.h>

namespace reach::link {
namespace {

constexpr std::string_view kVersion = "REACH-E2E-1";
constexpr std::uint8_t kCommit = 0x01, kHello = 0x02, kReveal = 0x03;
constexpr std::size_t kCommitSize = 1 + kVersion.size() + 1 + 32;
constexpr std::size_t kHelloSize = 1 + 1 + 32 + 32;
constexpr std::size_t kRevealSize = 1 + 32 + 32;
static_assert(kHelloSize == kMaxHandshakeMessage);
constexpr std::uint8_t kHasSecret = 0x01;
constexpr std::string_view kDeviceProofLabel = "reach e2e device proof v1";
constexpr std::string_view kSupporterProofLabel = "reach e2e supporter proof v1";
constexpr std::uint64_t kMaxRecords = std::uint64_t{1} << 48;

std::string label(std::string_view what, std::string_view th) {
  std::string info = "reach e2e v1 ";
  info += what;
  info += th;
  return info;
}

std::string nonce(const std::string& iv, std::uint64_t seq) {
  std::string n = iv;
  for (int i = 0; i < 8; ++i)
    n[11 - i] = static_cast<char>(static_cast<std::uint8_t>(n[11 - i]) ^ ((seq >> (8 * i)) & 0xff));
  return n;
}

}  // namespace

std::string device_key_fingerprint(std::string_view public_key) {
  std::string hex = crypto::sha256_hex(public_key).substr(0, 32);
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 4) {
    if (i) out += '-';
    out += hex.substr(i, 4);
  }
  return out;
}

E2eChannel::E2eChannel(E2eOptions options)
    : options_(std::move(options)),
      step_(options_.role == E2eRole::device ? Step::commit : Step::hello) {
  REACH_CHECK(
      options_.session_secret.empty() || options_.session_secret.size() == kSessionSecretBytes,
      "a session secret is 32 bytes");
  REACH_CHECK(options_.role == E2eRole::supporter ||
                  options_.device_private_key.size() == crypto::kKeyBytes,
              "the device's end needs the device key");
  auto pair = crypto::x25519_keypair();
  own_private_ = std::move(pair.private_key);
  own_public_ = std::move(pair.public_key);
  own_nonce_ = crypto::random_bytes(32);
}

std::vector<std::string> E2eChannel::start() {
  if (options_.role == E2eRole::device || !commit_msg_.empty()) return {};
  commit_msg_ = static_cast<char>(kCommit);
  commit_msg_ += kVersion;
  commit_msg_ += static_cast<char>(options_.session_secret.empty() ? 0 : kHasSecret);
  commit_msg_ += crypto::sha256_raw(own_public_ + own_nonce_);
  return {commit_msg_};
}

Error E2eChannel::fail(std::string code, std::string message) {
  state_ = State::failed;
  return make_error(Errc::invalid, std::move(code), std::move(message));
}

Result<E2eChannel::Received> E2eChannel::receive(std::string_view m) {
  if (state_ == State::failed)
    return make_error(Errc::invalid, "e2eFailed", "The session's encryption has already failed.");
  if (state_ == State::closed)
    return fail("e2eBadRecord", "The other end sent more after it closed the session.");
  switch (step_) {
    case Step::commit:
      return on_commit(m);
    case Step::hello:
      if (commit_msg_.empty())
        return fail("e2eHandshake", "The device spoke before the supporter's end began.");
      return on_hello(m);
    case Step::reveal:
      return on_reveal(m);
    case Step::proof:
    case Step::done:
      return on_record(m);
  }
  return fail("e2eHandshake", "Unexpected message.");
}

Result<E2eChannel::Received> E2eChannel::on_commit(std::string_view m) {
  if (m.size() != kCommitSize || static_cast<std::uint8_t>(m[0]) != kCommit ||
      m.substr(1, kVersion.size()) != kVersion)
    return fail("e2eHandshake",
                "The supporter's end does not speak this version of Reach's end-to-end "
                "encryption (it may be out of date).");
  auto flags = static_cast<std::uint8_t>(m[1 + kVersion.size()]);
  if (flags & ~kHasSecret)
    return fail("e2eHandshake",
                "The supporter's end asked for something this device does not know.");
  peer_has_secret_ = (flags & kHasSecret) != 0;
  if (!options_.session_secret.empty() && !peer_has_secret_)
    return fail("e2eSecret",
                "The supporter's link lacks its key (the part after '#'): open the link exactly "
                "as the admin center gave it.");
  if (options_.session_secret.empty() && peer_has_secret_)
    return fail("e2eSecret", "The supporter's end holds a session key this device was not given.");
  commit_msg_ = std::string(m);
  peer_commitment_ = std::string(m.substr(kCommitSize - 32));
  hello_msg_ = static_cast<char>(kHello);
  hello_msg_ += static_cast<char>(options_.session_secret.empty() ? 0 : kHasSecret);
  hello_msg_ += own_public_;
  hello_msg_ += own_nonce_;
  step_ = Step::reveal;
  Received r;
  r.send.push_back(hello_msg_);
  return r;
}

Result<E2eChannel::Received> E2eChannel::on_hello(std::string_view m) {
  if (m.size() != kHelloSize || static_cast<std::uint8_t>(m[0]) != kHello ||
      (static_cast<std::uint8_t>(m[1]) & ~kHasSecret))
    return fail("e2eHandshake",
                "The device's end answered with something other than Reach's end-to-end "
                "encryption (it may be out of date).");
  peer_has_secret_ = (static_cast<std::uint8_t>(m[1]) & kHasSecret) != 0;
  if (peer_has_secret_ != !options_.session_secret.empty())
    return fail("e2eSecret", peer_has_secret_
                                 ? "The device holds a session key this link does not carry: "
                                   "open the link exactly as the admin center gave it."
                                 : "The device was not given this session's key.");
  hello_msg_ = std::string(m);
  peer_public_ = std::string(m.substr(2, 32));
  reveal_msg_ = static_cast<char>(kReveal);
  reveal_msg_ += own_public_;
  reveal_msg_ += own_nonce_;
  th_ = crypto::sha256_raw(commit_msg_ + hello_msg_ + reveal_msg_);
  derive();
  if (state_ == State::failed)
    return make_error(Errc::invalid, "e2eHandshake", "The device's key is not a valid key.");
  step_ = Step::proof;
  Received r;
  r.send.push_back(reveal_msg_);
  r.send.push_back(seal(Kind::proof, kSupporterProofLabel));
  return r;
}

Result<E2eChannel::Received> E2eChannel::on_reveal(std::string_view m) {
  if (m.size() != kRevealSize || static_cast<std::uint8_t>(m[0]) != kReveal)
    return fail("e2eHandshake", "The supporter's end broke off the handshake.");
  if (crypto::sha256_raw(m.substr(1)) != peer_commitment_)
    return fail("e2eCommitment",
                "The supporter's keys changed during the handshake: someone may be trying to "
                "stand between the two ends.");
  reveal_msg_ = std::string(m);
  peer_public_ = std::string(m.substr(1, 32));
  th_ = crypto::sha256_raw(commit_msg_ + hello_msg_ + reveal_msg_);
  derive();
  if (state_ == State::failed)
    return make_error(Errc::invalid, "e2eHandshake", "The supporter's key is not a valid key.");
  auto pub = crypto::ed25519_public_key(options_.device_private_key);
  auto sig =
      crypto::ed25519_sign(options_.device_private_key, std::string(kDeviceProofLabel) + th_);
  REACH_CHECK(pub && sig, "the device key signs");
  step_ = Step::proof;
  Received r;
  r.send.push_back(seal(Kind::proof, *pub + *sig));
  return r;
}

void E2eChannel::derive() {
  auto shared = crypto::x25519_shared(own_private_, peer_public_);
  if (!shared) {
    state_ = State::failed;
    return;
  }
  const std::string& salt = options_.session_secret;
  auto key = [&](std::string_view what, std::size_t n) {
    return crypto::hkdf_sha256(*shared, salt, label(what, th_), n);
  };
  std::string a2s_key = key("a2s key", 32), s2a_key = key("s2a key", 32);
  std::string a2s_iv = key("a2s iv", 12), s2a_iv = key("s2a iv", 12);
  bool device = options_.role == E2eRole::device;
  send_key_ = device ? a2s_key : s2a_key;
  send_iv_ = device ? a2s_iv : s2a_iv;
  recv_key_ = device ? s2a_key : a2s_key;
  recv_iv_ = device ? s2a_iv : a2s_iv;
  std::string c = key("code", 8);
  std::uint64_t v = 0;
  for (char ch : c) v = (v << 8) | static_cast<std::uint8_t>(ch);
  code_ = fmt::format("{:06}", v % 1'000'000);
}

Result<E2eChannel::Received> E2eChannel::on_record(std::string_view m) {
  if (recv_seq_ >= kMaxRecords)
    return fail("e2eBadRecord", "The session has sent more records than its keys allow.");
  auto plain = crypto::aes256gcm_open(recv_key_, nonce(recv_iv_, recv_seq_), m);
  if ((!plain || plain->empty()) && step_ == Step::proof)
    // The first record is the other end's proof: if it does not decrypt, the two ends did not
    // derive the same keys (one lacks the hub's session key, or someone stands between them).
    return fail("e2eSecret", options_.session_secret.empty()
                                 ? "The two ends could not agree on the session's keys."
                             : options_.role == E2eRole::device
                                 ? "The supporter's end does not hold this session's key."
                                 : "The device does not hold this session's key.");
  if (!plain || plain->empty())
    return fail("e2eBadRecord",
                "The session's data was changed, lost or replayed on the way (an end-to-end "
                "check failed): it was ended so that nothing altered is shown or done.");
  ++recv_seq_;
  auto kind = static_cast<Kind>(static_cast<std::uint8_t>((*plain)[0]));
  plain->erase(0, 1);  // in place: the payload is handed on without another copy
  const std::string& payload = *plain;
  Received r;
  if (step_ == Step::proof) {
    if (kind != Kind::proof) return fail("e2eHandshake", "The other end skipped its proof.");
    if (options_.role == E2eRole::device) {
      if (payload != kSupporterProofLabel)
        return fail("e2eHandshake", "The supporter's proof is malformed.");
    } else {
      if (payload.size() != crypto::kKeyBytes + crypto::kSignatureBytes)
        return fail("e2eDeviceKey", "The device's proof is malformed.");
      std::string_view pub = std::string_view(payload).substr(0, crypto::kKeyBytes);
      std::string_view sig = std::string_view(payload).substr(crypto::kKeyBytes);
      if (!crypto::ed25519_verify(pub, std::string(kDeviceProofLabel) + th_, sig))
        return fail("e2eDeviceKey", "The device's proof of its key is wrong.");
      if (!options_.expected_fingerprint.empty() &&
          device_key_fingerprint(pub) != options_.expected_fingerprint)
        return fail("e2eDeviceKey",
                    "The device's key is not the one the hub registered for this device: "
                    "someone may be standing between the two ends.");
      device_public_ = std::string(pub);
    }
    step_ = Step::done;
    state_ = State::established;
    r.established = true;
    return r;
  }
  switch (kind) {
    case Kind::stream:
      if (payload.empty()) return fail("e2eBadRecord", "An empty stream record.");
      r.stream = std::move(*plain);
      return r;
    case Kind::notice:
      if (options_.role == E2eRole::device)
        return fail("e2eBadRecord", "The supporter's end sent a device notice.");
      r.notices.emplace_back(payload);
      return r;
    case Kind::close:
      state_ = State::closed;
      r.closed = std::string(payload);
      return r;
    case Kind::proof:
      break;
  }
  return fail("e2eBadRecord", "The other end sent a record of an unknown kind.");
}

std::string E2eChannel::seal(Kind kind, std::string_view payload) {
  REACH_CHECK(send_seq_ < kMaxRecords, "records within the keys' limit");
  const char k = static_cast<char>(kind);
  return crypto::aes256gcm_seal_parts(send_key_, nonce(send_iv_, send_seq_++),
                                      std::string_view(&k, 1), payload);
}

std::string E2eChannel::seal_stream(std::string_view bytes) {
  REACH_CHECK(established() && !bytes.empty(), "stream records after the handshake");
  return seal(Kind::stream, bytes);
}

std::string E2eChannel::seal_notice(std::string_view json) {
  REACH_CHECK(established() && options_.role == E2eRole::device, "notices from the device");
  return seal(Kind::notice, json);
}

std::string E2eChannel::seal_close(std::string_view reason) {
  REACH_CHECK(established(), "a close record after the handshake");
  return seal(Kind::close, reason);
}

}  // namespace reach::link
