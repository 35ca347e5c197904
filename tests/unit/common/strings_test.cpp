#include "common/strings.h"

#include <gtest/gtest.h>

namespace reach {
namespace {

TEST(Printable, ControlsBidiAndMalformedUtf8AreDropped) {
  EXPECT_EQ(printable("plain text, æøå, 日本, 😀"), "plain text, æøå, 日本, 😀");
  EXPECT_EQ(printable("a\x1b[2Jb\x07\r\n\tc\x7f"), "a[2Jbc");
  EXPECT_EQ(printable("x\xc2\x9b"
                      "31my"),
            "x31my")
      << "C1 CSI";
  EXPECT_EQ(printable("\xf8\x9b\x80z"), "z") << "0xF8 is no UTF-8 lead byte";
  EXPECT_EQ(printable("\xff\xfe\xc0\xaf\xe0\x80\xaf\xed\xa0\x80!"), "!") << "overlong, surrogate";
  EXPECT_EQ(printable("\xe2\x80\xae"
                      "evil\xe2\x81\xa6"
                      "x"),
            "evilx")
      << "bidi override, isolate";
  EXPECT_EQ(printable("\xe2\x80\x94"), "\xe2\x80\x94") << "an em dash stays";
  EXPECT_EQ(printable("cut\xe2\x80"), "cut") << "a truncated sequence";
}

}  // namespace
}  // namespace reach
