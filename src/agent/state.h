// The agent's state directory (SPEC §7): the device credential and the notifications the device
// holds, as JSON files of mode 0600 in a directory of mode 0700. Every write is atomic (a
// temporary file, fsync, rename, fsync of the directory): a killed agent leaves either the old
// or the new file, never a torn one.
//
// Thread-safety: a StateDir may be shared by threads; each method takes the object's lock.
#pragma once

#include "common/result.h"

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace reach::agent {

struct Credential {
  std::string hub_url;  // "http(s)://host:port"
  std::string device_id;
  std::string device_credential;
};

// A notification as the device keeps it.
struct Notification {
  std::string id;
  std::string kind;  // "customNotification", "remoteAssistanceRequest", …
  std::string title;
  std::string body;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  boost::json::object data;
  bool read = false;
  std::string answer;  // "", "accepted", "declined"
  // Needs an answer from the user (a flagged notification).
  bool wants_answer() const { return kind == "remoteAssistanceRequest" && answer.empty(); }
};

// An event for the hub, kept until the hub acknowledges it (survives restarts).
struct OutgoingEvent {
  std::string ref;  // unique; the hub records each ref once
  std::string notification_id;
  std::string event;
  std::string detail;
};

class StateDir {
 public:
  // Creates the directory (0700) if needed. Refuses a directory other users can write to.
  static Result<std::unique_ptr<StateDir>> open(const std::string& path);

  const std::string& path() const { return path_; }
  std::string control_socket() const { return path_ + "/control.sock"; }

  Result<std::optional<Credential>> credential() const;
  Status save_credential(const Credential& c);

  // The device's Ed25519 key (its 32-byte seed), made the first time it is asked for and kept in
  // device-key.json (0600). It never leaves the device: it proves the device's end of every
  // session (link/e2e.h). Errors: "stateCorrupt" for a file that holds no such key.
  Result<std::string> device_key();
  // Replaces the key with a new one (re-enrollment: the old key's sessions and receipts stay
  // the old device's).
  Result<std::string> new_device_key();

  std::vector<Notification> notifications() const;
  // Adds a notification the first time its id is seen; returns true when it was new.
  Result<bool> add_notification(const Notification& n);
  Status update_notification(const Notification& n);
  std::optional<Notification> notification(const std::string& id) const;

  std::vector<OutgoingEvent> outbox() const;
  Status queue_event(const OutgoingEvent& e);
  Status remove_event(const std::string& ref);

 private:
  explicit StateDir(std::string path) : path_(std::move(path)) {}
  Status load();
  Status save_locked();

  const std::string path_;
  mutable std::mutex mu_;
  std::vector<Notification> notifications_;  // guarded by mu_, oldest first
  std::vector<OutgoingEvent> outbox_;        // guarded by mu_
};

// Writes `data` to `path` atomically with mode 0600.
Status write_file_atomic(const std::string& path, const std::string& data);

}  // namespace reach::agent
