// identity_token.cpp: verification of inbound bearer JWTs (see identity_token.hpp).
// The compact serialisation, base64url, the flat header parser and the time
// rules are the token library's, shared with context tokens.
#include "pg_tenancy/engine/identity_token.hpp"

#include <limits>
#include <optional>
#include <tuple>

#include "jws.hpp" // the token library's JWS plumbing (not installed: engine build only)
#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/errors.hpp"
#include "signature.hpp"
#include "strict_json.hpp"
#include "verified_claims_access.hpp"

namespace pg_tenancy::engine::identity {
namespace {

namespace tok = pg_tenancy::token;
namespace jws = pg_tenancy::token::detail;
using json = nlohmann::json;

bool IsIdentityType(const std::string &typ) {
	// RFC 7515 4.1.9: compare case-insensitively; RFC 9068 access tokens are at+jwt.
	std::string lower;
	for (char c : typ)
		lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	return lower == "jwt" || lower == "at+jwt" || lower == "application/at+jwt";
}

struct Header {
	Algorithm alg = Algorithm::RS256;
	std::optional<std::string> kid;
};

IdentityError ParseHeader(std::string_view b64, Header &out) {
	jws::FlatObject header;
	if (jws::DecodeFlatObject(b64, header) != tok::TokenError::None)
		return IdentityError::Malformed;
	for (const auto &member : header)
		if (member.first != "alg" && member.first != "kid" && member.first != "typ" && member.first != "x5t" &&
		    member.first != "x5t#S256")
			return IdentityError::ForbiddenHeader;
	const std::string *alg = jws::GetString(header, "alg");
	if (!alg)
		return IdentityError::Malformed;
	if (!ParseAlgorithm(*alg, out.alg))
		return IdentityError::UnsupportedAlgorithm; // including "none"
	if (header.count("typ")) {
		const std::string *typ = jws::GetString(header, "typ");
		if (!typ || !IsIdentityType(*typ))
			return IdentityError::WrongType;
	}
	if (header.count("kid")) {
		const std::string *kid = jws::GetString(header, "kid");
		if (!kid || kid->empty() || kid->size() > kMaxKidBytes)
			return IdentityError::Malformed;
		out.kid = *kid;
	}
	return IdentityError::None;
}

// On success, `kid` is the kid of the key that verified the token (a token
// without one is verified by the only key of its algorithm).
IdentityError CheckSignature(const KeySet &keys, const Header &header, const jws::SplitToken &parts, std::string &kid) {
	KeySet::Lookup why;
	const Key *key = keys.Select(header.kid.value_or(""), header.kid.has_value(), header.alg, why);
	switch (why) {
	case KeySet::Lookup::Found:
		break;
	case KeySet::Lookup::UnknownKid:
		return IdentityError::UnknownKey;
	case KeySet::Lookup::AlgorithmMismatch:
		return IdentityError::AlgorithmMismatch;
	case KeySet::Lookup::NoKidAmbiguous:
		return IdentityError::AmbiguousKey;
	}
	std::string signature;
	if (!tok::Base64UrlDecode(parts.signature_b64, signature))
		return IdentityError::Malformed;
	if (!VerifySignature(*key, parts.signing_input, signature))
		return IdentityError::BadSignature;
	kid = key->kid;
	return IdentityError::None;
}

IdentityError GetTime(const json &claims, const char *name, bool required, std::optional<std::int64_t> &out) {
	auto it = claims.find(name);
	if (it == claims.end())
		return required ? IdentityError::MissingClaim : IdentityError::None;
	if (!it->is_number_integer())
		return IdentityError::BadTimeClaim;
	if (it->is_number_unsigned() && it->get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max())
		return IdentityError::BadTimeClaim;
	std::int64_t value = it->get<std::int64_t>();
	if (value < 0)
		return IdentityError::BadTimeClaim;
	out = value;
	return IdentityError::None;
}

bool AudienceMatches(const json &aud, const std::string &expected) {
	if (aud.is_string())
		return aud.get<std::string>() == expected;
	if (!aud.is_array() || aud.empty())
		return false;
	for (const json &entry : aud)
		if (!entry.is_string())
			return false;
	for (const json &entry : aud)
		if (entry.get<std::string>() == expected)
			return true;
	return false;
}

IdentityError CheckClaims(const json &claims, const VerifyOptions &options, VerifyResult &result) {
	auto iss = claims.find("iss");
	auto aud = claims.find("aud");
	auto subject = claims.find(options.user_claim);
	if (iss == claims.end() || aud == claims.end() || subject == claims.end())
		return IdentityError::MissingClaim;
	if (!iss->is_string() || iss->get<std::string>() != options.issuer)
		return IdentityError::WrongIssuer;
	if (!AudienceMatches(*aud, options.audience))
		return IdentityError::WrongAudience;
	if (!subject->is_string() || subject->get<std::string>().empty() ||
	    subject->get<std::string>().size() > kMaxSubjectBytes)
		return IdentityError::BadSubject;
	std::optional<std::int64_t> iat, exp, nbf;
	for (auto [name, required, slot] : {std::tuple{"exp", true, &exp}, {"iat", false, &iat}, {"nbf", false, &nbf}})
		if (IdentityError e = GetTime(claims, name, required, *slot); e != IdentityError::None)
			return e;
	switch (jws::CheckTimes({iat, *exp, nbf}, {options.now, options.leeway, 0})) {
	case tok::TokenError::None:
		break;
	case tok::TokenError::Expired:
		return IdentityError::Expired;
	case tok::TokenError::NotYetValid:
		return IdentityError::NotYetValid;
	default:
		return IdentityError::BadTimeClaim;
	}
	result.subject = subject->get<std::string>();
	result.issuer = iss->get<std::string>();
	return IdentityError::None;
}

} // namespace

const char *IdentityErrorReason(IdentityError error) noexcept {
	switch (error) {
	case IdentityError::None:
		return "valid";
	case IdentityError::Oversized:
		return "token is larger than 16384 bytes";
	case IdentityError::Malformed:
		return "token is not a compact JWS with a JSON header and claims";
	case IdentityError::ForbiddenHeader:
		return "token header has a member other than alg, kid, typ, x5t (such as jku, jwk, x5u, x5c or crit)";
	case IdentityError::UnsupportedAlgorithm:
		return "token algorithm is not RS256, PS256, ES256, EdDSA or HS256";
	case IdentityError::UnknownKey:
		return "token key id (kid) is not in the identity key set";
	case IdentityError::AmbiguousKey:
		return "token has no kid and the identity key set has several keys for its algorithm";
	case IdentityError::AlgorithmMismatch:
		return "token algorithm does not match its key";
	case IdentityError::WrongType:
		return "token type (typ) is not JWT or at+jwt";
	case IdentityError::BadSignature:
		return "token signature does not verify";
	case IdentityError::MissingClaim:
		return "token lacks a required claim (iss, aud, exp or the user claim)";
	case IdentityError::WrongIssuer:
		return "token issuer (iss) is not the configured identity issuer";
	case IdentityError::WrongAudience:
		return "token audience (aud) does not include the configured identity audience";
	case IdentityError::BadSubject:
		return "token user claim is not a string of 1 to 255 bytes";
	case IdentityError::BadTimeClaim:
		return "token exp, nbf or iat is not a whole number of seconds";
	case IdentityError::Expired:
		return "token has expired";
	case IdentityError::NotYetValid:
		return "token is not valid yet (nbf or iat in the future)";
	case IdentityError::Misconfigured:
		return "identity issuer and audience are not configured";
	case IdentityError::Internal:
		break;
	}
	return "token could not be checked";
}

VerifyResult VerifyIdentityToken(std::string_view token, const KeySet &keys, const VerifyOptions &options) noexcept {
	VerifyResult result;
	try {
		if (options.issuer.empty() || options.audience.empty() || options.user_claim.empty()) {
			result.error = IdentityError::Misconfigured;
			return result;
		}
		if (token.size() > kMaxIdentityTokenBytes) {
			result.error = IdentityError::Oversized;
			return result;
		}
		jws::SplitToken parts;
		if (jws::Split(token, parts, kMaxIdentityTokenBytes) != tok::TokenError::None) {
			// alg "none" tokens have an empty signature: name the real reason.
			Header header;
			bool none = ParseHeader(token.substr(0, token.find('.')), header) == IdentityError::UnsupportedAlgorithm;
			result.error = none ? IdentityError::UnsupportedAlgorithm : IdentityError::Malformed;
			return result;
		}
		Header header;
		if ((result.error = ParseHeader(parts.header_b64, header)) != IdentityError::None)
			return result;
		result.alg = header.alg;
		result.kid = header.kid.value_or("");
		if ((result.error = CheckSignature(keys, header, parts, result.kid)) != IdentityError::None)
			return result;
		// Claims are parsed only once the signature is known to be good.
		std::string payload;
		json claims;
		if (!tok::Base64UrlDecode(parts.payload_b64, payload) ||
		    ParseStrictObject(payload, claims) != StrictJsonError::None) {
			result.error = IdentityError::Malformed;
			return result;
		}
		result.error = CheckClaims(claims, options, result);
		if (result.ok())
			result.claims = detail::VerifiedClaimsAccess::FromVerified(std::move(claims));
	} catch (...) {
		result.error = IdentityError::Internal;
	}
	return result;
}

std::string MintIdentityToken(const tok::Key &key, const tok::Uuid &user, const std::string &issuer,
                              const std::string &audience, std::int64_t issued_at, std::int64_t expires_at) {
	if (expires_at <= issued_at)
		throw tok::TokenLibraryError("token expiry must be after its issue time");
	json header = {{"alg", tok::AlgorithmName(key.alg)}, {"kid", key.kid}, {"typ", "JWT"}};
	json payload = {
	    {"iss", issuer}, {"aud", audience}, {"sub", tok::UuidToString(user)}, {"iat", issued_at}, {"exp", expires_at}};
	return jws::SignCompact(key, header.dump(), payload.dump());
}

} // namespace pg_tenancy::engine::identity
