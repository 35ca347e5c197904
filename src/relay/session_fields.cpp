#include "relay/session_fields.h"

#include "common/json.h"
#include "common/time.h"

#include <algorithm>

namespace reach::relay {

namespace {

// Reads optional string `key` of at most `max` bytes into `out`.
Status text(const boost::json::object& o, std::string_view key, std::size_t max,
            std::optional<std::string>& out) {
  auto v = json::opt_string(o, key);
  if (!v) return v.error();
  if (*v && (*v)->size() > max)
    return bad_request(std::string(key) + " is longer than " + std::to_string(max) + ".");
  out = std::move(*v);
  return {};
}

}  // namespace

Result<SessionFields> read_session_fields(const boost::json::object& body, SessionBody kind,
                                          std::int64_t now) {
  bool create = kind == SessionBody::create;
  auto keys =
      create ? json::only_keys(
                   body, {"groupid", "groupname", "valid_until", "waiting_message", "description",
                          "end_customer", "assigned_userid", "custom_api", "support_session_type"})
             : json::only_keys(body, {"description", "end_customer", "state", "waiting_message",
                                      "custom_api", "assigned_userid", "groupid", "groupname"});
  if (!keys) return keys.error();
  SessionFields f;
  for (auto [key, max, out] :
       {std::tuple<std::string_view, std::size_t, std::optional<std::string>*>{"groupid", 100,
                                                                               &f.groupid},
        {"groupname", 100, &f.groupname},
        {"description", 1000, &f.description},
        {"waiting_message", 1000, &f.waiting_message},
        {"custom_api", 4000, &f.custom_api},
        {"assigned_userid", 100, &f.assigned_userid}})
    if (auto st = text(body, key, max, *out); !st) return st.error();
  if (create && !f.groupid && (!f.groupname || f.groupname->empty()))
    return bad_request("Give groupid or groupname (a group with that name is created).");
  if (auto it = body.find("end_customer"); it != body.end() && !it->value().is_null()) {
    if (!it->value().is_object()) return bad_request("end_customer must be an object.");
    const auto& ec = it->value().as_object();
    if (auto st = json::only_keys(ec, {"name", "email"}); !st) return st.error();
    if (auto st = text(ec, "name", 100, f.end_customer_name); !st) return st.error();
    if (auto st = text(ec, "email", 254, f.end_customer_email); !st) return st.error();
  }
  if (create) {
    std::optional<std::string> type, until;
    if (auto st = text(body, "support_session_type", 100, type); !st) return st.error();
    if (type && *type != "Default") return bad_request("support_session_type must be Default.");
    if (auto st = text(body, "valid_until", 100, until); !st) return st.error();
    if (until) {
      auto t = parse_iso8601(*until);
      if (!t) return bad_request("valid_until must be an ISO-8601 date and time.");
      if (*t <= now) return bad_request("valid_until is in the past.");
      if (*t > now + 30LL * 24 * 3600 * 1000)
        return bad_request("valid_until is more than 30 days away.");
      f.valid_until = *t;
    }
  } else {
    if (auto st = text(body, "state", 100, f.state); !st) return st.error();
    if (f.state) {
      std::transform(f.state->begin(), f.state->end(), f.state->begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (*f.state != "open" && *f.state != "closed")
        return bad_request("state must be open or closed.");
    }
  }
  return f;
}

}  // namespace reach::relay
