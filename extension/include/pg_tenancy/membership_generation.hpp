// membership_generation.hpp: when may a backend reuse a membership it read
// before? (PG-facing; see membership_generation.cpp.)
#pragma once

#include <cstdint>

namespace pg_tenancy {

// From _PG_init (preloading only): ask for the shared counter.
void RequestMembershipGenerationShmem();

// The shared generation, read before a read barrier, for a look-up that takes
// its snapshot afterwards. False when no per-backend cache may be used:
// no shared memory, a hot standby (replay runs no trigger), or this transaction
// changed memberships, roles or users itself (its own uncommitted rows).
bool MembershipGenerationForCache(std::uint64_t *generation);

// Transaction events (from the callback in pg_tenancy.cpp): a commit of a
// transaction that changed the tables bumps the generation, after the commit
// is visible; an abort or PREPARE forgets the change.
void MembershipChangesCommitted();
void MembershipChangesDiscarded();

// After COMMIT PREPARED: the prepared transaction may have changed the tables.
void BumpMembershipGeneration();
// From the invalidation callbacks: a catalog change that concerns the shared
// membership cache (shared_membership_cache.hpp) was taken in. Bumps now, and
// again when the current transaction commits.
void SharedCatalogChanged();

} // namespace pg_tenancy
