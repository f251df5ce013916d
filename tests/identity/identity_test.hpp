// identity_test.hpp: shared helpers of the identity-token tests.
#pragma once

#include <ostream>
#include <string>

#include "pg_tenancy/engine/identity_token.hpp"
#include "signing_keys.hpp"

namespace pg_tenancy::engine::identity {
inline std::ostream &operator<<(std::ostream &os, IdentityError e) {
	return os << IdentityErrorReason(e);
}
} // namespace pg_tenancy::engine::identity

namespace identity_test {

constexpr std::int64_t kNow = 1800000000;
constexpr const char *kIssuer = "https://id.example/";
constexpr const char *kAudience = "tickets-api";
constexpr const char *kUser = "11111111-1111-4111-8111-111111111111";

inline tenancy::identity::VerifyOptions Options() {
	tenancy::identity::VerifyOptions options;
	options.issuer = kIssuer;
	options.audience = kAudience;
	options.now = kNow;
	return options;
}

// Claims a provider would send, with `extra` members appended.
inline std::string Claims(const std::string &extra = "", const std::string &aud = "\"tickets-api\"") {
	return std::string(R"({"iss":"https://id.example/","aud":)") + aud + R"(,"sub":")" + kUser + R"(","iat":)" +
	       std::to_string(kNow) + R"(,"exp":)" + std::to_string(kNow + 300) + extra + "}";
}

inline std::string Header(const std::string &alg, const std::string &kid, const std::string &extra = "") {
	std::string h = R"({"alg":")" + alg + "\"";
	if (!kid.empty())
		h += R"(,"kid":")" + kid + "\"";
	return h + R"(,"typ":"JWT")" + extra + "}";
}

} // namespace identity_test
