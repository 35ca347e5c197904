// The Web API (TeamViewer-shaped): ping, account, and the sessions API.
#include "common/crypto.h"
#include "common/log.h"
#include "common/time.h"
#include "relay/codes.h"
#include "relay/internal.h"
#include "relay/pairing.h"
#include "relay/session_fields.h"
#include "relay/session_record.h"

#include <fmt/format.h>

#include <algorithm>

namespace reach::relay {

namespace {

std::string unseal(const Services& svc, const std::string& sealed) {
  return crypto::open_text(svc.key, sealed);
}

std::string seal(const Services& svc, const std::string& plain) {
  return crypto::seal_text(svc.key, plain);
}

// Closes sessions whose validity ended without both ends ever pairing.
void expire_if_due(store::Session& s, const SessionRecord& r, std::int64_t now) {
  if (r.open() && r.valid_until <= now) (void)close_session(s, r.code, "expired", now);
}

bj::object row_json(Ctx& ctx, const SessionRecord& r, bool full) {
  bool device = false, supporter = false;
  if (!r.owner_node || *r.owner_node == ctx.svc.config.node_name) {
    auto state = ctx.svc.pairing->state(r.code);
    device = state && state->device && !state->ended;
    supporter = state && state->supporter && !state->ended;
  } else {
    // Streamed on another node: the ends that joined there, while the session is open.
    device = r.open() && r.device_connected_at.has_value();
    supporter = r.open() && r.supporter_connected_at.has_value();
  }
  bj::object o{{"code", display_code(r.code)},
               {"state", r.state},
               {"online", device},
               {"groupid", r.group_id},
               {"support_session_type", r.support_session_type}};
  if (!full) return o;
  std::string base = ctx.base_url();
  o["groupname"] = r.group_name;
  o["description"] = r.description;
  bj::object ec;
  if (r.end_customer_name) ec["name"] = *r.end_customer_name;
  if (r.end_customer_email) ec["email"] = *r.end_customer_email;
  o["end_customer"] = std::move(ec);
  o["waiting_message"] = r.waiting_message ? bj::value(*r.waiting_message) : bj::value();
  o["custom_api"] = r.custom_api.value_or("");
  o["assigned_userid"] = r.assigned_userid;
  o["supporter_link"] =
      base + "/support/" + r.code + "-" + unseal(ctx.svc, r.supporter_token_sealed);
  o["end_customer_link"] =
      base + "/join/" + r.code + "-" + unseal(ctx.svc, r.customer_token_sealed);
  o["created_at"] = iso8601(r.created_at);
  o["valid_until"] = iso8601(r.valid_until);
  o["closed_at"] = r.closed_at ? bj::value(iso8601(*r.closed_at)) : bj::value();
  if (r.close_reason) o["close_reason"] = *r.close_reason;
  o["connected"] = bj::object{{"device", device}, {"supporter", supporter}};
  return o;
}

Result<net::Response> ping(Ctx& ctx) {
  bool valid = account_from_bearer(ctx).has_value();
  return json_response(200, bj::object{{"token_valid", valid}});
}

Result<net::Response> account(Ctx& ctx) {
  const auto& a = *ctx.account;
  return json_response(200, bj::object{{"userid", a.id},
                                       {"email", a.email},
                                       {"name", a.name},
                                       {"company_name", a.company_name},
                                       {"email_validated", true},
                                       {"email_language", "en"}});
}

Result<std::string> group_for(store::Session& s, const Account& a,
                              const std::optional<std::string>& id,
                              const std::optional<std::string>& name) {
  if (id) {
    auto found = group_name(s, a.id, *id);
    if (!found) return found.error();
    if (!*found) return bad_request(fmt::format("The group '{}' does not exist.", *id));
    if (name && **found != *name)
      return bad_request("groupid and groupname name different groups.");
    return *id;
  }
  auto existing = group_id_by_name(s, a.id, *name);
  if (!existing) return existing.error();
  if (*existing) return **existing;
  std::string gid = random_group_id();
  if (auto r = insert_group(s, gid, a.id, *name, now_ms()); !r) return r.error();
  return gid;
}

Result<net::Response> post_session(Ctx& ctx) {
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  auto s = create_session(ctx, *ctx.account, *body);
  if (!s) return s.error();
  auto r = json_response(200, *s);
  auto code = normalize_code(std::string(s->at("code").as_string()));
  r.headers.set("Location", ctx.base_url() + "/api/v1/sessions/" + display_code(code.value()));
  return r;
}

Result<net::Response> get_sessions(Ctx& ctx) {
  std::string state = std::string(ctx.req.query_param("state").value_or("open"));
  std::transform(state.begin(), state.end(), state.begin(), ::tolower);
  bool open = state == "open" || state == "open,closed" || state == "closed,open";
  bool closed = state == "closed" || state == "open,closed" || state == "closed,open";
  if (!open && !closed) return bad_request("state must be open, closed or open,closed.");
  auto full = ctx.req.query_param("full_list").value_or("false");
  if (full != "true" && full != "false") return bad_request("full_list must be true or false.");
  SessionQuery q;
  q.account_id = ctx.account->id;
  if (open != closed) q.state = open ? "open" : "closed";
  if (auto g = ctx.req.query_param("groupid")) q.group_id = std::string(*g);
  if (auto u = ctx.req.query_param("assigned_userid")) q.assigned_userid = std::string(*u);
  if (auto off = ctx.req.query_param("offset")) {
    // The offset is the last code of the previous page.
    auto code = normalize_code(*off);
    if (!code) return bad_request("offset must be a session code from next_offset.");
    q.after = *code;
  }
  auto page = relay::list_sessions(ctx.db(), q, ctx.svc.config.sessions_page_size);
  if (!page) return page.error();
  bj::array sessions;
  for (const auto& r : page->sessions) sessions.push_back(row_json(ctx, r, full == "true"));
  bj::object out{{"sessions", std::move(sessions)}};
  if (page->remaining > 0) {
    out["sessions_remaining"] = page->remaining;
    out["next_offset"] = display_code(page->sessions.back().code);
  }
  return json_response(200, out);
}

Result<std::string> owned_code(Ctx& ctx) {
  auto code = normalize_code(ctx.req.params["code"]);
  if (!code) return code.error();
  return owned_session_code(ctx.db(), *code, ctx.account->id);
}

Result<net::Response> get_session(Ctx& ctx) {
  auto code = owned_code(ctx);
  if (!code) return code.error();
  auto s = session_json(ctx, *code, true);
  if (!s) return s.error();
  return json_response(200, *s);
}

Result<net::Response> put_session(Ctx& ctx) {
  auto code = owned_code(ctx);
  if (!code) return code.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  auto f = read_session_fields(*body, SessionBody::update, now_ms());
  if (!f) return f.error();
  std::string st_lower = f->state.value_or("");
  auto current = find_session(ctx.db(), *code);
  if (!current) return current.error();
  if (!current->open() && st_lower == "open")
    return make_error(Errc::conflict, "conflict",
                      "A closed session cannot be reopened; session codes work once. Create a "
                      "new session.");
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    std::optional<std::string> group;
    if (f->groupid || f->groupname) {
      auto g = group_for(s, *ctx.account, f->groupid, f->groupname);
      if (!g) return g.error();
      group = *g;
    }
    SessionChanges c{f->description,       f->waiting_message,    f->custom_api, f->assigned_userid,
                     f->end_customer_name, f->end_customer_email, group};
    if (auto u = update_session(s, *code, c); !u) return u;
    if (st_lower == "closed") return close_session(s, *code, "closedByApi", now_ms());
    return {};
  });
  if (!st) return st.error();
  if (st_lower == "closed") end_streams(ctx.svc, *code);
  return net::Response::empty(204);
}

}  // namespace

