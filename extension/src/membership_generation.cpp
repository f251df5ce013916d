// membership_generation.cpp: the shared-memory generation that validates each
// backend's cache of memberships (membership_cache.cpp).
//
// Triggers on tenancy.memberships, tenancy.roles and tenancy.users (BEFORE
// each row an INSERT, UPDATE or DELETE writes and BEFORE each TRUNCATE, enabled
// ALWAYS, so session_replication_role = replica and a logical replication apply
// worker fire them too) mark the transaction; its commit bumps the generation
// after the commit is visible to other snapshots (XACT_EVENT_COMMIT runs after
// the procarray is updated). A reader reads the generation before it takes its
// look-up snapshot. So a reader that cached a row from before a commit did so
// under a generation older than the one that commit leaves behind, and reads
// again next time.
// COMMIT PREPARED bumps it unconditionally (the transaction that prepared it
// may be in another backend). A rolled-back subtransaction still bumps: a
// harmless extra read.
extern "C" {
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_subscription.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "replication/logicalworker.h"
#include "replication/worker_internal.h"
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

// A logical replication apply worker commits a replicated COMMIT PREPARED with
// FinishPreparedTransaction() in a transaction of its own, past the utility
// hook that bumps for COMMIT PREPARED, and the changes it carried were marked,
// then forgotten, at PREPARE. So the worker of a two-phase subscription bumps
// at every commit: an extra read for each transaction it applies, never a
// stale one.
bool AppliesTwoPhaseTransactions() {
	return IsLogicalWorker() && MySubscription != nullptr &&
	       MySubscription->twophasestate == LOGICALREP_TWOPHASE_STATE_ENABLED;
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
	// The read, then a read barrier: the snapshot the caller takes next reads
	// the procarray after this read. It pairs with the committer's fetch_add
	// (a full barrier), which follows ProcArrayEndTransaction(): whoever reads
	// the bumped generation also sees that commit. A fetch_add of 0 would order
	// as much, but write the one cache line every backend reads here, which
	// many cores would contend for.
	*generation = pg_atomic_read_u64(&shared->generation);
	pg_read_barrier();
	return true;
}

void MembershipChangesCommitted() {
	if (changed_in_this_transaction || AppliesTwoPhaseTransactions())
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

void SharedCatalogChanged() {
	BumpMembershipGeneration();
	// Taken in inside a transaction that has an id, it may be this
	// transaction's own change (processed at each statement's end, before it
	// commits; a catalog change gives the transaction its id first): a
	// trigger disabled, rows changed unreported, the trigger enabled again.
	// Other backends may read and share the old rows until it commits, and a
	// backend started after that never processes the invalidations: so the
	// commit bumps again, once visible, like a change the triggers reported
	// (and this transaction uses no cache meanwhile). A writing transaction
	// that takes in another backend's change costs an extra bump at commit; a
	// reading one, nothing more.
	if (IsTransactionState() && TransactionIdIsValid(GetTopTransactionIdIfAny()))
		changed_in_this_transaction = true;
}

} // namespace pg_tenancy

// The change triggers on the three tables: BEFORE each row an INSERT, UPDATE
// or DELETE writes, and BEFORE each TRUNCATE. A row trigger hands the row on
// unchanged (NULL would skip it).
PGT_FUNCTION(tenancy_note_membership_change) {
	const auto *trigger = CALLED_AS_TRIGGER(fcinfo) ? reinterpret_cast<TriggerData *>(fcinfo->context) : nullptr;
	if (trigger == nullptr || !TRIGGER_FIRED_BEFORE(trigger->tg_event))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("tenancy.note_membership_change() must be called as a BEFORE trigger"),
		                errhint("It marks the transaction before the change it reports.")));
	changed_in_this_transaction = true;
	if (!TRIGGER_FIRED_FOR_ROW(trigger->tg_event))
		return PointerGetDatum(nullptr);
	return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ? trigger->tg_newtuple : trigger->tg_trigtuple);
}
