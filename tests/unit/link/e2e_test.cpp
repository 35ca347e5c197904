// The session's end-to-end encryption, both ends in one process: the handshake, the records,
// and what each kind of interference (a relay that alters, drops, replays, reorders, or stands
// in the middle with keys of its own) does to them.
#include "link/e2e.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "common/crypto.h"
#include "common/e2e_crypto.h"

namespace reach::link {
namespace {

struct Ends {
  crypto::KeyPair device_key = crypto::ed25519_keypair();
  E2eChannel device;
  E2eChannel supporter;
  std::deque<std::string> to_device, to_supporter;
  std::vector<std::string> device_errors, supporter_errors;

  Ends(std::string device_secret = {}, std::string supporter_secret = {},
       bool pin_fingerprint = false)
      : device(E2eOptions{E2eRole::device, device_secret, device_key.private_key, {}}),
        supporter(E2eOptions{
            E2eRole::supporter,
            supporter_secret,
            {},
            pin_fingerprint ? device_key_fingerprint(device_key.public_key) : std::string()}) {
    for (auto& m : supporter.start()) to_device.push_back(m);
  }

  // Delivers every message in flight, both ways, until none is left or an end fails.
  void pump() {
    while (!to_device.empty() || !to_supporter.empty()) {
      if (!to_device.empty()) deliver(device, to_device, to_supporter, device_errors);
      if (!to_supporter.empty()) deliver(supporter, to_supporter, to_device, supporter_errors);
    }
  }
  static void deliver(E2eChannel& end, std::deque<std::string>& in, std::deque<std::string>& out,
                      std::vector<std::string>& errors) {
    auto m = std::move(in.front());
    in.pop_front();
    auto r = end.receive(m);
    if (!r) {
      errors.push_back(r.error().code);
      in.clear();
      return;
    }
    for (auto& s : r->send) out.push_back(std::move(s));
  }
};

TEST(E2e, BothEndsAgreeOnKeysAndCodeAndCarryTheStreamBothWays) {
  Ends e;
  e.pump();
  ASSERT_TRUE(e.device.established());
  ASSERT_TRUE(e.supporter.established());
  EXPECT_EQ(e.device.verification_code().size(), 6u);
  EXPECT_EQ(e.device.verification_code(), e.supporter.verification_code());
  EXPECT_EQ(e.device.transcript_hash(), e.supporter.transcript_hash());
  EXPECT_EQ(e.supporter.device_public_key(), e.device_key.public_key);

  std::string rfb = "RFB 003.008\n";
  std::string record = e.device.seal_stream(rfb);
  EXPECT_EQ(record.size(), rfb.size() + kRecordOverhead);
  EXPECT_EQ(record.find("RFB"), std::string::npos);  // nothing readable on the way
  auto got = e.supporter.receive(record);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->stream, rfb);

  auto back = e.device.receive(e.supporter.seal_stream("RFB 003.008\n\x01"));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->stream, "RFB 003.008\n\x01");

  auto notice = e.supporter.receive(e.device.seal_notice(R"({"type":"asking","seconds":30})"));
  ASSERT_TRUE(notice) << notice.error().message;
  ASSERT_EQ(notice->notices.size(), 1u);
  EXPECT_EQ(notice->notices[0], R"({"type":"asking","seconds":30})");

  auto closed = e.device.receive(e.supporter.seal_close("the supporter ended the session"));
  ASSERT_TRUE(closed) << closed.error().message;
  EXPECT_EQ(closed->closed, "the supporter ended the session");
  EXPECT_EQ(e.device.state(), E2eChannel::State::closed);
  EXPECT_FALSE(e.device.receive(e.supporter.seal_stream("late")));
}

TEST(E2e, EachSessionHasItsOwnKeysAndCode) {
  Ends a, b;
  a.pump();
  b.pump();
  EXPECT_NE(a.device.transcript_hash(), b.device.transcript_hash());
  // Six digits from independent transcripts: equal one time in a million.
  EXPECT_NE(a.device.verification_code() + a.device.seal_stream("x"),
            b.device.verification_code() + b.device.seal_stream("x"));
}

