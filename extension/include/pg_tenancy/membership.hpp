// membership.hpp: database look-ups behind tenancy.enter() (PG-facing).
#pragma once

#include <cstddef>
#include <cstdint>

namespace pg_tenancy {

// When a membership read earlier is still current: the shared generation, which
// every committed change to memberships, roles or users moves, and this
// backend's count of catalog invalidations of those tables and their indexes
// (a change trigger disabled or enabled, a table rewritten or recreated: none
// of which moves the generation, and each of which empties the membership
// cache).
struct MembershipEpoch {
	std::uint64_t generation;
	std::uint64_t catalog_invalidations;
};

struct MembershipInfo {
	bool found;
	std::uint8_t role[16];
	char role_code[64];
	char *permissions; // comma-separated, sorted, palloc'd in the caller's memory context
	std::size_t permissions_len;
	// Set when the answer came from, or went into, the membership cache: it
	// stays current while CurrentMembershipEpoch() gives the same epoch.
	bool current;
	MembershipEpoch epoch;
};

// Is `user` a member of `org`? Fills role and permissions (index look-ups, latest snapshot).
void LookupMembership(const std::uint8_t user[16], const std::uint8_t org[16], MembershipInfo *info);

// The epoch under which a membership read earlier is still current, as
// LookupMembership() decides it before consulting its cache (pending
// invalidations taken in first). False when no earlier read may be reused: a
// change trigger is missing or disabled, a hot standby, or this transaction
// changed memberships, roles or users itself.
bool CurrentMembershipEpoch(MembershipEpoch *epoch);

// May this backend use and offer shared memberships (shared_membership_cache.hpp)?
// Not with a change trigger missing, nor when this database's tables could
// not be recorded.
bool MembershipsShared();
// Before CREATE OR REPLACE FUNCTION `name`: if a trigger on tenancy.memberships,
// roles or users calls a function of that name, locks the three tables as
// ALTER TABLE ... ENABLE TRIGGER does. Replacing a change trigger's function
// with one that reports nothing takes no table lock otherwise, so a writer
// open across the replacement and back could commit a change nobody
// reported after readers had cached the rows it changed.
void LockTablesForTriggerFunction(const char *name);
// Is `user` a registered user?
bool UserExists(const std::uint8_t user[16]);

// Once per backend (from _PG_init): forget resolved relations when they change.
void RegisterMembershipInvalidation();

} // namespace pg_tenancy
