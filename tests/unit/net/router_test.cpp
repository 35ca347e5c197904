#include "net/router.h"

#include <gtest/gtest.h>

namespace reach::net {
namespace {

Request make(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

// Routes a request and returns the body the matched handler produces ("" when none matched).
std::string call(const Router& router, Request& r, Router::Match* match = nullptr) {
  const Router::Handler* h = nullptr;
  auto m = router.route(r, &h);
  if (match) *match = m;
  return m == Router::Match::found ? (*h)(r).body : "";
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router.add("GET", "/api/devices", [](Request&) { return Response::text(200, "list"); });
    router.add("POST", "/api/devices", [](Request&) { return Response::text(201, "create"); });
    router.add("GET", "/api/devices/{id}",
               [](Request& r) { return Response::text(200, "get " + r.params.at("id")); });
    router.add("GET", "/api/devices/{id}/sessions/{sid}", [](Request& r) {
      return Response::text(200, r.params.at("id") + "/" + r.params.at("sid"));
    });
    router.add("GET", "/api/devices/special",
               [](Request&) { return Response::text(200, "never"); });
    router.add("DELETE", "/api/devices/{id}",
               [](Request& r) { return Response::text(204, "delete " + r.params.at("id")); });
  }
  Router router;
};

TEST_F(RouterTest, LiteralRoutesByMethod) {
  auto get = make("GET", "/api/devices");
  EXPECT_EQ(call(router, get), "list");
  auto post = make("POST", "/api/devices");
  EXPECT_EQ(call(router, post), "create");
}

TEST_F(RouterTest, ParametersLandInParams) {
  auto r = make("GET", "/api/devices/42");
  EXPECT_EQ(call(router, r), "get 42");
  EXPECT_EQ(r.params.at("id"), "42");
  auto nested = make("GET", "/api/devices/a b/sessions/7");
  EXPECT_EQ(call(router, nested), "a b/7");
}

TEST_F(RouterTest, FirstMatchingRouteWins) {
  auto r = make("GET", "/api/devices/special");
  EXPECT_EQ(call(router, r), "get special");
}

TEST_F(RouterTest, TrailingAndDoubleSlashesAreIgnored) {
  auto r = make("GET", "/api//devices/");
  EXPECT_EQ(call(router, r), "list");
}

TEST_F(RouterTest, WrongMethodIs405UnknownPathIs404) {
  Router::Match m;
  auto put = make("PUT", "/api/devices/1");
  EXPECT_EQ(call(router, put, &m), "");
  EXPECT_EQ(m, Router::Match::method_not_allowed);

  auto missing = make("GET", "/api/users");
  call(router, missing, &m);
  EXPECT_EQ(m, Router::Match::not_found);

  auto too_deep = make("GET", "/api/devices/1/2");
  call(router, too_deep, &m);
  EXPECT_EQ(m, Router::Match::not_found);
}

TEST_F(RouterTest, HeadIsServedByGet) {
  auto r = make("HEAD", "/api/devices/9");
  EXPECT_EQ(call(router, r), "get 9");
}

TEST_F(RouterTest, LaterMethodStillFoundAfterOtherMethodMatchesPath) {
  auto r = make("DELETE", "/api/devices/5");
  EXPECT_EQ(call(router, r), "delete 5");
}

}  // namespace
}  // namespace reach::net
