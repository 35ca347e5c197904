#include "integration/middle_relay.h"

#include <gtest/gtest.h>

#include <deque>

namespace reach::itest {

// One stream through the middle: the agent's connection (down) and the middle's own to the
// relay (up). Messages for an end not open yet wait in its queue.
struct MiddleRelay::Pair : std::enable_shared_from_this<MiddleRelay::Pair> {
  MiddleRelay* middle = nullptr;
  std::mutex mu;
  std::shared_ptr<net::WebSocket> down, up;
  std::deque<std::string> for_down;
  bool closed = false;

  void send(Way way, std::string m) {
    std::lock_guard lk(mu);
    if (way == Way::to_relay) {
      if (up) up->send(std::move(m), true);
    } else if (down) {
      down->send(std::move(m), true);
    } else {
      for_down.push_back(std::move(m));
    }
  }

  void arrived(Way way, std::string m, bool binary) {
    if (!binary) {  // recorded too, then passed on as they are
      {
        std::lock_guard lk(middle->mu_);
        middle->recording_ += m;
      }
      std::lock_guard lk(mu);
      auto& to = way == Way::to_relay ? up : down;
      if (to) to->send(std::move(m), false);
      return;
    }
    int index;
    {
      std::lock_guard lk(middle->mu_);
      middle->recording_ += m;
      index = middle->counts_[way == Way::to_relay ? 0 : 1]++;
    }
    Send sender = [self = shared_from_this()](Way w, std::string x) {
      self->send(w, std::move(x));
    };
    if (middle->on_message_)
      middle->on_message_(way, index, std::move(m), sender);
    else
      sender(way, std::move(m));
  }

  void ended(Way way, std::uint16_t code, std::string reason) {
    std::shared_ptr<net::WebSocket> other;
    {
      std::lock_guard lk(mu);
      other = way == Way::to_relay ? up : down;
    }
    // 1005 and 1006 are never sent in a close frame.
    if (other) other->close(code == 1005 || code == 1006 ? 1001 : code, std::move(reason));
  }
};

namespace {

class End : public net::WebSocketHandler {
 public:
  End(std::shared_ptr<MiddleRelay::Pair> pair, MiddleRelay::Way way)
      : pair_(std::move(pair)), way_(way) {}
  void on_open(std::shared_ptr<net::WebSocket> ws) override {
    if (way_ != MiddleRelay::Way::to_relay) return;  // the up end is set by the upgrade
    std::lock_guard lk(pair_->mu);
    pair_->down = ws;
    while (!pair_->for_down.empty()) {
      ws->send(std::move(pair_->for_down.front()), true);
      pair_->for_down.pop_front();
    }
  }
  void on_message(std::string data, bool binary) override {
    pair_->arrived(way_, std::move(data), binary);
  }
  void on_close(std::uint16_t code, std::string reason) override {
    pair_->ended(way_, code, std::move(reason));
  }

 private:
  std::shared_ptr<MiddleRelay::Pair> pair_;
  MiddleRelay::Way way_;  // where what this end receives goes
};

}  // namespace

MiddleRelay::MiddleRelay(std::uint16_t relay_port, OnMessage on_message)
    : relay_port_(relay_port), on_message_(std::move(on_message)) {
  net::ServerOptions options;
  options.worker_threads = 2;
  server_ = std::make_unique<net::Server>(
      options, [](net::Request&) { return net::Response::text(404, "no pages here\n"); },
      [this](net::Request& request,
             net::Response& reject) -> std::shared_ptr<net::WebSocketHandler> {
        auto pair = std::make_shared<Pair>();
        pair->middle = this;
        // What the relay sends goes towards the device.
        auto up = net::websocket_connect(
            loop_, "ws://127.0.0.1:" + std::to_string(relay_port_) + request.target, {},
            std::make_shared<End>(pair, Way::to_device));
        if (!up) {
          // The relay's refusal as it answered (410 for a spent code, …).
          reject =
              net::Response::text(up.error().status ? up.error().status : 502, up.error().message);
          return nullptr;
        }
        {
          std::lock_guard lk(pair->mu);
          pair->up = *up;
        }
        std::lock_guard lk(mu_);
        pairs_.push_back(pair);
        return std::make_shared<End>(pair, Way::to_relay);
      });
  auto bound = server_->listen();
  EXPECT_TRUE(bound) << (bound ? "" : bound.error().message);
  if (bound) port_ = static_cast<std::uint16_t>(std::stoi(bound->substr(bound->rfind(':') + 1)));
  thread_ = std::thread([this] { server_->run(); });
}

MiddleRelay::~MiddleRelay() {
  server_->stop(std::chrono::milliseconds(500));
  thread_.join();
}

std::string MiddleRelay::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::string MiddleRelay::recording() const {
  std::lock_guard lk(mu_);
  return recording_;
}

int MiddleRelay::messages(Way way) const {
  std::lock_guard lk(mu_);
  return counts_[way == Way::to_relay ? 0 : 1];
}

}  // namespace reach::itest