TEST(E2e, AHubSessionNeedsTheSameSecretAtBothEndsAndTheRegisteredDeviceKey) {
  std::string secret = crypto::random_bytes(kSessionSecretBytes);
  Ends ok(secret, secret, true);
  ok.pump();
  EXPECT_TRUE(ok.device.established());
  EXPECT_TRUE(ok.supporter.established());

  Ends link_without_key(secret, {}, true);  // the link lost its fragment
  link_without_key.pump();
  EXPECT_EQ(link_without_key.device_errors, std::vector<std::string>{"e2eSecret"});
  EXPECT_FALSE(link_without_key.supporter.established());

  Ends device_without_key({}, secret, true);
  device_without_key.pump();
  EXPECT_EQ(device_without_key.device_errors, std::vector<std::string>{"e2eSecret"});

  Ends other_secret(secret, crypto::random_bytes(kSessionSecretBytes), true);
  other_secret.pump();
  // The device's proof (its first record) does not decrypt at the supporter's end, and the
  // supporter's proof does not at the device's: no end is established, neither shows anything.
  EXPECT_FALSE(other_secret.device.established());
  EXPECT_FALSE(other_secret.supporter.established());
  EXPECT_FALSE(other_secret.device_errors.empty() && other_secret.supporter_errors.empty());
}

// A relay in the middle that runs a handshake with each end, with keys of its own.
struct Middle {
  crypto::KeyPair own_device_key = crypto::ed25519_keypair();
  E2eChannel as_device, as_supporter;
  explicit Middle(std::string secret = {})
      : as_device(E2eOptions{E2eRole::device, secret, own_device_key.private_key, {}}),
        as_supporter(E2eOptions{E2eRole::supporter, secret, {}, {}}) {}
};

// Runs supporter <-> middle(as device) and middle(as supporter) <-> device; returns the errors.
std::vector<std::string> run_through(Ends& e, Middle& m) {
  std::vector<std::string> errors;
  std::deque<std::string> s_to_m(e.to_device.begin(), e.to_device.end()), m_to_s, m_to_d, d_to_m;
  e.to_device.clear();
  for (auto& x : m.as_supporter.start()) m_to_d.push_back(x);
  auto step = [&](E2eChannel& end, std::deque<std::string>& in, std::deque<std::string>& out,
                  const char* who) {
    auto r = end.receive(in.front());
    in.pop_front();
    if (!r) {
      errors.push_back(std::string(who) + ":" + r.error().code);
      in.clear();
      return;
    }
    for (auto& s : r->send) out.push_back(s);
  };
  while (!s_to_m.empty() || !m_to_s.empty() || !m_to_d.empty() || !d_to_m.empty()) {
    if (!s_to_m.empty()) step(m.as_device, s_to_m, m_to_s, "middle");
    if (!m_to_s.empty()) step(e.supporter, m_to_s, s_to_m, "supporter");
    if (!m_to_d.empty()) step(e.device, m_to_d, d_to_m, "device");
    if (!d_to_m.empty()) step(m.as_supporter, d_to_m, m_to_d, "middle");
  }
  return errors;
}

TEST(E2e, ARelayInTheMiddleOfACodeSessionGetsTwoDifferentCodes) {
  Ends e;
  Middle m;
  EXPECT_TRUE(run_through(e, m).empty());
  ASSERT_TRUE(e.supporter.established());
  ASSERT_TRUE(e.device.established());
  // Both ends "work", so the people comparing codes are the check: the codes differ (one time
  // in a million they match by chance; the commitment stops the middle from searching).
  EXPECT_NE(e.supporter.verification_code(), e.device.verification_code());
  EXPECT_NE(e.supporter.device_public_key(), e.device_key.public_key);
}

TEST(E2e, ARelayInTheMiddleOfAHubSessionIsCaughtBeforeAnythingIsShown) {
  std::string secret = crypto::random_bytes(kSessionSecretBytes);
  {
    // It knows no secret: it cannot claim to hold one (its keys would differ), nor not to.
    Ends e(secret, secret, true);
    Middle m;
    auto errors = run_through(e, m);
    EXPECT_FALSE(e.supporter.established());
    EXPECT_FALSE(e.device.established());
    EXPECT_FALSE(errors.empty());
  }
  {
    // Even with the secret (a hub that leaked it), its device key is not the registered one.
    Ends e(secret, secret, true);
    Middle m(secret);
    auto errors = run_through(e, m);
    EXPECT_FALSE(e.supporter.established());
    EXPECT_NE(std::find(errors.begin(), errors.end(), "supporter:e2eDeviceKey"), errors.end());
  }
}

TEST(E2e, ARevealThatIsNotWhatWasCommittedIsRefused) {
  Ends e;
  auto hello = e.device.receive(e.to_device.front());
  ASSERT_TRUE(hello);
  auto reveal = e.supporter.receive(hello->send.at(0));
  ASSERT_TRUE(reveal);
  std::string changed = reveal->send.at(0);
  changed[5] ^= 0x01;  // another public key than the one committed to
  auto r = e.device.receive(changed);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "e2eCommitment");
  EXPECT_EQ(e.device.state(), E2eChannel::State::failed);
}

