// Consent receipts (docs/session-security.md): what the device user decided about a session,
// and how it ended, signed by the device's Ed25519 key, so that the organisation holds a record
// of consent its own hub could not have written (the hub never holds a device's private key).
//
// A receipt is a JSON object of strings and one number ("v": 1), plus "deviceKey" (base64url of
// the signing key) and "signature" (base64url of Ed25519 over the receipt's canonical form: every
// member but "signature", keys sorted, serialised without spaces). The agent makes them, the hub
// checks them against the key the device registered and keeps them, and `reach verify-receipt`
// checks one offline against the fingerprint the device shows.
#pragma once

#include "common/result.h"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace reach::link {

inline constexpr std::size_t kMaxReceipt = 4000;  // bytes of a receipt's JSON text

// The canonical form a signature covers.
std::string canonical_receipt(const boost::json::object& receipt);

// `fields` signed with the device's key (32-byte seed): the receipt's JSON text.
std::string sign_receipt(boost::json::object fields, std::string_view device_private_key);

// Reads and checks one receipt: its shape, and its signature under its own "deviceKey". When
// `expected_public_key` (raw 32 bytes) is given the key must be that one. Errors (invalid, with a
// sentence): "receiptMalformed" (not a receipt, or more than kMaxReceipt bytes),
// "receiptSignature" (the signature does not match: a field changed, or another key signed it),
// "receiptKey" (signed by a key other than the expected one).
Result<boost::json::object> verify_receipt(std::string_view text,
                                           std::string_view expected_public_key = {});

}  // namespace reach::link
