// jws.hpp: compact JWS plumbing shared by context tokens and the engine's
// identity tokens (the engine builds against this header; it is not installed): splitting,
// the JOSE header, signature checks against a pinned keyring, time checks and
// signing. The claim sets differ; everything here is the same for both.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "flat_json.hpp"
#include "pg_tenancy/token/keyring.hpp"
#include "pg_tenancy/token/token_error.hpp"
#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy::token::detail {

struct SplitToken {
	std::string_view header_b64, payload_b64, signature_b64, signing_input;
};

struct JoseHeader {
	Algorithm alg = Algorithm::HS256;
	std::string kid;
	std::optional<std::string> typ;
};

// Which "typ" header values a token kind accepts.
using TypeCheck = bool (*)(const std::optional<std::string> &typ);

// Tokens larger than `max_bytes` are refused before any parsing.
TokenError Split(std::string_view token, SplitToken &out, std::size_t max_bytes = kMaxTokenBytes) noexcept;
// Only alg, kid and typ are allowed: jku, jwk, x5u, crit and friends are how
// header-injection attacks smuggle in their own keys.
TokenError ParseHeader(std::string_view b64, TypeCheck type_ok, JoseHeader &out);
// Split, then parse the header.
TokenError SplitAndParseHeader(std::string_view token, TypeCheck type_ok, SplitToken &parts, JoseHeader &header);
// The key named by the header must exist, serve `use`, and be pinned to the
// header's algorithm; the signature is compared in constant time (HS256) or
// verified (EdDSA). A key for another use counts as unknown.
TokenError CheckSignature(const Keyring &keyring, const JoseHeader &header, const SplitToken &parts,
                          KeyUse use = KeyUse::Context);

struct TimeClaims {
	std::optional<std::int64_t> issued_at;
	std::int64_t expires_at = 0;
	std::optional<std::int64_t> not_before;
};
struct TimePolicy {
	std::int64_t now = 0;
	std::int64_t leeway = 0;
	std::int64_t max_lifetime = 0; // 0: no limit (needs iat otherwise)
};
TokenError CheckTimes(const TimeClaims &claims, const TimePolicy &policy) noexcept;

// Base64url-decodes a flat JSON object (see flat_json.hpp).
TokenError DecodeFlatObject(std::string_view b64, FlatObject &out);
const std::string *GetString(const FlatObject &object, std::string_view name);

// header.payload.signature for already-serialised JSON texts.
std::string SignCompact(const Key &key, std::string_view header_json, std::string_view payload_json);

} // namespace pg_tenancy::token::detail
