// Users and groups (Graph's directory resources) with group membership and licences.
#include "common/crypto.h"
#include "common/strings.h"
#include "common/time.h"
#include "hub/internal.h"
#include "hub/odata.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace reach::hub {
namespace {

// Validates a password for a new or changed account.
Status check_password(const std::string& pw) {
  if (pw.size() < 8) return bad_request("The password must be at least 8 characters long.");
  if (pw.size() > 256) return bad_request("The password must be at most 256 characters long.");
  return {};
}

Result<std::optional<std::string>> password_from(const bj::object& body) {
  auto it = body.find("passwordProfile");
  if (it == body.end() || it->value().is_null()) return std::optional<std::string>{};
  if (!it->value().is_object()) return bad_request("Property 'passwordProfile' must be an object.");
  const auto& pp = it->value().as_object();
  if (auto st = json::only_keys(pp, {"password", "forceChangePasswordNextSignIn"}); !st)
    return st.error();
  auto pw = json::req_string(pp, "password");
  if (!pw) return pw.error();
  if (auto st = check_password(*pw); !st) return st.error();
  return std::optional<std::string>{std::move(*pw)};
}

// A collection page in id order: `page` reads the entities after the last one shown, `count`
// how many there are in all.
template <class Entity>
Result<net::Response> list_page(
    Ctx& ctx, std::string_view context,
    Result<std::vector<Entity>> (*page)(store::Session&, const std::optional<std::string>&, int),
    Result<std::int64_t> (*count)(store::Session&), bj::object (*to_json)(const Entity&)) {
  auto q = odata::parse_query(ctx.req.query, ctx.version == "beta", {}, 1000);
  if (!q) return q.error();
  auto entities = page(ctx.reads(), q->skiptoken, q->top);
  if (!entities) return entities.error();
  bj::object out{{"@odata.context", ctx.context_url(context)}};
  if (q->count) {
    auto n = count(ctx.reads());
    if (!n) return n.error();
    out["@odata.count"] = *n;
  }
  bj::array value;
  for (const auto& e : *entities) value.push_back(to_json(e));
  out["value"] = std::move(value);
  if (static_cast<int>(entities->size()) == q->top)
    out["@odata.nextLink"] = next_link(ctx, entities->back().id);
  return json_response(200, out);
}

// ------------------------------------------------------------------ users

Result<net::Response> list_users(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgRead); !g) return g.error();
  return list_page<User>(ctx, "users", users_page, count_users, user_json);
}

Result<net::Response> get_user(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgRead); !g) return g.error();
  auto row = find_user(ctx.db(), ctx.req.params["id"]);
  if (!row) return row.error();
  return entity_response(ctx, user_json(*row), "users/$entity");
}

Result<net::Response> create_user(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgUpdate); !g) return g.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st = json::only_keys(*body, {"displayName", "userPrincipalName", "mail",
                                        "accountEnabled", "passwordProfile", "mailNickname"});
      !st)
    return st.error();
  auto name = json::req_string(*body, "displayName");
  if (!name) return name.error();
  auto upn = json::req_string(*body, "userPrincipalName");
  if (!upn) return upn.error();
  if (upn->find('@') == std::string::npos || upn->size() > 320)
    return bad_request("Property 'userPrincipalName' must look like name@domain.");
  auto mail = json::opt_string(*body, "mail");
  if (!mail) return mail.error();
  auto enabled = json::opt_bool(*body, "accountEnabled");
  if (!enabled) return enabled.error();
  auto pw = password_from(*body);
  if (!pw) return pw.error();
  // argon2id before the transaction: it is slow and needs no lock.
  std::optional<std::string> hash;
  if (*pw) hash = crypto::password_hash(**pw);
  std::string id = crypto::uuid_v4();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    auto r = insert_user(
        s, {id, *name, *upn, mail->value_or(*upn), hash, enabled->value_or(true), now_ms()});
    if (!r) {
      if (r.error().kind == Errc::conflict)
        return conflict(fmt::format("A user named '{}' already exists.", *upn));
      return r;
    }
    return audit(s, ctx, {"createUser", "success", "user", id, *upn, {}});
  });
  if (!st) return st.error();
  auto row = find_user(ctx.db(), id);
  if (!row) return row.error();
  return entity_response(ctx, user_json(*row), "users/$entity", 201);
}

