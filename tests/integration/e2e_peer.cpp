#include "integration/e2e_peer.h"

#include "common/e2e_crypto.h"
#include "link/link.h"

#include <gtest/gtest.h>

namespace reach::itest {

link::E2eOptions device_end(std::string session_secret) {
  return {
      link::E2eRole::device, std::move(session_secret), crypto::ed25519_keypair().private_key, {}};
}

link::E2eOptions supporter_end(const std::string& supporter_link) {
  auto l = link::parse_session_link(supporter_link, "support");
  EXPECT_TRUE(l) << (l ? "" : l.error().message);
  if (!l) return {};
  return {link::E2eRole::supporter, l->session_secret, {}, l->device_fingerprint};
}

E2ePeer::E2ePeer(link::E2eOptions options) : e2e_(std::move(options)) {}

Result<std::shared_ptr<E2ePeer>> E2ePeer::connect(net::EventLoop& loop, const std::string& url,
                                                  link::E2eOptions options) {
  auto peer = std::make_shared<E2ePeer>(std::move(options));
  auto ws = net::websocket_connect(loop, url, {}, peer);
  if (!ws) return ws.error();
  return peer;
}

void E2ePeer::on_open(std::shared_ptr<net::WebSocket> ws) {
  std::lock_guard lock(mu_);
  ws_ = ws;
  for (auto& m : e2e_.start()) ws_->send(std::move(m), true);
  cv_.notify_all();
}

void E2ePeer::on_message(std::string data, bool binary) {
  std::lock_guard lock(mu_);
  if (!binary || !error_.empty()) return;  // the relay's text is nobody's word here
  auto r = e2e_.receive(data);
  if (!r) {
    error_ = r.error().code;
    if (ws_) ws_->close(1000, "end-to-end check failed (" + error_ + ")");
    cv_.notify_all();
    return;
  }
  for (auto& m : r->send) ws_->send(std::move(m), true);
  stream_ += r->stream;
  for (auto& n : r->notices) notices_.push_back(std::move(n));
  cv_.notify_all();
}

void E2ePeer::on_close(std::uint16_t code, std::string reason) {
  std::lock_guard lock(mu_);
  closed_ = true;
  close_code_ = code;
  close_reason_ = std::move(reason);
  cv_.notify_all();
}

void E2ePeer::send(std::string_view bytes) {
  if (bytes.empty()) return;  // a stream has no empty writes
  std::lock_guard lock(mu_);
  if (e2e_.state() == link::E2eChannel::State::closed ||
      e2e_.state() == link::E2eChannel::State::failed)
    return;  // the session is over: nothing goes
  ws_->send(e2e_.seal_stream(bytes), true);
}

void E2ePeer::send_and_close(std::string_view bytes, const std::string& reason) {
  std::lock_guard lock(mu_);
  ws_->send(e2e_.seal_stream(bytes), true);
  ws_->send(e2e_.seal_close(reason), true);
  ws_->close(1000, reason);
}

bool E2ePeer::wait_established(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] {
    return e2e_.established() || !error_.empty() || closed_;
  }) && e2e_.established();
}

bool E2ePeer::wait_bytes(std::uint64_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return stream_.size() >= n; });
}

bool E2ePeer::wait_closed(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return closed_; });
}

std::string E2ePeer::stream() const {
  return read([&] { return stream_; });
}
std::uint64_t E2ePeer::received_bytes() const {
  return read([&] { return std::uint64_t{stream_.size()}; });
}
std::vector<std::string> E2ePeer::notices() const {
  return read([&] { return notices_; });
}
std::string E2ePeer::verification_code() const {
  return read([&] { return e2e_.verification_code(); });
}
std::string E2ePeer::e2e_error() const {
  return read([&] { return error_; });
}
bool E2ePeer::closed() const {
  return read([&] { return closed_; });
}
std::uint16_t E2ePeer::close_code() const {
  return read([&] { return close_code_; });
}
std::string E2ePeer::close_reason() const {
  return read([&] { return close_reason_; });
}

}  // namespace reach::itest
