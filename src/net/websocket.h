// WebSocket endpoints shared by the server and the client, free of Beast/Asio.
//
// Flow control is explicit so that a relay can join two sockets with bounded memory: send()
// queues a message and reports when the queue is over its byte limit; on_drain() says it fell
// back below half; pause_reading()/resume_reading() stop and restart reading from the peer, which
// pushes back through TCP.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace reach::net {

// One open WebSocket. Thread-safe: every method may be called from any thread.
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Queues a message (binary or text). Returns false when the queue is now over its limit: the
  // message is still queued, but the caller should stop producing until on_drain(). After close,
  // messages are dropped and false is returned.
  virtual bool send(std::string data, bool binary = true) = 0;
  virtual std::size_t queued_bytes() const = 0;
  // Sends a close frame after what is queued and ends the connection.
  virtual void close(std::uint16_t code = 1000, std::string reason = {}) = 0;
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
  virtual std::string remote_address() const = 0;
};

// Receives the events of one WebSocket. Called on the connection's strand, one at a time, never
// blocking. on_close() is called exactly once, last, whatever ended the connection.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  virtual void on_open(std::shared_ptr<WebSocket> ws) {}
  virtual void on_message(std::string data, bool binary) = 0;
  virtual void on_drain() {}
  virtual void on_close(std::uint16_t code, std::string reason) {}
};

}  // namespace reach::net
