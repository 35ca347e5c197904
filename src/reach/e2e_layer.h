// The session's end-to-end encryption (link/e2e.h) as a layer of net::Bridge: `reach connect`
// (the supporter's end) and the tests' device bridge carry a plain TCP stream inside it. The
// relay between them sees only the handshake's public values and records it cannot read.
//
// Thread-safety: the bridge calls the layer under its lock; the accessors may be called from any
// thread (the layer has a lock of its own). The callbacks run under the bridge's lock and must
// not block or call the bridge.
#pragma once

#include "link/e2e.h"
#include "net/bridge.h"

#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace reach::cli {

class E2eLayer : public net::MessageLayer {
 public:
  struct Callbacks {
    // The handshake is done: the verification code both ends show.
    std::function<void(const std::string& code)> established;
    // A notice from the device's end (JSON, link/notice.h).
    std::function<void(const std::string& json)> notice;
  };
  explicit E2eLayer(link::E2eOptions options, Callbacks callbacks = {});

  std::vector<std::string> opening() override;
  bool ready() const override;
  bool receive(std::string_view message, std::string& to_tcp,
               std::vector<std::string>& to_websocket, std::string& why) override;
  std::string seal(std::string_view bytes) override;
  std::optional<std::string> closing(std::string_view reason) override;

  // A failed check (its code and the sentence for the person), if any.
  std::optional<Error> failure() const;
  // The reason the other end gave in its close record ("" if it sent none).
  std::string peer_closed() const;
  std::string verification_code() const;

 private:
  mutable std::mutex mu_;
  link::E2eChannel channel_;
  Callbacks callbacks_;
  std::optional<Error> failure_;
  std::string peer_closed_;
};

}  // namespace reach::cli
