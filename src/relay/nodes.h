// Several relay nodes on one store (SPEC §9). The two streams of a session meet in one process
// (Pairing is memory), so each session records the node that owns its streams: the first node
// one of its ends reaches claims it, and every other node sends the ends there — a stream gets
// a 307 to the owner's URL (reach-agent and reach connect follow it), the viewer page names the
// owner's stream URL. Each node holds its presence on the store (store::Database::
// claim_presence) and watches the others': when one dies, its sessions whose streams had
// connected are closed with the reason "nodeLost" (their ends lost their connections with it and
// need a new session), and those that had not are freed for another node to claim.
//
// Thread-safe.
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace reach::relay {

class Pairing;

class Nodes {
 public:
  struct Options {
    std::string name;  // this node's name, unique among the live nodes on the store
    // Where clients reach this node directly: http(s)://host[:port][/prefix].
    std::string url;
    // The operator named the URL (--node-url): the viewer page then always connects there, since
    // the address the page was loaded from may be a balancer that picks any node.
    bool url_given = false;
    std::chrono::milliseconds check_interval{1000};  // how often the others' presence is checked
  };

  Nodes(store::Database& db, Pairing& pairing, Options options);
  ~Nodes();  // stops watching (the presence goes with the Database)
  Nodes(const Nodes&) = delete;
  Nodes& operator=(const Nodes&) = delete;

  // Claims this node's presence (409 when a live node has the name), ends what a previous life
  // of this node left streaming, records the URL, listens for stream ends asked on other nodes
  // and starts watching the others.
  Status start();

  struct Route {
    bool here = true;
    std::string node_url;  // the owner's URL when not here
  };
  // Where the streams of the open session `code` meet: here (this node owns it now, having
  // claimed it if no live node did) or the owner's URL. 410 "session_ended" when the owner died
  // with the session's streams on it (the session is closed then).
  Result<Route> route(const std::string& code);

  // The base of a stream URL for a page that `route` sent here or elsewhere: "" (the page's own
  // origin) or ws(s)://node[/prefix].
  std::string stream_base(const Route& route) const;

  // Ends the streams of `code` on whichever node holds them (the session was closed).
  void end_streams(const std::string& code);

  // Checks the others' presence once and takes over from the dead (the watch thread's work).
  void sweep();

 private:
  // Closes `node`'s sessions whose streams had connected ("nodeLost") and frees the others;
  // `forget`: also deletes the node's row. Returns the sessions closed.
  Result<int> take_over(const std::string& node, bool forget);
  void watch();

  // What the store's listener thread (which outlives this object) may reach: cleared by ~Nodes.
  struct Listener {
    std::mutex mu;
    Pairing* pairing = nullptr;  // guarded by mu
  };

  store::Database& db_;
  Pairing& pairing_;
  const Options options_;
  std::shared_ptr<Listener> listener_ = std::make_shared<Listener>();

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace reach::relay
