// forward_token.hpp: the forwarding context a Citus coordinator sends its workers.
//
// The user's own token never leaves the coordinator. After enter() has checked
// the membership there, the coordinator signs what it found (user, organization,
// role, permissions) with a server-to-server key (a keyring line marked
// use:forward, held by every node), valid for seconds and bound to the Citus
// distributed transaction the workers take part in, so a copy read from a
// worker's pg_stat_activity is useless in any other transaction.
//
// Header: {"alg":"HS256","kid":"<forwarding kid>","typ":"tenancy-forward+jwt"}
// Claims: sub, org, role (uuids), rcode (role code), perms (comma-separated
//         permissions, possibly empty), dtx ("<initiator node>:<transaction
//         number>:<timestamp>", Citus's distributed transaction id), iat, exp, jti.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pg_tenancy/token/keyring.hpp"
#include "pg_tenancy/token/token_error.hpp"
#include "pg_tenancy/token/uuid.hpp"

namespace pg_tenancy::token {

constexpr const char *kForwardTokenType = "tenancy-forward+jwt";
constexpr std::size_t kMaxDistributedTransactionLength = 80;
constexpr std::size_t kMaxForwardedPermissionsLength = 2048;

struct ForwardClaims {
	Uuid user;
	Uuid org;
	Uuid role;
	std::string role_code;
	std::string permissions; // comma-separated, as tenancy.roles stores them
	std::string distributed_transaction;
	std::int64_t issued_at = 0;
	std::int64_t expires_at = 0;
	std::string jti;
};

struct ForwardVerifyOptions {
	std::int64_t now = 0;
	std::int64_t leeway = 5;
	std::int64_t max_lifetime = 0; // exp - iat must not exceed this (required, > 0)
};

struct ForwardVerifyResult {
	TokenError error = TokenError::Internal;
	ForwardClaims claims;
	bool ok() const noexcept { return error == TokenError::None; }
};

// Is `text` a distributed transaction id as forward tokens carry it? Digits,
// an optional leading '-' per field, exactly three fields separated by ':'.
bool IsDistributedTransactionId(std::string_view text) noexcept;

// Checks structure, type, the signature against the keyring's use:forward keys
// only (a user's context key never verifies one), and the times. Never throws.
ForwardVerifyResult VerifyForwardToken(std::string_view token, const Keyring &keyring,
                                       const ForwardVerifyOptions &options) noexcept;

// Parses a forward token without checking signature or times: only for a value
// already verified in this process tree (restored into a parallel worker).
ForwardVerifyResult DecodeVerifiedForwardToken(std::string_view token) noexcept;

// Signs `claims` with `key`, which must be a use:forward HS256 key. Throws
// KeyringError or TokenLibraryError on bad input, CryptoError on failure.
std::string MintForwardToken(const Key &key, const ForwardClaims &claims);

} // namespace pg_tenancy::token

#include "pg_tenancy/token/cpp_only.hpp"
