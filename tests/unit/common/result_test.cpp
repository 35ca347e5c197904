#include "common/result.h"

#include <gtest/gtest.h>

namespace reach {
namespace {

TEST(Errors, AKindBecomesItsStatusAtTheEdgeAndBack) {
  for (Errc k : {Errc::invalid, Errc::unauthenticated, Errc::forbidden, Errc::not_found,
                 Errc::conflict, Errc::gone, Errc::too_large, Errc::throttled, Errc::unavailable,
                 Errc::upstream, Errc::timeout, Errc::internal}) {
    Error e = make_error(k, "c", "m");
    EXPECT_EQ(e.kind, k);
    EXPECT_EQ(e.status, http_status(k));
    EXPECT_EQ(kind_of_status(http_status(k)), k) << http_status(k);
  }
}

TEST(Errors, TheHelpersSayKinds) {
  EXPECT_EQ(bad_request("x").kind, Errc::invalid);
  EXPECT_EQ(not_found("x").kind, Errc::not_found);
  EXPECT_EQ(conflict("x").kind, Errc::conflict);
  EXPECT_EQ(unavailable("x").kind, Errc::unavailable);
  EXPECT_EQ(unavailable("x").code, "serviceUnavailable");
  EXPECT_EQ(internal_error("x").status, 500);
}

TEST(Errors, AnEdgesOwnStatusIsKeptWithTheNearestKind) {
  Error e = make_error(405, "methodNotAllowed", "m");
  EXPECT_EQ(e.status, 405);
  EXPECT_EQ(e.kind, Errc::invalid);
  Error none = make_error(0, "connectFailed", "no answer");  // an HTTP client's: no status
  EXPECT_EQ(none.status, 0);
  EXPECT_EQ(none.kind, Errc::unavailable);
}

}  // namespace
}  // namespace reach