Result<net::Response> handle_update_user(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgUpdate); !g) return g.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st =
          json::only_keys(*body, {"displayName", "mail", "accountEnabled", "passwordProfile"});
      !st)
    return st.error();
  auto name = json::opt_string(*body, "displayName");
  if (!name) return name.error();
  if (*name && (*name)->empty()) return bad_request("Property 'displayName' cannot be empty.");
  auto mail = json::opt_string(*body, "mail");
  if (!mail) return mail.error();
  auto enabled = json::opt_bool(*body, "accountEnabled");
  if (!enabled) return enabled.error();
  auto pw = password_from(*body);
  if (!pw) return pw.error();
  std::optional<std::string> hash;
  if (*pw) hash = crypto::password_hash(**pw);
  auto existing = find_user(ctx.db(), ctx.req.params["id"]);
  if (!existing) return existing.error();
  std::string id = existing->id;
  if (auto ok = check_user_change(ctx, id); !ok) return ok.error();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = update_user(s, id, {*name, *mail, hash, *enabled}); !r) return r;
    // A disabled account, or one whose password changed (perhaps because someone else knew it),
    // loses its sign-in sessions and API tokens at once.
    if ((*enabled && !**enabled) || hash)
      if (auto r = revoke_user_credentials(s, id); !r) return r;
    return audit(s, ctx,
                 {"updateUser", "success", "user", id, existing->user_principal_name,
                  bj::object{{"passwordChanged", hash.has_value()}}});
  });
  if (!st) return st.error();
  return net::Response::empty(204);
}

Result<net::Response> handle_delete_user(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgUpdate); !g) return g.error();
  auto existing = find_user(ctx.db(), ctx.req.params["id"]);
  if (!existing) return existing.error();
  std::string id = existing->id;
  if (id == ctx.who().user_id) return bad_request("You cannot delete your own account.");
  if (auto ok = check_user_change(ctx, id); !ok) return ok.error();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = delete_user(s, id); !r) return r;
    return audit(s, ctx, {"deleteUser", "success", "user", id, existing->user_principal_name, {}});
  });
  if (!st) return st.error();
  return net::Response::empty(204);
}

Result<net::Response> assign_license(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgUpdate); !g) return g.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st = json::only_keys(*body, {"addLicenses", "removeLicenses"}); !st) return st.error();
  auto add = json::opt_array(*body, "addLicenses");
  if (!add) return add.error();
  auto remove = json::opt_array(*body, "removeLicenses");
  if (!remove) return remove.error();
  std::optional<bool> licensed;
  for (const auto& l : add->value_or(bj::array{})) {
    if (!l.is_object() || !l.as_object().contains("skuId") ||
        !l.as_object().at("skuId").is_string())
      return bad_request("Each of 'addLicenses' must be an object with a 'skuId'.");
    if (l.as_object().at("skuId").as_string() != kReachSkuId)
      return bad_request(fmt::format("Unknown skuId; the Reach licence is {}.", kReachSkuId));
    licensed = true;
  }
  for (const auto& l : remove->value_or(bj::array{})) {
    if (!l.is_string() || l.as_string() != kReachSkuId)
      return bad_request(
          fmt::format("'removeLicenses' takes skuIds; the Reach licence is {}.", kReachSkuId));
    licensed = false;
  }
  if (!licensed) return bad_request("Nothing to add or remove.");
  auto existing = find_user(ctx.db(), ctx.req.params["id"]);
  if (!existing) return existing.error();
  std::string id = existing->id;
  if (auto ok = check_user_change(ctx, id); !ok) return ok.error();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = set_licensed(s, id, *licensed); !r) return r;
    return audit(s, ctx,
                 {*licensed ? "assignLicense" : "removeLicense",
                  "success",
                  "user",
                  id,
                  existing->user_principal_name,
                  {}});
  });
  if (!st) return st.error();
  auto row = find_user(ctx.db(), id);
  if (!row) return row.error();
  return entity_response(ctx, user_json(*row), "users/$entity");
}

// ------------------------------------------------------------------ groups

Result<net::Response> list_groups(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgRead); !g) return g.error();
  return list_page<Group>(ctx, "groups", groups_page, count_groups, group_json);
}

Result<net::Response> get_group(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgRead); !g) return g.error();
  auto row = find_group(ctx.db(), ctx.req.params["id"]);
  if (!row) return row.error();
  return entity_response(ctx, group_json(*row), "groups/$entity");
}

Result<net::Response> create_group(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgUpdate); !g) return g.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st = json::only_keys(*body, {"displayName", "description", "mailEnabled",
                                        "securityEnabled", "mailNickname", "groupTypes"});
      !st)
    return st.error();
  auto name = json::req_string(*body, "displayName");
  if (!name) return name.error();
  auto desc = json::opt_string(*body, "description");
  if (!desc) return desc.error();
  std::string id = crypto::uuid_v4();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = insert_group(s, {id, *name, *desc, now_ms()}); !r) return r;
    return audit(s, ctx, {"createGroup", "success", "group", id, *name, {}});
  });
  if (!st) return st.error();
  auto row = find_group(ctx.db(), id);
  if (!row) return row.error();
  return entity_response(ctx, group_json(*row), "groups/$entity", 201);
}

