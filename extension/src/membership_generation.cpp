// membership_generation.cpp: the shared-memory generation that validates each
// backend's cache of memberships (membership_cache.cpp).
//
// A statement-level trigger on tenancy.memberships, tenancy.roles and
// tenancy.users (BEFORE each INSERT, UPDATE, DELETE or TRUNCATE, enabled ALWAYS
// so session_replication_role = replica fires it too; a logical replication
// apply worker fires no statement trigger: docs/security.md says what to do on
// a subscriber) marks the transaction; its commit bumps the generation after the commit is
// visible to other snapshots (XACT_EVENT_COMMIT runs after the procarray is
// updated). A reader reads the generation before it takes its look-up snapshot.
// So a reader that cached a row from before a commit did so under a generation
// older than the one that commit leaves behind, and reads again next time.
// COMMIT PREPARED bumps it unconditionally (the transaction that prepared it
// may be in another backend). A rolled-back subtransaction still bumps: a
// harmless extra read.
extern "C" {
#include "postgres.h"

#include "access/xlog.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
}

#include "pg_tenancy/membership_generation.hpp"
#include "pg_tenancy/pg_boundary.hpp"

namespace {

struct SharedGeneration {
	pg_atomic_uint64 generation;
};

SharedGeneration *shared = nullptr;
bool changed_in_this_transaction = false;

shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

void RequestShmem() {
	if (previous_request_hook)
		previous_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(SharedGeneration)));
}

void StartupShmem() {
	if (previous_startup_hook)
		previous_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	bool found = false;
	auto *state = static_cast<SharedGeneration *>(
	    ShmemInitStruct("pg_tenancy membership generation", sizeof(SharedGeneration), &found));
	if (!found)
		pg_atomic_init_u64(&state->generation, 1);
	LWLockRelease(AddinShmemInitLock);
	shared = state;
}

} // namespace

namespace pg_tenancy {

void RequestMembershipGenerationShmem() {
	previous_request_hook = shmem_request_hook;
	shmem_request_hook = RequestShmem;
	previous_startup_hook = shmem_startup_hook;
	shmem_startup_hook = StartupShmem;
}

bool MembershipGenerationForCache(std::uint64_t *generation) {
	if (shared == nullptr || changed_in_this_transaction || RecoveryInProgress())
		return false;
	// fetch_add is a full barrier: the snapshot the caller takes next cannot be
	// older than this read.
	*generation = pg_atomic_fetch_add_u64(&shared->generation, 0);
	return true;
}

void MembershipChangesCommitted() {
	if (changed_in_this_transaction)
		BumpMembershipGeneration();
	changed_in_this_transaction = false;
}

void MembershipChangesDiscarded() {
	changed_in_this_transaction = false;
}

void BumpMembershipGeneration() {
	if (shared != nullptr)
		pg_atomic_fetch_add_u64(&shared->generation, 1);
}

} // namespace pg_tenancy

// The statement trigger on the three tables.
PGT_FUNCTION(tenancy_note_membership_change) {
	if (!CALLED_AS_TRIGGER(fcinfo) ||
	    !TRIGGER_FIRED_FOR_STATEMENT(reinterpret_cast<TriggerData *>(fcinfo->context)->tg_event))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("tenancy.note_membership_change() must be called as a statement trigger")));
	changed_in_this_transaction = true;
	return PointerGetDatum(nullptr);
}
