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
//
// Each token can also carry the context tenancy.enter() built from it (the
// setting's value and the record), tagged with the membership epoch it was
// read at (membership.hpp): while that epoch holds, the next enter() of the
// same token sets the context without reading the membership or building it
// again (about 1 kB more per token; kMaxPreparedBytesKept in all).
#pragma once

#include <cstddef>
#include <cstdint>
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
	// Prepared contexts are kept while their bytes fit; a role with very many
	// permissions makes long ones, which are then simply not kept.
	static constexpr std::size_t kMaxPreparedBytesKept = std::size_t{4} << 20;
	static constexpr std::size_t kMaxPreparedBytes = 16384;

	struct PreparedContext {
		bool valid = false;
		std::uint64_t generation = 0;            // the membership epoch it was built at
		std::uint64_t catalog_invalidations = 0; // likewise
		std::string value;                       // the tenancy.context setting
		std::string record;                      // the ContextRecord's bytes
	};
	struct Entry {
		std::string token;
		token::ContextClaims claims;
		PreparedContext prepared;
	};

	// The entry of `token`, or nullptr. Valid while Stamp() is unchanged.
	Entry *Find(std::string_view token) noexcept;
	// Remembers a token whose signature verified; evicts the least recently
	// used. Returns its entry (as Find() would), or nullptr if it is not kept.
	Entry *Remember(std::string_view token, const token::ContextClaims &claims);
	// Attaches a prepared context to `entry` (from Find() or Remember()),
	// replacing any; false, with the entry left without one, if it does not fit.
	bool Prepare(Entry *entry, std::uint64_t generation, std::uint64_t catalog_invalidations, std::string_view value,
	             std::string_view record) noexcept;
	// Drops `entry` (from Find() or Remember()) and its prepared context: for
	// a token that has expired, which no later call can accept.
	void Forget(Entry *entry) noexcept;
	void Clear() noexcept;
	std::size_t Size() const noexcept { return index_.size(); }
	std::size_t TokenBytes() const noexcept { return token_bytes_; }
	std::size_t PreparedBytes() const noexcept { return prepared_bytes_; }
	std::size_t PreparedCount() const noexcept { return prepared_count_; }
	// Entries pushed out for room (not those Clear() dropped).
	std::uint64_t Evictions() const noexcept { return evictions_; }
	// Changes whenever an entry may have moved or gone (an insertion, an
	// eviction, Clear()): a caller holding an entry checks it still applies.
	std::uint64_t Stamp() const noexcept { return stamp_; }

  private:
	void DropPrepared(Entry &entry) noexcept;
	struct ConstantTimeEqual {
		bool operator()(std::string_view a, std::string_view b) const noexcept;
	};
	void EvictLeastRecentlyUsed() noexcept;

	std::list<Entry> entries_; // most recently used first
	std::size_t token_bytes_ = 0;
	std::size_t prepared_bytes_ = 0;
	std::size_t prepared_count_ = 0;
	std::uint64_t stamp_ = 0;
	std::uint64_t evictions_ = 0;
	// Keys view the tokens in entries_, whose nodes never move.
	std::unordered_map<std::string_view, std::list<Entry>::iterator, std::hash<std::string_view>, ConstantTimeEqual>
	    index_;
};

} // namespace pg_tenancy
