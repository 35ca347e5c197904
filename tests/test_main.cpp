#include "common/crypto.h"
#include "common/log.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // --reach-store=postgresql: the same tests on the PostgreSQL store (ctest registers each
  // integration test once per store). Passed on to the programs the tests start.
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--reach-store=")) ::setenv("REACH_TEST_STORE", argv[i] + 14, 1);
  }
  reach::crypto::init();
  reach::log::init("test", "warn");
  return RUN_ALL_TESTS();
}
