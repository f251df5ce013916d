// identity_token.cpp: verification of inbound bearer JWTs (see identity_token.hpp).
#include "pg_tenancy/token/identity_token.hpp"

#include <limits>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "jws.hpp"
#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/context_token.hpp"
#include "pg_tenancy/token/errors.hpp"
#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy::token {
namespace {

using json = nlohmann::json;

bool IsIdentityType(const std::optional<std::string> &typ) {
	if (!typ)
		return true;
	// RFC 7515 4.1.9: compare case-insensitively; RFC 9068 access tokens are at+jwt.
	std::string lower;
	for (char c : *typ)
		lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	return lower == "jwt" || lower == "at+jwt" || lower == "application/at+jwt";
}

// Full JSON, but a member name repeated in any object is an error.
TokenError ParseStrictObject(std::string_view b64, json &out) {
	std::string text;
	if (!Base64UrlDecode(b64, text))
		return TokenError::BadBase64;
	std::vector<std::set<std::string>> seen;
	bool duplicate = false;
	auto callback = [&](int, json::parse_event_t event, json &parsed) {
		switch (event) {
		case json::parse_event_t::object_start:
			seen.emplace_back();
			break;
		case json::parse_event_t::key:
			if (!seen.back().insert(parsed.get<std::string>()).second)
				duplicate = true;
			break;
		case json::parse_event_t::object_end:
			seen.pop_back();
			break;
		default:
			break;
		}
		return true;
	};
	out = json::parse(text, callback, false);
	if (duplicate)
		return TokenError::DuplicateMember;
	if (out.is_discarded() || !out.is_object())
		return TokenError::BadJson;
	return TokenError::None;
}

TokenError GetTime(const json &claims, const char *name, bool required, std::optional<std::int64_t> &out) {
	auto it = claims.find(name);
	if (it == claims.end())
		return required ? TokenError::MissingClaim : TokenError::None;
	if (!it->is_number_integer())
		return TokenError::BadClaim;
	if (it->is_number_unsigned() && it->get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max())
		return TokenError::BadClaim;
	std::int64_t value = it->get<std::int64_t>();
	if (value < 0)
		return TokenError::BadClaim;
	out = value;
	return TokenError::None;
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

TokenError CheckClaims(const json &claims, const IdentityOptions &options, Uuid &user) {
	auto iss = claims.find("iss");
	auto aud = claims.find("aud");
	auto sub = claims.find("sub");
	if (iss == claims.end() || aud == claims.end() || sub == claims.end())
		return TokenError::MissingClaim;
	if (!iss->is_string() || iss->get<std::string>() != options.issuer || !AudienceMatches(*aud, options.audience))
		return TokenError::BadClaim;
	if (!sub->is_string() || !ParseUuid(sub->get<std::string>(), user))
		return TokenError::BadClaim;
	std::optional<std::int64_t> iat, exp, nbf;
	for (auto [name, required, slot] : {std::tuple{"exp", true, &exp}, {"iat", false, &iat}, {"nbf", false, &nbf}})
		if (TokenError e = GetTime(claims, name, required, *slot); e != TokenError::None)
			return e;
	return detail::CheckTimes({iat, *exp, nbf}, {options.now, options.leeway, options.max_lifetime});
}

} // namespace

IdentityResult VerifyIdentityToken(std::string_view token, const Keyring &keyring,
                                   const IdentityOptions &options) noexcept {
	IdentityResult result;
	try {
		if (options.issuer.empty() || options.audience.empty())
			return result; // misconfigured: refuse everything
		detail::SplitToken parts;
		detail::JoseHeader header;
		if ((result.error = detail::SplitAndParseHeader(token, IsIdentityType, parts, header)) != TokenError::None)
			return result;
		if ((result.error = detail::CheckSignature(keyring, header, parts)) != TokenError::None)
			return result;
		json claims;
		if ((result.error = ParseStrictObject(parts.payload_b64, claims)) != TokenError::None)
			return result;
		result.kid = header.kid;
		result.error = CheckClaims(claims, options, result.user);
	} catch (...) {
		result.error = TokenError::Internal;
	}
	return result;
}

std::string MintIdentityToken(const Key &key, const Uuid &user, const std::string &issuer, const std::string &audience,
                              std::int64_t issued_at, std::int64_t expires_at) {
	if (expires_at <= issued_at)
		throw TokenLibraryError("token expiry must be after its issue time");
	json header = {{"alg", AlgorithmName(key.alg)}, {"kid", key.kid}, {"typ", "JWT"}};
	json payload = {
	    {"iss", issuer}, {"aud", audience}, {"sub", UuidToString(user)}, {"iat", issued_at}, {"exp", expires_at}};
	return detail::SignCompact(key, header.dump(), payload.dump());
}

} // namespace pg_tenancy::token
