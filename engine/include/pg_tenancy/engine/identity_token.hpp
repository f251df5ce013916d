// identity_token.hpp: verifying the bearer JWT an application receives from its
// identity provider (Auth0, Keycloak, Okta, ...) or from its own sign-in service.
//
// Accepted: a compact JWS (at most 16 KiB) whose header has alg RS256, PS256,
// ES256, EdDSA or HS256, an optional kid, an optional typ ("JWT", "at+jwt"; never a
// pg_tenancy context token), optionally x5t / x5t#S256 (thumbprint hints some
// providers add; ignored), and nothing else: jku, jwk, x5u, x5c and crit are how
// header injection smuggles in keys, so they are refused. The key comes from the
// configured key set only (identity_keys.hpp). Claims: iss equal to the configured
// issuer, aud equal to or containing the configured audience, exp (required),
// nbf and iat (optional) checked with the leeway, and the user claim (default
// "sub") a non-empty string. Other claims are allowed; a member name repeated
// anywhere is not.
#pragma once

#include "pg_tenancy/engine/namespace.hpp"

#include <cstdint>
#include <string>
#include <string_view>

#include "pg_tenancy/engine/identity_keys.hpp"
#include "pg_tenancy/engine/verified_claims.hpp"
#include "pg_tenancy/token/keyring.hpp"
#include "pg_tenancy/token/uuid.hpp"

namespace pg_tenancy::engine::identity {

constexpr std::size_t kMaxIdentityTokenBytes = 16384;
constexpr std::size_t kMaxSubjectBytes = 255;

// Why a token was refused. IdentityErrorReason() gives the text Authenticate()
// puts after "invalid bearer token: ".
enum class IdentityError {
	None,
	Oversized,
	Malformed,
	ForbiddenHeader,
	UnsupportedAlgorithm,
	UnknownKey,
	AmbiguousKey,
	AlgorithmMismatch,
	WrongType,
	BadSignature,
	MissingClaim,
	WrongIssuer,
	WrongAudience,
	BadSubject,
	BadTimeClaim,
	Expired,
	NotYetValid,
	Misconfigured,
	Internal,
};

const char *IdentityErrorReason(IdentityError error) noexcept;

struct VerifyOptions {
	std::string issuer;   // required: iss must equal it
	std::string audience; // required: aud must equal it or contain it
	std::string user_claim = "sub";
	std::int64_t now = 0; // seconds since the epoch
	std::int64_t leeway = 30;
};

struct VerifyResult {
	IdentityError error = IdentityError::Internal;
	std::string subject; // the user claim's value
	std::string issuer;
	std::string kid; // the header's; once verified, that of the key that verified it
	Algorithm alg = Algorithm::RS256;
	// Every claim of the token (verified_claims.hpp); empty unless ok().
	VerifiedClaims claims{};
	bool ok() const noexcept { return error == IdentityError::None; }
};

// The stable entry point (also the fuzz target's): never throws.
VerifyResult VerifyIdentityToken(std::string_view token, const KeySet &keys, const VerifyOptions &options) noexcept;

// A signed identity token with iss, aud, sub, iat and exp, for tests, the demo
// and applications that sign users in themselves: HS256 and EdDSA keys of a
// pg_tenancy keyring. Throws pg_tenancy::token::KeyringError or TokenLibraryError.
std::string MintIdentityToken(const pg_tenancy::token::Key &key, const pg_tenancy::token::Uuid &user,
                              const std::string &issuer, const std::string &audience, std::int64_t issued_at,
                              std::int64_t expires_at);

} // namespace pg_tenancy::engine::identity
