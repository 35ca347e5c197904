#include "hub/admin_center.h"

#include "common/log.h"

#include <filesystem>
#include <fstream>
#include <iterator>

namespace reach::hub {
namespace {

const char* content_type(const std::filesystem::path& p) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json"},
      {".woff2", "font/woff2"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"}};
  auto ext = p.extension().string();
  for (const auto& [e, t] : kTypes)
    if (ext == e) return t;
  return nullptr;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool accepts_gzip(const net::Request& req) {
  for (auto v : req.headers.get_all("Accept-Encoding"))
    if (v.find("gzip") != std::string_view::npos) return true;
  return false;
}

// The app talks only to this hub; nothing is framed, inlined or fetched elsewhere. Styles:
// Lit and Fluent adopt constructed style sheets, which style-src 'self' allows.
constexpr const char* kPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
    "data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

}  // namespace

AdminCenterFiles::AdminCenterFiles(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const auto& p = it->path();
    if (p.extension() == ".gz") continue;
    const char* type = content_type(p);
    if (!type) continue;
    std::string rel = "/" + fs::relative(p, dir).generic_string();
    File f{type, read_all(p), {}};
    if (fs::exists(p.string() + ".gz")) f.gzip = read_all(p.string() + ".gz");
    files_.emplace(std::move(rel), std::move(f));
  }
  if (!files_.count("/index.html")) {
    log::warn("admin_center.incomplete", {{"dir", dir}, {"missing", "index.html"}});
    files_.clear();
  }
}

net::Response AdminCenterFiles::serve(const net::Request& req) const {
  if (!installed())
    return net::Response::text(404,
                               "The admin center is not installed with this reach-hub: build it "
                               "with scripts/build.sh, or give serve --admin-dir.\n");
  std::string_view path = req.path;
  auto it = files_.find(path);
  if (it == files_.end()) {
    // A file name (with an extension) that is not there is a 404; anything else is a route of
    // the app, answered by index.html.
    auto last = path.substr(path.rfind('/') + 1);
    if (last.find('.') != std::string_view::npos)
      return net::Response::text(404, "No such file.\n");
    it = files_.find(std::string_view("/index.html"));
  }
  const File& f = it->second;
  bool gz = !f.gzip.empty() && accepts_gzip(req);
  net::Response r = net::Response::text(200, gz ? f.gzip : f.body, f.type);
  if (gz) r.headers.set("Content-Encoding", "gzip");
  if (!f.gzip.empty()) r.headers.set("Vary", "Accept-Encoding");
  // Vite names every asset by its content hash: cache for ever. index.html names the current
  // ones, so the browser revalidates it on every load.
  bool hashed = it->first.starts_with("/assets/");
  r.headers.set("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
  if (f.type.starts_with("text/html")) {
    r.headers.set("Content-Security-Policy", kPolicy);
    r.headers.set("X-Frame-Options", "DENY");
    r.headers.set("Referrer-Policy", "no-referrer");
  }
  return r;
}

}  // namespace reach::hub
