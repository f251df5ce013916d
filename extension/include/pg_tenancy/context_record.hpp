// context_record.hpp: the parsed tenant context, as the GUC machinery stores it.
//
// The context lives in the setting tenancy.context, whose value is the verified
// token, optionally followed by what tenancy.enter() loaded from the database:
//
//     <compact JWS>[~<role uuid>~<role code>~<permission>,<permission>,...]
//
// The check hook parses that value once into a ContextRecord (the GUC "extra"),
// and the assign hook publishes it, so readers such as tenancy.current_org() cost
// a pointer dereference. The record is one malloc'd block of plain data because
// PostgreSQL frees GUC extras with free(). This header is shared by PG-facing and
// pure C++ files, so it must not include PostgreSQL headers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pg_tenancy {

constexpr std::size_t kMaxRoleCodeLength = 63;
constexpr std::size_t kMaxDistributedTransactionText = 80;
constexpr char kContextValueSeparator = '~';

enum class ContextSource : std::uint8_t { Enter, Forwarded };

struct ContextRecord {
	std::uint32_t total_bytes;
	ContextSource source;
	bool has_org;
	bool has_role;
	std::uint8_t org[16];
	std::uint8_t user[16];
	std::uint8_t role[16];
	std::int64_t issued_at;
	std::int64_t expires_at;
	char role_code[kMaxRoleCodeLength + 1];
	char jti[129];
	// For a forwarded context (a session could SET it at any level): the local
	// transaction it was accepted in; readers ignore it in any other transaction.
	std::uint32_t local_transaction;
	// For a forwarded context: the Citus distributed transaction it was minted
	// for ("<initiator>:<number>:<stamp>"); it counts only inside that one.
	char distributed_transaction[kMaxDistributedTransactionText + 1];
	std::uint32_t permission_count;
	// Followed by permission_count NUL-terminated strings.
};

inline const char *ContextPermissions(const ContextRecord *record) {
	return reinterpret_cast<const char *>(record + 1);
}

enum class ContextParseError { None, BadToken, BadSuffix, SuffixNotAllowed, OutOfMemory };

// Everything a context is made of: a verified token's claims, and the role and
// permissions tenancy.enter() read for an organization context.
struct ContextFields {
	const std::uint8_t *user;
	const std::uint8_t *org; // nullptr: a user-only context
	std::int64_t issued_at;
	std::int64_t expires_at;
	const char *jti;
	const std::uint8_t *role; // nullptr: no role (user-only or forwarded)
	const char *role_code;    // with role
	const char *permissions;  // with role: comma-separated, possibly empty
	std::size_t permissions_len;
	ContextSource source;
	const char *distributed_transaction = ""; // forwarded contexts only
};

// The setting value tenancy.enter() publishes for `fields` and its verified
// token: the token, then for a context with a role
// "~<role uuid>~<role code>~<permissions>". malloc'd; nullptr when out of
// memory. Never throws.
char *FormatContextValue(const char *token, std::size_t token_len, const ContextFields &fields) noexcept;

namespace token {
struct ForwardClaims;
}
// The record of a verified forwarding context: its role and permissions, bound
// to its distributed transaction. On success *out is malloc'd. Never throws.
ContextParseError BuildForwardedRecord(const token::ForwardClaims &claims, ContextRecord **out) noexcept;

// Builds the record from its fields, validating the role code and every
// permission. On success *out is malloc'd. Never throws.
ContextParseError BuildContextRecord(const ContextFields &fields, ContextRecord **out) noexcept;

// Parses a value whose token was already verified (by tenancy.enter() in this
// backend, or by the leader of a parallel worker): a context token with the
// suffix enter() adds, or a forwarding context (forward_token.hpp). On success
// *out is malloc'd.
ContextParseError ParseTrustedContextValue(const char *value, ContextRecord **out) noexcept;

// Does one granted permission cover `wanted`? Exact match; "*" covers all; a
// granted "a.*" covers "a.anything" (including "a.*" itself, nothing else).
bool PermissionCovers(const char *granted, std::size_t granted_len, const char *wanted,
                      std::size_t wanted_len) noexcept;
// Does the context grant `wanted`?
bool ContextGrants(const ContextRecord *record, const char *wanted, std::size_t wanted_len) noexcept;

// Valid permission string: "*", "resource.*" or "resource.action", lower-case
// [a-z0-9_] segments starting with a letter, at most 100 bytes.
bool IsValidPermission(const char *text, std::size_t len) noexcept;
bool IsValidRoleCode(const char *text, std::size_t len) noexcept;

} // namespace pg_tenancy
