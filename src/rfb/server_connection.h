// The server side of one RFB connection (RFC 6143), sans-I/O: bytes in, bytes and events out.
// The caller owns the socket. It feeds what it reads, calls process(), sends what take_output()
// returns, and asks for framebuffer updates with write_update() when the desktop has something
// to show and the client has asked (ServerHandler::update_requested).
//
// Handshake: ProtocolVersion 3.8 (3.7 and 3.3 clients are served their handshake too), security
// type None only, then ClientInit and ServerInit. After it: SetPixelFormat, SetEncodings,
// FramebufferUpdateRequest, KeyEvent, PointerEvent and ClientCutText; and, once the owner offers
// them (offer_continuous_updates) to a client that lists both pseudo-encodings, rfbproto's Fence
// and EnableContinuousUpdates.
//
// Failure: process() returns an Error with a reason when the client breaks the protocol or asks
// for what this server refuses; the connection is then dead (later calls return the same error)
// and the caller should send what take_output() still holds (a reason for the client, when the
// protocol has a place for one), then close and log the error. Short input is never an error:
// process() keeps the partial message and waits for more.
//
// Memory: after process() returns, the input buffer holds less than one message, and no message
// is accepted above kMaxCutText + 8 bytes, so buffered input stays bounded.
//
// Thread-safety: none. One thread (the connection's strand) owns it; the handler is called on that
// thread, from inside process(). A handler may call write_update() and the other write_*
// functions; it must not call feed() or process() (the text it is handed points into the input).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "rfb/encoders.h"
#include "rfb/framebuffer.h"
#include "rfb/h264.h"
#include "rfb/pixel_format.h"
#include "rfb/tight.h"

namespace reach::rfb {

// What the client asks of the desktop. Called from inside ServerConnection::process().
class ServerHandler {
 public:
  virtual ~ServerHandler() = default;
  virtual void key_event(bool down, uint32_t keysym) = 0;
  // x, y are clipped to the framebuffer.
  virtual void pointer_event(uint8_t button_mask, int x, int y) = 0;
  // ClientCutText bytes as sent: ISO 8859-1 per the RFC.
  virtual void cut_text(std::string_view latin1) = 0;
  // `rect` is clipped to the framebuffer and never empty.
  virtual void update_requested(bool incremental, const Rect& rect) = 0;
  // Updates written from now on use the new format (already validated).
  virtual void pixel_format_changed(const PixelFormat& pf) = 0;
  // The client's encodings, most preferred first.
  virtual void encodings_changed(const std::vector<int32_t>& encodings) = 0;
  // With hold_admission(): the client has sent its ProtocolVersion and waits; answer with
  // admit() or refuse() (from here or later, before the next process()).
  virtual void admission_requested() {}
  // The client answered a fence this server sent (write_fence): `payload` as it was sent.
  virtual void fence_answered(std::string_view /*payload*/) {}
  // The client asks for updates of `rect` (clipped, never empty) as the desktop changes, without
  // FramebufferUpdateRequests (enable), or no longer (EndOfContinuousUpdates is already written).
  virtual void continuous_updates_changed(bool /*enable*/, const Rect& /*rect*/) {}
};

// CopyRect source: the client copies what it shows at (src_x, src_y) to `dst`.
struct CopyOp {
  Rect dst;
  int src_x = 0;
  int src_y = 0;
};

// One FramebufferUpdate. Copies are written first and in order (later ones may read what earlier
// ones wrote), then the changed rectangles, then the video areas. A framebuffer of a new size adds
// a DesktopSize rectangle before all of them.
struct Update {
  std::vector<CopyOp> copies;
  std::vector<Rect> changed;
  // Areas that change like video: each is one H.264 frame (h264.h) when the client takes Open
  // H.264 and the owner allows it (set_video), else sent like `changed`. An area keeps its
  // encoder while it keeps its place and size; areas of odd size or under 16x16 go as `changed`.
  std::vector<Rect> video;
  // Send `changed` without loss (no JPEG), as a still copy of areas that went lossy.
  bool lossless = false;
  // Now, in milliseconds on a steady clock: the video rate control reads it.
  int64_t time_ms = 0;
  const Cursor* cursor = nullptr;  // a new cursor shape, sent when the client takes Cursor
};

class ServerConnection {
 public:
  static constexpr size_t kMaxEncodings = 256;      // real viewers send 20 to 50
  static constexpr size_t kMaxCutText = 1 << 20;    // 1 MiB of clipboard text
  static constexpr int kMaxRectsPerUpdate = 65535;  // U16 number-of-rectangles

  // Writes the server's ProtocolVersion to the output at once.
  ServerConnection(ServerHandler& handler, int width, int height, std::string desktop_name);
  ~ServerConnection();
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  // Admission: when called before the first process(), the handshake stops after the versions
  // are exchanged (nothing about the desktop has been sent, not even its size) until admit() or
  // refuse(reason). This is where the device user is asked "allow this session to start?".
  void hold_admission() { hold_admission_ = true; }
  bool awaiting_admission() const { return state_ == State::kAdmission; }
  // Offers the security types; call process() afterwards for what the client sent since.
  void admit();
  // Tells the client why (in the protocol's failure form) and fails the connection with 403
  // "rfbRefused": send take_output(), then close.
  void refuse(const std::string& reason);

  void feed(std::string_view bytes) { in_.append(bytes); }
  // Handles every complete message buffered. See the failure contract above.
  Status process();
  // The bytes to send, in order; leaves the output empty.
  std::string take_output() { return std::exchange(out_, std::string()); }
  size_t pending_output() const { return out_.size(); }
  size_t buffered_input() const { return in_.size(); }

