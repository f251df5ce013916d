// membership_cache.cpp: see membership_cache.hpp. A hash table of at most
// kCapacity entries in a memory context of its own under TopMemoryContext,
// least recently used first out. Sized like the verified-token cache: one entry
// per (user, organization) a pooled backend serves, so a pool serving a few
// thousand of them stays warm; memory grows with use (about 200 bytes an entry
// plus its permissions). A miss costs only the index look-ups enter() did
// before the cache existed.
extern "C" {
#include "postgres.h"

#include "lib/ilist.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
}

#include <cstddef>
#include <cstring>

#include "pg_tenancy/membership_cache.hpp"

namespace {

constexpr long kCapacity = 2048;

struct MembershipKey {
	std::uint8_t bytes[32]; // user, then organization
};

struct CachedMembership {
	MembershipKey key; // first: dynahash's key
	dlist_node lru;    // most recently used at the head
	std::uint64_t generation;
	bool found;
	std::uint8_t role[16];
	char role_code[64];
	char *permissions; // in cache_context
	std::size_t permissions_len;
};

MemoryContext cache_context = nullptr;
HTAB *entries = nullptr;
dlist_head lru = DLIST_STATIC_INIT(lru);
std::int64_t hits = 0, misses = 0, evictions = 0;

MembershipKey MakeKey(const std::uint8_t user[16], const std::uint8_t org[16]) {
	MembershipKey key;
	std::memcpy(key.bytes, user, 16);
	std::memcpy(key.bytes + 16, org, 16);
	return key;
}

void CreateTable() {
	// Reused if an earlier hash_create() ran out of memory after creating it.
	if (cache_context == nullptr)
		cache_context = AllocSetContextCreate(TopMemoryContext, "pg_tenancy membership cache", ALLOCSET_DEFAULT_SIZES);
	HASHCTL ctl;
	std::memset(&ctl, 0, sizeof ctl);
	ctl.keysize = sizeof(MembershipKey);
	ctl.entrysize = sizeof(CachedMembership);
	ctl.hcxt = cache_context;
	entries = hash_create("pg_tenancy membership cache", 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

// dlist_tail_element() asserts its types with a GCC C builtin that C++ lacks.
CachedMembership *LeastRecentlyUsed() {
	dlist_node *node = dlist_tail_node(&lru);
	return reinterpret_cast<CachedMembership *>(reinterpret_cast<char *>(node) - offsetof(CachedMembership, lru));
}

void Evict(CachedMembership *entry) {
	dlist_delete(&entry->lru);
	if (entry->permissions)
		pfree(entry->permissions);
	hash_search(entries, &entry->key, HASH_REMOVE, nullptr);
}

} // namespace

namespace pg_tenancy {

bool FindCachedMembership(const std::uint8_t user[16], const std::uint8_t org[16], std::uint64_t generation,
                          MembershipInfo *info) {
	auto *entry = static_cast<CachedMembership *>(nullptr);
	if (entries != nullptr) {
		const MembershipKey key = MakeKey(user, org);
		entry = static_cast<CachedMembership *>(hash_search(entries, &key, HASH_FIND, nullptr));
	}
	if (entry == nullptr || entry->generation != generation) {
		misses++;
		return false;
	}
	hits++;
	dlist_move_head(&lru, &entry->lru);
	std::memset(info, 0, sizeof *info);
	info->found = entry->found;
	if (entry->found) {
		std::memcpy(info->role, entry->role, sizeof info->role);
		std::memcpy(info->role_code, entry->role_code, sizeof info->role_code);
		info->permissions = pnstrdup(entry->permissions, entry->permissions_len);
		info->permissions_len = entry->permissions_len;
	}
	return true;
}

void RememberMembership(const std::uint8_t user[16], const std::uint8_t org[16], std::uint64_t generation,
                        const MembershipInfo &info) {
	if (entries == nullptr)
		CreateTable();
	const MembershipKey key = MakeKey(user, org);
	// Copy the permissions first: if that fails for lack of memory, the table
	// is as it was. (If HASH_ENTER then fails, the copy stays in cache_context
	// until the cache is next forgotten: the table itself stays consistent.)
	char *permissions = nullptr;
	std::size_t permissions_len = 0;
	if (info.found) {
		permissions_len = info.permissions ? info.permissions_len : 0;
		permissions = static_cast<char *>(MemoryContextAlloc(cache_context, permissions_len + 1));
		if (permissions_len > 0)
			std::memcpy(permissions, info.permissions, permissions_len);
		permissions[permissions_len] = '\0';
	}
	auto *existing = static_cast<CachedMembership *>(hash_search(entries, &key, HASH_FIND, nullptr));
	if (existing != nullptr)
		Evict(existing);
	else if (hash_get_num_entries(entries) >= kCapacity) {
		Evict(LeastRecentlyUsed());
		evictions++;
	}
	bool present = false;
	auto *entry = static_cast<CachedMembership *>(hash_search(entries, &key, HASH_ENTER, &present));
	entry->generation = generation;
	entry->found = info.found;
	std::memcpy(entry->role, info.role, sizeof entry->role);
	std::memcpy(entry->role_code, info.role_code, sizeof entry->role_code);
	entry->permissions = permissions;
	entry->permissions_len = permissions_len;
	dlist_push_head(&lru, &entry->lru);
}

void ForgetCachedMemberships() {
	if (cache_context == nullptr)
		return;
	// Dropping the context frees the table, its entries and their permissions.
	MemoryContextDelete(cache_context);
	cache_context = nullptr;
	entries = nullptr;
	dlist_init(&lru);
}

CacheStatistics MembershipCacheStatistics() {
	CacheStatistics stats{};
	stats.entries = entries != nullptr ? hash_get_num_entries(entries) : 0;
	stats.capacity = kCapacity;
	stats.hits = hits;
	stats.misses = misses;
	stats.evictions = evictions;
	stats.bytes =
	    cache_context != nullptr ? static_cast<std::int64_t>(MemoryContextMemAllocated(cache_context, true)) : 0;
	stats.byte_limit = -1;
	return stats;
}

} // namespace pg_tenancy
