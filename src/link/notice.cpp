#include "link/notice.h"

#include "common/json.h"

namespace reach::link {

namespace bj = boost::json;

std::string to_json(const Notice& n) {
  if (n.kind == Notice::Kind::asking)
    return json::serialize(bj::object{{"type", "asking"}, {"seconds", n.seconds}});
  if (n.kind == Notice::Kind::link)
    return json::serialize(bj::object{{"type", "link"}, {"rttMs", n.rtt_ms}, {"kbps", n.kbps}});
  return json::serialize(bj::object{{"type", "access"}, {"viewOnly", n.view_only}});
}

Result<Notice> parse_notice(std::string_view text) {
  if (text.size() > kMaxNotice)
    return make_error(Errc::too_large, "noticeTooLarge", "The notice is too large.");
  auto o = json::parse_object(text);
  if (!o) return o.error();
  auto type = json::req_string(*o, "type");
  if (!type) return type.error();
  Notice n;
  if (*type == "asking") {
    auto seconds = json::opt_int(*o, "seconds");
    if (!seconds) return seconds.error();
    if (!*seconds || **seconds < 1 || **seconds > kMaxAskingSeconds)
      return make_error(Errc::invalid, "badNotice",
                        "An asking notice needs seconds between 1 and 3600.");
    n.kind = Notice::Kind::asking;
    n.seconds = static_cast<int>(**seconds);
    return n;
  }
  if (*type == "access") {
    auto view_only = json::opt_bool(*o, "viewOnly");
    if (!view_only) return view_only.error();
    if (!*view_only)
      return make_error(Errc::invalid, "badNotice", "An access notice needs viewOnly.");
    n.kind = Notice::Kind::access;
    n.view_only = **view_only;
    return n;
  }
  if (*type == "link") {
    auto rtt = json::opt_int(*o, "rttMs");
    if (!rtt) return rtt.error();
    auto kbps = json::opt_int(*o, "kbps");
    if (!kbps) return kbps.error();
    if (!*rtt || **rtt < 0 || **rtt > kMaxRttMs || !*kbps || **kbps < 0 || **kbps > kMaxKbps)
      return make_error(Errc::invalid, "badNotice",
                        "A link notice needs rttMs and kbps within their ranges.");
    n.kind = Notice::Kind::link;
    n.rtt_ms = static_cast<int>(**rtt);
    n.kbps = static_cast<int>(**kbps);
    return n;
  }
  return make_error(Errc::invalid, "badNotice", "Unknown notice type.");
}

}  // namespace reach::link
