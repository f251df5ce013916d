// fuzz_context_token.cpp: context-token verification against a fixed keyring.
// Byte 0 selects a raw token or "<header>\n<payload>" that the target signs with
// the fixed HS256 or EdDSA key, so the fuzzer reaches claim parsing and time checks.
// Invariants: a token that verifies re-mints (same key, same claims) into a token
// that verifies to the same claims, and DecodeVerifiedContextToken agrees with
// VerifyContextToken on any token that verifies.
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "pg_tenancy/token/context_token.hpp"

using fuzz_support::Require;
using namespace pg_tenancy::token;

namespace {
bool SameClaims(const ContextClaims &a, const ContextClaims &b) {
	return a.user == b.user && a.org == b.org && a.issued_at == b.issued_at && a.expires_at == b.expires_at &&
	       a.not_before == b.not_before && a.jti == b.jti;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
	fuzz_support::StructuredInput in = fuzz_support::Interpret(data, size);
	std::string token;
	try {
		token = in.raw ? std::string(in.raw_token) : fuzz_support::SignExactly(*in.key, in.header, in.payload);
	} catch (const CryptoError &) {
		return 0;
	}
	const Keyring &ring = fuzz_support::FixedKeyring();
	VerifyOptions options{fuzz_support::kNow, 5, 0};
	VerifyResult verified = VerifyContextToken(token, ring, options);
	VerifyResult decoded = DecodeVerifiedContextToken(token);
	Require(verified.error != TokenError::Internal && decoded.error != TokenError::Internal, "internal error");
	if (!verified.ok())
		return 0;
	Require(token.size() <= kMaxTokenBytes, "oversized token verified");
	Require(decoded.ok() && SameClaims(decoded.claims, verified.claims) && decoded.kid == verified.kid,
	        "decode and verify disagree");
	const Key *key = ring.Find(verified.kid);
	Require(key != nullptr, "verified with a kid that is not in the keyring");
	std::string reminted = MintContextToken(*key, verified.claims);
	VerifyResult again = VerifyContextToken(reminted, ring, options);
	Require(again.ok() && SameClaims(again.claims, verified.claims) && again.kid == verified.kid,
	        "re-minted token does not verify to the same claims");
	return 0;
}
