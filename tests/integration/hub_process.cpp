#include "integration/hub_process.h"

#include <filesystem>
#include <iostream>

namespace reach::itest {

::testing::AssertionResult IsGraphError(const ApiResult& r, int status, std::string_view code) {
  auto fail = [&](std::string_view why) {
    return ::testing::AssertionFailure()
           << why << " (expected " << status << " " << code << "), got " << r;
  };
  if (r.status != status) return fail("wrong status");
  if (!r.json.is_object()) return fail("body is not a JSON object");
  const auto* err = r.json.as_object().if_contains("error");
  if (!err || !err->is_object()) return fail("no \"error\" object");
  const auto& e = err->as_object();
  if (str_of(e, "code") != code) return fail("wrong error.code");
  if (str_of(e, "message").empty()) return fail("error.message missing or empty");
  const auto* inner = e.if_contains("innerError");
  if (!inner || !inner->is_object()) return fail("no error.innerError object");
  std::string rid = str_of(inner->as_object(), "request-id");
  std::string date = str_of(inner->as_object(), "date");
  if (rid.empty()) return fail("error.innerError.request-id missing");
  if (date.size() < 19 || date[4] != '-' || date[10] != 'T')
    return fail("error.innerError.date missing or not ISO-8601");
  auto header = r.headers.get("request-id");
  if (!header || header->empty()) return fail("no request-id response header");
  if (*header != rid) return fail("request-id header differs from error.innerError.request-id");
  return ::testing::AssertionSuccess();
}

// ------------------------------------------------------------------ HubProcess

HubProcess::HubProcess(HubOptions options) : options_(std::move(options)) {}

HubProcess::~HubProcess() = default;

::testing::AssertionResult HubProcess::init() {
  return service_.init(options_.admin_email, options_.admin_password);
}

::testing::AssertionResult HubProcess::start(const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = options_.serve_args;
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return service_.start(args);
}

::testing::AssertionResult HubProcess::init_and_start() {
  auto r = init();
  if (!r) return r;
  return start();
}

::testing::AssertionResult HubProcess::stop() {
  return service_.server().stop();
}

void HubProcess::kill9() {
  service_.server().kill9();
}

CommandResult HubProcess::cli(std::vector<std::string> args, bool with_data) {
  return service_.cli(std::move(args), with_data);
}

std::string HubProcess::create_token(const std::string& email) {
  return service_.create_token(email);
}

std::string HubProcess::create_enrollment_token(const std::vector<std::string>& flags) {
  std::vector<std::string> args = {"enrollment-token", "create"};
  args.insert(args.end(), flags.begin(), flags.end());
  auto r = cli(args);
  EXPECT_EQ(r.exit_code, 0) << "enrollment-token create: " << r.err;
  std::string t = trim(r.out);
  EXPECT_FALSE(t.empty()) << "enrollment-token create printed nothing";
  EXPECT_EQ(t.find_first_of(" \n\t"), std::string::npos)
      << "enrollment-token create printed: " << r.out;
  return r.exit_code == 0 ? t : std::string();
}

const std::string& HubProcess::admin_token() {
  if (admin_token_.empty()) admin_token_ = create_token(options_.admin_email);
  return admin_token_;
}

std::string HubProcess::read_stderr_log() const {
  return read_file_bytes(stderr_log_path());
}

std::string HubProcess::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port());
}

ApiResult HubProcess::request(std::string_view method, std::string_view path_or_url,
                              std::string body, const net::Headers& headers) const {
  std::string url = path_or_url.starts_with("http://") || path_or_url.starts_with("https://")
                        ? std::string(path_or_url)
                        : base_url() + std::string(path_or_url);
  return http_call(method, url, std::move(body), headers);
}

namespace {
net::Headers auth_headers(const std::string& bearer) {
  net::Headers h;
  if (!bearer.empty()) h.set("Authorization", "Bearer " + bearer);
  return h;
}
}  // namespace

ApiResult HubProcess::get(std::string_view path, const std::string& bearer) const {
  return request("GET", path, {}, auth_headers(bearer));
}

ApiResult HubProcess::post(std::string_view path, const bj::value& body,
                           const std::string& bearer) const {
  return post_raw(path, bj::serialize(body), bearer);
}

ApiResult HubProcess::post_raw(std::string_view path, std::string body, const std::string& bearer,
                               std::string_view content_type) const {
  auto h = auth_headers(bearer);
  h.set("Content-Type", std::string(content_type));
  return request("POST", path, std::move(body), h);
}

ApiResult HubProcess::patch(std::string_view path, const bj::value& body,
                            const std::string& bearer) const {
  return patch_raw(path, bj::serialize(body), bearer);
}

ApiResult HubProcess::patch_raw(std::string_view path, std::string body,
                                const std::string& bearer) const {
  auto h = auth_headers(bearer);
  h.set("Content-Type", "application/json");
  return request("PATCH", path, std::move(body), h);
}

ApiResult HubProcess::del(std::string_view path, const std::string& bearer) const {
  return request("DELETE", path, {}, auth_headers(bearer));
}

::testing::AssertionResult HubProcess::healthy() const {
  auto r = get("/api/health");
  if (r.status != 200 || r.str("status") != "ok")
    return ::testing::AssertionFailure() << "GET /api/health: " << r;
  return ::testing::AssertionSuccess();
}

// ------------------------------------------------------------------ helpers

std::vector<bj::object> collect_pages(const HubProcess& hub, const std::string& first,
                                      const std::string& bearer, int max_pages) {
  std::vector<bj::object> out;
  std::string link = first;
  for (int page = 0; page < max_pages; ++page) {
    auto r = hub.get(link, bearer);
    if (r.status != 200 || !r.is_object()) {
      ADD_FAILURE() << "GET " << link << " (page " << page << "): " << r;
      return out;
    }
    const auto* v = r.obj().if_contains("value");
    if (!v || !v->is_array()) {
      ADD_FAILURE() << "GET " << link << ": no \"value\" array: " << r;
      return out;
    }
    for (const auto& e : v->as_array()) {
      if (!e.is_object()) {
        ADD_FAILURE() << "a non-object in \"value\": " << r;
        return out;
      }
      out.push_back(e.as_object());
    }
    const auto* next = r.obj().if_contains("@odata.nextLink");
    if (!next || next->is_null()) return out;
    if (!next->is_string()) {
      ADD_FAILURE() << "@odata.nextLink is not a string: " << r;
      return out;
    }
    link = std::string(next->as_string());
  }
  ADD_FAILURE() << "more than " << max_pages << " pages starting at " << first;
  return out;
}

bj::object device_inventory(const DeviceSpec& d) {
  return bj::object{{"deviceName", d.name},
                    {"operatingSystem", d.os},
                    {"osVersion", d.os_version},
                    {"model", d.model},
                    {"manufacturer", d.manufacturer},
                    {"serialNumber", d.serial.empty() ? "SN-" + d.name : d.serial},
                    {"deviceType", d.device_type},
                    {"skuFamily", d.sku_family}};
}

ApiResult enroll(const HubProcess& hub, const std::string& enrollment_token, const DeviceSpec& d) {
  return hub.post("/api/agent/enroll", bj::object{{"enrollmentToken", enrollment_token},
                                                  {"device", device_inventory(d)}});
}

ApiResult create_user(const HubProcess& hub, const std::string& bearer, const std::string& upn,
                      const std::string& display_name, const std::string& password) {
  return hub.post("/v1.0/users",
                  bj::object{{"displayName", display_name},
                             {"userPrincipalName", upn},
                             {"passwordProfile", bj::object{{"password", password}}}},
                  bearer);
}

}  // namespace reach::itest
