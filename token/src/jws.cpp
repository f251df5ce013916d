// jws.cpp: see jws.hpp.
#include "jws.hpp"

#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/crypto.hpp"
#include "pg_tenancy/token/errors.hpp"
#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy::token::detail {

TokenError Split(std::string_view token, SplitToken &out, std::size_t max_bytes) noexcept {
	if (token.size() > max_bytes)
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

TokenError DecodeFlatObject(std::string_view b64, FlatObject &out) {
	std::string text;
	if (!Base64UrlDecode(b64, text))
		return TokenError::BadBase64;
	switch (ParseFlatObject(text, out)) {
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

TokenError ParseHeader(std::string_view b64, TypeCheck type_ok, JoseHeader &out) {
	FlatObject header;
	if (TokenError e = DecodeFlatObject(b64, header); e != TokenError::None)
		return e;
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
	if (header.count("typ")) {
		const std::string *typ = GetString(header, "typ");
		if (!typ)
			return TokenError::WrongType;
		out.typ = *typ;
	}
	if (!type_ok(out.typ))
		return TokenError::WrongType;
	const std::string *kid = GetString(header, "kid");
	if (!kid || !IsValidKid(*kid))
		return TokenError::UnknownKey;
	out.kid = *kid;
	return TokenError::None;
}

TokenError SplitAndParseHeader(std::string_view token, TypeCheck type_ok, SplitToken &parts, JoseHeader &header) {
	if (TokenError e = Split(token, parts); e != TokenError::None)
		return e;
	return ParseHeader(parts.header_b64, type_ok, header);
}

TokenError CheckSignature(const Keyring &keyring, const JoseHeader &header, const SplitToken &parts, KeyUse use) {
	const Key *key = keyring.Find(header.kid);
	if (!key || key->use != use)
		return TokenError::UnknownKey;
	// The key decides the algorithm; the header merely has to agree.
	if (key->alg != header.alg)
		return TokenError::AlgorithmMismatch;
	std::string signature;
	if (!Base64UrlDecode(parts.signature_b64, signature))
		return TokenError::BadBase64;
	bool matches = key->alg == Algorithm::HS256
	                   ? ConstantTimeEqual(HmacSha256(key->secret, parts.signing_input), signature)
	                   : Ed25519Verify(key->public_key, parts.signing_input, signature);
	return matches ? TokenError::None : TokenError::BadSignature;
}

TokenError CheckTimes(const TimeClaims &claims, const TimePolicy &policy) noexcept {
	// Compare by subtraction from now: claims are checked non-negative by the
	// parsers, so none of these can overflow.
	if (policy.now - policy.leeway > claims.expires_at)
		return TokenError::Expired;
	if (claims.issued_at && *claims.issued_at - policy.leeway > policy.now)
		return TokenError::NotYetValid;
	if (claims.not_before && *claims.not_before - policy.leeway > policy.now)
		return TokenError::NotYetValid;
	if (policy.max_lifetime > 0) {
		if (!claims.issued_at)
			return TokenError::MissingClaim;
		if (claims.expires_at - *claims.issued_at > policy.max_lifetime)
			return TokenError::LifetimeTooLong;
	}
	return TokenError::None;
}

std::string SignCompact(const Key &key, std::string_view header_json, std::string_view payload_json) {
	if (!key.CanSign())
		throw KeyringError("key \"" + key.kid + "\" has no private half and cannot sign");
	std::string signing_input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
	std::string signature = key.alg == Algorithm::HS256 ? HmacSha256(key.secret, signing_input)
	                                                    : Ed25519Sign(key.private_key, signing_input);
	std::string token = signing_input + "." + Base64UrlEncode(signature);
	if (token.size() > kMaxTokenBytes)
		throw TokenLibraryError("token would exceed 4096 bytes");
	return token;
}

} // namespace pg_tenancy::token::detail
