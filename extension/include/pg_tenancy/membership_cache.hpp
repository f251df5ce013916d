// membership_cache.hpp: this backend's memberships read by tenancy.enter(),
// each valid while the shared generation it was read under is current
// (PG-facing; see membership_generation.hpp for when the generation moves).
#pragma once

#include <cstdint>

#include "pg_tenancy/cache_statistics.hpp"
#include "pg_tenancy/membership.hpp"

namespace pg_tenancy {

// The membership of `user` in `org` read under `generation`, if cached: fills
// *info (permissions palloc'd in the caller's memory context).
bool FindCachedMembership(const std::uint8_t user[16], const std::uint8_t org[16], std::uint64_t generation,
                          MembershipInfo *info);

// Keeps what a look-up under `generation` found (or did not find).
void RememberMembership(const std::uint8_t user[16], const std::uint8_t org[16], std::uint64_t generation,
                        const MembershipInfo &info);

// Forgets everything (pg_tenancy's tables changed shape or were recreated).
void ForgetCachedMemberships();

// Its entries, memory and counts since the backend started (`enabled` is the
// caller's to fill in).
CacheStatistics MembershipCacheStatistics();

} // namespace pg_tenancy
