// test_support.hpp: helpers to build hand-crafted tokens for rejection tests.
#pragma once

#include <string>

#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/context_token.hpp"
#include "pg_tenancy/token/crypto.hpp"
#include "pg_tenancy/token/errors.hpp"
#include "pg_tenancy/token/keyring.hpp"

#include <ostream>

// Boost.Test prints values of failed checks.
namespace pg_tenancy::token {
inline std::ostream &operator<<(std::ostream &os, TokenError e) {
	return os << TokenErrorReason(e);
}
inline std::ostream &operator<<(std::ostream &os, Algorithm a) {
	return os << AlgorithmName(a);
}
} // namespace pg_tenancy::token

namespace test_support {

inline std::string B64(const std::string &s) {
	return pg_tenancy::token::Base64UrlEncode(s);
}

// A token with exactly this header and payload text, HMAC-signed with `secret`.
inline std::string CraftHs256(const std::string &header, const std::string &payload, const std::string &secret) {
	std::string input = B64(header) + "." + B64(payload);
	return input + "." + B64(pg_tenancy::token::HmacSha256(secret, input));
}

inline std::string HexToBytes(const std::string &hex) {
	std::string out;
	for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
		out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
	return out;
}

} // namespace test_support
