#include "reach/viewer_gate.h"

#include "common/crypto.h"

#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <algorithm>

namespace reach::cli {

namespace {

constexpr std::size_t kMaxHeld = 64 * 1024;  // viewer bytes held during the device's handshake

std::string u32be(std::uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::uint32_t read_u32be(std::string_view s) {
  auto b = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(s[i]));
  };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

// A SecurityResult "failed", with its reason for 3.8 viewers (RFC 6143 §7.1.3).
std::string security_failed(int viewer_minor, std::string_view reason) {
  std::string out = u32be(1);
  if (viewer_minor >= 8)
    out += u32be(static_cast<std::uint32_t>(reason.size())) + std::string(reason);
  return out;
}

// DES lives in OpenSSL 3's legacy provider (VNC Authentication is all that uses it here): a
// private library context, so that nothing else in the process can pick a legacy algorithm.
EVP_CIPHER* des_ecb() {
  static EVP_CIPHER* cipher = [] {
    OSSL_LIB_CTX* ctx = OSSL_LIB_CTX_new();
    if (!ctx || !OSSL_PROVIDER_load(ctx, "legacy") || !OSSL_PROVIDER_load(ctx, "default"))
      return static_cast<EVP_CIPHER*>(nullptr);
    return EVP_CIPHER_fetch(ctx, "DES-ECB", nullptr);
  }();
  return cipher;
}

}  // namespace

std::string vnc_auth_response(std::string_view password, std::string_view challenge) {
  if (challenge.size() != 16) return {};
  unsigned char key[8] = {};
  for (std::size_t i = 0; i < 8 && i < password.size(); ++i) {
    auto c = static_cast<unsigned char>(password[i]);
    unsigned char r = 0;
    for (int bit = 0; bit < 8; ++bit)
      if (c & (1u << bit)) r |= static_cast<unsigned char>(0x80u >> bit);
    key[i] = r;
  }
  EVP_CIPHER* des = des_ecb();
  if (!des) return {};
  std::string out(16 + 8, '\0');
  EVP_CIPHER_CTX* cctx = EVP_CIPHER_CTX_new();
  int n = 0, m = 0;
  bool ok = cctx && EVP_EncryptInit_ex(cctx, des, nullptr, key, nullptr) == 1 &&
            EVP_CIPHER_CTX_set_padding(cctx, 0) == 1 &&
            EVP_EncryptUpdate(cctx, reinterpret_cast<unsigned char*>(out.data()), &n,
                              reinterpret_cast<const unsigned char*>(challenge.data()), 16) == 1 &&
            EVP_EncryptFinal_ex(cctx, reinterpret_cast<unsigned char*>(out.data()) + n, &m) == 1;
  EVP_CIPHER_CTX_free(cctx);
  if (!ok || n + m != 16) return {};
  out.resize(16);
  return out;
}

std::string random_viewer_password() {
  static constexpr std::string_view kAlphabet =
      "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  while (out.size() < 8) {
    unsigned char b = 0;
    if (RAND_bytes(&b, 1) != 1) continue;
    // Rejection sampling: only bytes below a multiple of the alphabet's size, so every
    // character is equally likely.
    if (b >= 256 / kAlphabet.size() * kAlphabet.size()) continue;
    out += kAlphabet[b % kAlphabet.size()];
  }
  return out;
}

// ------------------------------------------------------------------------- ViewerAuth

ViewerAuth::ViewerAuth(std::string password, std::array<std::uint8_t, 16> challenge)
    : password_(std::move(password)), challenge_(challenge) {}

ViewerAuth::State ViewerAuth::fail(std::string why, std::string& out) {
  why_ = std::move(why);
  out += security_failed(minor_,
                         "Wrong password: use the one-time password that reach connect "
                         "printed.");
  step_ = Step::done;
  return State::failed;
}

