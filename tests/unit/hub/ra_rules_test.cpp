#include "hub/ra_rules.h"

#include <gtest/gtest.h>

#include <vector>

namespace reach::hub {
namespace {

DeviceFacts helpable() {
  return {"userEnrollment", true, "personal", "desktop", "", "Linux", "12", true};
}

TEST(RaEligibility, AUserDevicesCompanyPortalThatConnectedMayBeHelped) {
  EXPECT_EQ(ineligible(helpable()), std::nullopt);
}

TEST(RaEligibility, EachRuleRefusesInTheSpecsOrder) {
  struct Case {
    const char* what;
    DeviceFacts d;
    Ineligible why;
  };
  auto with = [](auto change) {
    DeviceFacts d = helpable();
    change(d);
    return d;
  };
  std::vector<Case> cases = {
      {"device enrollment manager",
       with([](DeviceFacts& d) { d.enrollment_type = "deviceEnrollmentManager"; }),
       Ineligible::userless},
      {"no primary user", with([](DeviceFacts& d) { d.has_user = false; }), Ineligible::userless},
      {"company owned", with([](DeviceFacts& d) { d.owner_type = "company"; }),
       Ineligible::company_owned},
      {"HoloLens", with([](DeviceFacts& d) { d.device_type = "holoLens"; }),
       Ineligible::windows_holographic},
      {"Holographic OS",
       with([](DeviceFacts& d) { d.operating_system = "Windows Holographic for Business"; }),
       Ineligible::windows_holographic},
      {"Surface Hub", with([](DeviceFacts& d) { d.device_type = "surfaceHub"; }),
       Ineligible::windows_team},
      {"Team SKU", with([](DeviceFacts& d) { d.sku_family = "Windows Team"; }),
       Ineligible::windows_team},
      {"10 S", with([](DeviceFacts& d) { d.os_version = "Windows 10 S 1803"; }),
       Ineligible::windows_10s},
      {"portal never connected", with([](DeviceFacts& d) { d.agent_connected_once = false; }),
       Ineligible::agent_not_connected},
      // Several reasons: the first in the order is the one given.
      {"userless and company owned and never connected", with([](DeviceFacts& d) {
         d.has_user = false;
         d.owner_type = "company";
         d.agent_connected_once = false;
       }),
       Ineligible::userless},
  };
  for (const auto& c : cases) EXPECT_EQ(ineligible(c.d), c.why) << c.what;
  EXPECT_EQ(error_code(Ineligible::userless), "userlessDeviceNotSupported");
  EXPECT_EQ(error_code(Ineligible::agent_not_connected), "agentNotConnected");
}

TEST(RaState, TheWayOfASessionTheUserTakes) {
  auto s = RaState::requested;
  for (auto [event, want] :
       std::vector<std::pair<const char*, RaState>>{{"accepted", RaState::accepted},
                                                    {"allowedViewOnly", RaState::allowed},
                                                    {"connected", RaState::active},
                                                    {"ended", RaState::ended}}) {
    auto next = next_ra_state(s, event);
    ASSERT_EQ(next, want) << event;
    s = *next;
  }
}

TEST(RaState, FinalStatesNeverChange) {
  for (auto s :
       {RaState::ended, RaState::declined, RaState::denied, RaState::expired, RaState::failed}) {
    EXPECT_FALSE(is_open(s));
    for (const char* e : {"accepted", "declined", "allowed", "allowedViewOnly", "connected",
                          "denied", "expired", "failed", "ended"})
      EXPECT_EQ(next_ra_state(s, e), std::nullopt) << to_string(s) << " + " << e;
  }
}

// What the old unconditional UPDATEs got wrong: a late or raced report rewinding a session.
TEST(RaState, LateOrRacedReportsChangeNothing) {
  // The relay's reconciliation decided "expired" from an old read, but the device connected.
  EXPECT_EQ(next_ra_state(RaState::active, "expired"), std::nullopt);
  EXPECT_EQ(next_ra_state(RaState::active, "denied"), std::nullopt);
  EXPECT_EQ(next_ra_state(RaState::active, "accepted"), std::nullopt);
  EXPECT_EQ(next_ra_state(RaState::allowed, "accepted"), std::nullopt);
  EXPECT_EQ(next_ra_state(RaState::accepted, "declined"), std::nullopt);
  EXPECT_EQ(next_ra_state(RaState::requested, "nonsense"), std::nullopt);
  // Ending or failing is possible from any open state.
  for (auto s : {RaState::requested, RaState::accepted, RaState::allowed, RaState::active}) {
    EXPECT_EQ(next_ra_state(s, "ended"), RaState::ended);
    EXPECT_EQ(next_ra_state(s, "failed"), RaState::failed);
  }
}

TEST(RaState, NamesRoundTrip) {
  for (auto s :
       {RaState::requested, RaState::accepted, RaState::allowed, RaState::active, RaState::ended,
        RaState::declined, RaState::denied, RaState::expired, RaState::failed})
    EXPECT_EQ(parse_ra_state(to_string(s)), s);
  EXPECT_EQ(parse_ra_state("open"), std::nullopt);
}

}  // namespace
}  // namespace reach::hub
