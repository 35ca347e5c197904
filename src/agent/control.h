// The agent's local control socket: how `reach-agent notifications|accept|decline|allow|deny|
// status|end` talk to the long-running `run` or `join` process. A Unix stream socket in the state
// directory, mode 0600; a connection from another user is refused (SO_PEERCRED), whatever the
// file mode says. Each connection carries one request and one response, each a JSON object on
// one line of at most 64 KiB.
//
// Thread-safety: the server runs its own thread and calls the handler there, one request at a
// time. control_call() is a blocking client.
#pragma once

#include "common/result.h"

#include <boost/json/object.hpp>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace reach::agent {

class ControlServer {
 public:
  using Handler = std::function<boost::json::object(const boost::json::object& request)>;
  using Snapshot = std::function<boost::json::object()>;

  // Binds `path` (replacing a stale socket nobody answers on). Errors: "agentRunning" when
  // another process already answers there, "controlSocket" on other failures.
  // Without a snapshot, subscriptions are refused.
  static Result<std::unique_ptr<ControlServer>> start(const std::string& path, Handler handler,
                                                      Snapshot snapshot = {});
  ~ControlServer();  // stops the thread and removes the socket file

  // The agent's state changed: every subscriber gets a new snapshot. Never blocks.
  void changed();

 private:
  struct Subscriber {
    int fd;
    std::string out;  // written when the socket takes it
  };

  ControlServer(std::string path, int fd, Handler handler, Snapshot snapshot);
  void run();
  void serve(int connection);
  void publish(std::size_t first = 0);  // to subscribers_[first…]
  void flush(std::size_t index);
  void drop(std::size_t index, const char* why);

  const std::string path_;
  const int fd_;
  const Handler handler_;
  const Snapshot snapshot_;
  int wake_[2] = {-1, -1};               // a pipe: 'c' for changed(), 'x' stops run()
  std::vector<Subscriber> subscribers_;  // the server thread's
  std::thread thread_;
};

// Sends one request. Errors: "agentNotRunning" (nobody listens), "controlSocket".
Result<boost::json::object> control_call(const std::string& path,
                                         const boost::json::object& request,
                                         int timeout_ms = 10000);

}  // namespace reach::agent
