// forward_token.cpp: minting and strict verification of forwarding contexts.
#include "pg_tenancy/token/forward_token.hpp"

#include "pg_tenancy/token/context_token.hpp"

#include "jws.hpp"
#include "pg_tenancy/token/errors.hpp"
#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy::token {
namespace {

using detail::FlatObject;

bool IsForwardType(const std::optional<std::string> &typ) {
	return typ && *typ == kForwardTokenType;
}

bool IsPrintable(std::string_view text) {
	for (char c : text)
		if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
			return false;
	return true;
}

TokenError ParseClaims(std::string_view b64, ForwardClaims &out) {
	FlatObject claims;
	if (TokenError e = detail::DecodeFlatObject(b64, claims); e != TokenError::None)
		return e;
	static constexpr const char *kNames[] = {"sub", "org", "role", "rcode", "perms", "dtx", "iat", "exp", "jti"};
	if (claims.size() != std::size(kNames))
		return claims.size() < std::size(kNames) ? TokenError::MissingClaim : TokenError::BadClaim;
	for (const char *name : kNames)
		if (!claims.count(name))
			return TokenError::MissingClaim;
	auto text = [&](const char *name, std::size_t max_len, std::string &value) -> TokenError {
		const std::string *v = detail::GetString(claims, name);
		if (!v || v->size() > max_len || !IsPrintable(*v))
			return TokenError::BadClaim;
		value = *v;
		return TokenError::None;
	};
	auto uuid = [&](const char *name, Uuid &value) -> TokenError {
		const std::string *v = detail::GetString(claims, name);
		return v && ParseUuid(*v, value) ? TokenError::None : TokenError::BadClaim;
	};
	auto integer = [&](const char *name, std::int64_t &value) -> TokenError {
		const std::int64_t *v = std::get_if<std::int64_t>(&claims.find(name)->second);
		if (!v || *v < 0)
			return TokenError::BadClaim;
		value = *v;
		return TokenError::None;
	};
	for (TokenError e :
	     {uuid("sub", out.user), uuid("org", out.org), uuid("role", out.role), text("rcode", 63, out.role_code),
	      text("perms", kMaxForwardedPermissionsLength, out.permissions),
	      text("dtx", kMaxDistributedTransactionLength, out.distributed_transaction),
	      text("jti", kMaxJtiLength, out.jti), integer("iat", out.issued_at), integer("exp", out.expires_at)})
		if (e != TokenError::None)
			return e;
	if (out.role_code.empty() || out.jti.empty() || !IsDistributedTransactionId(out.distributed_transaction) ||
	    out.expires_at <= out.issued_at)
		return TokenError::BadClaim;
	return TokenError::None;
}

} // namespace

bool IsDistributedTransactionId(std::string_view text) noexcept {
	if (text.empty() || text.size() > kMaxDistributedTransactionLength)
		return false;
	int fields = 1;
	bool digits = false;
	for (std::size_t i = 0; i < text.size(); i++) {
		char c = text[i];
		if (c >= '0' && c <= '9') {
			digits = true;
		} else if (c == ':') {
			if (!digits)
				return false;
			fields++;
			digits = false;
		} else if (c == '-' && (i == 0 || text[i - 1] == ':')) {
			continue;
		} else {
			return false;
		}
	}
	return digits && fields == 3;
}

ForwardVerifyResult DecodeVerifiedForwardToken(std::string_view token) noexcept {
	ForwardVerifyResult result;
	try {
		detail::SplitToken parts;
		detail::JoseHeader header;
		if ((result.error = detail::SplitAndParseHeader(token, IsForwardType, parts, header)) != TokenError::None)
			return result;
		result.error = ParseClaims(parts.payload_b64, result.claims);
	} catch (...) {
		result.error = TokenError::Internal;
	}
	return result;
}

ForwardVerifyResult VerifyForwardToken(std::string_view token, const Keyring &keyring,
                                       const ForwardVerifyOptions &options) noexcept {
	ForwardVerifyResult result;
	try {
		detail::SplitToken parts;
		detail::JoseHeader header;
		if ((result.error = detail::SplitAndParseHeader(token, IsForwardType, parts, header)) != TokenError::None)
			return result;
		if ((result.error = detail::CheckSignature(keyring, header, parts, KeyUse::Forward)) != TokenError::None)
			return result;
		if ((result.error = ParseClaims(parts.payload_b64, result.claims)) != TokenError::None)
			return result;
		if (options.max_lifetime <= 0) {
			result.error = TokenError::LifetimeTooLong;
			return result;
		}
		result.error = detail::CheckTimes({result.claims.issued_at, result.claims.expires_at, std::nullopt},
		                                  {options.now, options.leeway, options.max_lifetime});
	} catch (...) {
		result.error = TokenError::Internal;
	}
	return result;
}

std::string MintForwardToken(const Key &key, const ForwardClaims &claims) {
	if (key.use != KeyUse::Forward || key.alg != Algorithm::HS256)
		throw KeyringError("a forwarding context must be signed with an HS256 use:forward key");
	if (claims.expires_at <= claims.issued_at)
		throw TokenLibraryError("forwarding context expiry must be after its issue time");
	if (!IsDistributedTransactionId(claims.distributed_transaction))
		throw TokenLibraryError("forwarding context needs a distributed transaction id <node>:<number>:<stamp>");
	if (claims.jti.empty() || claims.jti.size() > kMaxJtiLength || claims.role_code.empty() ||
	    claims.role_code.size() > 63 || claims.permissions.size() > kMaxForwardedPermissionsLength ||
	    !IsPrintable(claims.jti) || !IsPrintable(claims.role_code) || !IsPrintable(claims.permissions))
		throw TokenLibraryError("forwarding context has an invalid jti, role code or permission list");
	FlatObject header{{"alg", std::string("HS256")}, {"kid", key.kid}, {"typ", std::string(kForwardTokenType)}};
	FlatObject payload{
	    {"sub", UuidToString(claims.user)}, {"org", UuidToString(claims.org)}, {"role", UuidToString(claims.role)},
	    {"rcode", claims.role_code},        {"perms", claims.permissions},     {"dtx", claims.distributed_transaction},
	    {"iat", claims.issued_at},          {"exp", claims.expires_at},        {"jti", claims.jti}};
	return detail::SignCompact(key, detail::SerializeFlatObject(header), detail::SerializeFlatObject(payload));
}

} // namespace pg_tenancy::token
