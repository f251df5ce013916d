// config.hpp: everything the engine needs to know, from code, a file or the
// environment.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "pg_tenancy/engine/namespace.hpp"

namespace pg_tenancy::engine {

struct EngineConfig {
	// Connection string of the application role (no BYPASSRLS, owns nothing).
	std::string conninfo;
	// Connection string of a privileged role allowed to run
	// tenancy.lookup_membership() and tenancy.register_user(); defaults to conninfo.
	std::string admin_conninfo;
	// Keyring with the key that signs context tokens (see `tenancy keygen`).
	std::string keyring_file;
	// Which key signs; empty: the first key in the keyring that can sign.
	std::string signing_kid;
	// Keys, issuer and audience for inbound bearer tokens (Authenticate()). The
	// file is a JWKS document (an identity provider's keys) or a pg_tenancy
	// keyring; it is reloaded when it changes (see identity_key_file.hpp).
	std::string identity_keyring_file;
	std::string identity_issuer;
	std::string identity_audience;
	// The claim that names the user (a string), and how it maps to a pg_tenancy
	// user: UserId ("uuid" in files), it is the user's id; Linked, the (issuer, subject) pair is
	// looked up with tenancy.resolve_identity() (see tenancy.link_identity()).
	std::string identity_user_claim = "sub";
	enum class SubjectMapping { UserId, Linked };
	SubjectMapping identity_subject_mapping = SubjectMapping::UserId;

	std::chrono::seconds token_ttl{60};
	std::chrono::seconds membership_cache_ttl{30};
	std::chrono::seconds clock_skew{30};
	std::size_t pool_size = 8;
	std::chrono::milliseconds lease_timeout{5000};
	// LISTEN for membership changes and drop the cache at once. Without it,
	// positive answers are trusted for membership_cache_ttl (tenancy.enter()
	// still re-checks every membership in the database). 0 disables the cache.
	bool listen_for_changes = true;
	// Prepare SELECT tenancy.enter($1) once per connection. Turn off behind a
	// transaction-pooling PgBouncer older than 1.21 (bookworm ships 1.18), which
	// cannot keep prepared statements.
	bool prepared_statements = true;

	// Reads "key = value" lines (# comments) with the keys below; unknown keys and
	// malformed lines are errors (ConfigurationError).
	//   conninfo, admin_conninfo, keyring_file, signing_kid, identity_keyring_file,
	//   identity_issuer, identity_audience, identity_user_claim,
	//   identity_subject_mapping (uuid or linked), token_ttl, membership_cache_ttl,
	//   clock_skew, pool_size, lease_timeout_ms, listen_for_changes, prepared_statements
	static EngineConfig FromFile(const std::string &path);
	// Overrides from TENANCY_CONNINFO, TENANCY_ADMIN_CONNINFO, TENANCY_KEYRING,
	// TENANCY_SIGNING_KID, TENANCY_IDENTITY_KEYRING, TENANCY_IDENTITY_ISSUER,
	// TENANCY_IDENTITY_AUDIENCE, TENANCY_IDENTITY_USER_CLAIM,
	// TENANCY_IDENTITY_SUBJECT_MAPPING, TENANCY_TOKEN_TTL, TENANCY_POOL_SIZE.
	void ApplyEnvironment();
	void Set(const std::string &key, const std::string &value);
	// Throws ConfigurationError if something required is missing or out of range.
	void Validate() const;
};

} // namespace pg_tenancy::engine
