// membership.hpp: database look-ups behind tenancy.enter() (PG-facing).
#pragma once

#include <cstdint>

namespace pg_tenancy {

struct MembershipInfo {
	bool found;
	char role_id[37];
	char role_code[64];
	char *permissions; // comma-separated, palloc'd in the caller's memory context
};

// Is `user` a member of `org`? Fills role and permissions (index look-ups, latest snapshot).
void LookupMembership(const std::uint8_t user[16], const std::uint8_t org[16], MembershipInfo *info);

// Is `user` a registered user?
bool UserExists(const std::uint8_t user[16]);

} // namespace pg_tenancy
