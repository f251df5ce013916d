// verified_token_cache.hpp: the context tokens this backend has already
// verified, so that a token reused for its lifetime (the engine reuses one per
// user and organization) costs no second signature check. Pure C++.
//
// Keyed by the SHA-256 of the token's exact bytes, so no lookup ever compares a
// guess with a cached token byte by byte; bounded (least recently used goes first);
// cleared whenever the keyring is reloaded, so a key removed from the keyring
// stops working as before. A hit only skips the signature: the caller re-checks
// the times on every use.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pg_tenancy/token/context_token.hpp"

namespace pg_tenancy {

class VerifiedTokenCache {
  public:
	// One per organization a backend serves, for a pool of a thousand tenants:
	// about 500 kB at most.
	static constexpr std::size_t kCapacity = 1024;

	// The claims `token` verified with, or nullptr. Leaves the token's digest
	// in `digest` (empty if it could not be computed) for Remember().
	const token::ContextClaims *Find(std::string_view token, std::string &digest) noexcept;
	// Remembers a token, by the digest Find() gave, whose signature verified;
	// evicts the least recently used.
	void Remember(std::string digest, const token::ContextClaims &claims);
	void Clear() noexcept;
	std::size_t Size() const noexcept { return index_.size(); }

  private:
	struct Entry {
		std::string digest; // SHA-256 of the token
		token::ContextClaims claims;
	};
	std::list<Entry> entries_; // most recently used first
	// Keys view the digests in entries_, whose nodes never move.
	std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

} // namespace pg_tenancy
