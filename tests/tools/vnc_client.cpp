// reach_test_vnc_client: a VNC client that nobody on this project wrote (libvncclient), for
// tests that check what a real viewer decodes. It connects, asks for the given pixel format and
// encodings, waits until every pixel of the framebuffer has arrived at least once and then for
// a quiet period, optionally writes the framebuffer as a binary PPM, types text and clicks, and
// prints "frames=N bytes=M" (updates received, bytes read from the socket). Exit status 0 on
// success; 1 with a message on standard error on failure or timeout; 2 on bad usage.
//
//   reach_test_vnc_client --connect HOST:PORT [--encodings "zrle raw"] [--bpp 32|16]
//       [--quality N] [--snapshot OUT.ppm] [--type TEXT] [--click X,Y] [--wait-ms N]
//       [--timeout-ms N] [--until-closed]
//
// --bpp 16 is RGB565. --quality turns on Tight's JPEG at that level (0-9). --type sends a
// press and a release per character with the character's keysym ('\n' is Return). --wait-ms is
// the quiet period (default 300). --until-closed then stays connected until the server ends
// the connection (within --timeout-ms) and prints "closed by server".
//
// Test-only: the only program that links libvncclient.
#include <rfb/rfbclient.h>

#include <linux/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct State {
  std::vector<std::uint8_t> covered;  // one flag per framebuffer pixel
  std::size_t covered_count = 0;
  int frames = 0;
  Clock::time_point last_update = Clock::now();
};

State* state_of(rfbClient* cl) {
  return static_cast<State*>(rfbClientGetClientData(cl, nullptr));
}

void reset_coverage(rfbClient* cl) {
  State* s = state_of(cl);
  s->covered.assign(static_cast<std::size_t>(cl->width) * cl->height, 0);
  s->covered_count = 0;
}

void on_update(rfbClient* cl, int x, int y, int w, int h) {
  State* s = state_of(cl);
  if (s->covered.size() != static_cast<std::size_t>(cl->width) * cl->height) reset_coverage(cl);
  for (int yy = std::max(0, y); yy < std::min(cl->height, y + h); ++yy)
    for (int xx = std::max(0, x); xx < std::min(cl->width, x + w); ++xx) {
      auto& c = s->covered[static_cast<std::size_t>(yy) * cl->width + xx];
      if (!c) {
        c = 1;
        ++s->covered_count;
      }
    }
  s->last_update = Clock::now();
}

void on_finished(rfbClient* cl) {
  State* s = state_of(cl);
  ++s->frames;
  s->last_update = Clock::now();
}

rfbBool on_resize(rfbClient* cl) {
  // libvncclient's default allocation, done here so the coverage map follows the size.
  std::free(cl->frameBuffer);
  cl->frameBuffer = static_cast<uint8_t*>(
      std::calloc(static_cast<std::size_t>(cl->width) * cl->height, cl->format.bitsPerPixel / 8));
  cl->updateRect.x = 0;
  cl->updateRect.y = 0;
  cl->updateRect.w = cl->width;
  cl->updateRect.h = cl->height;
  reset_coverage(cl);
  return cl->frameBuffer ? TRUE : FALSE;
}

std::string g_password;  // --password: VNC Authentication's password

// libvncclient frees what this returns.
char* give_password(rfbClient*) {
  if (g_password.empty()) {
    std::fprintf(stderr, "reach_test_vnc_client: the server asked for a password\n");
    return nullptr;
  }
  return strdup(g_password.c_str());
}

bool complete(rfbClient* cl) {
  State* s = state_of(cl);
  return cl->width > 0 && s->covered_count == static_cast<std::size_t>(cl->width) * cl->height;
}

// Runs the message loop until `done` or `deadline`; false on error or timeout.
template <class Done>
bool pump(rfbClient* cl, Clock::time_point deadline, Done done, const char* what) {
  while (!done()) {
    if (Clock::now() >= deadline) {
      std::fprintf(stderr, "reach_test_vnc_client: timed out %s\n", what);
      return false;
    }
    int n = WaitForMessage(cl, 20000);
    if (n < 0) {
      std::fprintf(stderr, "reach_test_vnc_client: connection error %s\n", what);
      return false;
    }
    if (n > 0 && !HandleRFBServerMessage(cl)) {
      std::fprintf(stderr, "reach_test_vnc_client: connection closed %s\n", what);
      return false;
    }
  }
  return true;
}

