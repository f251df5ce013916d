// shared_membership_cache.hpp: memberships read by tenancy.enter(), shared by
// every backend of the server, each valid while the shared generation it was
// read under is current (PG-facing; see shared_membership_cache.cpp).
#pragma once

#include <cstdint>

#include "pg_tenancy/cache_statistics.hpp"
#include "pg_tenancy/membership.hpp"

namespace pg_tenancy {

// Slots in shared memory (tenancy.shared_membership_cache_size, set at server
// start; 0 turns the cache off).
extern int shared_membership_cache_size;

// From _PG_init (preloading only), after the setting is defined: ask for the slots.
void RequestSharedMembershipCacheShmem();

// The membership of `user` in `org`, in this database, read by any backend
// under `generation`, if a slot holds it: fills *info (permissions palloc'd in
// the caller's memory context). Never waits.
bool FindSharedMembership(const std::uint8_t user[16], const std::uint8_t org[16], std::uint64_t generation,
                          MembershipInfo *info);

// Before a backend shares what it read from pg_tenancy's tables in this
// database, it records them: their relations and indexes, and the syscache
// hash values of the functions their change triggers call. Every backend of
// the database then moves the generation when it takes in an invalidation of
// any of them (SharedCatalogCovers...()), so a change trigger disabled,
// dropped or replaced retires every shared entry, even one written by a
// backend that has not yet seen the change, and even in a backend that never
// entered a context. Recording something else (the tables recreated) moves
// the generation too. Returns the record to hand to ShareMembership(), or 0
// when this database cannot be recorded (no room): then nothing is shared
// from it.
std::uint64_t RecordSharedCatalog(const std::uint32_t *relations, int relation_count,
                                  const std::uint32_t *function_hashes, int function_count);
// Does an invalidation of this relation (this database's; InvalidOid: all of
// them), or of the function with this syscache hash value (0: all), concern a
// shared entry? Safe in an invalidation callback: a spinlock, no catalog access.
bool SharedCatalogCoversRelation(std::uint32_t relation);
bool SharedCatalogCoversFunction(std::uint32_t hash);

// After DROP DATABASE: frees the dropped database's record (there is room
// for 64 databases at once) and retires every shared entry, its database's
// included (its OID can come back at once: CREATE DATABASE ... OID).
void ForgetSharedCatalogOf(std::uint32_t database);

// Offers what a look-up under `generation` found (or did not find), in the
// tables of `record`, through a snapshot (its xmin and xmax, and the
// transactions it saw running), to the other backends. Skipped, never waited for, when the
// tables were recorded anew since, when a transaction of this database open
// when they were recorded could still hide a change from the snapshot, when
// another backend is writing the same slot, or when the permissions do not
// fit one.
void ShareMembership(const std::uint8_t user[16], const std::uint8_t org[16], std::uint64_t generation,
                     const MembershipInfo &info, std::uint64_t record, std::uint32_t snapshot_xmin,
                     std::uint32_t snapshot_xmax, const std::uint32_t *snapshot_running, int snapshot_running_count);

// Its slots, how many hold an entry of `generation`, and this backend's counts.
CacheStatistics SharedMembershipCacheStatistics(std::uint64_t generation);

} // namespace pg_tenancy