Result<bj::object> create_session(Ctx& ctx, const Account& account, const bj::object& body,
                                  bool code_join) {
  auto now = now_ms();
  auto f = read_session_fields(body, SessionBody::create, now);
  if (!f) return f.error();
  std::int64_t valid_until =
      f->valid_until.value_or(now + std::chrono::duration_cast<std::chrono::milliseconds>(
                                        ctx.svc.config.default_session_validity)
                                        .count());
  std::string supporter = random_link_token(), customer = random_link_token();
  std::string code;
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    auto g = group_for(s, account, f->groupid, f->groupname);
    if (!g) return g.error();
    for (int attempt = 0;; ++attempt) {
      code = random_code();
      auto taken = session_code_taken(s, code);
      if (!taken) return taken.error();
      if (!*taken) break;
      if (attempt > 20) return internal_error("Could not find a free session code.");
    }
    NewSession n;
    n.code = code;
    n.account_id = account.id;
    n.group_id = *g;
    n.description = f->description.value_or("");
    n.end_customer_name = f->end_customer_name;
    n.end_customer_email = f->end_customer_email;
    n.waiting_message = f->waiting_message;
    n.custom_api = f->custom_api;
    n.assigned_userid = f->assigned_userid.value_or(account.id);
    n.supporter_token_hash = crypto::sha256_hex(supporter);
    n.supporter_token_sealed = seal(ctx.svc, supporter);
    n.customer_token_hash = crypto::sha256_hex(customer);
    n.customer_token_sealed = seal(ctx.svc, customer);
    n.created_at = now;
    n.valid_until = valid_until;
    n.code_join = code_join;
    return insert_session(s, n);
  });
  if (!st) return st.error();
  log::info("relay.session_created", {{"code", code}, {"account", account.id}});
  return session_json(ctx, code, true);
}

Result<bj::object> session_json(Ctx& ctx, const std::string& code, bool full) {
  auto row = find_session(ctx.db(), code);
  if (!row) return row.error();
  auto now = now_ms();
  if (row->open() && row->valid_until <= now) {
    auto st = ctx.db().transaction([&](store::Session& s) {
      expire_if_due(s, *row, now);
      return Status{};
    });
    if (!st) return st.error();
    row = find_session(ctx.db(), code);
    if (!row) return row.error();
  }
  return row_json(ctx, *row, full);
}

void register_api(net::Router& r, Services& svc) {
  r.add("GET", "/api/v1/ping", api_route(svc, ping, false));
  r.add("GET", "/api/v1/account", api_route(svc, account, true));
  r.add("POST", "/api/v1/sessions", api_route(svc, post_session, true));
  r.add("GET", "/api/v1/sessions", api_route(svc, get_sessions, true));
  r.add("GET", "/api/v1/sessions/{code}", api_route(svc, get_session, true));
  r.add("PUT", "/api/v1/sessions/{code}", api_route(svc, put_session, true));
}

}  // namespace reach::relay