std::uint64_t bytes_received(rfbClient* cl) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(cl->sock, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return 0;
  return info.tcpi_bytes_received;
}

// The framebuffer, in the client's pixel format, as a binary PPM with 8-bit channels.
bool write_ppm(rfbClient* cl, const std::string& path) {
  const rfbPixelFormat& f = cl->format;
  const int bytes = f.bitsPerPixel / 8;
  std::string out =
      "P6\n" + std::to_string(cl->width) + " " + std::to_string(cl->height) + "\n255\n";
  auto scale = [](std::uint32_t v, std::uint32_t max) {
    return static_cast<char>(max ? (v * 255 + max / 2) / max : 0);
  };
  for (int y = 0; y < cl->height; ++y)
    for (int x = 0; x < cl->width; ++x) {
      const std::uint8_t* p =
          cl->frameBuffer + (static_cast<std::size_t>(y) * cl->width + x) * bytes;
      std::uint32_t v = 0;
      // libvncclient keeps the framebuffer in the format it asked for, in host byte order.
      if (bytes == 4) {
        std::memcpy(&v, p, 4);
      } else if (bytes == 2) {
        std::uint16_t s;
        std::memcpy(&s, p, 2);
        v = s;
      } else {
        v = *p;
      }
      out.push_back(scale((v >> f.redShift) & f.redMax, f.redMax));
      out.push_back(scale((v >> f.greenShift) & f.greenMax, f.greenMax));
      out.push_back(scale((v >> f.blueShift) & f.blueMax, f.blueMax));
    }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(out.data(), static_cast<std::streamsize>(out.size()));
  return static_cast<bool>(file);
}

// The keysyms of a UTF-8 string: ASCII and Latin-1 are their code points, '\n' is Return,
// '\t' Tab, anything else is X11's Unicode keysym (0x01000000 + code point).
std::vector<std::uint32_t> keysyms_of(const std::string& text) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    std::uint32_t cp = c;
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (extra) cp = c & (0x3f >> extra);
    ++i;
    for (int k = 0; k < extra && i < text.size(); ++k, ++i)
      cp = (cp << 6) | (static_cast<unsigned char>(text[i]) & 0x3f);
    if (cp == '\n')
      out.push_back(XK_Return);
    else if (cp == '\t')
      out.push_back(XK_Tab);
    else if (cp < 0x100)
      out.push_back(cp);
    else
      out.push_back(0x01000000u | cp);
  }
  return out;
}

// libvncclient's messages, kept off standard output (which carries the result line).
void log_to_stderr(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
}