Result<net::Response> handle_update_group(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgUpdate); !g) return g.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st = json::only_keys(*body, {"displayName", "description"}); !st) return st.error();
  auto name = json::opt_string(*body, "displayName");
  if (!name) return name.error();
  if (*name && (*name)->empty()) return bad_request("Property 'displayName' cannot be empty.");
  auto desc = json::opt_string(*body, "description");
  if (!desc) return desc.error();
  auto existing = find_group(ctx.db(), ctx.req.params["id"]);
  if (!existing) return existing.error();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = update_group(s, existing->id, *name, *desc); !r) return r;
    return audit(s, ctx,
                 {"updateGroup",
                  "success",
                  "group",
                  existing->id,
                  name->value_or(existing->display_name),
                  {}});
  });
  if (!st) return st.error();
  return net::Response::empty(204);
}

Result<net::Response> handle_delete_group(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgUpdate); !g) return g.error();
  auto existing = find_group(ctx.db(), ctx.req.params["id"]);
  if (!existing) return existing.error();
  std::string id = existing->id;
  if (auto ok = check_group_change(ctx, id); !ok) return ok.error();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = delete_group(s, id); !r) return r;
    return audit(s, ctx, {"deleteGroup", "success", "group", id, existing->display_name, {}});
  });
  if (!st) return st.error();
  return net::Response::empty(204);
}

Result<net::Response> list_members(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgRead); !g) return g.error();
  auto group = find_group(ctx.db(), ctx.req.params["id"]);
  if (!group) return group.error();
  auto members = group_members(ctx.db(), group->id);
  if (!members) return members.error();
  bj::array value;
  for (const auto& u : members->users) value.push_back(user_json(u));
  for (const auto& d : members->devices)
    value.push_back(bj::object{{"@odata.type", "#microsoft.graph.device"},
                               {"id", d.id},
                               {"deviceId", d.id},
                               {"displayName", d.device_name},
                               {"operatingSystem", d.operating_system},
                               {"operatingSystemVersion", d.os_version.value_or("")}});
  return json_response(200, bj::object{{"@odata.context", ctx.context_url("directoryObjects")},
                                       {"value", std::move(value)}});
}

Result<net::Response> add_member(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgUpdate); !g) return g.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st = json::only_keys(*body, {}); !st) return st.error();
  auto it = body->find("@odata.id");
  if (it == body->end() || !it->value().is_string())
    return bad_request("Send {\"@odata.id\": \"…/directoryObjects/{id}\"}.");
  std::string ref(it->value().as_string());
  std::string member_id = ref.substr(ref.find_last_of('/') + 1);
  if (member_id.starts_with("directoryObjects('") && member_id.ends_with("')"))
    member_id = member_id.substr(18, member_id.size() - 20);
  auto group = find_group(ctx.db(), ctx.req.params["id"]);
  if (!group) return group.error();
  if (auto ok = check_group_change(ctx, group->id); !ok) return ok.error();
  auto kind = directory_object_type(ctx.db(), member_id);
  if (!kind) return kind.error();
  if (!*kind) return bad_request(fmt::format("No user or device has the id '{}'.", member_id));
  const std::string type = **kind;
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = add_group_member(s, group->id, member_id, type); !r) return r;
    return audit(s, ctx,
                 {"addGroupMember", "success", "group", group->id, group->display_name,
                  bj::object{{"memberId", member_id}, {"memberType", type}}});
  });
  if (!st) return st.error();
  return net::Response::empty(204);
}

Result<net::Response> remove_member(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgUpdate); !g) return g.error();
  auto group = find_group(ctx.db(), ctx.req.params["id"]);
  if (!group) return group.error();
  if (auto ok = check_group_change(ctx, group->id); !ok) return ok.error();
  std::string member_id = ctx.req.params["member"];
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = remove_group_member(s, group->id, member_id); !r) return r;
    return audit(s, ctx,
                 {"removeGroupMember", "success", "group", group->id, group->display_name,
                  bj::object{{"memberId", member_id}}});
  });
  if (!st) return st.error();
  return net::Response::empty(204);
}

}  // namespace

void register_directory_routes(Routes& r) {
  r.graph("GET", "/users", list_users);
  r.graph("POST", "/users", create_user);
  r.graph("GET", "/users/{id}", get_user);
  r.graph("PATCH", "/users/{id}", handle_update_user);
  r.graph("DELETE", "/users/{id}", handle_delete_user);
  r.graph("POST", "/users/{id}/assignLicense", assign_license);
  r.graph("GET", "/groups", list_groups);
  r.graph("POST", "/groups", create_group);
  r.graph("GET", "/groups/{id}", get_group);
  r.graph("PATCH", "/groups/{id}", handle_update_group);
  r.graph("DELETE", "/groups/{id}", handle_delete_group);
  r.graph("GET", "/groups/{id}/members", list_members);
  r.graph("POST", "/groups/{id}/members/$ref", add_member);
  r.graph("DELETE", "/groups/{id}/members/{member}/$ref", remove_member);
}

}  // namespace reach::hub
