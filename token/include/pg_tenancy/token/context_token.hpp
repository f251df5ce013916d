// context_token.hpp: the signed tenant-context token, a compact JWS (RFC 7515/7519).
//
// Header: {"alg":"HS256"|"EdDSA","kid":"<kid>","typ":"tenancy-context+jwt"}
// Claims: sub (user uuid), org (organization uuid; absent in a user-only context),
//         iat, exp (integer seconds), optional nbf, jti (unique id).
//
// Verification is strict by design: anything unexpected is a rejection, never a guess.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pg_tenancy/token/keyring.hpp"
#include "pg_tenancy/token/token_error.hpp"
#include "pg_tenancy/token/uuid.hpp"

namespace pg_tenancy::token {

constexpr const char *kContextTokenType = "tenancy-context+jwt";
constexpr std::size_t kMaxJtiLength = 128;

struct ContextClaims {
	Uuid user;
	std::optional<Uuid> org;
	std::int64_t issued_at = 0;
	std::int64_t expires_at = 0;
	std::optional<std::int64_t> not_before;
	std::string jti;
};

struct VerifyOptions {
	std::int64_t now = 0;          // seconds since the epoch
	std::int64_t leeway = 5;       // clock skew tolerated, seconds
	std::int64_t max_lifetime = 0; // exp - iat must not exceed this; 0 = no limit
};

struct VerifyResult {
	TokenError error = TokenError::Internal;
	ContextClaims claims;
	std::string kid;
	bool ok() const noexcept { return error == TokenError::None; }
};

// Checks structure, signature (constant time), type and time claims. Never throws.
VerifyResult VerifyContextToken(std::string_view token, const Keyring &keyring, const VerifyOptions &options) noexcept;

// Re-checks the time claims of claims that already verified, against `options`
// (for a cache of verified tokens: a token that verified once can still expire).
// Never throws.
TokenError CheckContextTimes(const ContextClaims &claims, const VerifyOptions &options) noexcept;

// Parses structure and claims without checking the signature or times. Only for
// values whose authenticity was already established (e.g. restored into a parallel
// worker from its verified leader). Never throws.
VerifyResult DecodeVerifiedContextToken(std::string_view token) noexcept;

// Signs claims with `key`. Throws KeyringError if the key cannot sign, CryptoError on failure.
std::string MintContextToken(const Key &key, const ContextClaims &claims);

// A random jti: 128 bits from the CSPRNG, base64url.
std::string NewJti();

} // namespace pg_tenancy::token

#include "pg_tenancy/token/cpp_only.hpp"
