// The relay pages' language: ?lang= first, then the best Accept-Language the relay has.
#include "relay/page_text.h"

#include <gtest/gtest.h>

namespace reach::relay {
namespace {

Lang for_request(std::string accept, std::string lang_param = "") {
  net::Request req;
  if (!accept.empty()) req.headers.set("Accept-Language", accept);
  if (!lang_param.empty()) req.query.emplace_back("lang", lang_param);
  return page_language(req);
}

TEST(PageLanguage, FollowsTheBrowserAndTheQuery) {
  EXPECT_EQ(for_request(""), Lang::en);
  EXPECT_EQ(for_request("nb-NO,nb;q=0.9,en;q=0.8"), Lang::nb);
  EXPECT_EQ(for_request("nn"), Lang::nb);
  EXPECT_EQ(for_request("no"), Lang::nb);
  EXPECT_EQ(for_request("de-DE,de;q=0.9,nb;q=0.5,en;q=0.7"), Lang::en) << "en has the higher q";
  EXPECT_EQ(for_request("de-DE,fr"), Lang::en) << "nothing known: English";
  EXPECT_EQ(for_request("  NB-no ; q=1"), Lang::nb);
  EXPECT_EQ(for_request("nb;q=0"), Lang::en) << "q=0 means not acceptable";
  EXPECT_EQ(for_request("nb-NO", "en"), Lang::en);
  EXPECT_EQ(for_request("", "nb"), Lang::nb);
  EXPECT_EQ(for_request("nb", "xx"), Lang::nb) << "an unknown ?lang= is ignored";
  EXPECT_EQ(for_request(std::string(5000, ','), ""), Lang::en);
  net::Request kept;
  kept.headers.set("Accept-Language", "en");
  kept.headers.set("Cookie", "reach_lang=nb");
  EXPECT_EQ(page_language(kept), Lang::nb) << "the page's switch beats the browser";
}

TEST(PageLanguage, OnlyAKnownChoiceIsKept) {
  net::Request req;
  EXPECT_EQ(language_cookie(req), "");
  req.query.emplace_back("lang", "xx\r\nSet-Cookie: a=b");
  EXPECT_EQ(language_cookie(req), "");
  net::Request nb;
  nb.query.emplace_back("lang", "nb-NO");
  EXPECT_EQ(language_cookie(nb), "reach_lang=nb; Path=/; Max-Age=31536000; SameSite=Lax");
}

TEST(PageLanguage, EveryTextInBothLanguagesWithTheSamePlaceholders) {
  for (int i = 0; i < static_cast<int>(T::count_); ++i) {
    auto id = static_cast<T>(i);
    auto en = text(Lang::en, id), nb = text(Lang::nb, id);
    EXPECT_FALSE(en.empty()) << i;
    EXPECT_FALSE(nb.empty()) << i;
    auto holes = [](std::string_view s) {
      int n = 0;
      for (auto p = s.find("{}"); p != std::string_view::npos; p = s.find("{}", p + 2)) ++n;
      return n;
    };
    EXPECT_EQ(holes(en), holes(nb)) << en;
  }
  EXPECT_EQ(lang_tag(Lang::nb), "nb");
  EXPECT_EQ(lang_tag(Lang::en), "en");
}

}  // namespace
}  // namespace reach::relay
