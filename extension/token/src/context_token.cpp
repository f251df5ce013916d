// context_token.cpp: minting and strict verification of context tokens.
#include "pg_tenancy/token/context_token.hpp"

#include "flat_json.hpp"
#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/crypto.hpp"
#include "pg_tenancy/token/errors.hpp"
#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy::token {
namespace {

using detail::FlatJsonError;
using detail::FlatObject;

struct SplitToken {
	std::string_view header_b64, payload_b64, signature_b64, signing_input;
};

TokenError Split(std::string_view token, SplitToken &out) noexcept {
	if (token.size() > kMaxTokenBytes)
		return TokenError::Oversized;
	std::size_t first = token.find('.');
	if (first == std::string_view::npos)
		return TokenError::Malformed;
	std::size_t second = token.find('.', first + 1);
	if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
		return TokenError::Malformed;
	out.header_b64 = token.substr(0, first);
	out.payload_b64 = token.substr(first + 1, second - first - 1);
	out.signature_b64 = token.substr(second + 1);
	out.signing_input = token.substr(0, second);
	if (out.header_b64.empty() || out.payload_b64.empty() || out.signature_b64.empty())
		return TokenError::Malformed;
	return TokenError::None;
}

TokenError DecodeObject(std::string_view b64, FlatObject &out) {
	std::string text;
	if (!Base64UrlDecode(b64, text))
		return TokenError::BadBase64;
	switch (detail::ParseFlatObject(text, out)) {
	case FlatJsonError::None:
		return TokenError::None;
	case FlatJsonError::Duplicate:
		return TokenError::DuplicateMember;
	case FlatJsonError::Unsupported:
	case FlatJsonError::Syntax:
		break;
	}
	return TokenError::BadJson;
}

const std::string *GetString(const FlatObject &object, std::string_view name) {
	auto it = object.find(name);
	if (it == object.end())
		return nullptr;
	return std::get_if<std::string>(&it->second);
}

struct Header {
	Algorithm alg = Algorithm::HS256;
	std::string kid;
};

TokenError ParseHeader(std::string_view b64, Header &out) {
	FlatObject header;
	if (TokenError e = DecodeObject(b64, header); e != TokenError::None)
		return e;
	// Only the members we write are allowed: jku, jwk, x5u, crit and friends are how
	// header-injection attacks smuggle in their own keys.
	for (const auto &member : header)
		if (member.first != "alg" && member.first != "kid" && member.first != "typ")
			return TokenError::Malformed;
	const std::string *alg = GetString(header, "alg");
	if (!alg)
		return TokenError::Malformed;
	if (*alg == "HS256")
		out.alg = Algorithm::HS256;
	else if (*alg == "EdDSA")
		out.alg = Algorithm::EdDSA;
	else
		return TokenError::UnsupportedAlgorithm; // including "none"
	const std::string *typ = GetString(header, "typ");
	if (!typ || *typ != kContextTokenType)
		return TokenError::WrongType;
	const std::string *kid = GetString(header, "kid");
	if (!kid || !IsValidKid(*kid))
		return TokenError::UnknownKey;
	out.kid = *kid;
	return TokenError::None;
}

TokenError ParseClaims(std::string_view b64, ContextClaims &out) {
	FlatObject claims;
	if (TokenError e = DecodeObject(b64, claims); e != TokenError::None)
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
	const std::string *jti = GetString(claims, "jti");
	if (!claims.count("jti"))
		return TokenError::MissingClaim;
	if (!jti || jti->empty() || jti->size() > kMaxJtiLength)
		return TokenError::BadClaim;
	out.jti = *jti;
	if (out.expires_at <= out.issued_at)
		return TokenError::BadClaim;
	return TokenError::None;
}

TokenError SplitAndParseHeader(std::string_view token, SplitToken &parts, Header &header) {
	if (TokenError e = Split(token, parts); e != TokenError::None)
		return e;
	return ParseHeader(parts.header_b64, header);
}

bool SignatureMatches(const Key &key, std::string_view signing_input, std::string_view signature) {
	if (key.alg == Algorithm::HS256)
		return ConstantTimeEqual(HmacSha256(key.secret, signing_input), signature);
	return Ed25519Verify(key.public_key, signing_input, signature);
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
		SplitToken parts;
		Header header;
		if ((result.error = SplitAndParseHeader(token, parts, header)) != TokenError::None)
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
		SplitToken parts;
		Header header;
		if ((result.error = SplitAndParseHeader(token, parts, header)) != TokenError::None)
			return result;
		const Key *key = keyring.Find(header.kid);
		if (!key) {
			result.error = TokenError::UnknownKey;
			return result;
		}
		// The key decides the algorithm; the header merely has to agree.
		if (key->alg != header.alg) {
			result.error = TokenError::AlgorithmMismatch;
			return result;
		}
		std::string signature;
		if (!Base64UrlDecode(parts.signature_b64, signature)) {
			result.error = TokenError::BadBase64;
			return result;
		}
		if (!SignatureMatches(*key, parts.signing_input, signature)) {
			result.error = TokenError::BadSignature;
			return result;
		}
		if ((result.error = ParseClaims(parts.payload_b64, result.claims)) != TokenError::None)
			return result;
		result.kid = header.kid;
		const ContextClaims &c = result.claims;
		if (options.now > c.expires_at + options.leeway)
			result.error = TokenError::Expired;
		else if (c.issued_at > options.now + options.leeway ||
		         (c.not_before && *c.not_before > options.now + options.leeway))
			result.error = TokenError::NotYetValid;
		else if (options.max_lifetime > 0 && c.expires_at - c.issued_at > options.max_lifetime)
			result.error = TokenError::LifetimeTooLong;
		else
			result.error = TokenError::None;
	} catch (...) {
		result.error = TokenError::Internal;
	}
	return result;
}

std::string MintContextToken(const Key &key, const ContextClaims &claims) {
	if (!key.CanSign())
		throw KeyringError("key \"" + key.kid + "\" has no private half and cannot sign");
	if (claims.expires_at <= claims.issued_at)
		throw TokenLibraryError("token expiry must be after its issue time");
	if (claims.jti.empty() || claims.jti.size() > kMaxJtiLength)
		throw TokenLibraryError("token jti must be 1 to 128 characters");
	FlatObject header{
	    {"alg", std::string(AlgorithmName(key.alg))}, {"kid", key.kid}, {"typ", std::string(kContextTokenType)}};
	FlatObject payload{
	    {"sub", UuidToString(claims.user)}, {"iat", claims.issued_at}, {"exp", claims.expires_at}, {"jti", claims.jti}};
	if (claims.org)
		payload.emplace("org", UuidToString(*claims.org));
	if (claims.not_before)
		payload.emplace("nbf", *claims.not_before);
	std::string signing_input = Base64UrlEncode(detail::SerializeFlatObject(header)) + "." +
	                            Base64UrlEncode(detail::SerializeFlatObject(payload));
	std::string signature = key.alg == Algorithm::HS256 ? HmacSha256(key.secret, signing_input)
	                                                    : Ed25519Sign(key.private_key, signing_input);
	std::string token = signing_input + "." + Base64UrlEncode(signature);
	if (token.size() > kMaxTokenBytes)
		throw TokenLibraryError("token would exceed 4096 bytes");
	return token;
}

std::string NewJti() {
	return Base64UrlEncode(RandomBytes(16));
}

} // namespace pg_tenancy::token