  // True once ServerInit has been written: updates may be sent.
  bool ready() const { return state_ == State::kReady; }
  bool shared() const { return shared_; }
  // Minor version agreed with the client: 3, 7 or 8.
  int minor_version() const { return minor_; }
  const PixelFormat& client_format() const { return converter_.format(); }
  const std::vector<int32_t>& encodings() const { return encodings_; }
  bool client_supports(int32_t encoding) const;
  // The size the client knows.
  // The client's JPEG quality level (its first quality pseudo-encoding), -1 when it listed none.
  int quality_level() const { return tight_.quality_level(); }
  int width() const { return width_; }
  int height() const { return height_; }

  // Writes one FramebufferUpdate from `fb` in the client's pixel format with the most preferred
  // encoding the client takes among Tight, ZRLE and Raw (CopyRect when taken, else the copied area
  // is encoded like a change). Tight uses JPEG only when the client's encodings hold a quality
  // level (the first one listed counts, as does the first compression level). Rectangles are
  // clipped to `fb`; empty ones are dropped; over 65535 rectangles (counting Tight's tiles)
  // become their bounding box. If `fb` has a new size, DesktopSize announces it; a
  // client without DesktopSize gets an Error (disconnect it). Must be ready() (crashes otherwise).
  Status write_update(const Framebuffer& fb, const Update& update);
  // Called from inside write_update() whenever at least `min_bytes` of output are waiting after
  // a rectangle (a Tight tile), so that the caller can send them (take_output()) while the rest
  // of a big update is encoded. The sink must not call write_*() or process().
  void set_progress_sink(std::function<void()> sink, size_t min_bytes) {
    progress_sink_ = std::move(sink);
    progress_bytes_ = min_bytes;
  }
  // Open H.264 (encoding 50) for Update::video, off until allowed; a client that does not list
  // it never gets it. The rate is what every video area's encoder aims at from its next frame.
  static constexpr size_t kMaxVideoContexts = 4;
  void set_video(bool allowed) { video_allowed_ = allowed; }
  bool video_active() const;
  void set_video_rate(int bitrate, float frame_rate);
  // Frames and bytes of H.264 written so far (the viewer's statistics, the benches).
  uint64_t video_frames() const { return video_frames_; }
  uint64_t video_bytes() const { return video_bytes_; }
  // The areas written with loss (JPEG tiles, video frames) since the last call: an exact copy is
  // due once they stop changing (Update::lossless).
  std::vector<Rect> take_lossy() { return std::exchange(lossy_, {}); }

  void write_bell();
  void write_server_cut_text(std::string_view latin1);

  // Fence and ContinuousUpdates (rfbproto). Offered from now on: to a client whose encodings list
  // both, the server says it takes them (a Fence request with an empty payload, then
  // EndOfContinuousUpdates) once ready() and the encodings are known. Without the offer, or to a
  // client that did not list them, their messages are a protocol error, as from a client that
  // never announced them.
  void offer_continuous_updates();
  bool fence_agreed() const { return fence_sent_; }
  bool continuous_updates() const { return continuous_; }
  const Rect& continuous_area() const { return continuous_area_; }
  // A fence request: the client answers it once it has handled everything written before it
  // (ServerHandler::fence_answered). At most kMaxFencePayload bytes; only after fence_agreed().
  static constexpr size_t kMaxFencePayload = 64;
  static constexpr uint32_t kFenceBlockBefore = 1u << 0;
  static constexpr uint32_t kFenceBlockAfter = 1u << 1;
  static constexpr uint32_t kFenceSyncNext = 1u << 2;
  static constexpr uint32_t kFenceRequest = 1u << 31;
  void write_fence(uint32_t flags, std::string_view payload);

 private:
  enum class State { kVersion, kAdmission, kSecurity, kClientInit, kReady, kFailed };

  // One message: true if handled, false if it needs more input, an Error to disconnect.
  Result<bool> process_one();
  Result<bool> on_version();
  Result<bool> on_admission();
  void write_security_offer();
  Result<bool> on_security();
  Result<bool> on_client_init();
  Result<bool> on_message();
  void write_server_init();
  // Says that Fence and ContinuousUpdates are taken, when offered and the client listed both.
  void announce_extensions();
  // Where the protocol allows, tells the client why it is refused (written to the output).
  void write_failure_reason(const std::string& reason);

  ServerHandler& handler_;
  const std::string name_;

  State state_ = State::kVersion;
  int minor_ = 8;
  bool shared_ = false;
  bool hold_admission_ = false;
  bool offer_cu_ = false;
  bool fence_sent_ = false;  // the announcing fence is written: fences may be exchanged
  bool cu_announced_ = false;
  bool continuous_ = false;
  Rect continuous_area_;
  std::function<void()> progress_sink_;
  size_t progress_bytes_ = 0;
  int width_;
  int height_;
  PixelConverter converter_;
  std::vector<int32_t> encodings_;
  ZrleEncoder zrle_;
  TightEncoder tight_;
  struct VideoContext {
    Rect area;
    std::unique_ptr<H264Encoder> encoder;
    uint64_t last_used = 0;
  };
  // The encoder for `area`, made on first use (the least recently used dropped past
  // kMaxVideoContexts); `fresh` says the client must start a new decoder for it. Null when
  // OpenH264 refused (the area then goes as a change).
  H264Encoder* video_context(const Rect& area, bool& fresh);
  bool video_allowed_ = false;
  int video_bitrate_ = 4'000'000;
  float video_frame_rate_ = 30;
  uint64_t video_tick_ = 0;
  uint64_t video_frames_ = 0;
  uint64_t video_bytes_ = 0;
  std::vector<VideoContext> video_;
  std::vector<Rect> lossy_;
  Error error_;

  std::string in_;
  size_t in_pos_ = 0;  // first unconsumed byte of in_
  std::string out_;
};

}  // namespace reach::rfb
