// verified_token_cache.hpp: the context tokens this backend has already
// verified, so that a token reused for its lifetime (the engine reuses one per
// user and organization) costs no second signature check. Pure C++.
//
// Keyed by the token's exact bytes. Every comparison of a candidate with a
// cached token is in constant time (CRYPTO_memcmp over the whole length), so
// timing tells nothing of the content of tokens other sessions used; it can
// tell how many cached tokens were compared (libstdc++ scans every entry while
// there are at most 20, then only the candidate's hash bucket, comparing hash
// codes first), which says nothing an attacker could use. Only tokens whose
// signature verified are kept, so nobody can fill it with chosen keys. Bounded
// in entries and in token bytes (least recently used goes first; the claims and
// the nodes add about half as much again); cleared whenever the keyring is
// reloaded, so a key removed from the keyring stops working as before. A hit
// only skips the signature: the caller re-checks the times on every use.
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
	// One per (user, organization) a pooled backend serves, like the
	// membership cache; the engine's tokens are about 400 bytes, so the byte
	// bound, not the count, limits a backend fed unusually long tokens.
	static constexpr std::size_t kCapacity = 2048;
	static constexpr std::size_t kMaxTokenBytesKept = std::size_t{1} << 20;

	// The claims `token` verified with, or nullptr.
	const token::ContextClaims *Find(std::string_view token) noexcept;
	// Remembers a token whose signature verified; evicts the least recently used.
	void Remember(std::string_view token, const token::ContextClaims &claims);
	void Clear() noexcept;
	std::size_t Size() const noexcept { return index_.size(); }

  private:
	struct Entry {
		std::string token;
		token::ContextClaims claims;
	};
	struct ConstantTimeEqual {
		bool operator()(std::string_view a, std::string_view b) const noexcept;
	};
	void EvictLeastRecentlyUsed() noexcept;

	std::list<Entry> entries_; // most recently used first
	std::size_t token_bytes_ = 0;
	// Keys view the tokens in entries_, whose nodes never move.
	std::unordered_map<std::string_view, std::list<Entry>::iterator, std::hash<std::string_view>, ConstantTimeEqual>
	    index_;
};

} // namespace pg_tenancy
