// fuzz_context_value.cpp: ParseTrustedContextValue, the parser of the
// tenancy.context value a parallel worker restores from its leader. Byte 0 selects
// a raw value or "<header>\n<payload>\n<suffix>" whose token the target signs (the
// parser does not check signatures, but needs well-formed claims to go further).
// Invariants: an accepted value yields a record whose size, NUL-terminated strings,
// role code and permissions are consistent with the value, and that grants
// exactly its own permissions.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "pg_tenancy/context_record.hpp"
#include "pg_tenancy/token/context_token.hpp"

using fuzz_support::Require;
using namespace pg_tenancy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
	fuzz_support::StructuredInput in = fuzz_support::Interpret(data, size);
	std::string value;
	if (in.raw) {
		value = std::string(in.raw_token);
	} else {
		std::string_view payload = in.payload, suffix;
		std::size_t nl = payload.find('\n');
		if (nl != std::string_view::npos) {
			suffix = payload.substr(nl + 1);
			payload = payload.substr(0, nl);
		}
		try {
			value = fuzz_support::SignExactly(*in.key, in.header, payload) + std::string(suffix);
		} catch (const token::CryptoError &) {
			return 0;
		}
	}
	if (value.find('\0') != std::string::npos)
		return 0; // a GUC value is a C string
	ContextRecord *record = nullptr;
	ContextParseError e = ParseTrustedContextValue(value.c_str(), &record);
	if (e != ContextParseError::None) {
		Require(record == nullptr, "record returned with an error");
		return 0;
	}
	Require(record != nullptr, "no record on success");
	std::string_view token_part = std::string_view(value).substr(0, value.find(kContextValueSeparator));
	token::VerifyResult decoded = token::DecodeVerifiedContextToken(token_part);
	Require(decoded.ok(), "accepted value whose token does not decode");
	Require(std::memcmp(record->user, decoded.claims.user.bytes.data(), 16) == 0, "user differs");
	Require(record->has_org == decoded.claims.org.has_value(), "org presence differs");
	Require(std::strlen(record->jti) == decoded.claims.jti.size() && decoded.claims.jti == record->jti, "jti differs");
	Require(IsValidRoleCode(record->role_code, std::strlen(record->role_code)) == record->has_role,
	        "role code invalid or unexpected");
	std::size_t bytes = sizeof(ContextRecord);
	const char *p = ContextPermissions(record);
	for (std::uint32_t i = 0; i < record->permission_count; i++) {
		std::size_t len = std::strlen(p);
		Require(IsValidPermission(p, len), "invalid permission stored");
		Require(ContextGrants(record, p, len), "record does not grant its own permission");
		bytes += len + 1;
		p += len + 1;
	}
	Require(record->total_bytes == bytes, "total_bytes does not match the permissions");
	std::free(record);
	return 0;
}
