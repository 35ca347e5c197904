#include "common/crypto.h"
#include "common/log.h"

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  reach::crypto::init();
  reach::log::init("test", "warn");
  return RUN_ALL_TESTS();
}
