// identity_token.hpp: the bearer JWT an application receives from its identity
// provider (or from its own sign-in service), verified before anything else.
//
// Accepted: compact JWS, alg HS256 or EdDSA pinned by kid in an identity keyring,
// header typ absent, "JWT" or "at+jwt" (never a context token), claims iss and
// aud matching the configuration (aud may be an array), sub the user's uuid, exp,
// and optional iat/nbf. Other claims are allowed (providers add their own) but
// duplicate member names anywhere are not.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pg_tenancy/token/keyring.hpp"
#include "pg_tenancy/token/token_error.hpp"
#include "pg_tenancy/token/uuid.hpp"

namespace pg_tenancy::token {

struct IdentityOptions {
	std::string issuer;   // required: the iss claim must equal it
	std::string audience; // required: aud must equal it or contain it
	std::int64_t now = 0;
	std::int64_t leeway = 30;
	std::int64_t max_lifetime = 0; // 0: no limit
};

struct IdentityResult {
	TokenError error = TokenError::Internal;
	Uuid user;
	std::string kid;
	bool ok() const noexcept { return error == TokenError::None; }
};

IdentityResult VerifyIdentityToken(std::string_view token, const Keyring &keyring,
                                   const IdentityOptions &options) noexcept;

// A minimal identity token, for tests, the demo and applications that sign users
// in themselves. Throws KeyringError or TokenLibraryError.
std::string MintIdentityToken(const Key &key, const Uuid &user, const std::string &issuer, const std::string &audience,
                              std::int64_t issued_at, std::int64_t expires_at);

} // namespace pg_tenancy::token

#include "pg_tenancy/token/cpp_only.hpp"
