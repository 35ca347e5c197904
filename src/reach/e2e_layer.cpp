#include "reach/e2e_layer.h"

namespace reach::cli {

E2eLayer::E2eLayer(link::E2eOptions options, Callbacks callbacks)
    : channel_(std::move(options)), callbacks_(std::move(callbacks)) {}

std::vector<std::string> E2eLayer::opening() {
  std::lock_guard lk(mu_);
  return channel_.start();
}

bool E2eLayer::ready() const {
  std::lock_guard lk(mu_);
  return channel_.established();
}

bool E2eLayer::receive(std::string_view message, std::string& to_tcp,
                       std::vector<std::string>& to_websocket, std::string& why) {
  std::unique_lock lk(mu_);
  auto r = channel_.receive(message);
  if (!r) {
    failure_ = r.error();
    why = "end-to-end check failed (" + r.error().code + ")";
    return false;
  }
  for (auto& m : r->send) to_websocket.push_back(std::move(m));
  to_tcp += r->stream;
  if (r->closed) peer_closed_ = *r->closed;
  std::string code = channel_.verification_code();
  lk.unlock();
  if (r->established && callbacks_.established) callbacks_.established(code);
  if (callbacks_.notice)
    for (const auto& n : r->notices) callbacks_.notice(n);
  return true;
}

std::string E2eLayer::seal(std::string_view bytes) {
  std::lock_guard lk(mu_);
  return channel_.seal_stream(bytes);
}

std::optional<std::string> E2eLayer::closing(std::string_view reason) {
  std::lock_guard lk(mu_);
  if (!channel_.established()) return std::nullopt;
  return channel_.seal_close(reason);
}

std::optional<Error> E2eLayer::failure() const {
  std::lock_guard lk(mu_);
  return failure_;
}

std::string E2eLayer::peer_closed() const {
  std::lock_guard lk(mu_);
  return peer_closed_;
}

std::string E2eLayer::verification_code() const {
  std::lock_guard lk(mu_);
  return channel_.verification_code();
}

}  // namespace reach::cli
