// A relay in the middle, as the end-to-end encryption's tests need one: it stands where a
// compromised relay would, between reach-agent and the real relay. Every WebSocket upgrade is
// opened again at the real relay (same path and query) and every binary message, both ways,
// goes through `on_message`, which decides what is sent on instead: as it came (the default),
// altered, dropped, repeated, held back, or (with link/e2e.h's channels of its own) replaced by a
// handshake of the middle's own. It records every message it is given.
#pragma once

#include "net/client.h"
#include "net/server.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace reach::itest {

class MiddleRelay {
 public:
  enum class Way { to_relay, to_device };  // from the agent to the relay, or back
  // Sends a binary message on, either way.
  using Send = std::function<void(Way, std::string)>;
  // A binary message arrived: `index` counts this way's messages from 0.
  using OnMessage = std::function<void(Way way, int index, std::string message, const Send& send)>;

  // Listens on 127.0.0.1 (port 0) and passes to the relay on 127.0.0.1:relay_port.
  MiddleRelay(std::uint16_t relay_port, OnMessage on_message = {});
  ~MiddleRelay();

  std::string base_url() const;  // http://127.0.0.1:PORT, for `reach-agent join --relay`
  // Every message given to the middle so far (binary and text), both ways, concatenated.
  std::string recording() const;
  int messages(Way way) const;

  struct Pair;

 private:
  std::uint16_t relay_port_;
  OnMessage on_message_;
  net::EventLoop loop_;
  std::unique_ptr<net::Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::string recording_;
  int counts_[2] = {0, 0};
  std::vector<std::shared_ptr<Pair>> pairs_;
};

}  // namespace reach::itest
