// base64url.hpp: strict unpadded base64url (RFC 4648 section 5), as JWS compact
// serialisation requires. Decoding rejects padding, whitespace, the standard
// alphabet and non-canonical trailing bits, so one token has exactly one spelling.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pg_tenancy::token {

std::string Base64UrlEncode(std::string_view bytes);

// Returns false (leaving `out` unspecified) unless `text` is canonical base64url.
bool Base64UrlDecode(std::string_view text, std::string &out);

} // namespace pg_tenancy::token

#include "pg_tenancy/token/cpp_only.hpp"