int usage() {
  std::fprintf(stderr,
               "usage: reach_test_vnc_client --connect HOST:PORT [--encodings LIST] "
               "[--bpp 32|16] [--quality N] [--snapshot OUT.ppm] [--type TEXT] [--click X,Y] "
               "[--wait-ms N] [--timeout-ms N] [--password P] [--until-closed]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string connect, encodings = "zrle raw", snapshot, text, click;
  int bpp = 32, quality = -1, wait_ms = 300, timeout_ms = 30000;
  bool typing = false, until_closed = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--until-closed") {
      until_closed = true;
      continue;
    }
    if (i + 1 >= argc) return usage();
    std::string v = argv[++i];
    if (a == "--connect") {
      connect = v;
    } else if (a == "--encodings") {
      encodings = v;
    } else if (a == "--bpp") {
      bpp = std::atoi(v.c_str());
    } else if (a == "--quality") {
      quality = std::atoi(v.c_str());
    } else if (a == "--snapshot") {
      snapshot = v;
    } else if (a == "--type") {
      text = v;
      typing = true;
    } else if (a == "--click") {
      click = v;
    } else if (a == "--wait-ms") {
      wait_ms = std::atoi(v.c_str());
    } else if (a == "--timeout-ms") {
      timeout_ms = std::atoi(v.c_str());
    } else if (a == "--password") {
      g_password = v;
    } else {
      return usage();
    }
  }
  auto colon = connect.rfind(':');
  if (connect.empty() || colon == std::string::npos || (bpp != 32 && bpp != 16)) return usage();
  int click_x = -1, click_y = -1;
  if (!click.empty() && std::sscanf(click.c_str(), "%d,%d", &click_x, &click_y) != 2)
    return usage();

  rfbClientLog = rfbClientErr = log_to_stderr;
  rfbClient* cl = bpp == 32 ? rfbGetClient(8, 3, 4) : rfbGetClient(5, 3, 2);
  if (bpp == 16) {  // RGB565
    cl->format.depth = 16;
    cl->format.redMax = 31;
    cl->format.greenMax = 63;
    cl->format.blueMax = 31;
    cl->format.redShift = 11;
    cl->format.greenShift = 5;
    cl->format.blueShift = 0;
  }
  State state;
  rfbClientSetClientData(cl, nullptr, &state);
  cl->GotFrameBufferUpdate = on_update;
  cl->FinishedFrameBufferUpdate = on_finished;
  cl->MallocFrameBuffer = on_resize;
  cl->GetPassword = give_password;
  cl->canHandleNewFBSize = TRUE;
  cl->appData.encodingsString = encodings.c_str();
  cl->appData.useRemoteCursor = FALSE;
  if (quality >= 0) {
    cl->appData.enableJPEG = TRUE;
    cl->appData.qualityLevel = quality;
  } else {
    cl->appData.enableJPEG = FALSE;
  }
  cl->serverHost = strdup(connect.substr(0, colon).c_str());
  cl->serverPort = std::atoi(connect.c_str() + colon + 1);
  if (!rfbInitClient(cl, nullptr, nullptr)) {  // frees `cl` on failure
    std::fprintf(stderr, "reach_test_vnc_client: cannot connect to %s\n", connect.c_str());
    return 1;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  const auto quiet = std::chrono::milliseconds(wait_ms);
  auto settled = [&] { return complete(cl) && Clock::now() - state.last_update >= quiet; };

  if (!pump(cl, deadline, settled, "waiting for the whole framebuffer")) {
    std::fprintf(stderr, "reach_test_vnc_client: %zu of %d pixels received in %d updates\n",
                 state.covered_count, cl->width * cl->height, state.frames);
    rfbClientCleanup(cl);
    return 1;
  }
  if (!snapshot.empty() && !write_ppm(cl, snapshot)) {
    std::fprintf(stderr, "reach_test_vnc_client: cannot write %s\n", snapshot.c_str());
    rfbClientCleanup(cl);
    return 1;
  }

  bool input = typing || click_x >= 0;
  if (typing)
    for (std::uint32_t k : keysyms_of(text)) {
      SendKeyEvent(cl, k, TRUE);
      SendKeyEvent(cl, k, FALSE);
    }
  if (click_x >= 0) {
    SendPointerEvent(cl, click_x, click_y, 0);
    SendPointerEvent(cl, click_x, click_y, rfbButton1Mask);
    SendPointerEvent(cl, click_x, click_y, 0);
  }
  if (input) {
    // The server handles messages in order: once a full (non-incremental) update asked for
    // after the input has arrived, the input has been handled.
    reset_coverage(cl);
    SendFramebufferUpdateRequest(cl, 0, 0, cl->width, cl->height, FALSE);
    if (!pump(cl, deadline, settled, "waiting for the update after the input")) {
      rfbClientCleanup(cl);
      return 1;
    }
  }
  std::printf("frames=%d bytes=%llu\n", state.frames,
              static_cast<unsigned long long>(bytes_received(cl)));
  std::fflush(stdout);
  if (until_closed) {
    for (;;) {
      if (Clock::now() >= deadline) {
        std::fprintf(stderr, "reach_test_vnc_client: the server did not close the connection\n");
        rfbClientCleanup(cl);
        return 1;
      }
      int n = WaitForMessage(cl, 20000);
      if (n < 0 || (n > 0 && !HandleRFBServerMessage(cl))) break;
    }
    std::printf("closed by server\n");
    std::fflush(stdout);
  }
  rfbClientCleanup(cl);
  return 0;
}
