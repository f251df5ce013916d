// membership.hpp: database look-ups behind tenancy.enter() (PG-facing).
#pragma once

#include <cstddef>
#include <cstdint>

namespace pg_tenancy {

struct MembershipInfo {
	bool found;
	std::uint8_t role[16];
	char role_code[64];
	char *permissions; // comma-separated, sorted, palloc'd in the caller's memory context
	std::size_t permissions_len;
	// Set when the answer came from, or went into, the membership cache: it
	// stays current while MembershipCacheGeneration() gives this generation.
	bool current_at_generation;
	std::uint64_t generation;
};

// Is `user` a member of `org`? Fills role and permissions (index look-ups, latest snapshot).
void LookupMembership(const std::uint8_t user[16], const std::uint8_t org[16], MembershipInfo *info);

// The generation under which a membership read earlier is still current, as
// LookupMembership() decides it before consulting its cache (pending
// invalidations processed first); false when no earlier read may be reused.
bool MembershipCacheGeneration(std::uint64_t *generation);

// Is `user` a registered user?
bool UserExists(const std::uint8_t user[16]);

// Once per backend (from _PG_init): forget resolved relations when they change.
void RegisterMembershipInvalidation();

} // namespace pg_tenancy