struct Established : ::testing::Test {
  Ends e;
  std::vector<std::string> records;
  void SetUp() override {
    e.pump();
    ASSERT_TRUE(e.supporter.established());
    for (int i = 0; i < 4; ++i)
      records.push_back(e.device.seal_stream("frame " + std::to_string(i)));
  }
  // Delivers the records in this order; the index of the first refused, or -1.
  int deliver(const std::vector<std::string>& order) {
    for (std::size_t i = 0; i < order.size(); ++i) {
      auto r = e.supporter.receive(order[i]);
      if (!r) {
        EXPECT_EQ(r.error().code, "e2eBadRecord");
        // Refused for good: even the right next record is refused now.
        EXPECT_FALSE(e.supporter.receive(records.back()));
        return static_cast<int>(i);
      }
    }
    return -1;
  }
};

TEST_F(Established, AFlippedBitIsRefused) {
  // The kind byte's ciphertext, the payload's, the tag's last byte.
  for (std::size_t at : {std::size_t{0}, std::size_t{3}, kRecordOverhead + 6 - 1}) {
    Ends fresh;
    fresh.pump();
    std::string r0 = fresh.device.seal_stream("a"), r1 = fresh.device.seal_stream("secret");
    ASSERT_LT(at, r1.size());
    r1[at] ^= 0x40;
    EXPECT_TRUE(fresh.supporter.receive(r0));
    auto r = fresh.supporter.receive(r1);
    ASSERT_FALSE(r) << "flipped byte " << at;
    EXPECT_EQ(r.error().code, "e2eBadRecord");
  }
}

TEST_F(Established, ADroppedRecordIsRefused) {
  EXPECT_EQ(deliver({records[0], records[2]}), 1);
}

TEST_F(Established, AReplayedRecordIsRefused) {
  EXPECT_EQ(deliver({records[0], records[1], records[1]}), 2);
}

TEST_F(Established, TwoRecordsSwappedAreRefused) {
  EXPECT_EQ(deliver({records[0], records[2], records[1]}), 1);
}

TEST_F(Established, RecordsInOrderAllPass) {
  EXPECT_EQ(deliver(records), -1);
}

TEST_F(Established, ARecordSentTheOtherWayBackIsRefused) {
  // A relay reflecting the device's own record back to it.
  auto r = e.device.receive(records[0]);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "e2eBadRecord");
}

TEST(E2e, GarbageAndOutOfTurnHandshakeMessagesAreRefused) {
  auto device = [] {
    return E2eChannel(E2eOptions{E2eRole::device, {}, crypto::ed25519_keypair().private_key, {}});
  };
  for (std::string bad : {std::string(), std::string("RFB 003.008\n"), std::string(45, '\x01'),
                          std::string(200, '\0')}) {
    auto d = device();
    auto r = d.receive(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "e2eHandshake");
    EXPECT_FALSE(d.receive(bad));  // failed for good
  }
  // A supporter's end that gets a message before it began, or a hello that is not one.
  E2eChannel s(E2eOptions{E2eRole::supporter, {}, {}, {}});
  EXPECT_FALSE(s.receive(std::string(66, '\x02')));
  E2eChannel s2(E2eOptions{E2eRole::supporter, {}, {}, {}});
  s2.start();
  std::string hello = std::string(1, '\x02') + std::string(1, '\x80') + std::string(64, 'k');
  auto r = s2.receive(hello);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "e2eHandshake");
  // A hello whose key gives the all-zero secret (a low-order point).
  E2eChannel s3(E2eOptions{E2eRole::supporter, {}, {}, {}});
  s3.start();
  auto zero = s3.receive(std::string(1, '\x02') + std::string(65, '\0'));
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, "e2eHandshake");
}

TEST(E2e, TheFingerprintIsEightGroupsOfFourHexDigits) {
  std::string fp = device_key_fingerprint(std::string(32, '\0'));
  EXPECT_EQ(fp.size(), 39u);
  EXPECT_EQ(std::count(fp.begin(), fp.end(), '-'), 7);
  EXPECT_EQ(fp, device_key_fingerprint(std::string(32, '\0')));
  EXPECT_NE(fp, device_key_fingerprint(std::string(32, '\1')));
}

}  // namespace
}  // namespace reach::link
