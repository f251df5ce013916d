// token_check.hpp: the server's view of token verification, as plain data, so
// PG-facing files can call it without holding any C++ object.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pg_tenancy/cache_statistics.hpp"
#include "pg_tenancy/context_record.hpp"

namespace pg_tenancy {

enum class TokenCheckStatus { Valid, Invalid, KeyringUnavailable };

struct TokenCheckResult {
	TokenCheckStatus status;
	const char *reason;      // static string, never contains token text
	char keyring_error[256]; // set when status == KeyringUnavailable (no key material)
	bool has_org;
	std::uint8_t org[16];
	std::uint8_t user[16];
	std::int64_t issued_at;
	std::int64_t expires_at;
	char jti[129]; // NUL-terminated
	// Where the verified-token cache keeps this token (set when the token was
	// found there, i.e. used before), and the cache's stamp then: for
	// FindPreparedContext() and PrepareContext(), which ignore them once the
	// cache has changed. Opaque.
	const void *cached_token;
	std::uint64_t cache_stamp;
};

struct TokenCheckOptions {
	const char *keyring_file;
	std::int64_t now;
	std::int64_t leeway;
	std::int64_t max_lifetime;
};

// Verifies a token against the keyring file (cached, reloaded when the file or the
// setting changes). A token whose signature verified before with the same keyring
// skips the signature check; its times are checked on every call. Never throws.
void CheckContextToken(const char *token, std::size_t len, const TokenCheckOptions &options,
                       TokenCheckResult *result) noexcept;

// A context tenancy.enter() prepared from a token, owned by the cache and
// valid until the next call into this file.
struct PreparedContextView {
	const char *value;  // the setting's value, NUL-terminated
	const char *record; // record_len bytes of a ContextRecord (copy before use)
	std::size_t record_len;
	std::uint64_t generation; // the membership epoch it was built at
	std::uint64_t catalog_invalidations;
};

// The context enter() prepared from the token `check` verified, if any; the
// caller compares its epoch with the current one. Never throws.
bool FindPreparedContext(const TokenCheckResult &check, PreparedContextView *out) noexcept;

// Keeps the context enter() built from the token `check` verified (value and
// record are copied), with the membership epoch its membership was current at,
// for the next enter() of the same token. Does nothing for a token seen for
// the first time, one no longer cached, or a context too long to keep. Never
// throws.
void PrepareContext(const TokenCheckResult &check, std::uint64_t generation, std::uint64_t catalog_invalidations,
                    const char *value, const ContextRecord *record) noexcept;

// Counts an enter() of a token the verified-token cache held (one with an
// organization): its prepared context was set (true) or built again. Never
// throws.
void NotePreparedContextUse(bool applied) noexcept;

// The verified-token cache's statistics and its prepared contexts' (their
// `enabled` is the caller's to fill in: they need the membership epoch).
// Never throws.
void TokenCacheStatistics(CacheStatistics *tokens, CacheStatistics *prepared) noexcept;

// For the postmaster (pg_tenancy is preloaded): initialise OpenSSL and load the
// keyring once, so every backend starts with both. Never throws; problems are
// reported by the first tenancy.enter() instead.
void WarmUpTokenChecks(const char *keyring_file) noexcept;

// Verifies a forwarding context (see token/.../forward_token.hpp) against the
// keyring's use:forward keys, with options.max_lifetime as the longest accepted
// lifetime, and builds its record (role, permissions, distributed transaction).
// A user's context token is refused. Never throws.
ContextParseError BuildForwardingContext(const char *token, const TokenCheckOptions &options, ContextRecord **out,
                                         const char **reason) noexcept;

enum class ForwardMintStatus { Ok, KeyringUnavailable, NoForwardingKey, TooLarge, Failed };

// Room for a forwarding context, NUL included.
constexpr std::size_t kForwardingTokenBytes = 4097;

// Signs the forwarding context of `record` (an organization context entered in
// this backend) for the Citus distributed transaction `distributed_transaction`,
// valid for `lifetime` seconds from `now`, with the keyring's first use:forward
// key. Writes a NUL-terminated token into `out`. Never throws.
ForwardMintStatus MintForwardingContext(const char *keyring_file, const ContextRecord *record,
                                        const char *distributed_transaction, std::int64_t now, std::int64_t lifetime,
                                        char *out, std::size_t size) noexcept;

// The SHA-256 (hex) of the keyring's key set, to compare keyrings across nodes
// without showing any key. false if the keyring is unusable. Never throws.
bool KeyringFingerprint(const char *keyring_file, char (&out)[65]) noexcept;

// Room for a token from MintThrowawayContextToken(), NUL included.
constexpr std::size_t kThrowawayTokenBytes = 1024;

// Signs a context token for (user, org), valid for 60 seconds from `now`, with a
// random key that is discarded at once: the value parses like a verified token,
// but nothing can ever verify it again. Only tenancy.probe() uses it, to enter its
// own synthetic organizations. Writes a NUL-terminated token into `out` and its
// claims into `claims`; false if `size` is too small or the generator fails.
// Never throws.
bool MintThrowawayContextToken(const std::uint8_t user[16], const std::uint8_t org[16], std::int64_t now, char *out,
                               std::size_t size, TokenCheckResult *claims) noexcept;

// Writes "tinv_" followed by 32 CSPRNG bytes in base64url (48 characters) into
// `out`; false if the generator fails or `size` is too small. Never throws.
bool NewSecretToken(char *out, std::size_t size) noexcept;

} // namespace pg_tenancy
