#include "agent/consent.h"

#include <gtest/gtest.h>

#include <vector>

namespace reach::agent {
namespace {

using E = ConsentEvent;
using S = ConsentState;

const std::vector<E> kAllEvents = {
    E::accept,        E::decline, E::stream_open, E::supporter_arrived,     E::allow_view_only,
    E::allow_control, E::deny,    E::first_frame, E::restrict_to_view_only, E::end,
    E::expire};

TEST(Consent, TheWholeWayWithControl) {
  Consent c;
  for (E e : {E::accept, E::stream_open, E::supporter_arrived}) {
    EXPECT_FALSE(c.may_share_screen()) << to_string(c.state());
    ASSERT_TRUE(c.apply(e)) << to_string(e);
  }
  EXPECT_EQ(c.state(), S::asking);
  EXPECT_FALSE(c.may_share_screen());
  ASSERT_TRUE(c.apply(E::allow_control));
  EXPECT_TRUE(c.may_share_screen());
  EXPECT_TRUE(c.may_inject_input());
  ASSERT_TRUE(c.apply(E::first_frame));
  EXPECT_EQ(c.state(), S::active);
  ASSERT_TRUE(c.apply(E::end));
  EXPECT_EQ(c.state(), S::ended);
  EXPECT_FALSE(c.may_share_screen());
  EXPECT_FALSE(c.may_inject_input());
}

TEST(Consent, ViewOnlySharesTheScreenButTakesNoInput) {
  Consent c(S::accepted);
  ASSERT_TRUE(c.apply(E::stream_open));
  ASSERT_TRUE(c.apply(E::supporter_arrived));
  ASSERT_TRUE(c.apply(E::allow_view_only));
  EXPECT_TRUE(c.view_only());
  EXPECT_TRUE(c.may_share_screen());
  EXPECT_FALSE(c.may_inject_input());
  ASSERT_TRUE(c.apply(E::first_frame));
  EXPECT_FALSE(c.may_inject_input());
}

TEST(Consent, NoStepCanBeSkipped) {
  // From requested, only accept and decline (and expire) apply: no path to sharing.
  Consent c;
  for (E e : {E::stream_open, E::supporter_arrived, E::allow_control, E::allow_view_only,
              E::first_frame, E::restrict_to_view_only, E::deny, E::end}) {
    EXPECT_FALSE(c.apply(e)) << to_string(e);
    EXPECT_EQ(c.state(), S::requested);
  }
  Consent waiting(S::accepted);
  ASSERT_TRUE(waiting.apply(E::stream_open));
  EXPECT_FALSE(waiting.apply(E::allow_control));  // nobody to allow yet
  EXPECT_FALSE(waiting.may_share_screen());
}

TEST(Consent, FinalStatesAcceptNothing) {
  auto reach_state = [](std::vector<E> path) {
    Consent c;
    for (E e : path) EXPECT_TRUE(c.apply(e)) << to_string(e);
    return c;
  };
  std::vector<Consent> finals = {
      reach_state({E::decline}),
      reach_state({E::accept, E::stream_open, E::supporter_arrived, E::deny}),
      reach_state({E::accept, E::stream_open, E::expire}),
      reach_state({E::accept, E::stream_open, E::supporter_arrived, E::allow_control, E::end}),
  };
  std::vector<S> expected = {S::declined, S::denied, S::expired, S::ended};
  for (std::size_t i = 0; i < finals.size(); ++i) {
    EXPECT_EQ(finals[i].state(), expected[i]);
    EXPECT_TRUE(is_final(finals[i].state()));
    for (E e : kAllEvents) {
      EXPECT_FALSE(finals[i].apply(e)) << to_string(expected[i]) << " + " << to_string(e);
      EXPECT_EQ(finals[i].state(), expected[i]);
      EXPECT_FALSE(finals[i].may_share_screen());
    }
  }
}

TEST(Consent, ControlCanBeDroppedButNotTakenBack) {
  Consent asking(S::accepted);
  ASSERT_TRUE(asking.apply(E::stream_open));
  ASSERT_TRUE(asking.apply(E::supporter_arrived));
  EXPECT_FALSE(asking.apply(E::restrict_to_view_only));  // nothing is shared yet
  ASSERT_TRUE(asking.apply(E::allow_control));
  ASSERT_TRUE(asking.apply(E::first_frame));
  ASSERT_TRUE(asking.may_inject_input());
  ASSERT_TRUE(asking.apply(E::restrict_to_view_only));
  EXPECT_EQ(asking.state(), S::active);
  EXPECT_TRUE(asking.may_share_screen());
  EXPECT_FALSE(asking.may_inject_input());
  EXPECT_TRUE(asking.view_only());
  // Allowing again is not a way back to control: the question was answered.
  EXPECT_FALSE(asking.apply(E::allow_control));
  EXPECT_FALSE(asking.may_inject_input());
}

TEST(Consent, ALiveSessionEndsRatherThanExpires) {
  Consent c(S::accepted);
  ASSERT_TRUE(c.apply(E::stream_open));
  ASSERT_TRUE(c.apply(E::supporter_arrived));
  ASSERT_TRUE(c.apply(E::allow_control));
  EXPECT_FALSE(c.apply(E::expire));
  EXPECT_TRUE(c.apply(E::end));
}

}  // namespace
}  // namespace reach::agent
