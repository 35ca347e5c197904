// `reach connect` lets one VNC viewer in, and only with a one-time password: anyone on the
// machine can reach a local port, so the port alone must not be the way into a session.
// Sans-I/O, byte for byte (RFC 6143 §7.1, §7.2.2):
//
//   ViewerAuth    is the RFB server towards the viewer up to the security result: version (3.3,
//                 3.7 or 3.8), VNC Authentication with a random challenge, the response checked
//                 against the password.
//   UpstreamGate  then sits between the viewer and the device (whose RFB server offers None):
//                 it answers the device's version and security for the viewer, and gives the
//                 viewer the device's security result (with the device's reason on a refusal,
//                 e.g. the device user's "deny"). After that every byte passes as it is.
#pragma once

#include "net/bridge.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace reach::cli {

// The 16-byte answer of VNC Authentication: the challenge encrypted with DES, the key being the
// password's first 8 bytes (zero-padded) with each byte's bits reversed.
std::string vnc_auth_response(std::string_view password, std::string_view challenge);

// A one-time password for a viewer: 8 characters (VNC uses 8), none easily misread.
std::string random_viewer_password();

class ViewerAuth {
 public:
  enum class State { need_more, authenticated, failed };

  ViewerAuth(std::string password, std::array<std::uint8_t, 16> challenge);
  // The first bytes for the viewer: the server's version.
  std::string greeting() const { return "RFB 003.008\n"; }
  // Takes bytes from the viewer, appends the answers for it to `out`.
  State feed(std::string_view in, std::string& out);
  int minor() const { return minor_; }  // the viewer's version: 3, 7 or 8
  // Bytes the viewer sent after its response (normally none: it waits for the result).
  const std::string& rest() const { return buf_; }
  const std::string& why() const { return why_; }  // of a failure, for the log

 private:
  State fail(std::string why, std::string& out);

  enum class Step { version, security_type, response, done };
  std::string password_;
  std::array<std::uint8_t, 16> challenge_;
  Step step_ = Step::version;
  int minor_ = 8;
  std::string buf_, why_;
};

class UpstreamGate : public net::StreamFilter {
 public:
  // `viewer_minor`: ViewerAuth::minor(); `viewer_bytes`: ViewerAuth::rest().
  UpstreamGate(int viewer_minor, std::string viewer_bytes);
  bool from_websocket(std::string_view in, std::string& to_tcp, std::string& to_websocket) override;
  bool from_tcp(std::string_view in, std::string& to_websocket) override;
  bool passthrough() const override { return step_ == Step::done; }
  const std::string& why() const { return why_; }

 private:
  bool fail(std::string reason, std::string& to_tcp);

  enum class Step { version, security_types, security_result, done, failed };
  int viewer_minor_;
  Step step_ = Step::version;
  std::string buf_, held_, why_;
};

}  // namespace reach::cli
