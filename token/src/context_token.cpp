// context_token.cpp: minting and strict verification of context tokens.
#include "pg_tenancy/token/context_token.hpp"

#include "jws.hpp"
#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/crypto.hpp"
#include "pg_tenancy/token/errors.hpp"
#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy::token {
namespace {

using detail::FlatObject;

bool IsContextType(const std::optional<std::string> &typ) {
	return typ && *typ == kContextTokenType;
}

// 1 to 128 bytes, no control characters: the server keeps the jti as a C string,
// so an embedded NUL (which JSON can spell as \u0000) would silently shorten it.
bool IsValidJti(std::string_view jti) {
	if (jti.empty() || jti.size() > kMaxJtiLength)
		return false;
	for (char c : jti)
		if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
			return false;
	return true;
}

TokenError ParseClaims(std::string_view b64, ContextClaims &out) {
	FlatObject claims;
	if (TokenError e = detail::DecodeFlatObject(b64, claims); e != TokenError::None)
		return e;
	for (const auto &member : claims) {
		const std::string &name = member.first;
		if (name != "sub" && name != "org" && name != "iat" && name != "exp" && name != "nbf" && name != "jti")
			return TokenError::BadClaim;
	}
	auto integer = [&](const char *name, std::int64_t &value) -> TokenError {
		auto it = claims.find(name);
		if (it == claims.end())
			return TokenError::MissingClaim;
		const std::int64_t *v = std::get_if<std::int64_t>(&it->second);
		if (!v || *v < 0)
			return TokenError::BadClaim;
		value = *v;
		return TokenError::None;
	};
	auto uuid = [&](const char *name, Uuid &value) -> TokenError {
		auto it = claims.find(name);
		if (it == claims.end())
			return TokenError::MissingClaim;
		const std::string *v = std::get_if<std::string>(&it->second);
		if (!v || !ParseUuid(*v, value))
			return TokenError::BadClaim;
		return TokenError::None;
	};
	if (TokenError e = uuid("sub", out.user); e != TokenError::None)
		return e;
	if (claims.count("org")) {
		Uuid org;
		if (TokenError e = uuid("org", org); e != TokenError::None)
			return e;
		out.org = org;
	}
	if (TokenError e = integer("iat", out.issued_at); e != TokenError::None)
		return e;
	if (TokenError e = integer("exp", out.expires_at); e != TokenError::None)
		return e;
	if (claims.count("nbf")) {
		std::int64_t nbf = 0;
		if (TokenError e = integer("nbf", nbf); e != TokenError::None)
			return e;
		out.not_before = nbf;
	}
	const std::string *jti = detail::GetString(claims, "jti");
	if (!claims.count("jti"))
		return TokenError::MissingClaim;
	if (!jti || !IsValidJti(*jti))
		return TokenError::BadClaim;
	out.jti = *jti;
	if (out.expires_at <= out.issued_at)
		return TokenError::BadClaim;
	return TokenError::None;
}

} // namespace

const char *TokenErrorReason(TokenError error) noexcept {
	switch (error) {
	case TokenError::None:
		return "Valid";
	case TokenError::Oversized:
		return "Token is larger than 4096 bytes";
	case TokenError::Malformed:
		return "Token is not a compact JWS with the expected header";
	case TokenError::BadBase64:
		return "Token contains invalid base64url";
	case TokenError::BadJson:
		return "Token header or claims are not a flat JSON object";
	case TokenError::DuplicateMember:
		return "Token header or claims repeat a member name";
	case TokenError::UnsupportedAlgorithm:
		return "Token algorithm is not HS256 or EdDSA";
	case TokenError::UnknownKey:
		return "Token key id is not in the keyring";
	case TokenError::AlgorithmMismatch:
		return "Token algorithm does not match its key";
	case TokenError::WrongType:
		return "Token is not a tenancy context token";
	case TokenError::BadSignature:
		return "Token signature does not verify";
	case TokenError::MissingClaim:
		return "Token lacks a required claim";
	case TokenError::BadClaim:
		return "Token has an invalid or unexpected claim";
	case TokenError::Expired:
		return "Token has expired";
	case TokenError::NotYetValid:
		return "Token is not valid yet";
	case TokenError::LifetimeTooLong:
		return "Token lifetime exceeds tenancy.max_token_lifetime";
	case TokenError::Internal:
		break;
	}
	return "Token could not be checked";
}

VerifyResult DecodeVerifiedContextToken(std::string_view token) noexcept {
	VerifyResult result;
	try {
		detail::SplitToken parts;
		detail::JoseHeader header;
		if ((result.error = detail::SplitAndParseHeader(token, IsContextType, parts, header)) != TokenError::None)
			return result;
		result.kid = header.kid;
		result.error = ParseClaims(parts.payload_b64, result.claims);
	} catch (...) {
		result.error = TokenError::Internal;
	}
	return result;
}

VerifyResult VerifyContextToken(std::string_view token, const Keyring &keyring, const VerifyOptions &options) noexcept {
	VerifyResult result;
	try {
		detail::SplitToken parts;
		detail::JoseHeader header;
		if ((result.error = detail::SplitAndParseHeader(token, IsContextType, parts, header)) != TokenError::None)
			return result;
		if ((result.error = detail::CheckSignature(keyring, header, parts)) != TokenError::None)
			return result;
		if ((result.error = ParseClaims(parts.payload_b64, result.claims)) != TokenError::None)
			return result;
		result.kid = header.kid;
		result.error = CheckContextTimes(result.claims, options);
	} catch (...) {
		result.error = TokenError::Internal;
	}
	return result;
}

TokenError CheckContextTimes(const ContextClaims &claims, const VerifyOptions &options) noexcept {
	return detail::CheckTimes({claims.issued_at, claims.expires_at, claims.not_before},
	                          {options.now, options.leeway, options.max_lifetime});
}

std::string MintContextToken(const Key &key, const ContextClaims &claims) {
	if (claims.expires_at <= claims.issued_at)
		throw TokenLibraryError("token expiry must be after its issue time");
	if (!IsValidJti(claims.jti))
		throw TokenLibraryError("token jti must be 1 to 128 characters, none of them a control character");
	FlatObject header{
	    {"alg", std::string(AlgorithmName(key.alg))}, {"kid", key.kid}, {"typ", std::string(kContextTokenType)}};
	FlatObject payload{
	    {"sub", UuidToString(claims.user)}, {"iat", claims.issued_at}, {"exp", claims.expires_at}, {"jti", claims.jti}};
	if (claims.org)
		payload.emplace("org", UuidToString(*claims.org));
	if (claims.not_before)
		payload.emplace("nbf", *claims.not_before);
	return detail::SignCompact(key, detail::SerializeFlatObject(header), detail::SerializeFlatObject(payload));
}

std::string NewJti() {
	return Base64UrlEncode(RandomBytes(16));
}

} // namespace pg_tenancy::token
