// membership_cache.cpp: see membership_cache.hpp. A direct-mapped table of a
// few hundred entries in TopMemoryContext: a backend serves a bounded set of
// users and organizations at a time, and a miss costs only the index look-ups
// enter() did before the cache existed.
extern "C" {
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/memutils.h"
}

#include <cstring>

#include "pg_tenancy/membership_cache.hpp"

namespace {

constexpr int kEntries = 256;

struct CachedMembership {
	bool valid;
	std::uint64_t generation;
	std::uint8_t key[32]; // user, then organization
	bool found;
	std::uint8_t role[16];
	char role_code[64];
	char *permissions; // TopMemoryContext; kept when the entry is invalidated
	std::size_t permissions_len;
};

CachedMembership *entries = nullptr;

void MakeKey(const std::uint8_t user[16], const std::uint8_t org[16], std::uint8_t key[32]) {
	std::memcpy(key, user, 16);
	std::memcpy(key + 16, org, 16);
}

CachedMembership &Slot(const std::uint8_t key[32]) {
	return entries[hash_bytes(key, 32) % kEntries];
}

} // namespace

namespace pg_tenancy {

bool FindCachedMembership(const std::uint8_t user[16], const std::uint8_t org[16], std::uint64_t generation,
                          MembershipInfo *info) {
	if (entries == nullptr)
		return false;
	std::uint8_t key[32];
	MakeKey(user, org, key);
	const CachedMembership &entry = Slot(key);
	if (!entry.valid || entry.generation != generation || std::memcmp(entry.key, key, sizeof key) != 0)
		return false;
	std::memset(info, 0, sizeof *info);
	info->found = entry.found;
	if (entry.found) {
		std::memcpy(info->role, entry.role, sizeof info->role);
		std::memcpy(info->role_code, entry.role_code, sizeof info->role_code);
		info->permissions = pnstrdup(entry.permissions, entry.permissions_len);
		info->permissions_len = entry.permissions_len;
	}
	return true;
}

void RememberMembership(const std::uint8_t user[16], const std::uint8_t org[16], std::uint64_t generation,
                        const MembershipInfo &info) {
	if (entries == nullptr)
		entries = static_cast<CachedMembership *>(
		    MemoryContextAllocZero(TopMemoryContext, sizeof(CachedMembership) * kEntries));
	std::uint8_t key[32];
	MakeKey(user, org, key);
	CachedMembership &entry = Slot(key);
	entry.valid = false;
	char *permissions = nullptr;
	std::size_t permissions_len = 0;
	if (info.found) {
		permissions_len = info.permissions ? info.permissions_len : 0;
		permissions = static_cast<char *>(MemoryContextAlloc(TopMemoryContext, permissions_len + 1));
		if (permissions_len > 0)
			std::memcpy(permissions, info.permissions, permissions_len);
		permissions[permissions_len] = '\0';
	}
	if (entry.permissions)
		pfree(entry.permissions);
	entry.permissions = permissions;
	entry.permissions_len = permissions_len;
	std::memcpy(entry.key, key, sizeof key);
	entry.generation = generation;
	entry.found = info.found;
	std::memcpy(entry.role, info.role, sizeof entry.role);
	std::memcpy(entry.role_code, info.role_code, sizeof entry.role_code);
	entry.valid = true;
}

void ForgetCachedMemberships() {
	if (entries == nullptr)
		return;
	for (int i = 0; i < kEntries; i++)
		entries[i].valid = false;
}

} // namespace pg_tenancy
