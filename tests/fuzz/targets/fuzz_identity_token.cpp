// fuzz_identity_token.cpp: identity (bearer) token verification by the engine
// against a fixed key set, raw or signed by the target (see
// fuzz_context_token.cpp). Invariants: a token that verifies names a key of the
// set, is never a context token, and its user re-mints into a token that
// verifies to the same subject with the same key.
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "pg_tenancy/engine/identity_token.hpp"
#include "pg_tenancy/token/context_token.hpp"

using fuzz_support::Require;
using namespace pg_tenancy::token;
namespace identity = tenancy::identity;

namespace {
const identity::KeySet &FixedKeySet() {
	static const identity::KeySet keys = identity::KeySet::ParseKeyring(fuzz_support::FixedKeyring().ToText());
	return keys;
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
	identity::VerifyOptions options;
	options.issuer = "https://idp.example";
	options.audience = "pg-tenancy";
	options.now = fuzz_support::kNow;
	options.leeway = 30;
	identity::VerifyResult result = identity::VerifyIdentityToken(token, FixedKeySet(), options);
	Require(result.error != identity::IdentityError::Internal, "internal error");
	if (!result.ok())
		return 0;
	Require(token.size() <= identity::kMaxIdentityTokenBytes, "oversized token verified");
	const Key *key = fuzz_support::FixedKeyring().Find(result.kid);
	Require(key != nullptr, "verified with a kid that is not in the key set");
	Require(!VerifyContextToken(token, fuzz_support::FixedKeyring(), {fuzz_support::kNow, 5, 0}).ok(),
	        "identity token is a context token");
	Uuid user;
	if (!ParseUuid(result.subject, user))
		return 0; // a provider's own subject format: nothing to re-mint
	std::string reminted = identity::MintIdentityToken(*key, user, options.issuer, options.audience,
	                                                   fuzz_support::kNow, fuzz_support::kNow + 60);
	identity::VerifyResult again = identity::VerifyIdentityToken(reminted, FixedKeySet(), options);
	Require(again.ok() && again.subject == UuidToString(user) && again.kid == result.kid, "re-minted token differs");
	return 0;
}
