// verified_token_cache.hpp: the context tokens this backend has already
// verified, so that a token reused for its lifetime (the engine reuses one per
// user and organization) costs no second signature check. Pure C++.
//
// Keyed by the token's exact bytes. A candidate is compared with a cached
// token only when their 64-bit hashes agree, and then in constant time
// (CRYPTO_memcmp over the whole length), so timing tells nothing of the
// content of tokens other sessions used; it can tell how many slots a look-up
// probed, which says nothing an attacker could use. Only tokens whose
// signature verified are kept, so nobody can fill it with chosen keys. Bounded
// in entries and in token bytes; when full, an entry not used since the clock
// hand last passed it goes first (CLOCK, an approximation of least recently
// used that writes nothing but the entry itself on a hit). Cleared whenever
// the keyring is reloaded, so a key removed from the keyring stops working as
// before. A hit only skips the signature: the caller re-checks the times on
// every use.
//
// Each token can also carry the context tenancy.enter() built from it (the
// setting's value and the record), tagged with the membership epoch it was
// read at (membership.hpp): while that epoch holds, the next enter() of the
// same token sets the context without reading the membership or building it
// again (kMaxPreparedBytesKept in all).
//
// Laid out for a backend serving many tokens among other work, where a hit's
// cost is its cache misses: the index is a flat array of (hash, entry) pairs,
// the entries one array, and each entry's token, prepared value and record
// one allocation (the value, which begins with the token, shares its bytes),
// so a hit reads one index line, the entry and one run of bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

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
		std::string_view value;                  // the tenancy.context setting; NUL follows it
		std::string_view record;                 // the ContextRecord's bytes (unaligned: copy them)
	};
	class Entry {
	  public:
		token::ContextClaims claims;
		// Views into the entry's bytes, like token(): valid until the next
		// Prepare() of the entry (even one that fails), or until it is
		// forgotten, evicted or cleared.
		PreparedContext prepared;
		std::string_view token() const noexcept { return {bytes_.get(), token_size_}; }

	  private:
		friend class VerifiedTokenCache;
		// The token, then the prepared value's rest, NUL, the record; null while
		// the entry's position is free.
		std::unique_ptr<char[]> bytes_;
		bool InUse() const noexcept { return bytes_ != nullptr; }
		std::size_t token_size_ = 0;
		std::uint64_t hash_ = 0;
		bool referenced_ = false; // used since the clock hand last passed
	};

	// The entry of `token`, or nullptr. Valid while Stamp() is unchanged.
	Entry *Find(std::string_view token) noexcept;
	// Remembers a token whose signature verified; evicts one not used recently.
	// Returns its entry (as Find() would), or nullptr if it is not kept.
	Entry *Remember(std::string_view token, const token::ContextClaims &claims);
	// Attaches a prepared context to `entry` (from Find() or Remember()),
	// replacing any; false, with the entry left without one, if it does not fit.
	bool Prepare(Entry *entry, std::uint64_t generation, std::uint64_t catalog_invalidations, std::string_view value,
	             std::string_view record) noexcept;
	// Drops `entry` (from Find() or Remember(), with Stamp() unchanged since:
	// a position freed and reused holds another token) and its prepared
	// context: for a token that has expired, which no later call can accept.
	void Forget(Entry *entry) noexcept;
	void Clear() noexcept;
	std::size_t Size() const noexcept { return size_; }
	std::size_t TokenBytes() const noexcept { return token_bytes_; }
	std::size_t PreparedBytes() const noexcept { return prepared_bytes_; }
	std::size_t PreparedCount() const noexcept { return prepared_count_; }
	// Entries pushed out for room (not those Clear() or Forget() dropped).
	std::uint64_t Evictions() const noexcept { return evictions_; }
	// Changes whenever an entry may have moved or gone (an insertion, an
	// eviction, Forget(), Clear()): a caller holding an entry checks it still
	// applies.
	std::uint64_t Stamp() const noexcept { return stamp_; }

  private:
	// Twice the capacity, a power of two: linear probing stays short.
	static constexpr std::size_t kIndexSlots = 2 * kCapacity;
	static constexpr std::size_t kIndexMask = kIndexSlots - 1;
	struct Slot {
		std::uint32_t hash_low = 0; // the hash's low bits: the home slot, and a first filter
		std::uint32_t entry = 0;    // the entry's position + 1; 0 = empty
	};

	static std::uint64_t Hash(std::string_view token) noexcept;
	Entry *FindHashed(std::string_view token, std::uint64_t hash) noexcept;
	std::size_t SlotOf(const Entry &entry) const noexcept;
	void EraseSlot(std::size_t slot) noexcept;
	void Drop(Entry &entry) noexcept; // out of the index, its room freed
	void DropPrepared(Entry &entry) noexcept;
	bool EvictOne() noexcept; // false if no entry could be dropped

	std::vector<Slot> index_; // kIndexSlots once the first token is kept
	// Reserved for kCapacity at the first token (about 400 kB of address
	// space, touched only as entries are used): entries never move.
	std::vector<Entry> entries_;
	std::vector<std::uint32_t> free_; // positions in entries_ of dropped entries
	std::size_t hand_ = 0;            // the clock hand, a position in entries_
	std::size_t size_ = 0;
	std::size_t token_bytes_ = 0;
	std::size_t prepared_bytes_ = 0;
	std::size_t prepared_count_ = 0;
	std::uint64_t stamp_ = 0;
	std::uint64_t evictions_ = 0;
};

} // namespace pg_tenancy
