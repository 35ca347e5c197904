// Consent receipts: what a signature covers, and what it refuses.
#include "link/receipt.h"

#include <gtest/gtest.h>

#include "common/crypto.h"
#include "common/e2e_crypto.h"
#include "common/json.h"

namespace reach::link {
namespace {

namespace bj = boost::json;

bj::object fields() {
  return {{"v", 1},
          {"kind", "decision"},
          {"deviceId", "d1"},
          {"sessionId", "s1"},
          {"decision", "allowedControl"},
          {"requestedBy", "Helen"},
          {"organization", "Contoso Ærlig"},
          {"at", "2026-12-07T20:00:00Z"},
          {"transcript", "abc"}};
}

TEST(Receipt, ASignedReceiptVerifiesWhateverItsMembersOrderOrSpacing) {
  auto key = crypto::ed25519_keypair();
  std::string text = sign_receipt(fields(), key.private_key);
  auto r = verify_receipt(text, key.public_key);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->at("decision").as_string(), "allowedControl");
  // The same members in another order, with spaces: the canonical form is the same.
  auto o = json::parse_object(text);
  ASSERT_TRUE(o);
  bj::object reordered;
  std::vector<std::string> keys;
  for (const auto& m : *o) keys.emplace_back(m.key());
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) reordered[*it] = o->at(*it);
  std::string spaced = json::serialize(reordered);
  for (std::size_t at = spaced.find(','); at != std::string::npos; at = spaced.find(',', at + 2))
    spaced.insert(at + 1, " ");
  EXPECT_TRUE(verify_receipt(spaced, key.public_key));
}

TEST(Receipt, AChangedFieldAnotherKeyOrAMalformedReceiptIsRefused) {
  auto key = crypto::ed25519_keypair();
  auto other = crypto::ed25519_keypair();
  auto o = json::parse_object(sign_receipt(fields(), key.private_key));
  ASSERT_TRUE(o);
  bj::object changed = *o;
  changed["decision"] = "denied";
  auto r = verify_receipt(json::serialize(changed));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "receiptSignature");
  bj::object added = *o;
  added["note"] = "x";
  EXPECT_FALSE(verify_receipt(json::serialize(added)));
  // Genuine, but signed by another key than the expected one.
  auto by_other = verify_receipt(sign_receipt(fields(), other.private_key), key.public_key);
  ASSERT_FALSE(by_other);
  EXPECT_EQ(by_other.error().code, "receiptKey");
  // Another key's signature under this key's name.
  auto forged = json::parse_object(sign_receipt(fields(), other.private_key));
  (*forged)["deviceKey"] = o->at("deviceKey");
  auto f = verify_receipt(json::serialize(*forged));
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, "receiptSignature");
  for (std::string bad : {std::string("[]"), std::string("{}"), std::string(R"({"v":2})"),
                          std::string(R"({"v":1,"deviceKey":"x","signature":"y"})"),
                          std::string(R"({"v":1,"kind":3})"), std::string(5000, ' ')}) {
    auto b = verify_receipt(bad);
    ASSERT_FALSE(b) << bad;
    EXPECT_EQ(b.error().code, "receiptMalformed") << bad;
  }
}

}  // namespace
}  // namespace reach::link