ViewerAuth::State ViewerAuth::feed(std::string_view in, std::string& out) {
  if (step_ == Step::done) return why_.empty() ? State::authenticated : State::failed;
  buf_.append(in);
  std::string challenge(challenge_.begin(), challenge_.end());
  for (;;) {
    switch (step_) {
      case Step::version: {
        if (buf_.size() < 12) return State::need_more;
        std::string v = buf_.substr(0, 12);
        buf_.erase(0, 12);
        if (!v.starts_with("RFB 003.") || v[11] != '\n' ||
            !std::all_of(v.begin() + 8, v.begin() + 11,
                         [](char c) { return c >= '0' && c <= '9'; })) {
          why_ = "not a VNC viewer";
          step_ = Step::done;
          return State::failed;
        }
        int minor = std::stoi(v.substr(8, 3));
        // RFC 6143 §7.1.1: other 3.x versions are 3.3; later ones speak 3.8.
        minor_ = minor >= 8 ? 8 : minor == 7 ? 7 : 3;
        if (minor_ == 3) {
          out += u32be(2) + challenge;  // 3.3: the server names the type
          step_ = Step::response;
        } else {
          out += std::string("\x01\x02", 2);  // one type: VNC Authentication
          step_ = Step::security_type;
        }
        break;
      }
      case Step::security_type: {
        if (buf_.empty()) return State::need_more;
        char chosen = buf_[0];
        buf_.erase(0, 1);
        if (chosen != 2) return fail("the viewer did not choose VNC Authentication", out);
        out += challenge;
        step_ = Step::response;
        break;
      }
      case Step::response: {
        if (buf_.size() < 16) return State::need_more;
        std::string response = buf_.substr(0, 16);
        buf_.erase(0, 16);
        std::string expected = vnc_auth_response(password_, challenge);
        if (expected.empty()) return fail("DES is not available (OpenSSL's legacy provider)", out);
        if (!crypto::constant_time_equal(response, expected)) return fail("wrong password", out);
        step_ = Step::done;
        return State::authenticated;
      }
      case Step::done:
        return why_.empty() ? State::authenticated : State::failed;
    }
  }
}

// ------------------------------------------------------------------------- UpstreamGate

UpstreamGate::UpstreamGate(int viewer_minor, std::string viewer_bytes)
    : viewer_minor_(viewer_minor), held_(std::move(viewer_bytes)) {}

bool UpstreamGate::fail(std::string reason, std::string& to_tcp) {
  to_tcp += security_failed(viewer_minor_, reason);
  why_ = std::move(reason);
  step_ = Step::failed;
  return false;
}

bool UpstreamGate::from_websocket(std::string_view in, std::string& to_tcp,
                                  std::string& to_websocket) {
  if (step_ == Step::failed) return false;
  if (step_ == Step::done) {
    to_tcp.append(in);
    return true;
  }
  buf_.append(in);
  for (;;) {
    switch (step_) {
      case Step::version:
        if (buf_.size() < 12) return true;
        if (!buf_.starts_with("RFB 003.") || buf_[11] != '\n')
          return fail("The device did not answer as an RFB server.", to_tcp);
        buf_.erase(0, 12);
        to_websocket += "RFB 003.008\n";
        step_ = Step::security_types;
        break;
      case Step::security_types: {
        if (buf_.empty()) return true;
        auto count = static_cast<unsigned char>(buf_[0]);
        if (count == 0) {  // the device refused (its user denied): pass its reason on
          if (buf_.size() < 5) return true;
          std::uint32_t len = std::min<std::uint32_t>(read_u32be(buf_.substr(1, 4)), 1024);
          if (buf_.size() < 5 + len) return true;
          return fail(buf_.substr(5, len), to_tcp);
        }
        if (buf_.size() < 1u + count) return true;
        std::string types = buf_.substr(1, count);
        buf_.erase(0, 1u + count);
        if (types.find('\x01') == std::string::npos)
          return fail("The device offers no security type that reach connect knows.", to_tcp);
        to_websocket += '\x01';  // None: the relay link already authenticated this end
        step_ = Step::security_result;
        break;
      }
      case Step::security_result: {
        if (buf_.size() < 4) return true;
        std::uint32_t result = read_u32be(buf_.substr(0, 4));
        if (result != 0) {
          if (buf_.size() < 8) return true;
          std::uint32_t len = std::min<std::uint32_t>(read_u32be(buf_.substr(4, 4)), 1024);
          if (buf_.size() < 8 + len) return true;
          return fail(buf_.substr(8, len), to_tcp);
        }
        buf_.erase(0, 4);
        to_tcp += u32be(0);  // the viewer's SecurityResult: OK
        to_tcp += buf_;      // anything the device sent after it
        to_websocket += held_;
        buf_.clear();
        held_.clear();
        step_ = Step::done;
        return true;
      }
      case Step::done:
      case Step::failed:
        return step_ == Step::done;
    }
  }
}

bool UpstreamGate::from_tcp(std::string_view in, std::string& to_websocket) {
  if (step_ == Step::done) {
    to_websocket.append(in);
    return true;
  }
  if (step_ == Step::failed || held_.size() + in.size() > kMaxHeld) return false;
  held_.append(in);
  return true;
}

}  // namespace reach::cli
