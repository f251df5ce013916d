// fuzz_identity_token.cpp: identity (bearer) token verification against a fixed
// keyring, raw or signed by the target (see fuzz_context_token.cpp). Invariants: a
// token that verifies names a key of the ring, is never a context token, and its
// user re-mints into a token that verifies to the same user.
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "pg_tenancy/token/context_token.hpp"
#include "pg_tenancy/token/identity_token.hpp"

using fuzz_support::Require;
using namespace pg_tenancy::token;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
	fuzz_support::StructuredInput in = fuzz_support::Interpret(data, size);
	std::string token;
	try {
		token = in.raw ? std::string(in.raw_token) : fuzz_support::SignExactly(*in.key, in.header, in.payload);
	} catch (const CryptoError &) {
		return 0;
	}
	const Keyring &ring = fuzz_support::FixedKeyring();
	IdentityOptions options{"https://idp.example", "pg-tenancy", fuzz_support::kNow, 30, 0};
	IdentityResult result = VerifyIdentityToken(token, ring, options);
	Require(result.error != TokenError::Internal, "internal error");
	if (!result.ok())
		return 0;
	Require(token.size() <= kMaxTokenBytes, "oversized token verified");
	const Key *key = ring.Find(result.kid);
	Require(key != nullptr, "verified with a kid that is not in the keyring");
	Require(!VerifyContextToken(token, ring, {fuzz_support::kNow, 5, 0}).ok(), "identity token is a context token");
	std::string reminted = MintIdentityToken(*key, result.user, options.issuer, options.audience, fuzz_support::kNow,
	                                         fuzz_support::kNow + 60);
	IdentityResult again = VerifyIdentityToken(reminted, ring, options);
	Require(again.ok() && again.user == result.user && again.kid == result.kid, "re-minted token differs");
	return 0;
}
