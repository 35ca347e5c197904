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
  if (r.open() && r.valid_until <= now) (void)close_session(s, r.code, "expired");
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
    auto rows = s.query("SELECT name FROM groups_ WHERE id = ? AND account_id = ?", {*id, a.id});
    if (!rows) return rows.error();
    if (rows->empty()) return bad_request(fmt::format("The group '{}' does not exist.", *id));
    if (name && rows->rows[0].text(0) != *name)
      return bad_request("groupid and groupname name different groups.");
    return *id;
  }
  auto rows = s.query("SELECT id FROM groups_ WHERE account_id = ? AND name = ?", {a.id, *name});
  if (!rows) return rows.error();
  if (!rows->empty()) return rows->rows[0].text(0);
  std::string gid = random_group_id();
  auto r = s.exec("INSERT INTO groups_ (id, account_id, name, created_at) VALUES (?, ?, ?, ?)",
                  {gid, a.id, *name, now_ms()});
  if (!r) return r.error();
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

Result<net::Response> list_sessions(Ctx& ctx) {
  std::string state = std::string(ctx.req.query_param("state").value_or("open"));
  std::transform(state.begin(), state.end(), state.begin(), ::tolower);
  bool open = state == "open" || state == "open,closed" || state == "closed,open";
  bool closed = state == "closed" || state == "open,closed" || state == "closed,open";
  if (!open && !closed) return bad_request("state must be open, closed or open,closed.");
  auto full = ctx.req.query_param("full_list").value_or("false");
  if (full != "true" && full != "false") return bad_request("full_list must be true or false.");
  std::string where = "s.account_id = ?";
  store::Params params{ctx.account->id};
  if (open != closed) {
    where += " AND s.state = ?";
    params.emplace_back(open ? "open" : "closed");
  }
  if (auto g = ctx.req.query_param("groupid")) {
    where += " AND s.group_id = ?";
    params.emplace_back(*g);
  }
  if (auto u = ctx.req.query_param("assigned_userid")) {
    where += " AND s.assigned_userid = ?";
    params.emplace_back(*u);
  }
  if (auto off = ctx.req.query_param("offset")) {
    // The offset is the last code of the previous page: continue after it (newest first).
    auto code = normalize_code(*off);
    if (!code) return bad_request("offset must be a session code from next_offset.");
    auto pos = ctx.db().query("SELECT created_at FROM sessions WHERE code = ? AND account_id = ?",
                              {*code, ctx.account->id});
    if (!pos) return pos.error();
    if (pos->empty()) return bad_request("offset names no session of yours.");
    where += " AND (s.created_at < ? OR (s.created_at = ? AND s.code < ?))";
    params.emplace_back(pos->rows[0].integer(0));
    params.emplace_back(pos->rows[0].integer(0));
    params.emplace_back(*code);
  }
  int page = ctx.svc.config.sessions_page_size;
  auto count = ctx.db().query(
      "SELECT COUNT(*) FROM sessions s JOIN groups_ g ON g.id = s.group_id WHERE " + where, params);
  if (!count) return count.error();
  params.emplace_back(page);
  auto rows = ctx.db().query(fmt::format("SELECT {} FROM sessions s JOIN groups_ g ON"
                                         " g.id = s.group_id WHERE {}"
                                         " ORDER BY s.created_at DESC, s.code DESC LIMIT ?",
                                         kSessionRecordColumns, where),
                             params);
  if (!rows) return rows.error();
  bj::array sessions;
  for (const auto& r : rows->rows)
    sessions.push_back(row_json(ctx, session_from_row(r), full == "true"));
  bj::object out{{"sessions", std::move(sessions)}};
  auto remaining = count->rows[0].integer(0) - static_cast<std::int64_t>(rows->rows.size());
  if (remaining > 0) {
    out["sessions_remaining"] = remaining;
    out["next_offset"] = display_code(rows->rows.back().text(0));
  }
  return json_response(200, out);
}

Result<std::string> owned_code(Ctx& ctx) {
  auto code = normalize_code(ctx.req.params["code"]);
  if (!code) return code.error();
  auto rows = ctx.db().query("SELECT account_id FROM sessions WHERE code = ?", {*code});
  if (!rows) return rows.error();
  if (rows->empty() || rows->rows[0].text(0) != ctx.account->id)
    return not_found("You have no session with this code.");
  return *code;
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
    return make_error(409, "conflict",
                      "A closed session cannot be reopened; session codes work once. Create a "
                      "new session.");
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    std::optional<std::string> group;
    if (f->groupid || f->groupname) {
      auto g = group_for(s, *ctx.account, f->groupid, f->groupname);
      if (!g) return g.error();
      group = *g;
    }
    auto r = s.exec(
        "UPDATE sessions SET description = COALESCE(?, description),"
        " waiting_message = COALESCE(?, waiting_message), custom_api = COALESCE(?, custom_api),"
        " assigned_userid = COALESCE(?, assigned_userid),"
        " end_customer_name = COALESCE(?, end_customer_name),"
        " end_customer_email = COALESCE(?, end_customer_email),"
        " group_id = COALESCE(?, group_id) WHERE code = ?",
        {f->description, f->waiting_message, f->custom_api, f->assigned_userid,
         f->end_customer_name, f->end_customer_email, group, *code});
    if (!r) return r.error();
    if (st_lower == "closed") return close_session(s, *code, "closedByApi");
    return {};
  });
  if (!st) return st.error();
  if (st_lower == "closed") end_streams(ctx.svc, *code);
  return net::Response::empty(204);
}

}  // namespace

Status close_session(store::Session& s, const std::string& code, const std::string& reason) {
  auto r = s.exec(
      "UPDATE sessions SET state = 'closed', closed_at = ?, close_reason = ?"
      " WHERE code = ? AND state = 'open'",
      {now_ms(), reason, code});
  if (!r) return r.error();
  return {};
}

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
      auto exists = s.query("SELECT 1 FROM sessions WHERE code = ?", {code});
      if (!exists) return exists.error();
      if (exists->empty()) break;
      if (attempt > 20) return internal_error("Could not find a free session code.");
    }
    auto r = s.exec(
        "INSERT INTO sessions (code, account_id, group_id, state, description, end_customer_name,"
        " end_customer_email, waiting_message, custom_api, assigned_userid, support_session_type,"
        " supporter_token_hash, supporter_token_sealed, customer_token_hash,"
        " customer_token_sealed, created_at, valid_until, code_join)"
        " VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, 'Default', ?, ?, ?, ?, ?, ?, ?)",
        {code, account.id, *g, f->description.value_or(""), f->end_customer_name,
         f->end_customer_email, f->waiting_message, f->custom_api,
         f->assigned_userid.value_or(account.id), crypto::sha256_hex(supporter),
         seal(ctx.svc, supporter), crypto::sha256_hex(customer), seal(ctx.svc, customer), now,
         valid_until, code_join});
    if (!r) return r.error();
    return {};
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
  r.add("GET", "/api/v1/sessions", api_route(svc, list_sessions, true));
  r.add("GET", "/api/v1/sessions/{code}", api_route(svc, get_session, true));
  r.add("PUT", "/api/v1/sessions/{code}", api_route(svc, put_session, true));
}

}  // namespace reach::relay
