#include "link/receipt.h"

#include "common/crypto.h"
#include "common/e2e_crypto.h"
#include "common/json.h"

#include <algorithm>
#include <vector>

namespace reach::link {

namespace bj = boost::json;

std::string canonical_receipt(const bj::object& receipt) {
  std::vector<std::string_view> keys;
  for (const auto& m : receipt)
    if (m.key() != "signature") keys.push_back(m.key());
  std::sort(keys.begin(), keys.end());
  bj::object sorted;
  for (auto k : keys) sorted[k] = receipt.at(k);
  return json::serialize(sorted);
}

std::string sign_receipt(bj::object fields, std::string_view device_private_key) {
  auto pub = crypto::ed25519_public_key(device_private_key);
  REACH_CHECK(pub.has_value(), "a device key signs receipts");
  fields["deviceKey"] = crypto::base64url_encode(*pub);
  fields.erase("signature");
  auto sig = crypto::ed25519_sign(device_private_key, canonical_receipt(fields));
  REACH_CHECK(sig.has_value(), "a device key signs receipts");
  fields["signature"] = crypto::base64url_encode(*sig);
  return json::serialize(fields);
}

Result<bj::object> verify_receipt(std::string_view text, std::string_view expected_public_key) {
  auto malformed = [](const std::string& why) {
    return make_error(Errc::invalid, "receiptMalformed",
                      "This is not a Reach consent receipt: " + why);
  };
  if (text.size() > kMaxReceipt) return malformed("it is too long.");
  auto o = json::parse_object(text);
  if (!o) return malformed("it is not a JSON object.");
  auto v = o->if_contains("v");
  if (!v || !v->is_int64() || v->as_int64() != 1) return malformed("it has no version 1.");
  for (const auto& m : *o)
    if (m.key() != "v" && !m.value().is_string())
      return malformed("'" + std::string(m.key()) + "' is not a string.");
  auto key_text = o->if_contains("deviceKey");
  auto sig_text = o->if_contains("signature");
  if (!key_text || !sig_text) return malformed("it has no device key or no signature.");
  auto key = crypto::base64url_decode(key_text->as_string());
  auto sig = crypto::base64url_decode(sig_text->as_string());
  if (!key || key->size() != crypto::kKeyBytes || !sig || sig->size() != crypto::kSignatureBytes)
    return malformed("its device key or signature is not one.");
  if (!crypto::ed25519_verify(*key, canonical_receipt(*o), *sig))
    return make_error(Errc::invalid, "receiptSignature",
                      "The signature does not match the receipt: a field was changed, or the "
                      "receipt was not signed by the key it names.");
  if (!expected_public_key.empty() && *key != expected_public_key)
    return make_error(Errc::invalid, "receiptKey",
                      "The receipt was signed by another key than the device's.");
  return *o;
}

}  // namespace reach::link
