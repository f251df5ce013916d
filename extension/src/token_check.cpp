// token_check.cpp: server-side token verification against the keyring file
// (pure C++, no PostgreSQL headers). The parsed keyring is cached per backend and
// reloaded when the configured path or the file itself changes, so rotating keys
// is: edit the file, then pg_reload_conf() or simply wait for the next enter().
#include "pg_tenancy/token_check.hpp"

#include <chrono>
#include <ctime>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <sys/stat.h>

#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/context_token.hpp"
#include "pg_tenancy/token/crypto.hpp"
#include "pg_tenancy/token/errors.hpp"
#include "pg_tenancy/token/forward_token.hpp"
#include "pg_tenancy/token/cpp_only.hpp"
#include "verified_token_cache.hpp"

namespace pg_tenancy {
namespace {

struct FileIdentity {
	std::string path;
	dev_t dev = 0;
	ino_t ino = 0;
	off_t size = 0;
	struct timespec mtime {};
	bool operator==(const FileIdentity &o) const {
		return path == o.path && dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
		       mtime.tv_nsec == o.mtime.tv_nsec;
	}
};

struct KeyringCache {
	std::optional<FileIdentity> identity;
	std::optional<token::Keyring> keyring;
	std::chrono::steady_clock::time_point checked_at{};
	// Tokens verified with this keyring; emptied whenever it is reloaded.
	VerifiedTokenCache verified;
};

KeyringCache &Cache() {
	static KeyringCache cache;
	return cache;
}

// For tenancy.backend_cache_stats(): since the backend started.
struct {
	std::int64_t token_hits = 0;
	std::int64_t token_misses = 0;
	std::int64_t prepared_hits = 0;
	std::int64_t prepared_misses = 0;
} counters;

void CopyMessage(char (&dest)[256], const std::string &message) {
	std::strncpy(dest, message.c_str(), sizeof dest - 1);
	dest[sizeof dest - 1] = '\0';
}

// Returns the keyring for `path`, or nullptr with `error` set.
const token::Keyring *CurrentKeyring(const char *path, char (&error)[256]) {
	if (!path || !*path) {
		CopyMessage(error, "tenancy.keyring_file is not set");
		return nullptr;
	}
	// stat() the file at most once a second: a system call per enter() is
	// measurable, and a rotated key may take a second to be seen.
	KeyringCache &cache = Cache();
	auto now = std::chrono::steady_clock::now();
	if (cache.identity && cache.keyring && cache.identity->path == path &&
	    now - cache.checked_at < std::chrono::seconds(1))
		return &*cache.keyring;
	cache.checked_at = now;
	FileIdentity id;
	id.path = path;
	struct stat st;
	if (stat(path, &st) == 0) {
		id.dev = st.st_dev;
		id.ino = st.st_ino;
		id.size = st.st_size;
		id.mtime = st.st_mtim;
	}
	if (cache.identity && *cache.identity == id && cache.keyring)
		return &*cache.keyring;
	cache.verified.Clear();
	cache.keyring.reset();
	cache.identity.reset();
	try {
		cache.keyring = token::Keyring::LoadFile(path);
		cache.identity = id;
		// Parsed for OpenSSL now (in the postmaster, for every backend).
		for (const token::Key &key : cache.keyring->Keys())
			if (key.alg == token::Algorithm::EdDSA)
				token::PrepareEd25519PublicKey(key.public_key);
	} catch (const token::KeyringError &e) {
		CopyMessage(error, e.what());
		return nullptr;
	}
	if (cache.keyring->Empty()) {
		cache.keyring.reset();
		cache.identity.reset();
		CopyMessage(error, "the keyring file holds no keys");
		return nullptr;
	}
	return &*cache.keyring;
}

void CopyClaims(const token::ContextClaims &claims, TokenCheckResult *result) {
	std::memcpy(result->user, claims.user.bytes.data(), 16);
	result->has_org = claims.org.has_value();
	if (result->has_org)
		std::memcpy(result->org, claims.org->bytes.data(), 16);
	result->issued_at = claims.issued_at;
	result->expires_at = claims.expires_at;
	std::memcpy(result->jti, claims.jti.data(), claims.jti.size()); // at most kMaxJtiLength
}

} // namespace

void CheckContextToken(const char *token_text, std::size_t len, const TokenCheckOptions &options,
                       TokenCheckResult *result) noexcept {
	std::memset(result, 0, sizeof *result);
	result->status = TokenCheckStatus::Invalid;
	result->reason = token::TokenErrorReason(token::TokenError::Internal);
	try {
		const token::Keyring *keyring = CurrentKeyring(options.keyring_file, result->keyring_error);
		if (!keyring) {
			result->status = TokenCheckStatus::KeyringUnavailable;
			return;
		}
		std::string_view token_bytes(token_text, len);
		token::VerifyOptions verify{options.now, options.leeway, options.max_lifetime};
		VerifiedTokenCache &verified_tokens = Cache().verified;
		if (VerifiedTokenCache::Entry *cached = verified_tokens.Find(token_bytes)) {
			counters.token_hits++;
			token::TokenError error = token::CheckContextTimes(cached->claims, verify);
			result->reason = token::TokenErrorReason(error);
			if (error == token::TokenError::Expired)
				verified_tokens.Forget(cached); // its bytes and prepared context, for live tokens
			if (error != token::TokenError::None)
				return;
			CopyClaims(cached->claims, result);
			result->cached_token = cached;
			result->cache_stamp = verified_tokens.Stamp();
			result->status = TokenCheckStatus::Valid;
			return;
		}
		counters.token_misses++;
		token::VerifyResult verified = token::VerifyContextToken(token_bytes, *keyring, verify);
		result->reason = token::TokenErrorReason(verified.error);
		if (!verified.ok())
			return;
		CopyClaims(verified.claims, result);
		result->status = TokenCheckStatus::Valid;
		try {
			// Not handed out: a context is prepared only for a token used again
			// (the engine's), not for every one-off token.
			(void)verified_tokens.Remember(token_bytes, verified.claims);
		} catch (...) {
			// Out of memory for the cache: the token is still valid.
		}
	} catch (...) {
		result->status = TokenCheckStatus::Invalid;
	}
}

namespace {

// The entry CheckContextToken() left in `check`, if the cache has not changed since.
VerifiedTokenCache::Entry *CheckedEntry(const TokenCheckResult &check) noexcept {
	if (check.status != TokenCheckStatus::Valid || check.cached_token == nullptr ||
	    check.cache_stamp != Cache().verified.Stamp())
		return nullptr;
	return static_cast<VerifiedTokenCache::Entry *>(const_cast<void *>(check.cached_token));
}

} // namespace

bool FindPreparedContext(const TokenCheckResult &check, PreparedContextView *out) noexcept {
	const VerifiedTokenCache::Entry *entry = CheckedEntry(check);
	if (entry == nullptr || !entry->prepared.valid || entry->prepared.record.size() < sizeof(ContextRecord))
		return false;
	out->value = entry->prepared.value.data(); // NUL-terminated
	out->record = entry->prepared.record.data();
	out->record_len = entry->prepared.record.size();
	out->generation = entry->prepared.generation;
	out->catalog_invalidations = entry->prepared.catalog_invalidations;
	return true;
}

void PrepareContext(const TokenCheckResult &check, std::uint64_t generation, std::uint64_t catalog_invalidations,
                    const char *value, const ContextRecord *record) noexcept {
	if (VerifiedTokenCache::Entry *entry = CheckedEntry(check))
		(void)Cache().verified.Prepare(entry, generation, catalog_invalidations, value,
		                               std::string_view(reinterpret_cast<const char *>(record), record->total_bytes));
}

void NotePreparedContextUse(bool applied) noexcept {
	(applied ? counters.prepared_hits : counters.prepared_misses)++;
}

void TokenCacheStatistics(CacheStatistics *tokens, CacheStatistics *prepared) noexcept {
	const VerifiedTokenCache &cache = Cache().verified;
	*tokens = CacheStatistics{};
	tokens->enabled = true;
	tokens->entries = static_cast<std::int64_t>(cache.Size());
	tokens->capacity = static_cast<std::int64_t>(VerifiedTokenCache::kCapacity);
	tokens->hits = counters.token_hits;
	tokens->misses = counters.token_misses;
	tokens->evictions = static_cast<std::int64_t>(cache.Evictions());
	tokens->bytes = static_cast<std::int64_t>(cache.TokenBytes());
	tokens->byte_limit = static_cast<std::int64_t>(VerifiedTokenCache::kMaxTokenBytesKept);
	*prepared = CacheStatistics{};
	prepared->entries = static_cast<std::int64_t>(cache.PreparedCount());
	prepared->capacity = -1;
	prepared->hits = counters.prepared_hits;
	prepared->misses = counters.prepared_misses;
	prepared->evictions = -1;
	prepared->bytes = static_cast<std::int64_t>(cache.PreparedBytes());
	prepared->byte_limit = static_cast<std::int64_t>(VerifiedTokenCache::kMaxPreparedBytesKept);
}

void WarmUpTokenChecks(const char *keyring_file) noexcept {
	token::WarmUpCrypto();
	try {
		char error[256];
		(void)CurrentKeyring(keyring_file, error);
		(void)CurrentKeyring(keyring_file, error);
		// Verify and cache one token signed with a throwaway key, down the same
		// path as tenancy.enter(), with a keyring and a cache of its own. Run in
		// the postmaster, this binds the C++ runtime's and libcrypto's lazily
		// bound symbols once, before any backend is forked; each new backend did
		// that in its first enter() (docs/performance.md, "cold enter()").
		// A fixed key and jti: the postmaster draws no random bytes.
		token::Key key;
		key.kid = "warm-up";
		key.alg = token::Algorithm::HS256;
		key.secret.assign(token::kMinHmacSecretBytes, '\x5a');
		token::Keyring keyring;
		keyring.Add(key);
		token::ContextClaims claims;
		claims.user.bytes.fill(1);
		claims.org = claims.user;
		claims.issued_at = static_cast<std::int64_t>(std::time(nullptr));
		claims.expires_at = claims.issued_at + 60;
		claims.jti = "warm-up";
		const std::string minted = token::MintContextToken(key, claims);
		token::VerifyOptions verify{claims.issued_at, 5, 3600};
		VerifiedTokenCache cache;
		if (cache.Find(minted) == nullptr) {
			token::VerifyResult verified = token::VerifyContextToken(minted, keyring, verify);
			if (verified.ok()) {
				TokenCheckResult result;
				CopyClaims(verified.claims, &result);
				cache.Remember(minted, verified.claims);
			}
		}
		if (const VerifiedTokenCache::Entry *cached = cache.Find(minted))
			(void)token::CheckContextTimes(cached->claims, verify);
	} catch (...) {
		// Only an optimisation.
	}
}

ContextParseError BuildForwardingContext(const char *token_text, const TokenCheckOptions &options, ContextRecord **out,
                                         const char **reason) noexcept {
	*out = nullptr;
	*reason = "the forwarding context could not be checked";
	try {
		char keyring_error[256];
		const token::Keyring *keyring = CurrentKeyring(options.keyring_file, keyring_error);
		if (!keyring) {
			*reason = "the keyring is unavailable";
			return ContextParseError::BadToken;
		}
		token::ForwardVerifyResult verified =
		    token::VerifyForwardToken(token_text, *keyring, {options.now, options.leeway, options.max_lifetime});
		if (!verified.ok()) {
			// A user's token is never accepted here: only the coordinator's
			// forwarding context, signed with a use:forward key.
			*reason = verified.error == token::TokenError::WrongType
			              ? "only a forwarding context minted by the coordinator's tenancy.enter() is accepted"
			          : verified.error == token::TokenError::LifetimeTooLong
			              ? "the forwarding context lives longer than tenancy.forwarding_lifetime"
			              : token::TokenErrorReason(verified.error);
			return ContextParseError::BadToken;
		}
		*reason = "the forwarding context's role or permissions are invalid";
		return BuildForwardedRecord(verified.claims, out);
	} catch (...) {
		return ContextParseError::OutOfMemory;
	}
}

ForwardMintStatus MintForwardingContext(const char *keyring_file, const ContextRecord *record,
                                        const char *distributed_transaction, std::int64_t now, std::int64_t lifetime,
                                        char *out, std::size_t size) noexcept {
	try {
		char keyring_error[256];
		const token::Keyring *keyring = CurrentKeyring(keyring_file, keyring_error);
		if (!keyring)
			return ForwardMintStatus::KeyringUnavailable;
		const token::Key *key = keyring->ForwardingKey();
		if (!key)
			return ForwardMintStatus::NoForwardingKey;
		token::ForwardClaims claims;
		std::memcpy(claims.user.bytes.data(), record->user, 16);
		std::memcpy(claims.org.bytes.data(), record->org, 16);
		std::memcpy(claims.role.bytes.data(), record->role, 16);
		claims.role_code = record->role_code;
		const char *permission = ContextPermissions(record);
		for (std::uint32_t i = 0; i < record->permission_count; i++) {
			if (i > 0)
				claims.permissions += ',';
			claims.permissions += permission;
			permission += std::strlen(permission) + 1;
		}
		if (claims.permissions.size() > token::kMaxForwardedPermissionsLength)
			return ForwardMintStatus::TooLarge;
		claims.distributed_transaction = distributed_transaction;
		claims.issued_at = now;
		claims.expires_at = now + lifetime;
		claims.jti = token::NewJti();
		std::string minted = token::MintForwardToken(*key, claims);
		if (minted.size() + 1 > size)
			return ForwardMintStatus::TooLarge;
		std::memcpy(out, minted.c_str(), minted.size() + 1);
		return ForwardMintStatus::Ok;
	} catch (...) {
		return ForwardMintStatus::Failed;
	}
}

bool KeyringFingerprint(const char *keyring_file, char (&out)[65]) noexcept {
	try {
		char keyring_error[256];
		const token::Keyring *keyring = CurrentKeyring(keyring_file, keyring_error);
		if (!keyring)
			return false;
		// The digest of the key set in its canonical text form: equal on two
		// nodes exactly when they hold the same keys, and it reveals no secret.
		std::string digest = token::Sha256(keyring->ToText());
		static const char kHex[] = "0123456789abcdef";
		for (std::size_t i = 0; i < 32; i++) {
			out[2 * i] = kHex[static_cast<unsigned char>(digest[i]) >> 4];
			out[2 * i + 1] = kHex[static_cast<unsigned char>(digest[i]) & 15];
		}
		out[64] = '\0';
		return true;
	} catch (...) {
		return false;
	}
}

bool NewSecretToken(char *out, std::size_t size) noexcept {
	try {
		std::string token = "tinv_" + token::Base64UrlEncode(token::RandomBytes(32));
		if (token.size() + 1 > size)
			return false;
		std::memcpy(out, token.c_str(), token.size() + 1);
		return true;
	} catch (...) {
		return false;
	}
}

bool MintThrowawayContextToken(const std::uint8_t user[16], const std::uint8_t org[16], std::int64_t now, char *out,
                               std::size_t size, TokenCheckResult *claims_out) noexcept {
	try {
		token::ContextClaims claims;
		std::memcpy(claims.user.bytes.data(), user, 16);
		token::Uuid organization;
		std::memcpy(organization.bytes.data(), org, 16);
		claims.org = organization;
		claims.issued_at = now;
		claims.expires_at = now + 60;
		claims.jti = token::NewJti();
		std::string minted = token::MintContextToken(token::GenerateHs256Key("probe"), claims);
		if (minted.size() + 1 > size)
			return false;
		std::memcpy(out, minted.c_str(), minted.size() + 1);
		std::memset(claims_out, 0, sizeof *claims_out);
		claims_out->status = TokenCheckStatus::Valid;
		CopyClaims(claims, claims_out);
		return true;
	} catch (...) {
		return false;
	}
}

} // namespace pg_tenancy
